// Checks one form value against the request form's JSON Schema, the same schema the server validates
// with (catalog/form_schema.py), including the keywords it adds for browsers: formatMinimum/Maximum
// (dates), x-pao-minBytes/maxBytes (files), x-pao-pattern (passwords). Messages match values.py's.

const TYPE_NAMES = { string: "text", number: "a number", boolean: "true or false", array: "a list", object: "an object" };
const FORMAT_NAMES = { email: "an email address", date: "a date written YYYY-MM-DD" };
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function show(n) {
  return Number.isInteger(n) ? String(n) : String(n);
}

export function propertySchema(schema, path) {
  const parts = path.split(".");
  let node = schema;
  for (const part of parts) {
    node = node && node.properties ? node.properties[part] : undefined;
  }
  return node || null;
}

export function isRequired(schema, path) {
  const parts = path.split(".");
  const leaf = parts.pop();
  let parent = schema;
  for (const part of parts) parent = parent && parent.properties ? parent.properties[part] : undefined;
  return Boolean(parent && Array.isArray(parent.required) && parent.required.includes(leaf));
}

function typeOk(type, value) {
  if (type === "number") return typeof value === "number" && Number.isFinite(value);
  if (type === "array") return Array.isArray(value);
  if (type === "object") return value !== null && typeof value === "object" && !Array.isArray(value);
  return typeof value === type;
}

// Returns the first problem with `value` for the field at `path`, or null. `value` undefined = not given.
export function checkValue(schema, path, value, meta = {}) {
  const prop = propertySchema(schema, path);
  if (value === undefined || value === null || value === "") {
    return isRequired(schema, path) ? "is required" : null;
  }
  if (!prop) return null;
  if (meta.type === "file") return checkFile(value, prop);
  if (prop.type && !typeOk(prop.type, value)) return `must be ${TYPE_NAMES[prop.type] || prop.type}`;
  if (prop.enum && !prop.enum.includes(value)) return `must be one of: ${prop.enum.join(", ")} (got '${value}')`;
  if (typeof value === "string") {
    if (prop.minLength !== undefined && [...value].length < prop.minLength) return `must be at least ${prop.minLength} characters long`;
    if (prop.maxLength !== undefined && [...value].length > prop.maxLength) return `must be at most ${prop.maxLength} characters long`;
    if (prop.pattern && !new RegExp(prop.pattern, "u").test(value)) return `must match the pattern ${prop.pattern}`;
    if (prop.format === "email" && !EMAIL.test(value)) return `must be ${FORMAT_NAMES.email}`;
    if (prop.format === "date" && !DATE.test(value)) return `must be ${FORMAT_NAMES.date}`;
    if (prop.formatMinimum && value < String(prop.formatMinimum)) return `must be on or after ${prop.formatMinimum}`;
    if (prop.formatMaximum && value > String(prop.formatMaximum)) return `must be on or before ${prop.formatMaximum}`;
    if (prop["x-pao-pattern"] && !new RegExp(prop["x-pao-pattern"], "u").test(value)) {
      return "does not match the pattern the form requires";
    }
  }
  if (typeof value === "number") {
    if (prop.minimum !== undefined && value < prop.minimum) return `must be ≥ ${show(prop.minimum)}`;
    if (prop.maximum !== undefined && value > prop.maximum) return `must be ≤ ${show(prop.maximum)}`;
  }
  if (Array.isArray(value)) {
    const allowed = prop.items && prop.items.enum;
    const bad = allowed ? value.find((v) => !allowed.includes(v)) : undefined;
    if (bad !== undefined) return `must be one of: ${allowed.join(", ")} (got '${bad}')`;
    if (prop.uniqueItems && new Set(value).size !== value.length) return "must not list the same value twice";
    if (prop.minItems !== undefined && value.length < prop.minItems) return `must have at least ${prop.minItems} choices`;
    if (prop.maxItems !== undefined && value.length > prop.maxItems) return `must have at most ${prop.maxItems} choices`;
    if (value.length === 0 && isRequired(schema, path)) return "is required";
  }
  return null;
}

function checkFile(value, prop) {
  const size = Number(value.size);
  const min = prop["x-pao-minBytes"];
  const max = prop["x-pao-maxBytes"];
  if (min !== undefined && size < min) return `must be at least ${show(min)} bytes (got ${size})`;
  if (max !== undefined && size > max) return `must be at most ${show(max)} bytes (got ${size})`;
  return null;
}
