// Responsive staff tables (issue 12, item 26): every table.table-stack becomes stacked
// cards under 576 px (app.css); this copies each column heading onto its cells as
// data-label, so a card shows "Số tiền 2.500.000 ₫" without the table header.
(function () {
  "use strict";
  function span(cell) { return parseInt(cell.getAttribute("colspan") || "1", 10) || 1; }
  document.querySelectorAll("table.table-stack").forEach(function (table) {
    var headings = [];
    var row = table.querySelector(":scope > thead > tr:last-child");
    if (!row) { return; }
    Array.prototype.forEach.call(row.children, function (th) {
      // A heading only for screen readers (an action column) puts no label on the card.
      var text = th.querySelector(".visually-hidden") ? "" : th.textContent.trim();
      for (var i = 0; i < span(th); i++) { headings.push(text); }
    });
    table.querySelectorAll(":scope > tbody > tr, :scope > tfoot > tr").forEach(function (tr) {
      var column = 0;
      Array.prototype.forEach.call(tr.children, function (cell) {
        if (!cell.hasAttribute("data-label") && span(cell) === 1 && headings[column]) {
          cell.setAttribute("data-label", headings[column]);
        }
        column += span(cell);
      });
    });
  });
})();
