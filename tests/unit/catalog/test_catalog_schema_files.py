"""The JSON Schemas serve editors: every property is described, and the examples they give are valid."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft7Validator

from pao_backend.catalog.schema import load_schemas

FILES = [
    "catalog-item.schema.json",
    "catalog-bundle.schema.json",
    "common-types.schema.json",
    "teams.schema.json",
]


def _resolve(node: dict[str, Any], file: str) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target_file, _, pointer = ref.partition("#")
    target: Any = load_schemas("v1")[target_file or file]
    for part in pointer.strip("/").split("/"):
        target = target[part]
    return _resolve(target, target_file or file)


def _properties(node: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            found.append((f"{path}.{name}", sub))
        for key, value in node.items():
            if key != "if":  # `if` conditions select a branch; they describe nothing
                found += _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _properties(value, f"{path}[{index}]")
    return found


@pytest.mark.parametrize("file", FILES)
def test_every_property_has_a_description(file: str) -> None:
    schema = load_schemas("v1")[file]
    missing = [
        path
        for path, sub in _properties(schema, file)
        if "description" not in sub and "description" not in _resolve(sub, file)
    ]
    assert missing == []


@pytest.mark.parametrize("file", FILES)
def test_schema_is_valid_draft_07_with_top_level_description(file: str) -> None:
    schema = load_schemas("v1")[file]
    Draft7Validator.check_schema(schema)
    assert schema["description"]


def test_examples_of_shared_definitions_are_valid() -> None:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    schemas = load_schemas("v1")
    registry: Registry[Any] = Registry().with_resources(
        (name, Resource.from_contents(body, default_specification=DRAFT7)) for name, body in schemas.items()
    )
    checked = 0
    for name, definition in schemas["common-types.schema.json"]["definitions"].items():
        validator = Draft7Validator(
            {"$ref": f"common-types.schema.json#/definitions/{name}"}, registry=registry
        )
        for example in definition.get("examples", []):
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], (name, example)
            checked += 1
    assert checked >= 10
