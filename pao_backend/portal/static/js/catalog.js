// Catalog home: filter the cards as the user types or picks a filter (the server renders the same
// filters from the query string, so links and no-JS use keep working).
const form = document.getElementById("catalog-filters");
const cards = [...document.querySelectorAll("#catalog-cards .card")];
const count = document.getElementById("catalog-count");
const empty = document.getElementById("catalog-empty");

function apply() {
  const data = new FormData(form);
  const words = String(data.get("q") || "").toLowerCase().split(/\s+/).filter(Boolean);
  const category = data.get("category");
  const team = data.get("team");
  const mode = data.get("mode");
  let shown = 0;
  for (const card of cards) {
    const d = card.dataset;
    const visible = words.every((w) => d.search.includes(w))
      && (!category || d.category === category)
      && (!team || d.team === team)
      && (!mode || d.mode === mode);
    card.hidden = !visible;
    if (visible) shown += 1;
  }
  count.textContent = `${shown} of ${cards.length} offerings`;
  empty.hidden = shown !== 0;
  const params = new URLSearchParams([...data].filter(([, v]) => v));
  history.replaceState(null, "", params.toString() ? `/?${params}` : "/");
}

form.addEventListener("input", apply);
form.addEventListener("submit", (event) => { event.preventDefault(); apply(); });
