"""Request values checked against their form, with the same draft-07 schema Backstage's Template pages use.

Secrets: password fields travel apart from the other values. Their key in a secrets map is
`"<groupId>.<fieldId>"` (`secret_key`). Backstage's Secret widget keys them by the bare field id and
leaves a `*` mask of the same length in `values`; `join_secrets` accepts both spellings.

Files: a file value is a data-url string (`data:<type>;name=<filename>;base64,<content>`), which is what
a Backstage form sends; the documented object form `{filename, contentType, size, content}` is turned into
one by `normalize_values`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from pydantic import BaseModel, ConfigDict

from pao_backend.catalog.form_schema import NAME_FIELD, form_schema
from pao_backend.catalog.models import Form, FormField
from pao_backend.errors import InputError

__all__ = [
    "FieldError",
    "apply_defaults",
    "file_size",
    "join_secrets",
    "normalize_values",
    "require_valid_values",
    "secret_key",
    "split_secrets",
    "validate_values",
]

_DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,=]+=[^;,]*)*);base64,([A-Za-z0-9+/]*={0,2})$")
_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}
_FORMAT_NAMES = {"email": "an email address", "date": "a date written YYYY-MM-DD"}


class FieldError(BaseModel):
    """One problem with one value: `path` is dotted (`basic.storageSize`), `message` says what is expected."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.path} {self.message}"


def secret_key(group_id: str, field_id: str) -> str:
    """The key of a password field's value in a request's secrets map."""
    return f"{group_id}.{field_id}"


def _is_mask(value: Any) -> bool:
    return isinstance(value, str) and value != "" and set(value) == {"*"}


def split_secrets(form: Form, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Move password values out: `(values without them, {"<groupId>.<fieldId>": secret})`."""
    clean = copy.deepcopy(dict(values))
    secrets: dict[str, str] = {}
    for group_id, field_id in form.secret_paths():
        group = clean.get(group_id)
        if isinstance(group, dict) and field_id in group:
            value = group.pop(field_id)
            if value is not None and not _is_mask(value):
                secrets[secret_key(group_id, field_id)] = str(value)
    return clean, secrets


def join_secrets(form: Form, values: Mapping[str, Any], secrets: Mapping[str, str] | None) -> dict[str, Any]:
    """Put secrets back into values (`"<groupId>.<fieldId>"` keys, or bare field ids as Backstage sends).

    A `*` mask left by Backstage's Secret widget is replaced; with no secret for it, the mask is dropped
    so that a required password is reported missing instead of accepted as asterisks.
    """
    joined = copy.deepcopy(dict(values))
    given = dict(secrets or {})
    for group_id, field_id in form.secret_paths():
        secret = given.get(secret_key(group_id, field_id), given.get(field_id))
        group = joined.get(group_id)
        if secret is not None:
            if not isinstance(group, dict):
                if group is not None:
                    continue  # the schema reports the wrong type
                group = joined[group_id] = {}
            group[field_id] = secret
        elif isinstance(group, dict) and _is_mask(group.get(field_id)):
            del group[field_id]
    return joined


def _file_to_data_url(value: Mapping[str, Any]) -> str:
    content_type = str(value.get("contentType") or "application/octet-stream")
    name = quote(str(value.get("filename") or "file"), safe="")
    return f"data:{content_type};name={name};base64,{value.get('content') or ''}"


def normalize_values(form: Form, values: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical request values: file objects become data-urls. Other values are left as sent."""
    normalized = copy.deepcopy(dict(values))
    for group in form.groups:
        group_values = normalized.get(group.id)
        if not isinstance(group_values, dict):
            continue
        for field in group.fields:
            value = group_values.get(field.id)
            if field.type == "file" and isinstance(value, dict):
                group_values[field.id] = _file_to_data_url(value)
    return normalized


def apply_defaults(form: Form, values: Mapping[str, Any]) -> dict[str, Any]:
    """Fill every absent field that has a default (a Backstage form does this client-side)."""
    filled = copy.deepcopy(dict(values))
    for group in form.groups:
        defaults = {f.id: copy.deepcopy(f.default) for f in group.fields if f.default is not None}
        if not defaults:
            continue
        group_values = filled.setdefault(group.id, {})
        if isinstance(group_values, dict):
            for field_id, default in defaults.items():
                group_values.setdefault(field_id, default)
    return filled


def file_size(data_url: str) -> int | None:
    """Decoded size in bytes of a base64 data-url, or None if it is not one."""
    match = _DATA_URL.match(data_url)
    if match is None:
        return None
    try:
        return len(base64.b64decode(match.group(3), validate=True))
    except (binascii.Error, ValueError):
        return None


def _dotted(parts: Iterable[Any]) -> str:
    return ".".join(str(p) for p in parts if not isinstance(p, int))


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _message(keyword: str, expected: Any, instance: Any) -> str | None:
    if keyword == "type":
        return f"must be {_TYPE_NAMES.get(str(expected), str(expected))}"
    if keyword == "minimum":
        return f"must be ≥ {_show(expected)}"
    if keyword == "maximum":
        return f"must be ≤ {_show(expected)}"
    if keyword == "minLength":
        return f"must be at least {expected} characters long"
    if keyword == "maxLength":
        return f"must be at most {expected} characters long"
    if keyword == "pattern":
        return f"must match the pattern {expected}"
    if keyword == "enum":
        return f"must be one of: {', '.join(map(str, expected))} (got {instance!r})"
    if keyword == "uniqueItems":
        return "must not list the same value twice"
    if keyword == "minItems":
        return f"must have at least {expected} choices"
    if keyword == "maxItems":
        return f"must have at most {expected} choices"
    if keyword == "format":
        return f"must be {_FORMAT_NAMES.get(str(expected), str(expected))}"
    return None


def _field_errors(form: Form, error: ValidationError) -> list[FieldError]:
    path = list(error.absolute_path)
    where = _dotted(path)
    keyword = str(error.validator)
    expected: Any = error.validator_value
    if keyword == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [p for p in expected if p not in instance]
        errors: list[FieldError] = []
        for prop in missing:
            group = next((g for g in form.groups if g.id == prop), None) if not path else None
            if group is not None:
                errors.extend(
                    FieldError(path=f"{group.id}.{f.id}", message="is required", code="required")
                    for f in group.fields
                    if f.required
                )
            else:
                errors.append(FieldError(path=_dotted([*path, prop]), message="is required", code="required"))
        return errors
    if keyword == "additionalProperties":
        instance = error.instance if isinstance(error.instance, dict) else {}
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        where_in = f"group {where!r}" if where else "this form"
        return [
            FieldError(
                path=_dotted([*path, extra]),
                message=f"is not a field of {where_in}; remove it or check its spelling",
                code="additionalProperties",
            )
            for extra in instance
            if extra not in known
        ]
    text = _message(keyword, expected, error.instance) or str(error.message)
    return [FieldError(path=where or NAME_FIELD, message=text, code=keyword)]


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _beyond_schema(field: FormField, path: str, value: Any) -> list[FieldError]:
    """Checks draft-07 cannot express: finite numbers, date bounds, file data-url and size, password
    pattern."""
    validation = field.validation
    errors: list[FieldError] = []
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN/Infinity, yet Python's parser reads them; they pass every min/max comparison.
        errors.append(FieldError(path=path, message="must be a finite number", code="finite"))
    if field.type == "date" and isinstance(value, str) and validation:
        day = _parse_date(value)
        low = _parse_date(str(validation.min)) if validation.min is not None else None
        high = _parse_date(str(validation.max)) if validation.max is not None else None
        if day is not None and low is not None and day < low:
            errors.append(FieldError(path=path, message=f"must be on or after {low}", code="formatMinimum"))
        if day is not None and high is not None and day > high:
            errors.append(FieldError(path=path, message=f"must be on or before {high}", code="formatMaximum"))
    elif field.type == "file" and isinstance(value, str):
        size = file_size(value)
        if size is None:
            message = "must be a base64 data-url: data:<content type>;name=<file name>;base64,<content>"
            errors.append(FieldError(path=path, message=message, code="dataUrl"))
        elif validation:
            if validation.min is not None and size < float(validation.min):
                message = f"must be at least {_show(float(validation.min))} bytes (got {size})"
                errors.append(FieldError(path=path, message=message, code="minSize"))
            if validation.max is not None and size > float(validation.max):
                message = f"must be at most {_show(float(validation.max))} bytes (got {size})"
                errors.append(FieldError(path=path, message=message, code="maxSize"))
    elif (
        field.type == "password"
        and isinstance(value, str)
        and validation
        and validation.pattern
        and re.search(validation.pattern, value) is None
    ):
        # The message never quotes the secret.
        errors.append(
            FieldError(
                path=path, message="does not match the pattern the form requires", code="x-pao-pattern"
            )
        )
    return errors


_VALIDATORS: dict[int, tuple[Form, Draft7Validator]] = {}


def _validator(form: Form) -> Draft7Validator:
    # Forms are frozen models that live as long as their catalog snapshot; cache by identity.
    cached = _VALIDATORS.get(id(form))
    if cached is not None and cached[0] is form:
        return cached[1]
    if len(_VALIDATORS) > 4096:
        _VALIDATORS.clear()
    validator = Draft7Validator(form_schema(form), format_checker=Draft7Validator.FORMAT_CHECKER)
    _VALIDATORS[id(form)] = (form, validator)
    return validator


def validate_values(
    form: Form, values: Mapping[str, Any], *, secrets: Mapping[str, str] | None = None
) -> list[FieldError]:
    """Every problem with `values` (secrets joined in first); an empty list means valid."""
    if not isinstance(values, Mapping):
        return [FieldError(path=NAME_FIELD, message="values must be an object", code="type")]
    candidate = normalize_values(form, join_secrets(form, values, secrets))
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for error in sorted(
        _validator(form).iter_errors(candidate), key=lambda e: list(map(str, e.absolute_path))
    ):
        for field_error in _field_errors(form, error):
            if (field_error.path, field_error.code) not in seen:
                seen.add((field_error.path, field_error.code))
                errors.append(field_error)
    for group in form.groups:
        group_values = candidate.get(group.id)
        if not isinstance(group_values, dict):
            continue
        for field in group.fields:
            if field.id in group_values:
                errors.extend(_beyond_schema(field, f"{group.id}.{field.id}", group_values[field.id]))
    return errors


def require_valid_values(
    form: Form,
    values: Mapping[str, Any],
    *,
    secrets: Mapping[str, str] | None = None,
    offering_id: str | None = None,
) -> None:
    """Raise InputError (422, `details.errors`) naming every invalid value."""
    errors = validate_values(form, values, secrets=secrets)
    if not errors:
        return
    what = f"values for {offering_id!r}" if offering_id else "request values"
    summary = "; ".join(str(e) for e in errors[:5]) + ("; …" if len(errors) > 5 else "")
    raise InputError(
        f"{what} are invalid: {summary}. Fix the fields named and send the request again.",
        details={"errors": [e.model_dump() for e in errors], "status": 422},
    )
