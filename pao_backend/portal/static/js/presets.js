// Presets: what I and my teams saved; start a request from one, or delete mine.
import { api, el, fmtTime, showError } from "./api.js";

const list = document.getElementById("presets-list");
const errorBox = document.getElementById("presets-error");

async function load() {
  try {
    const page = await api("GET", "/api/pao/v1/presets");
    list.replaceChildren();
    if (!page.items.length) {
      list.append(el("li", { class: "empty" }, "No presets yet. Open a completed request and choose “Save as preset”."));
      return;
    }
    for (const p of page.items) list.append(card(p));
  } catch (error) {
    showError(errorBox, error);
  }
}

function card(p) {
  const outdated = p.currentVersion && p.currentVersion !== p.offeringVersion;
  const remove = el("button", { type: "button", class: "btn btn-ghost", "aria-label": `Delete preset ${p.name}` }, "Delete");
  remove.addEventListener("click", async () => {
    if (!confirm(`Delete the preset “${p.name}”?`)) return;
    try { await api("DELETE", `/api/pao/v1/presets/${p.id}`); load(); } catch (error) { showError(errorBox, error); }
  });
  const mine = p.owner === list.dataset.user;
  const edit = el("button", { type: "button", class: "btn btn-ghost", "aria-label": `Edit preset ${p.name}` }, "Edit");
  edit.addEventListener("click", () => openEditor(p));
  return el("li", { class: "card", dataset: { id: p.id } },
    el("div", { class: "card-top" },
      el("span", { class: "badge" }, p.visibility === "team" ? `team ${p.team}` : "only me"),
      outdated ? el("span", { class: "badge badge-manual" }, `made for v${p.offeringVersion}`) : null,
      el("span", { class: "card-version" }, `v${p.offeringVersion}`)),
    el("h2", { class: "card-title" }, p.name),
    el("p", { class: "card-desc" }, p.description || "No description"),
    el("p", { class: "muted small" }, `${p.offeringName || p.offeringId} · saved ${fmtTime(p.updatedAt)}`),
    p.changes && p.changes.length ? el("p", { class: "small" }, `${p.changes.length} field(s) changed since`) : null,
    el("div", { class: "card-actions" },
      el("a", { class: "btn btn-primary", href: `/offerings/${p.offeringId}/request?preset=${p.id}` }, "New request from preset"),
      mine ? edit : null,
      mine ? remove : null));
}

const dialog = document.getElementById("edit-dialog");
const editForm = document.getElementById("edit-form");
let editing = null;

function openEditor(p) {
  editing = p;
  editForm.elements.name.value = p.name;
  editForm.elements.description.value = p.description || "";
  editForm.elements.visibility.value = p.visibility;
  document.getElementById("err-edit").textContent = "";
  dialog.showModal();
  editForm.elements.name.focus();
}

document.getElementById("edit-cancel").addEventListener("click", () => dialog.close());
editForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = Object.fromEntries(new FormData(editForm));
  try {
    await api("PATCH", `/api/pao/v1/presets/${editing.id}`, body);
    dialog.close();
    load();
  } catch (error) {
    document.getElementById("err-edit").textContent = error.message;
  }
});

load();
