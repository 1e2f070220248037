/* The donation form's few conveniences (the form works without them): clear the typed
   amount when a preset is picked, drop the preset when an amount is typed, and show
   MST/representative only for organizations. */
(function () {
  var custom = document.getElementById("custom_amount");
  var presets = document.querySelectorAll("input[name=preset]");
  presets.forEach(function (p) { p.addEventListener("change", function () { if (custom) custom.value = ""; }); });
  if (custom) custom.addEventListener("input", function () {
    if (custom.value.trim()) presets.forEach(function (p) { p.checked = false; });
  });
  var org = document.querySelector(".org-only");
  function syncKind() {
    var checked = document.querySelector("input.donor-kind:checked");
    if (org) org.hidden = !(checked && checked.value === "organization");
  }
  document.querySelectorAll("input.donor-kind").forEach(function (k) { k.addEventListener("change", syncKind); });
  syncKind();
})();
