/* Copy buttons on the transfer page. Without JavaScript the values stay selectable text. */
(function () {
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var value = button.getAttribute("data-copy");
      var done = function () {
        var label = button.textContent;
        button.textContent = "Đã chép";
        setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(value).then(done, function () {});
      } else {
        var area = document.createElement("textarea");
        area.value = value; document.body.appendChild(area); area.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* leave it selectable */ }
        document.body.removeChild(area);
      }
    });
  });
})();
