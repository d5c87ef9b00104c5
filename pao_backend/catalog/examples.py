"""Example request values for a form: defaults where the form has them, a plausible value elsewhere.

`pao render` uses them when no values file is given, so a platform team sees what its actions would send.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

from pao_backend.catalog.models import Form, FormField

__all__ = ["example_value", "example_values"]

_NAME = "example-app"


def _number(field: FormField) -> float | int:
    validation = field.validation
    low = validation.min if validation else None
    if isinstance(low, int | float):
        return low
    high = validation.max if validation else None
    if isinstance(high, int | float):
        return min(1, high)
    return 1


def _text(field: FormField) -> str:
    pattern = field.validation.pattern if field.validation else None
    candidates = [_NAME, "example", "Example value", "example.value", "EXAMPLE-1"]
    for candidate in candidates:
        if pattern is None or re.search(pattern, candidate):
            return candidate
    return "example"


def example_value(field: FormField) -> Any:
    """A value for one field: its default, else one that fits its type, enum and validation."""
    if field.default is not None:
        return field.default
    kind = field.type
    if kind == "number":
        return _number(field)
    if kind == "boolean":
        return False
    if kind == "select":
        return (field.enum or [""])[0]
    if kind == "multiselect":
        return (field.enum or [])[:1]
    if kind == "email":
        return "developer@example.com"
    if kind == "date":
        low = field.validation.min if field.validation else None
        return low if isinstance(low, str) else dt.date.today().isoformat()
    if kind == "password":
        return "example-secret"
    if kind == "file":
        content = base64.b64encode(b"example file content\n").decode()
        return {"filename": "example.txt", "contentType": "text/plain", "size": 21, "content": content}
    return _text(field)


def example_values(form: Form) -> dict[str, Any]:
    """Values for the whole form, shaped `{name, <groupId>: {<fieldId>: value}}`."""
    pattern = form.validation.pattern if form.validation else None
    name = _NAME if pattern is None or re.search(pattern, _NAME) else "example"
    values: dict[str, Any] = {"name": name}
    for group in form.groups:
        values[group.id] = {field.id: example_value(field) for field in group.fields}
    return values
