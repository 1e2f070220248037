/* The staff donation form's donor search box: lists matches as links that pick the donor.
   The input carries data-lookup-url (JSON search) and data-pick-url (the form's address). */
(function () {
  const input = document.getElementById("donor-search");
  if (!input) return;
  const box = document.getElementById("donor-results");
  let timer;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(async function () {
      box.replaceChildren();
      if (input.value.trim().length < 2) return;
      const response = await fetch(input.dataset.lookupUrl + "?q=" + encodeURIComponent(input.value));
      for (const d of await response.json()) {
        const b = document.createElement("a");
        b.href = input.dataset.pickUrl + "?donor_id=" + d.id;
        b.className = "list-group-item list-group-item-action";
        b.textContent = d.name + " · " + d.kind + [d.tax_code, d.phone, d.email].filter(Boolean).map(x => " · " + x).join("");
        box.appendChild(b);
      }
    }, 250);
  });
})();
