// The request form: live checks against the server's JSON Schema, file reading, plan preview, submit,
// the server's 422 errors mapped onto the fields, and prefill from a preset.
import { api, ApiError, el } from "./api.js";
import { checkValue } from "./validate.js";

const schema = JSON.parse(document.getElementById("form-schema").textContent);
const meta = JSON.parse(document.getElementById("form-meta").textContent);
const form = document.getElementById("request-form");
const formError = document.getElementById("form-error");
const planBody = document.getElementById("plan-body");
const planEmpty = document.getElementById("plan-empty");
const fieldMeta = Object.fromEntries(meta.fields.map((f) => [f.path, f]));
const fields = [...form.querySelectorAll(".field[data-path]")];
const byPath = Object.fromEntries(fields.map((f) => [f.dataset.path, f]));
const files = new Map(); // path -> {filename, contentType, size, content}
const touched = new Set();

function control(field) {
  return field.querySelector("input, select, textarea");
}

function readValue(field) {
  const path = field.dataset.path;
  const type = field.dataset.type;
  if (type === "multiselect") return [...field.querySelectorAll("input:checked")].map((i) => i.value);
  const input = control(field);
  if (type === "boolean") return input.checked;
  if (type === "file") return files.get(path);
  const raw = input.value;
  if (raw === "") return undefined;
  if (type === "number") {
    const n = Number(raw);
    return Number.isNaN(n) ? raw : n;
  }
  return raw;
}

function setError(field, message) {
  const box = field.querySelector(".field-error");
  const target = field.dataset.type === "multiselect" ? field.querySelector("fieldset") : control(field);
  box.textContent = message ? `${fieldMeta[field.dataset.path]?.label || field.dataset.path} ${message}` : "";
  if (message) target.setAttribute("aria-invalid", "true");
  else target.removeAttribute("aria-invalid");
}

function check(field) {
  const path = field.dataset.path;
  const value = readValue(field);
  const message = checkValue(schema, path, value, fieldMeta[path] || {});
  setError(field, message);
  return message;
}

function collect() {
  const values = {};
  const secrets = {};
  for (const field of fields) {
    const path = field.dataset.path;
    const value = readValue(field);
    if (value === undefined) continue;
    const [group, id] = path.split(".");
    if (!id) { values[group] = value; continue; }
    if (field.dataset.type === "password") { secrets[path] = value; continue; }
    (values[group] ||= {})[id] = value;
  }
  for (const group of form.querySelectorAll("fieldset.group[data-group]")) values[group.dataset.group] ||= {};
  return { values, secrets };
}

function checkAll() {
  let first = null;
  for (const field of fields) {
    touched.add(field.dataset.path);
    if (check(field) && !first) first = field;
  }
  if (first) {
    const target = first.dataset.type === "multiselect" ? first.querySelector("input") : control(first);
    target.focus();
  }
  return !first;
}

function showServerErrors(error) {
  formError.hidden = false;
  const unplaced = [];
  for (const item of error.fieldErrors) {
    const field = byPath[item.path];
    if (field) setError(field, item.message);
    else unplaced.push(`${item.path}: ${item.message}`);
  }
  formError.textContent = error.fieldErrors.length
    ? `The server found ${error.fieldErrors.length} problem(s); see the fields marked.${unplaced.length ? " " + unplaced.join("; ") : ""}`
    : error.message;
  const firstBad = form.querySelector("[aria-invalid='true']");
  if (firstBad) firstBad.focus();
}

function body(extra = {}) {
  const { values, secrets } = collect();
  const payload = { catalogId: meta.offeringId, values, ...extra };
  if (Object.keys(secrets).length) payload.secrets = secrets;
  return payload;
}

// --- live checks -----------------------------------------------------------------------------------
for (const field of fields) {
  const path = field.dataset.path;
  field.addEventListener("input", () => { if (touched.has(path)) check(field); });
  field.addEventListener("change", () => { touched.add(path); check(field); });
  field.addEventListener("focusout", (event) => {
    if (field.contains(event.relatedTarget)) return;
    touched.add(path);
    check(field);
  });
  if (field.dataset.type === "file") {
    control(field).addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (!file) { files.delete(path); check(field); return; }
      const content = await readBase64(file);
      files.set(path, { filename: file.name, contentType: file.type || "application/octet-stream", size: file.size, content });
      touched.add(path);
      check(field);
    });
  }
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// --- plan preview ----------------------------------------------------------------------------------
function describeAction(action) {
  const type = String(action.type || action.action || "").replace(/^pao:/, "");
  const input = action.input || action.display || {};
  if (type === "jira-ticket") {
    const project = input.project || "the team's queue";
    return { text: `Ticket to ${project}: ${input.summary || ""}`, person: true };
  }
  if (type === "rest-api") return { text: `Call to the provisioning API: ${input.method || "POST"} ${input.url || ""}` };
  if (type === "cookiecutter") return { text: `Generate files from the ${input.template || ""} template` };
  if (type === "git-commit") return { text: `Commit to ${input.repository || "a repository"} (${input.branch || ""})` };
  return { text: `Run ${type}` };
}

// Inputs arrive already rendered with every secret as *** (the server masks them); only shorten here.
function shorten(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 240 ? text.slice(0, 240) + "…" : text;
}

function renderPlan(plan) {
  planEmpty.hidden = true;
  planBody.replaceChildren();
  const calendar = plan.calendar;
  if (calendar && calendar.verdict && calendar.verdict !== "allowed") {
    const cls = calendar.verdict === "refused" ? "form-error" : "notice";
    planBody.append(el("p", { class: cls, id: "plan-calendar" }, calendar.message || `Change calendar: ${calendar.verdict}`));
  }
  const components = plan.components || [];
  const list = el("ol", { class: "plan-list", id: "plan-list" });
  for (const component of components) {
    const actions = component.actions || [];
    const needsPerson = component.mode === "manual" || actions.some((a) => describeAction(a).person);
    const items = actions.map((a) => {
      const d = describeAction(a);
      const input = a.input || a.display || {};
      const detail = Object.entries(input)
        .filter(([k]) => ["body", "description", "values", "files"].includes(k))
        .map(([k, v]) => `${k}: ${shorten(v)}`)
        .join(" · ");
      return el("li", {}, d.text, d.person ? el("span", { class: "person" }, " — needs a person") : null,
        detail ? el("div", { class: "plan-detail" }, detail) : null);
    });
    const fallback = (component.manualActions || []).map((a) => describeAction(a).text);
    const deps = component.dependsOn || component.depends_on || [];
    list.append(el("li", { dataset: { component: component.id } },
      el("div", { class: "step-title" }, el("strong", {}, component.id),
        el("span", { class: `badge badge-${component.mode}` }, component.mode),
        component.itemId && component.itemId !== component.id ? el("span", { class: "muted small" }, component.itemId) : null,
        needsPerson ? el("span", { class: "badge badge-manual" }, "needs a person") : null),
      deps.length ? el("div", { class: "muted small" }, `after ${deps.join(", ")}`) : null,
      el("ul", {}, items),
      component.mode === "automatic" && fallback.length
        ? el("div", { class: "muted small" }, `If it fails and you escalate: ${fallback.join("; ")}`)
        : null));
  }
  planBody.append(list);
  const people = components.filter((c) => c.mode === "manual").length;
  planBody.append(el("p", { class: "muted small" },
    `${components.length} component(s) in dependency order; ${people} handled by a person. Secrets are shown as ***.`));
}

document.getElementById("preview-btn").addEventListener("click", async () => {
  formError.hidden = true;
  if (!checkAll()) return;
  planBody.replaceChildren(el("p", { class: "muted" }, "Planning…"));
  try {
    renderPlan(await api("POST", "/api/pao/v1/plan", body()));
  } catch (error) {
    planBody.replaceChildren();
    if (error instanceof ApiError && error.fieldErrors.length) showServerErrors(error);
    else { formError.hidden = false; formError.textContent = `Could not plan: ${error.message}`; }
  }
});

// --- submit ----------------------------------------------------------------------------------------
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError.hidden = true;
  if (!checkAll()) {
    formError.hidden = false;
    formError.textContent = "Some fields need attention; see the messages beside them.";
    return;
  }
  const button = document.getElementById("submit-btn");
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    const created = await api("POST", "/api/pao/v1/requests", body({ version: meta.version }));
    window.location.assign(`/requests/${encodeURIComponent(created.id)}`);
  } catch (error) {
    button.disabled = false;
    button.textContent = "Submit request";
    if (error instanceof ApiError) showServerErrors(error);
    else { formError.hidden = false; formError.textContent = error.message; }
  }
});

// --- preset prefill --------------------------------------------------------------------------------
function prefill(values) {
  for (const field of fields) {
    const [group, id] = field.dataset.path.split(".");
    const value = id ? (values[group] || {})[id] : values[group];
    if (value === undefined || field.dataset.type === "password" || field.dataset.type === "file") continue;
    if (field.dataset.type === "multiselect") {
      for (const box of field.querySelectorAll("input")) box.checked = Array.isArray(value) && value.includes(box.value);
    } else if (field.dataset.type === "boolean") {
      control(field).checked = Boolean(value);
    } else {
      control(field).value = String(value);
    }
  }
}

if (meta.preset) {
  prefill(meta.preset.values || {});
  for (const change of meta.changes || []) {
    const field = byPath[change.path];
    if (!field) continue;
    field.classList.add("changed");
    field.append(el("p", { class: "changed-note" }, `Changed since the preset: ${change.message}`));
    touched.add(change.path);
    check(field);
  }
}
// The buttons come disabled from the server: a click before this module ran would have been lost.
for (const id of ["preview-btn", "submit-btn"]) document.getElementById(id).disabled = false;
document.getElementById("f-name").focus();
