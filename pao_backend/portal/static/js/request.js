// The request page: timeline per component and action, live over SSE without reloading; on failure
// the message, next steps, whom to contact, and retry / abort / escalate.
import { api, el, fmtDuration, fmtTime, showError, statusBadge } from "./api.js";

const root = document.getElementById("request-root");
const requestId = root.dataset.requestId;
const base = `/api/pao/v1/requests/${encodeURIComponent(requestId)}`;
const $ = (id) => document.getElementById(id);
const actionError = $("action-error");
const TERMINAL = new Set(["completed", "failed", "aborted", "cancelled"]);
const FINISHED = new Set(["completed", "aborted", "cancelled"]);
let detail = null;
let source = null;
let lastEventId = 0;

const stateOf = (x) => (x && (x.state || x.status)) || "unknown";
const me = { ref: root.dataset.user, teams: (root.dataset.teams || "").split(",").filter(Boolean), admin: root.dataset.admin === "true" };

// Who may press retry / abort / escalate: the requester, the owning team of a component, or an admin.
function mayAct(d) {
  if (me.admin || d.requester === me.ref) return true;
  return (d.components || []).some((c) => c.team && me.teams.includes(c.team));
}

function outputRows(outputs) {
  return Object.entries(outputs || {}).map(([k, v]) => {
    // The server never puts a secret into outputs (they are redacted before they are stored).
    const text = typeof v === "string" ? v : JSON.stringify(v);
    const value = /^https?:\/\//.test(text) ? el("a", { href: text, target: "_blank", rel: "noopener" }, text) : text;
    return [el("dt", {}, k), el("dd", { dataset: { output: k } }, value)];
  });
}

function ticketLink(action) {
  const key = action.ticketKey || (action.ticket && action.ticket.key);
  const url = action.ticketUrl || (action.ticket && action.ticket.url);
  if (!key) return null;
  return url ? el("a", { href: url, class: "ticket-link", target: "_blank", rel: "noopener" }, `ticket ${key}`) : el("span", {}, `ticket ${key}`);
}

function actionLabel(action) {
  const type = String(action.type || "").replace(/^pao:/, "");
  const words = { "jira-ticket": "Ticket for a person", "rest-api": "Provisioning API call", cookiecutter: "Generate files", "git-commit": "Commit" };
  const named = action.name && action.name !== action.type && action.name !== type ? action.name : null;
  return named || words[type] || type;
}

function renderComponent(c) {
  const state = stateOf(c);
  const actions = (c.actions || []).map((a) => {
    const aState = stateOf(a);
    const outputs = Object.entries(a.outputs || {});
    return el("li", { dataset: { state: aState, index: a.index } },
      statusBadge(aState),
      el("span", {}, actionLabel(a), a.attempt > 1 ? el("span", { class: "muted" }, ` · attempt ${a.attempt}`) : null),
      el("span", { class: "muted small" }, fmtDuration(a.startedAt, a.finishedAt)),
      ticketLink(a) || outputs.length ? el("div", { class: "detail" }, ticketLink(a), ticketLink(a) && outputs.length ? " · " : "",
        outputs.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ")) : null,
      a.error ? el("div", { class: "error-text" }, typeof a.error === "string" ? a.error : a.error.message || JSON.stringify(a.error)) : null);
  });
  const id = c.id || c.componentId;
  return el("li", { class: "component", dataset: { component: id, state } },
    el("div", { class: "component-head" },
      el("h3", {}, id),
      statusBadge(state),
      c.mode ? el("span", { class: `badge badge-${c.mode}` }, c.mode) : null,
      c.itemId && c.itemId !== id ? el("span", { class: "muted small" }, c.itemId) : null,
      el("span", { class: "timing" }, c.startedAt ? `${fmtTime(c.startedAt)} · ${fmtDuration(c.startedAt, c.finishedAt)}` : "not started")),
    (c.dependsOn || []).length ? el("p", { class: "muted small" }, `after ${c.dependsOn.join(", ")}`) : null,
    el("ul", { class: "actions" }, actions));
}

function guidanceOf(d) {
  const failed = (d.components || []).find((c) => stateOf(c) === "failed");
  const g = d.guidance || (failed && failed.guidance) || (d.error && d.error.guidance) || null;
  const esc = d.escalation || (g && g.escalation) || (failed && failed.escalation) || null;
  return { failed, g, esc };
}

function render(d) {
  detail = d;
  const state = stateOf(d);
  $("req-title").textContent = d.title || d.name || (d.values && d.values.name) || `Request ${d.id}`;
  const status = $("req-status");
  status.dataset.state = state;
  status.textContent = state;
  $("req-meta").textContent = `${d.offeringName || d.offeringId || d.catalogId || ""} · submitted ${fmtTime(d.createdAt)}${d.finishedAt ? ` · took ${fmtDuration(d.createdAt, d.finishedAt)}` : ""}`;
  $("timeline").replaceChildren(...(d.components || []).map(renderComponent));
  const outputs = outputRows(d.outputs);
  $("outputs-panel").hidden = outputs.length === 0;
  $("outputs").replaceChildren(...outputs.flat());
  const allowed = mayAct(d);
  $("save-preset-btn").hidden = state !== "completed" || d.requester !== me.ref;
  $("cancel-btn").hidden = !allowed || TERMINAL.has(state);
  $("failure-box").querySelector(".failure-actions").hidden = !allowed;

  const box = $("failure-box");
  if (state === "failed") {
    const { failed, g, esc } = guidanceOf(d);
    box.hidden = false;
    const message = (g && (g.message || g.title)) || (d.error && (d.error.message || d.error)) || (failed && failed.error && (failed.error.message || failed.error)) || "A step failed.";
    $("failure-message").textContent = typeof message === "string" ? message : JSON.stringify(message);
    const steps = g && (g.nextSteps || g.next_steps);
    $("failure-guidance").textContent = Array.isArray(steps) ? `What to do: ${steps.join(" ")}` : (typeof d.guidance === "string" ? d.guidance : "Retry when the cause is fixed, or escalate to the owning team.");
    $("failure-contact").textContent = esc ? `Contact: ${[esc.teamName || esc.team, esc.contact, esc.chat, esc.jiraProject && `JIRA ${esc.jiraProject}`, esc.hours].filter(Boolean).join(" · ")}` : "";
    $("retry-btn").hidden = g && g.retryable === false;
  } else {
    box.hidden = true;
  }
  if (FINISHED.has(state)) setLive(false, `finished: ${state}`);
  showHold(state);
}

// A request held by the change calendar (state `scheduled`): why, until when, and approval if it needs one.
async function showHold(state) {
  const box = $("hold-box");
  if (state !== "scheduled") { box.hidden = true; return; }
  try {
    const { hold } = await api("GET", `${base}/calendar`);
    if (!hold) { box.hidden = true; return; }
    box.hidden = false;
    $("hold-message").textContent = hold.message || "Held by the change calendar.";
    $("approve-btn").hidden = hold.verdict !== "needs_approval";
  } catch {
    box.hidden = true;
  }
}

let latest = 0;

async function refresh() {
  const mine = ++latest; // an older answer must never overwrite a newer one
  try {
    const fetched = await api("GET", base);
    if (mine === latest) render(fetched);
  } catch (error) {
    showError(actionError, error);
  }
}

let pending = null;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refresh(); }, 120);
}

function setLive(on, text) {
  const indicator = $("live-indicator");
  indicator.dataset.live = on ? "on" : "off";
  $("live-text").textContent = text;
}

function logEvent(event) {
  let data = {};
  try { data = JSON.parse(event.data); } catch { data = { message: event.data }; }
  const id = Number(event.lastEventId || data.id || 0);
  if (id && id <= lastEventId) return;
  if (id) lastEventId = id;
  const body = data.body || data;
  const message = body.message || data.message || event.type;
  $("events").append(el("li", {}, `${fmtTime(data.createdAt) || ""} ${message}`));
  scheduleRefresh();
  if (event.type === "completion" || ["completed", "aborted", "cancelled"].includes(body.state) && !body.componentId) {
    scheduleRefresh();
  }
}

function connect() {
  if (source) source.close();
  const url = `${base}/events/stream${lastEventId ? `?after=${lastEventId}` : ""}`;
  source = new EventSource(url);
  source.onopen = () => setLive(true, "live");
  source.onerror = () => {
    if (detail && FINISHED.has(stateOf(detail))) { source.close(); return; }
    setLive(false, "reconnecting…");
  };
  source.onmessage = logEvent;
  for (const type of ["state", "component", "action", "log", "rejected", "completion", "log-line", "ticket"]) {
    source.addEventListener(type, logEvent);
  }
}

async function post(path, body, label) {
  actionError.hidden = true;
  try {
    await api("POST", `${base}/${path}`, body || {});
    $("live-text").textContent = `${label} requested…`;
    scheduleRefresh();
    if (!source || source.readyState === EventSource.CLOSED) connect();
  } catch (error) {
    showError(actionError, error);
  }
}

$("retry-btn").addEventListener("click", () => post("retry", {}, "retry"));
$("approve-btn").addEventListener("click", () => post("approve", {}, "approval"));
$("abort-btn").addEventListener("click", () => {
  if (confirm("Abort this request? Components that already finished are not undone.")) post("abort", {}, "abort");
});
$("escalate-btn").addEventListener("click", () => {
  const { failed } = guidanceOf(detail || {});
  post("escalate", failed ? { componentId: failed.id || failed.componentId } : {}, "escalation");
});
$("cancel-btn").addEventListener("click", () => {
  if (confirm("Cancel this request?")) post("cancel", {}, "cancel");
});

// --- save as preset --------------------------------------------------------------------------------
const dialog = $("preset-dialog");
$("save-preset-btn").addEventListener("click", () => {
  $("preset-name").value = detail && detail.title ? `${detail.title}` : "";
  dialog.showModal();
  $("preset-name").focus();
});
$("preset-cancel").addEventListener("click", () => dialog.close());
$("preset-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("preset-name").value.trim();
  if (!name) { $("err-preset-name").textContent = "Name is required"; $("preset-name").setAttribute("aria-invalid", "true"); return; }
  try {
    const preset = await api("POST", "/api/pao/v1/presets", {
      name, description: $("preset-description").value, visibility: $("preset-visibility").value, fromRequest: requestId,
    });
    dialog.close();
    const link = el("a", { href: `/offerings/${preset.offeringId}/request?preset=${preset.id}`, id: "preset-saved-link" }, "start a new request from it");
    const note = el("p", { class: "notice", role: "status" }, `Preset “${preset.name}” saved. You can `, link, ".");
    $("req-actions").after(note);
  } catch (error) {
    $("err-preset-name").textContent = error.message;
  }
});

refresh().then(connect);
