// Team inbox: open tickets of my teams; resolve with the outputs the offering declares, or reject.
import { api, el, fmtTime, showError } from "./api.js";

const list = document.getElementById("inbox-list");
const errorBox = document.getElementById("inbox-error");

async function load() {
  try {
    const page = await api("GET", "/api/pao/v1/inbox");
    const items = Array.isArray(page) ? page : page.items || [];
    list.replaceChildren();
    if (!items.length) {
      list.append(el("li", { class: "empty" }, "Nothing waiting for your teams. 🎉"));
      return;
    }
    for (const t of items) list.append(ticket(t));
  } catch (error) {
    showError(errorBox, error);
  }
}

function ticket(t) {
  const ref = t.key || t.id;
  const domId = `t-${String(ref).replace(/[^A-Za-z0-9_-]/g, "")}`;
  // Outputs a person enters; ticket key and URL are filled in by PAO itself.
  const outputs = (t.outputs || [])
    .map((o) => (typeof o === "string" ? { key: o, required: true } : o))
    .filter((o) => o.required !== false);
  const resolve = el("form", { "aria-labelledby": `${domId}-resolve` },
    el("h3", { id: `${domId}-resolve` }, "Resolve"),
    outputs.length ? null : el("p", { class: "muted small" }, "This offering declares no outputs."),
    outputs.map((o) => el("div", { class: "field" },
      el("label", { class: "label", for: `${domId}-${o.key}` }, o.key),
      el("input", { type: "text", id: `${domId}-${o.key}`, name: o.key, required: true, autocomplete: "off",
        "aria-describedby": `${domId}-${o.key}-help` }),
      el("p", { class: "help", id: `${domId}-${o.key}-help` }, o.field ? `Stored as ticket field ${o.field}` : ""))),
    el("div", { class: "form-actions" }, el("button", { type: "submit", class: "btn btn-primary" }, "Mark done")));
  resolve.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(resolve));
    try { await api("POST", `/api/pao/v1/inbox/${encodeURIComponent(ref)}/resolve`, { outputs: values }); load(); }
    catch (error) { showError(errorBox, error); }
  });
  const reject = el("form", { "aria-labelledby": `${domId}-reject` },
    el("h3", { id: `${domId}-reject` }, "Reject"),
    el("div", { class: "field" },
      el("label", { class: "label", for: `${domId}-reason` }, "Reason"),
      el("textarea", { id: `${domId}-reason`, name: "reason", rows: 2, required: true })),
    el("div", { class: "form-actions" }, el("button", { type: "submit", class: "btn btn-danger" }, "Reject")));
  reject.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = new FormData(reject).get("reason");
    if (!String(reason).trim()) return;
    try { await api("POST", `/api/pao/v1/inbox/${encodeURIComponent(ref)}/reject`, { reason }); load(); }
    catch (error) { showError(errorBox, error); }
  });
  return el("li", { class: "ticket", dataset: { ticket: ref, request: t.requestId } },
    el("div", { class: "card-top" }, el("span", { class: "badge badge-manual" }, t.team || "team"),
      el("span", { class: "card-version" }, fmtTime(t.createdAt))),
    el("h2", {}, t.url ? el("a", { href: t.url }, ref) : ref, `: ${t.summary || ""}`),
    el("p", { class: "muted small" }, `Request `, el("a", { href: `/requests/${encodeURIComponent(t.requestId)}` }, t.requestId),
      ` · ${t.componentId || ""} · ${t.requester || ""}`),
    t.description ? el("pre", {}, t.description) : null,
    el("div", { class: "ticket-forms" }, resolve, reject));
}

load();
setInterval(() => { if (!document.hidden && !document.activeElement?.closest("form")) load(); }, 5000);
