// Print view (print_view.html): 閉じる closes the tab opened by 「印刷用画面へ」; if the browser keeps it
// open (a tab not opened by the portal), the link's own target (the portal) is followed instead.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-close-window]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      window.close();
      window.setTimeout(() => { window.location.href = link.href; }, 300);
    });
  });
});
