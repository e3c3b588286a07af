// [IDチェック] without reloading the page (the button also works as a plain submit without JavaScript).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-id-check]").forEach((button) => {
    const form = button.form;
    const result = document.getElementById("id-check-result");
    const input = form && form.querySelector("[name=login_id]");
    const token = form && form.querySelector("[name=_csrf_token]");
    if (!form || !result || !input || !token || !window.fetch) return;
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      try {
        const response = await fetch(button.dataset.idCheck, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": token.value, "Accept": "application/json" },
          body: JSON.stringify({ login_id: input.value }),
        });
        if (!response.ok) { form.requestSubmit(button); return; }
        const data = await response.json();
        result.textContent = data.message;
        result.className = "id-check__result id-check__result--" + data.status;
      } catch (error) {
        form.requestSubmit(button);
      }
    });
  });
});
