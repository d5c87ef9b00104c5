"""A request form as JSON Schema (draft-07) plus a UI schema: the one place field types are mapped.

Everything that shows or checks a form starts here: the portal, the requests API (`values.py`) and the
Backstage Template translation (`backstage/translate.py`). Request values have the form's shape
`{name, <groupId>: {<fieldId>: value}}`; each group is a nested object.

| type        | JSON Schema                                   | min/max             | UI schema            |
|-------------|-----------------------------------------------|---------------------|----------------------|
| string      | string                                        | minLength/maxLength |                      |
| textarea    | string                                        | minLength/maxLength | ui:widget textarea   |
| password    | string (no `pattern`: Backstage masks values) | minLength/maxLength | ui:field Secret      |
| email       | string, format email                          | minLength/maxLength |                      |
| number      | number                                        | minimum/maximum     |                      |
| boolean     | boolean                                       | -                   |                      |
| select      | string, enum                                  | -                   | ui:widget select     |
| multiselect | array of enum strings, uniqueItems            | minItems/maxItems   | ui:widget checkboxes |
| date        | string, format date                           | formatMin/Maximum   | ui:help names bounds |
| file        | string, format data-url                       | x-pao-min/maxBytes  |                      |

Draft-07 cannot compare dates or measure a data-url's decoded size, and Backstage's Secret widget puts
`*` masks (same length) into `values`, so date bounds, file sizes and password patterns are checked by
`values.py` beyond the schema; everything else is checked by the schema alone. The schema still names
those bounds for browsers: `formatMinimum`/`formatMaximum` (ajv-formats) on dates, `x-pao-minBytes`/
`x-pao-maxBytes` on files, `x-pao-pattern` on passwords.
"""

from __future__ import annotations

from typing import Any

from pao_backend.catalog.models import FieldGroup, Form, FormField

__all__ = [
    "DRAFT_07",
    "NAME_FIELD",
    "NAME_PATTERN",
    "field_schema",
    "field_ui",
    "form_schema",
    "form_sections",
    "group_schema",
    "help_text",
    "name_schema",
    "parameter_pages",
    "ui_schema",
]

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
NAME_FIELD = "name"
# The catalog format's rule for the user's `name` value, used when a form gives no pattern of its own.
NAME_PATTERN = "^[a-z][a-z0-9-]{2,28}[a-z0-9]$"


def _number(value: float | str | None) -> int | float | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _count(value: float | str | None) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def field_schema(field: FormField) -> dict[str, Any]:
    """The JSON Schema of one field's value (no `ui:*` keys)."""
    validation = field.validation
    low = validation.min if validation else None
    high = validation.max if validation else None
    schema: dict[str, Any] = {"title": field.name}
    if field.description:
        schema["description"] = field.description
    kind = field.type
    if kind in ("string", "textarea", "password", "email"):
        schema["type"] = "string"
        if kind == "email":
            schema["format"] = "email"
        if (length := _count(low)) is not None:
            schema["minLength"] = length
        if (length := _count(high)) is not None:
            schema["maxLength"] = length
        if validation and validation.pattern:
            schema["pattern" if kind != "password" else "x-pao-pattern"] = validation.pattern
    elif kind == "number":
        schema["type"] = "number"
        if (bound := _number(low)) is not None:
            schema["minimum"] = bound
        if (bound := _number(high)) is not None:
            schema["maximum"] = bound
    elif kind == "boolean":
        schema["type"] = "boolean"
    elif kind == "select":
        schema["type"] = "string"
        schema["enum"] = list(field.enum or [])
    elif kind == "multiselect":
        schema["type"] = "array"
        schema["items"] = {"type": "string", "enum": list(field.enum or [])}
        schema["uniqueItems"] = True
        if (count := _count(low)) is not None:
            schema["minItems"] = count
        if (count := _count(high)) is not None:
            schema["maxItems"] = count
    elif kind == "date":
        schema["type"] = "string"
        schema["format"] = "date"
        # ajv-formats' keywords; draft-07 validators ignore them, so values.py checks them too.
        if low is not None:
            schema["formatMinimum"] = str(low)
        if high is not None:
            schema["formatMaximum"] = str(high)
    elif kind == "file":
        schema["type"] = "string"
        schema["format"] = "data-url"
        if (size := _count(low)) is not None:
            schema["x-pao-minBytes"] = size
        if (size := _count(high)) is not None:
            schema["x-pao-maxBytes"] = size
    if field.default is not None:
        schema["default"] = field.default
    return schema


def help_text(field: FormField) -> str | None:
    """A short line naming the constraints, shown under the widget (`ui:help`)."""
    validation = field.validation
    if validation is None or (validation.min is None and validation.max is None):
        return None
    low, high = validation.min, validation.max
    unit = {
        "string": " characters",
        "textarea": " characters",
        "password": " characters",
        "email": " characters",
        "multiselect": " choices",
        "file": " bytes",
    }.get(field.type, "")
    shown_low = low if field.type == "date" else _number(low)
    shown_high = high if field.type == "date" else _number(high)
    if field.type == "date":
        if low is not None and high is not None:
            return f"Between {shown_low} and {shown_high}"
        return f"Not before {shown_low}" if low is not None else f"Not after {shown_high}"
    if low is not None and high is not None:
        return f"{shown_low}–{shown_high}{unit}"
    return f"At least {shown_low}{unit}" if low is not None else f"At most {shown_high}{unit}"


def field_ui(field: FormField) -> dict[str, Any]:
    """The `ui:*` keys a Backstage (react-jsonschema-form) user expects for this field type."""
    ui: dict[str, Any] = {}
    if field.type == "textarea":
        ui["ui:widget"] = "textarea"
    elif field.type == "password":
        # Backstage's Secret widget sends the value in the task's `secrets` (see values.join_secrets).
        ui["ui:field"] = "Secret"
        ui["ui:backstage"] = {"review": {"mask": "********"}}
    elif field.type == "select":
        ui["ui:widget"] = "select"
    elif field.type == "multiselect":
        ui["ui:widget"] = "checkboxes"
    if (text := help_text(field)) is not None:
        ui["ui:help"] = text
    return ui


def name_schema(form: Form) -> dict[str, Any]:
    """The schema of the top-level `name` value."""
    validation = form.validation
    schema: dict[str, Any] = {
        "title": form.name,
        "type": "string",
        "pattern": validation.pattern if validation and validation.pattern else NAME_PATTERN,
    }
    if validation and (length := _count(validation.min)) is not None:
        schema["minLength"] = length
    if validation and (length := _count(validation.max)) is not None:
        schema["maxLength"] = length
    if form.description:
        schema["description"] = form.description
    return schema


def group_schema(group: FieldGroup) -> dict[str, Any]:
    """A group as a nested object property; unknown keys are errors (typos must not pass silently)."""
    schema: dict[str, Any] = {"title": group.name, "type": "object"}
    if group.description:
        schema["description"] = group.description
    required = [f.id for f in group.fields if f.required]
    if required:
        schema["required"] = required
    schema["properties"] = {f.id: field_schema(f) for f in group.fields}
    schema["additionalProperties"] = False
    return schema


def _group_required(group: FieldGroup) -> bool:
    return any(f.required for f in group.fields)


def form_sections(form: Form) -> list[tuple[str, dict[str, Any], bool]]:
    """(top-level key, schema, required) for `name` and then every group, in form order."""
    sections: list[tuple[str, dict[str, Any], bool]] = [(NAME_FIELD, name_schema(form), form.required)]
    sections.extend((g.id, group_schema(g), _group_required(g)) for g in form.groups)
    return sections


def _top_level_keys(form: Form) -> list[str]:
    return [NAME_FIELD, *(g.id for g in form.groups)]


def form_schema(form: Form) -> dict[str, Any]:
    """The whole request-values object as one draft-07 schema."""
    sections = form_sections(form)
    return {
        "$schema": DRAFT_07,
        "type": "object",
        "required": [key for key, _, required in sections if required],
        "properties": {key: schema for key, schema, _ in sections},
        "additionalProperties": False,
    }


def ui_schema(form: Form) -> dict[str, Any]:
    """The react-jsonschema-form UI schema matching `form_schema`."""
    ui: dict[str, Any] = {"ui:order": _top_level_keys(form)}
    ui[NAME_FIELD] = {"ui:autofocus": True}
    if form.description:
        ui[NAME_FIELD]["ui:help"] = form.description
    for group in form.groups:
        group_ui: dict[str, Any] = {"ui:order": [f.id for f in group.fields]}
        for field in group.fields:
            if field_ui_keys := field_ui(field):
                group_ui[field.id] = field_ui_keys
        ui[group.id] = group_ui
    return ui


def _merge_ui(schema: dict[str, Any], ui: dict[str, Any]) -> dict[str, Any]:
    """Backstage keeps `ui:*` keys inside the schema of each property."""
    merged = dict(schema)
    for key, value in ui.items():
        if key.startswith("ui:"):
            merged[key] = value
    properties = schema.get("properties")
    if isinstance(properties, dict):
        merged["properties"] = {
            prop: _merge_ui(sub, ui.get(prop, {})) if isinstance(sub, dict) else sub
            for prop, sub in properties.items()
        }
    return merged


def parameter_pages(form: Form, *, name_title: str = "Name") -> list[dict[str, Any]]:
    """Backstage Template parameter pages: the `name` page, then one page per group.

    Backstage validates the *whole* values object against every page, so each page lists only its own
    key under `properties` and `required`, and all pages share `propertyNames` so that a key no page
    knows is rejected exactly as PAO's `form_schema` rejects it.
    """
    ui = ui_schema(form)
    keys = _top_level_keys(form)
    pages: list[dict[str, Any]] = []
    for key, schema, required in form_sections(form):
        if key == NAME_FIELD:
            title = name_title
            description = form.description
        else:
            group = next(g for g in form.groups if g.id == key)
            title = group.name
            description = group.description
        page: dict[str, Any] = {"title": title}
        if description:
            page["description"] = description
        if required:
            page["required"] = [key]
        page["properties"] = {key: _merge_ui(schema, ui.get(key, {}))}
        page["propertyNames"] = {"enum": keys}
        pages.append(page)
    return pages
