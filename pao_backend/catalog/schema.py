"""JSON Schema validation of catalog documents, each error turned into a positioned Problem with a hint.

The schemas live in `schemas/catalog/<version>/` (the files editors use through the
`# yaml-language-server: $schema=` line); validators are compiled once per process.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastjsonschema
from jsonschema import Draft7Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from pao_backend.catalog.models import SCHEMA_VERSIONS
from pao_backend.catalog.problems import Problem

if TYPE_CHECKING:
    from pao_backend.catalog.documents import ParsedDocument

__all__ = [
    "KIND_SCHEMAS",
    "SCHEMA_ROOT",
    "TEAMS_SCHEMA",
    "dotted",
    "kind_problems",
    "load_schemas",
    "schema_problems",
]


def _schema_root() -> Path:
    """schemas/catalog of the source checkout, else the copy a wheel installs under <prefix>/share/pao."""
    checkout = Path(__file__).resolve().parents[2] / "schemas" / "catalog"
    installed = Path(sys.prefix) / "share" / "pao" / "schemas" / "catalog"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


SCHEMA_ROOT = _schema_root()
KIND_SCHEMAS = {"CatalogItem": "catalog-item.schema.json", "CatalogBundle": "catalog-bundle.schema.json"}
TEAMS_SCHEMA = "teams.schema.json"
PathKey = tuple[str | int, ...]


def _version_dir(schema_version: str) -> str:
    return schema_version.split("/", 1)[1]


@functools.cache
def load_schemas(version: str = "v1") -> dict[str, dict[str, Any]]:
    """The schema files of a version by file name."""
    folder = SCHEMA_ROOT / version
    return {path.name: json.loads(path.read_text("utf-8")) for path in sorted(folder.glob("*.schema.json"))}


@functools.cache
def _validator(version: str, name: str) -> Draft7Validator:
    schemas = load_schemas(version)
    registry: Registry[Any] = Registry().with_resources(
        (file, Resource.from_contents(contents, default_specification=DRAFT7))
        for file, contents in schemas.items()
    )
    return Draft7Validator(schemas[name], registry=registry)


@functools.cache
def _fast_check(version: str, name: str) -> Callable[[Any], Any]:
    """A compiled validator (first error only) for the fast path: most documents are valid."""
    schemas = load_schemas(version)
    bundled = _bundle(schemas[name], schemas)
    compiled: Callable[[Any], Any] = fastjsonschema.compile(bundled)
    return compiled


def _bundle(root: dict[str, Any], schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One self-contained schema: other files' definitions copied in under `definitions/<file>--<name>`."""
    definitions: dict[str, Any] = {}

    def rewrite(node: Any, current: str) -> Any:
        if isinstance(node, dict):
            result = {key: rewrite(value, current) for key, value in node.items() if key != "$ref"}
            ref = node.get("$ref")
            if isinstance(ref, str):
                file, _, pointer = ref.partition("#")
                file = file or current
                name = pointer.rsplit("/", 1)[-1]
                local = f"{file}--{name}"
                if local not in definitions:
                    definitions[local] = {}
                    definitions[local] = rewrite(schemas[file]["definitions"][name], file)
                result["$ref"] = f"#/definitions/{local}"
            return result
        if isinstance(node, list):
            return [rewrite(item, current) for item in node]
        return node

    root_name = next(file for file, contents in schemas.items() if contents is root)
    bundled: dict[str, Any] = rewrite(root, root_name)
    bundled["definitions"] = {**bundled.get("definitions", {}), **definitions}
    return bundled


def dotted(path: Iterable[str | int]) -> str:
    """`("input", "form", "groups", 0, "id")` -> `input.form.groups[0].id`."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "(document)"


def kind_problems(doc: ParsedDocument) -> list[Problem]:
    """Problems with `schemaVersion` and `kind`, which pick the schema; empty when both are known."""
    data = doc.data
    problems: list[Problem] = []
    version = data.get("schemaVersion")
    if not isinstance(version, str) or version not in SCHEMA_VERSIONS:
        problems.append(
            doc.problem(
                ("schemaVersion",),
                "E210",
                "missing `schemaVersion`"
                if version is None
                else f"unknown schemaVersion {version!r}; this PAO reads {', '.join(SCHEMA_VERSIONS)}",
                "add `schemaVersion: catalog/v1` as the first key",
            )
        )
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KIND_SCHEMAS:
        suggestion = difflib.get_close_matches(str(kind), list(KIND_SCHEMAS), n=1)
        problems.append(
            doc.problem(
                ("kind",),
                "E211",
                "missing `kind`" if kind is None else f"unknown kind {kind!r}",
                (f"did you mean `{suggestion[0]}`? " if suggestion else "")
                + "write `kind: CatalogItem` (one offering) or `kind: CatalogBundle` (a stack)",
            )
        )
    return problems


def schema_problems(
    doc: ParsedDocument, schema_file: str, schema_version: str = "catalog/v1"
) -> list[Problem]:
    """Validate the document's data against one schema file; one problem per distinct error."""
    version = _version_dir(schema_version)
    data = doc.data
    try:
        _fast_check(version, schema_file)(data)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    validator = _validator(version, schema_file)
    kind = data.get("kind") if isinstance(data, dict) else None
    problems: list[Problem] = []
    for error in validator.iter_errors(data):
        problems.extend(_to_problems(doc, error, kind))
    # The same spot may be reached through several schema branches; report it once.
    unique: dict[tuple[int, int, str, str], Problem] = {}
    for problem in problems:
        unique.setdefault((problem.line, problem.column, problem.code, problem.message), problem)
    return sorted(unique.values())


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    if error.context and error.validator in ("anyOf", "oneOf"):
        from jsonschema.exceptions import best_match

        best = best_match(error.context)
        if best is not None:
            yield from _leaves(best)
            return
    yield error


_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}


def _type_of(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _matches(path: PathKey, *shape: str) -> bool:
    """Match a path against a shape where `*` stands for any list index or key."""
    if len(path) != len(shape):
        return False
    return all(s == "*" or s == p for p, s in zip(path, shape, strict=True))


def _pattern_code(path: PathKey, kind: Any) -> tuple[str, str]:
    """(code, hint) for a `pattern` error, by where it happened."""
    last = path[-1] if path else ""
    if _matches(path, "metadata", "id"):
        if kind == "CatalogBundle":
            return (
                "E302",
                "bundle ids look like `bundle-webapp-standard`: `bundle-`, a name, a variant, kebab-case",
            )
        return "E301", (
            "item ids look like `database-postgresql-standard`: {category}-{service}-{variant}, "
            "lowercase words joined by `-`, at least three"
        )
    if _matches(path, "metadata", "version"):
        return "E308", "write MAJOR.MINOR.PATCH, e.g. `1.0.0`, and quote it if YAML reads it as a number"
    if last in ("project", "jiraProject"):
        return "E309", "JIRA project keys are UPPERCASE letters, digits and `_`, e.g. `DBA`"
    if _matches(path, "metadata", "category") or _matches(path, "teams", "*", "id"):
        return "E205", "use kebab-case: lowercase words joined by `-`"
    if last == "id" and len(path) >= 2:
        return "E300", "ids of groups, fields and components are camelCase, e.g. `instanceClass`"
    return "E205", "change the value to match the pattern"


def _to_problems(doc: ParsedDocument, error: ValidationError, kind: Any) -> Iterator[Problem]:
    for leaf in _leaves(error):
        yield from _leaf_problems(doc, leaf, kind)


def _leaf_problems(doc: ParsedDocument, error: ValidationError, kind: Any) -> Iterator[Problem]:
    path: PathKey = tuple(error.absolute_path)
    where = dotted(path)
    keyword = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}

    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(schema.get("properties", {}))
        for key in instance:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            if _matches(path[-1:], "authentication"):
                hint += "credentials are referenced by name (`credential: <name>`), never written inline; "
            yield doc.problem(
                (*path, key),
                "E201",
                f"unknown key `{key}` " + (f"in `{where}`" if path else "at the top level"),
                hint + f"allowed keys: {', '.join(allowed) or 'none'}",
                key=True,
            )
        return
    if keyword == "required" and isinstance(instance, dict):
        for key in value:
            if key not in instance:
                yield doc.problem(
                    path,
                    "E202",
                    f"{f'`{where}`' if path else 'the document'} is missing the required key `{key}`",
                    _required_hint(path, key),
                    key=bool(path),
                )
        return
    if "propertyNames" in error.schema_path:
        key = str(instance)
        yield doc.problem(
            (*path, key),
            "E300",
            f"key `{key}` in `{where}` is not camelCase",
            f"rename it to camelCase, e.g. `{_camel(key)}`",
            key=True,
        )
        return
    if keyword == "type":
        expected = value if isinstance(value, list) else [value]
        names = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in expected)
        hint = f"write {names} here"
        if "string" in expected and isinstance(instance, int | float | bool):
            hint = f'quote the value: `"{_yaml_scalar(instance)}"`'
        elif "string" in expected and isinstance(instance, str | type(None)):
            hint = "write a value after the `:`"
        yield doc.problem(path, "E203", f"`{where}` must be {names}, not {_type_of(instance)}", hint)
        return
    if keyword in ("enum", "const"):
        options = value if isinstance(value, list) else [value]
        close = difflib.get_close_matches(str(instance), [str(o) for o in options], n=1)
        shown = ", ".join(json.dumps(o) for o in options)
        yield doc.problem(
            path,
            "E204",
            f"`{where}` is {json.dumps(instance, default=str)}; allowed: {shown}",
            (f"did you mean `{close[0]}`? " if close else "")
            + "use one of the allowed values (case matters)",
        )
        return
    if keyword == "pattern":
        code, hint = _pattern_code(path, kind)
        yield doc.problem(path, code, f"`{where}` value {instance!r} does not match `{value}`", hint)
        return
    if keyword in ("minLength", "maxLength"):
        if _matches(path, "metadata", "description"):
            yield doc.problem(
                path,
                "E307",
                f"description is {len(instance)} characters; it must be 50 to 500",
                "say in one or two sentences what a developer gets and when to choose it",
            )
            return
        bound = "at least" if keyword == "minLength" else "at most"
        yield doc.problem(
            path,
            "E206",
            f"`{where}` must be {bound} {value} characters (it is {len(instance)})",
            "shorten it" if keyword == "maxLength" else "write a longer value",
        )
        return
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        yield doc.problem(
            path,
            "E207",
            f"`{where}` is {instance!r}; {error.message.split(' is ', 1)[-1]}",
            "choose a value in range",
        )
        return
    if keyword in ("minItems", "maxItems", "uniqueItems"):
        hint = "remove the duplicates" if keyword == "uniqueItems" else "add or remove entries"
        message = (
            f"`{where}` has duplicate entries"
            if keyword == "uniqueItems"
            else f"`{where}` needs {'at least' if keyword == 'minItems' else 'at most'} {value} entries"
        )
        yield doc.problem(path, "E208", message, hint)
        return
    yield doc.problem(path, "E200", f"`{where}`: {error.message}", "see the schema description of this key")


_REQUIRED_HINTS = {
    "schemaVersion": "add `schemaVersion: catalog/v1`",
    "metadata": "add a `metadata:` block with id, name, description, version, owner",
    "input": "add `input: {form: {name: <label of the name field>, groups: [...]}}`",
    "components": "add `components:` listing {id, catalogItem, dependsOn}",
    "category": "add `category: <folder name>`",
    "fulfillment": "add `fulfillment:` with `strategy: {mode: manual}` and `manual: {actions: [...]}`",
    "manual": "every item needs `manual.actions`: the JIRA path, which is also the escalation path",
    "owner": "add `owner: {team: <team id from teams.yaml>, contact: <e-mail>}`",
}


def _required_hint(path: PathKey, key: str) -> str:
    where = f"to `{dotted(path)}`" if path else "at the top level"
    return _REQUIRED_HINTS.get(key, f"add `{key}:` {where}")


def _camel(key: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", key) if w]
    if not words:
        return "myKey"
    first, rest = words[0], words[1:]
    return first[:1].lower() + first[1:] + "".join(w[:1].upper() + w[1:] for w in rest)


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
