"""Form rules: unique group and field ids, the reserved `name`, enums, validation (patterns that compile,
min ≤ max of the right kind) and defaults that fit their field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pao_backend.catalog.models import Form
from pao_backend.catalog.schema import dotted

if TYPE_CHECKING:
    from pao_backend.catalog.documents import ParsedDocument

PathKey = tuple[str | int, ...]

__all__ = ["check_form", "text_values", "value_at"]

_TEXT_TYPES = frozenset({"string", "textarea", "password", "email"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_form(doc: ParsedDocument, form: Form) -> None:
    base: PathKey = ("input", "form")
    if form.validation is not None:
        _validation_rules(doc, (*base, "validation"), "string", form.validation.model_dump())
    group_ids: dict[str, int] = {}
    passwords: dict[str, str] = {}
    for g_index, group in enumerate(form.groups):
        g_path: PathKey = (*base, "groups", g_index)
        if group.id == "name":
            doc.add(
                (*g_path, "id"),
                "E402",
                "a group may not be called `name`",
                "`.current.name` is the name field",
            )
        if group.id in group_ids:
            doc.add(
                (*g_path, "id"), "E400", f"group id `{group.id}` is used twice", "give every group its own id"
            )
        group_ids.setdefault(group.id, g_index)
        field_ids: set[str] = set()
        for f_index, form_field in enumerate(group.fields):
            f_path: PathKey = (*g_path, "fields", f_index)
            raw = value_at(doc.data, f_path)
            if form_field.id == "name":
                doc.add(
                    (*f_path, "id"),
                    "E402",
                    "no field may be called `name`: it is the form's required top-level name",
                    "rename the field, e.g. `displayName`",
                )
            if form_field.id in field_ids:
                doc.add(
                    (*f_path, "id"),
                    "E401",
                    f"field id `{form_field.id}` is used twice in group `{group.id}`",
                    "give every field of a group its own id",
                )
            field_ids.add(form_field.id)
            _field_rules(doc, f_path, form_field.type, raw if isinstance(raw, dict) else {})
            if form_field.type == "password":
                if form_field.id in passwords:
                    doc.add(
                        (*f_path, "id"),
                        "W413",
                        f"password field id `{form_field.id}` is also used in `{passwords[form_field.id]}`",
                        "Backstage's Secret widget keys secrets by the bare field id, so both would get one "
                        "value there; give each password field its own id",
                        severity="warning",
                    )
                passwords.setdefault(form_field.id, group.id)
    for path, value in text_values(value_at(doc.data, ("input",)), ("input",)):
        if "{{" in value:
            doc.add(
                path,
                "W412",
                f"`{dotted(path)}` contains `{{{{`: nothing in input is templated",
                "write a literal default; variables belong in fulfillment templates",
                severity="warning",
            )


def value_at(data: Any, path: PathKey) -> Any:
    node = data
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return None
    return node


def text_values(node: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from text_values(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from text_values(value, (*path, index))


def _field_rules(doc: ParsedDocument, path: PathKey, kind: str, raw: dict[str, Any]) -> None:
    enum = raw.get("enum")
    if kind in ("select", "multiselect"):
        if not enum:
            doc.add(
                path,
                "E408",
                f"a {kind} field needs `enum`",
                "list the choices: `enum: [small, medium, large]`",
            )
        elif len(set(enum)) != len(enum):
            doc.add((*path, "enum"), "E411", "`enum` lists a value twice", "remove the duplicates")
    elif enum is not None:
        doc.add(
            (*path, "enum"),
            "W409",
            f"`enum` has no effect on a {kind} field",
            "use type select or multiselect, or remove enum",
            severity="warning",
        )
    validation = raw.get("validation")
    bounds_ok = True
    if isinstance(validation, dict):
        bounds_ok = _validation_rules(doc, (*path, "validation"), kind, validation)
    if "default" in raw:
        _default_rules(doc, path, kind, raw, validation if isinstance(validation, dict) and bounds_ok else {})


def _validation_rules(doc: ParsedDocument, path: PathKey, kind: str, validation: dict[str, Any]) -> bool:
    """Check pattern/min/max; True when min/max are usable for checking defaults."""
    pattern = validation.get("pattern")
    if pattern is not None:
        if kind not in _TEXT_TYPES:
            doc.add((*path, "pattern"), "E410", f"`pattern` does not apply to a {kind} field", "remove it")
        else:
            try:
                re.compile(pattern)
            except re.error as exc:
                doc.add(
                    (*path, "pattern"),
                    "E406",
                    f"pattern {pattern!r} is not a valid regular expression: {exc}",
                    "fix the expression (in YAML, quote it with single quotes to keep backslashes)",
                )
    ok = True
    values: dict[str, Any] = {}
    for bound in ("min", "max"):
        value = validation.get(bound)
        if value is None:
            continue
        problem = _bound_problem(kind, value)
        if problem:
            doc.add((*path, bound), "E410", f"`{bound}` of a {kind} field {problem}", _bound_hint(kind))
            ok = False
        else:
            values[bound] = value
    if ok and "min" in values and "max" in values and values["min"] > values["max"]:
        doc.add(
            (*path, "max"),
            "E407",
            f"max {values['max']!r} is below min {values['min']!r}",
            "swap them",
        )
        ok = False
    return ok


def _bound_problem(kind: str, value: Any) -> str:
    if kind in ("boolean", "select"):
        return "has no meaning"
    if kind == "date":
        if not isinstance(value, str) or not _is_date(value):
            return f"must be a date YYYY-MM-DD, not {value!r}"
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, not {value!r}"
    if kind != "number" and (value < 0 or value != int(value)):
        return f"must be a whole number ≥ 0, not {value!r}"
    return ""


def _bound_hint(kind: str) -> str:
    return {
        "date": "write dates as YYYY-MM-DD, e.g. `min: 2025-01-01`",
        "number": "min/max of a number field are numbers",
        "multiselect": "min/max of a multiselect count the chosen items",
        "file": "min/max of a file field are sizes in bytes",
        "boolean": "remove min/max",
        "select": "remove min/max; the enum already limits the value",
    }.get(kind, "min/max of text fields are lengths in characters")


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _default_rules(
    doc: ParsedDocument, path: PathKey, kind: str, raw: dict[str, Any], validation: dict[str, Any]
) -> None:
    default = raw["default"]
    d_path = (*path, "default")
    if default is None:
        return
    enum = raw.get("enum") or []

    def wrong(expected: str, hint: str = "") -> None:
        doc.add(
            d_path,
            "E403",
            f"default {default!r} is not {expected} (field type {kind})",
            hint or f"write {expected} or remove the default",
        )

    if kind == "password":
        doc.add(d_path, "E403", "a password field cannot have a default", "secrets never live in documents")
        return
    if kind == "file":
        doc.add(d_path, "E403", "a file field cannot have a default", "remove the default")
        return
    if kind in _TEXT_TYPES or kind == "date":
        if not isinstance(default, str):
            wrong("text", f'quote it: `default: "{default}"`')
            return
        if kind == "email" and default and not _EMAIL.match(default):
            wrong("an e-mail address")
            return
        if kind == "date" and not _is_date(default):
            wrong("a date YYYY-MM-DD")
            return
    elif kind == "number":
        if isinstance(default, bool) or not isinstance(default, int | float):
            wrong("a number", "write a number without quotes")
            return
    elif kind == "boolean":
        if not isinstance(default, bool):
            wrong("true or false")
            return
    elif kind == "select":
        if not isinstance(default, str):
            wrong("text", f'enum values are text: `default: "{default}"`')
            return
        if enum and default not in enum:
            doc.add(
                d_path, "E404", f"default {default!r} is not one of {enum}", "pick one of the enum values"
            )
            return
    elif kind == "multiselect":
        if not isinstance(default, list) or not all(isinstance(v, str) for v in default):
            wrong("a list of enum values", "write a list: `default: [a, b]`")
            return
        missing = [v for v in default if v not in enum]
        if enum and missing:
            doc.add(
                d_path, "E404", f"default values {missing} are not in enum {enum}", "use enum values only"
            )
            return
    _default_validation(doc, d_path, kind, default, validation)


def _default_validation(
    doc: ParsedDocument, d_path: PathKey, kind: str, default: Any, validation: dict[str, Any]
) -> None:
    pattern = validation.get("pattern")
    if kind in _TEXT_TYPES and isinstance(pattern, str):
        try:
            matched = re.search(pattern, default) is not None
        except re.error:
            matched = True  # reported as E406
        if not matched:
            doc.add(
                d_path,
                "E405",
                f"default {default!r} does not match the pattern {pattern!r}",
                "fix the default",
            )
    measure: Any
    unit = ""
    if kind in _TEXT_TYPES:
        measure, unit = len(default), " characters long"
    elif kind == "multiselect":
        measure, unit = len(default), " values"
    else:
        measure = default
    low, high = validation.get("min"), validation.get("max")
    if low is not None and measure < low:
        doc.add(
            d_path, "E405", f"default is {measure}{unit}, below min {low}", "raise the default or lower min"
        )
    if high is not None and measure > high:
        doc.add(
            d_path, "E405", f"default is {measure}{unit}, above max {high}", "lower the default or raise max"
        )
