"""Template parameter pages: the parameter-schema response, and values validated as Backstage does.

Backstage validates the *whole* `values` object against *every* page (npm `jsonschema`, draft-07
keywords) and answers 400 `{errors: [ValidationError]}`; `validate_parameters` does the same with
`jsonschema.Draft7Validator` and reports errors in the npm library's shape
(`{path, property, message, schema, instance, name, argument, stack}`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

__all__ = ["pages_of", "parameter_schema", "validate_parameters"]

_DEFAULT_PAGE_TITLE = "Please enter the following information"


def pages_of(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`[spec.parameters ?? []].flat()`: one object is one page."""
    parameters = template.get("spec", {}).get("parameters")
    if parameters is None:
        return []
    pages = parameters if isinstance(parameters, list) else [parameters]
    return [page for page in pages if isinstance(page, dict)]


def parameter_schema(template: Mapping[str, Any]) -> dict[str, Any]:
    """`GET /v2/templates/{ns}/{kind}/{name}/parameter-schema` for a Template entity."""
    metadata = template.get("metadata", {})
    spec = template.get("spec", {})
    schema: dict[str, Any] = {
        "title": metadata.get("title") or metadata.get("name"),
        "description": metadata.get("description"),
        "steps": [
            {
                "title": page.get("title") or _DEFAULT_PAGE_TITLE,
                "description": page.get("description"),
                "schema": page,
            }
            for page in pages_of(template)
        ],
    }
    if "presentation" in spec:
        schema["presentation"] = spec["presentation"]
    if "ui:options" in metadata:
        schema["ui:options"] = metadata["ui:options"]
    decorators = spec.get("formDecorators", spec.get("EXPERIMENTAL_formDecorators"))
    if decorators is not None:
        schema["formDecorators"] = decorators
    return schema


def _property(path: list[Any]) -> str:
    text = "instance"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _npm_message(error: ValidationError) -> tuple[str, Any]:
    """The npm jsonschema library's message and `argument` for one error."""
    keyword = str(error.validator)
    expected: Any = error.validator_value
    instance = error.instance
    if keyword == "required":
        # Draft7Validator yields one error per missing property, named in its message.
        missing = next((p for p in expected if error.message.startswith(f"{p!r} ")), expected)
        return f'requires property "{missing}"', missing
    if keyword == "type":
        types = expected if isinstance(expected, list) else [expected]
        return f"is not of a type(s) {','.join(types)}", types
    if keyword == "pattern":
        return f'does not match pattern "{expected}"', expected
    if keyword == "minimum":
        return f"must be greater than or equal to {_num(expected)}", expected
    if keyword == "maximum":
        return f"must be less than or equal to {_num(expected)}", expected
    if keyword in ("minLength", "minItems"):
        return f"does not meet minimum length of {expected}", expected
    if keyword in ("maxLength", "maxItems"):
        return f"does not meet maximum length of {expected}", expected
    if keyword == "enum":
        return f"is not one of enum values: {','.join(map(str, expected))}", expected
    if keyword == "format":
        return f'does not conform to the "{expected}" format', expected
    if keyword == "uniqueItems":
        return "contains duplicate item", expected
    if keyword == "additionalProperties":
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = next((k for k in instance if k not in known), "") if isinstance(instance, dict) else ""
        return f'is not allowed to have the additional property "{extra}"', extra
    if keyword == "propertyNames":
        return f"is not a valid property name: {error.message}", expected
    return str(error.message), expected


def _num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _npm_error(error: ValidationError) -> dict[str, Any]:
    path = list(error.absolute_path)
    prop = _property(path)
    message, argument = _npm_message(error)
    return {
        "path": path,
        "property": prop,
        "message": message,
        "schema": _json_safe(error.schema),
        "instance": _json_safe(error.instance),
        "name": str(error.validator),
        "argument": _json_safe(argument),
        "stack": f"{prop} {message}",
    }


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def validate_parameters(
    values: Mapping[str, Any], template: Mapping[str, Any], *, check_formats: bool = True
) -> list[dict[str, Any]]:
    """Errors of `values` against every parameter page, in the npm jsonschema ValidationError shape."""
    errors: list[dict[str, Any]] = []
    checker = Draft7Validator.FORMAT_CHECKER if check_formats else None
    for page in pages_of(template):
        validator = Draft7Validator(page, format_checker=checker)
        ordered = sorted(validator.iter_errors(dict(values)), key=lambda e: list(map(str, e.absolute_path)))
        errors.extend(_npm_error(error) for error in ordered)
    return errors
