// Progressive enhancements only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-toggles]").forEach((box) => {
    const target = document.getElementById(box.dataset.toggles);
    if (!target) return;
    box.addEventListener("change", () => { target.type = box.checked ? "text" : "password"; });
  });
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", (event) => { event.preventDefault(); window.print(); });
  });
  // A select marked data-autosubmit shows its choice at once (its form keeps a submit button for no-JS).
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => { if (select.form) select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit(); });
  });
  document.querySelectorAll("[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
  });
});
