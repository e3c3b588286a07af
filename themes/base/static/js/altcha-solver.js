// Self-hosted ALTCHA solver (proof of work, SHA-256 via Web Crypto). No external scripts.
// Markup: <div data-altcha data-challenge-url="/captcha/challenge" data-msg-*> with a checkbox
// [data-altcha-check], a status [data-altcha-status] and a hidden input [data-altcha-field] (name="altcha").
// Ticking the box fetches a challenge, finds n with SHA-256(salt + n) == challenge and puts the
// base64 JSON payload {algorithm, challenge, number, salt, signature} into the hidden input.
(function () {
  "use strict";
  var BATCH = 500;

  function toHex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  function digest(text) {
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(toHex);
  }

  async function solve(challenge) {
    var max = Number(challenge.maxNumber) || 1000000;
    for (var start = 0; start <= max; start += BATCH) {
      var jobs = [];
      for (var n = start; n < start + BATCH && n <= max; n++) jobs.push(digest(challenge.salt + n));
      var hashes = await Promise.all(jobs);
      var found = hashes.indexOf(challenge.challenge);
      if (found >= 0) return start + found;
    }
    return null;
  }

  function init(root) {
    var box = root.querySelector("[data-altcha-check]");
    var field = root.querySelector("[data-altcha-field]");
    var status = root.querySelector("[data-altcha-status]");
    if (!box || !field) return;
    function say(message) { if (status) status.textContent = message || ""; }

    box.addEventListener("change", async function () {
      if (!box.checked) { field.value = ""; say(""); return; }
      if (!window.crypto || !window.crypto.subtle || !window.fetch) {
        box.checked = false;
        say(root.dataset.msgUnsupported);
        return;
      }
      box.disabled = true;
      root.classList.add("captcha--working");
      say(root.dataset.msgWorking);
      try {
        var response = await fetch(root.dataset.challengeUrl, { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) throw new Error("challenge " + response.status);
        var challenge = await response.json();
        var number = await solve(challenge);
        if (number === null) throw new Error("not solved");
        field.value = btoa(JSON.stringify({
          algorithm: challenge.algorithm,
          challenge: challenge.challenge,
          number: number,
          salt: challenge.salt,
          signature: challenge.signature
        }));
        root.classList.add("captcha--done");
        say(root.dataset.msgDone);
      } catch (error) {
        field.value = "";
        box.checked = false;
        box.disabled = false;
        say(root.dataset.msgFailed);
      } finally {
        root.classList.remove("captcha--working");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-altcha]").forEach(init);
  });
})();
