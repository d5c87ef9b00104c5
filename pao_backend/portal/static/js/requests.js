// My requests: the list, filtered by status and search, refreshed every few seconds.
import { api, el, fmtTime, statusBadge } from "./api.js";

const form = document.getElementById("requests-filters");
const tbody = document.getElementById("requests-body");

function itemsOf(page) {
  return Array.isArray(page) ? page : page.items || page.requests || [];
}

let latest = 0;

async function load() {
  const mine = ++latest; // answers may arrive out of order: only the newest query may render
  const data = new FormData(form);
  const params = new URLSearchParams({ mine: "true" });
  if (data.get("status")) params.set("status", data.get("status"));
  if (data.get("q")) params.set("q", data.get("q"));
  try {
    const rows = itemsOf(await api("GET", `/api/pao/v1/requests?${params}`));
    if (mine !== latest) return;
    tbody.replaceChildren();
    if (!rows.length) {
      tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No requests match. Start one from the catalog.")));
      return;
    }
    for (const r of rows) {
      const state = r.state || r.status;
      tbody.append(el("tr", { dataset: { id: r.id } },
        el("td", {}, el("a", { href: `/requests/${encodeURIComponent(r.id)}` }, r.title || r.name || r.id),
          el("div", { class: "muted small" }, r.id)),
        el("td", {}, r.offeringName || r.offeringId || r.catalogId || ""),
        el("td", {}, statusBadge(state)),
        el("td", {}, fmtTime(r.createdAt)),
        el("td", {}, fmtTime(r.updatedAt || r.finishedAt))));
    }
  } catch (error) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "form-error" }, `Could not load requests: ${error.message}`)));
  }
}

let timer;
form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 200); });
form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
load();
setInterval(() => { if (!document.hidden) load(); }, 5000);
