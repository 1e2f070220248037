/* <select data-autosubmit>: submit its form when the choice changes (no inline handlers). */
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
