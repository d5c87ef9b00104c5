"""What changed between two versions of a catalog document, which changes break requesters, and whether
the version bump says so. Pure: documents in, findings out.

Breaking (needs a major bump): a removed field or group, a new required field without a default, a field
that became required without a default, a type change, a narrowed enum, pattern or range, a removed
output, a removed bundle component, a removed document. Compatible (minor): new optional fields, widened
enums and ranges, new outputs, changed defaults. Anything else (actions, texts) is a patch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "BUMPS",
    "Bump",
    "Change",
    "DocumentDiff",
    "bump_between",
    "diff_catalogs",
    "diff_documents",
    "parse_semver",
]

Bump = Literal["none", "patch", "minor", "major"]
BUMPS: tuple[Bump, ...] = ("none", "patch", "minor", "major")
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")
# Field types whose values look the same to a requester.
_SAME_VALUES = {frozenset({"string", "textarea"})}

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Change:
    """One difference. `where` is the dotted place; `at` the path in the new (or old) document."""

    kind: str
    where: str
    message: str
    breaking: bool
    level: Bump = "patch"
    at: PathKey = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "where": self.where,
            "message": self.message,
            "breaking": self.breaking,
            "level": self.level,
        }


def parse_semver(text: Any) -> tuple[int, int, int] | None:
    match = _SEMVER.match(str(text or ""))
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def bump_between(old: Any, new: Any) -> Bump | Literal["downgrade", "invalid"]:
    """The kind of version bump from `old` to `new`."""
    before, after = parse_semver(old), parse_semver(new)
    if before is None or after is None:
        return "invalid"
    if after < before:
        return "downgrade"
    if after[0] > before[0]:
        return "major"
    if after[1] > before[1]:
        # 0.y.z: anything may change; semver lets a minor bump carry breaking changes before 1.0.0.
        return "major" if before[0] == 0 else "minor"
    if after[2] > before[2]:
        return "patch"
    return "none"


@dataclass
class DocumentDiff:
    """The changes of one document between two catalog versions."""

    path: str
    id: str
    kind: str = ""
    old_version: str | None = None
    new_version: str | None = None
    old_schema: str | None = None
    new_schema: str | None = None
    changes: list[Change] = field(default_factory=list)
    removed: bool = False
    added: bool = False

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    @property
    def required_bump(self) -> Bump:
        if not self.changes:
            return "none"
        return max((c.level for c in self.changes), key=BUMPS.index)

    @property
    def actual_bump(self) -> Bump | Literal["downgrade", "invalid"]:
        if self.added or self.removed:
            return "none"
        return bump_between(self.old_version, self.new_version)

    @property
    def bump_ok(self) -> bool:
        """Whether the version bump is enough for the changes (breaking ⇒ major)."""
        if self.added or self.removed:
            return True
        actual = self.actual_bump
        if actual in ("downgrade", "invalid"):
            return False
        return BUMPS.index(actual) >= BUMPS.index(self.required_bump)

    @property
    def verdict(self) -> str:
        if self.added:
            return f"new document at {self.new_version}"
        if self.removed:
            return "removed: requests for it can no longer be made"
        if not self.changes:
            return "unchanged" if self.old_version == self.new_version else "version changed, content did not"
        bump = self.actual_bump
        if bump == "downgrade":
            return f"version went down from {self.old_version} to {self.new_version}"
        if bump == "invalid":
            return f"version {self.new_version!r} is not semver"
        needed = self.required_bump
        if self.bump_ok:
            return f"{bump} bump {self.old_version} → {self.new_version} is enough ({needed} needed)"
        suggestion = _suggest(self.old_version, needed)
        return f"{bump} bump {self.old_version} → {self.new_version} is NOT enough: {needed} needed" + (
            f" (e.g. {suggestion})" if suggestion else ""
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "id": self.id,
            "kind": self.kind,
            "oldVersion": self.old_version,
            "newVersion": self.new_version,
            "oldSchemaVersion": self.old_schema,
            "newSchemaVersion": self.new_schema,
            "added": self.added,
            "removed": self.removed,
            "breaking": bool(self.breaking) or self.removed,
            "requiredBump": self.required_bump,
            "actualBump": self.actual_bump,
            "bumpOk": self.bump_ok,
            "verdict": self.verdict,
            "changes": [c.to_dict() for c in self.changes],
        }


def _suggest(version: str | None, needed: Bump) -> str | None:
    parsed = parse_semver(version)
    if parsed is None:
        return None
    major, minor, patch = parsed
    if needed == "major":
        return f"{major + 1}.0.0" if major > 0 else f"0.{minor + 1}.0"
    if needed == "minor":
        return f"{major}.{minor + 1}.0"
    if needed == "patch":
        return f"{major}.{minor}.{patch + 1}"
    return None


# ---- forms --------------------------------------------------------------------------------------


def _form(document: Mapping[str, Any]) -> Mapping[str, Any]:
    form = (document.get("input") or {}).get("form")
    return form if isinstance(form, Mapping) else {}


def _fields(document: Mapping[str, Any]) -> dict[tuple[str, str], tuple[PathKey, Mapping[str, Any]]]:
    """Form fields by (group id, field id), with their path; the top-level `name` is ("", "name")."""
    form = _form(document)
    found: dict[tuple[str, str], tuple[PathKey, Mapping[str, Any]]] = {}
    if form:
        found[("", "name")] = (
            ("input", "form"),
            {**form, "required": True, "type": form.get("type", "string")},
        )
    for g_index, group in enumerate(form.get("groups") or []):
        if not isinstance(group, Mapping):
            continue
        for f_index, spec in enumerate(group.get("fields") or []):
            if isinstance(spec, Mapping) and "id" in spec:
                path: PathKey = ("input", "form", "groups", g_index, "fields", f_index)
                found[(str(group.get("id")), str(spec["id"]))] = (path, spec)
    return found


def _label(key: tuple[str, str]) -> str:
    return "name" if key == ("", "name") else f"{key[0]}.{key[1]}"


def _has_default(spec: Mapping[str, Any]) -> bool:
    return spec.get("default") is not None


def _validation(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    value = spec.get("validation")
    return value if isinstance(value, Mapping) else {}


def _comparable(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (isinstance(a, numbers) and isinstance(b, numbers)) or (isinstance(a, str) and isinstance(b, str))


def _tighter(bound: str, before: Any, after: Any) -> bool:
    """Whether `after` allows fewer values than `before` (a higher min, a lower max)."""
    if not _comparable(before, after):
        return False
    return bool(after > before) if bound == "min" else bool(after < before)


def _field_changes(
    key: tuple[str, str], path: PathKey, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterable[Change]:
    where = _label(key)
    old_type, new_type = old.get("type", "string"), new.get("type", "string")
    if old_type != new_type:
        same = frozenset({old_type, new_type}) in _SAME_VALUES
        yield Change(
            "type-changed",
            where,
            f"`{where}` changed type {old_type} → {new_type}"
            + (" (same values)" if same else ": values made for the old type no longer fit"),
            breaking=not same,
            level="patch" if same else "major",
            at=(*path, "type"),
        )
    if new.get("required") and not old.get("required") and not _has_default(new):
        yield Change(
            "field-now-required",
            where,
            f"`{where}` became required without a default: existing presets and scripts that omit it fail",
            breaking=True,
            level="major",
            at=(*path, "required"),
        )
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if isinstance(old_enum, list) and isinstance(new_enum, list):
        removed = [v for v in old_enum if v not in new_enum]
        added = [v for v in new_enum if v not in old_enum]
        if removed:
            yield Change(
                "enum-narrowed",
                where,
                f"`{where}` no longer accepts {', '.join(map(str, removed))}",
                breaking=True,
                level="major",
                at=(*path, "enum"),
            )
        if added:
            yield Change(
                "enum-widened",
                where,
                f"`{where}` now also accepts {', '.join(map(str, added))}",
                breaking=False,
                level="minor",
                at=(*path, "enum"),
            )
    elif isinstance(new_enum, list) and not isinstance(old_enum, list):
        yield Change(
            "enum-narrowed",
            where,
            f"`{where}` is now limited to {', '.join(map(str, new_enum))}",
            breaking=True,
            level="major",
            at=(*path, "enum"),
        )
    old_rules, new_rules = _validation(old), _validation(new)
    old_pattern, new_pattern = old_rules.get("pattern"), new_rules.get("pattern")
    if new_pattern is not None and new_pattern != old_pattern:
        yield Change(
            "pattern-narrowed",
            where,
            f"`{where}` pattern "
            + (f"changed {old_pattern!r} → {new_pattern!r}" if old_pattern else f"added {new_pattern!r}")
            + ": values valid before may be refused",
            breaking=True,
            level="major",
            at=(*path, "validation", "pattern"),
        )
    elif old_pattern is not None and new_pattern is None:
        yield Change("pattern-removed", where, f"`{where}` no longer has a pattern", False, "minor", (*path,))
    for bound in ("min", "max"):
        before, after = old_rules.get(bound), new_rules.get(bound)
        if after is None and before is None:
            continue
        if after is not None and (before is None or _tighter(bound, before, after)):
            yield Change(
                "range-narrowed",
                where,
                f"`{where}` {bound} " + (f"{before} → {after}" if before is not None else f"added ({after})"),
                breaking=True,
                level="major",
                at=(*path, "validation", bound),
            )
        elif before is not None and (after is None or _tighter(bound, after, before)):
            yield Change(
                "range-widened",
                where,
                f"`{where}` {bound} " + (f"{before} → {after}" if after is not None else "removed"),
                breaking=False,
                level="minor",
                at=(*path,),
            )
    if old.get("default") != new.get("default") and key != ("", "name"):
        yield Change(
            "default-changed",
            where,
            f"`{where}` default {old.get('default')!r} → {new.get('default')!r}",
            breaking=False,
            level="minor",
            at=(*path, "default") if "default" in new else path,
        )


def _form_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterable[Change]:
    old_fields, new_fields = _fields(old), _fields(new)
    for key in old_fields:
        if key not in new_fields:
            where = _label(key)
            yield Change(
                "field-removed",
                where,
                f"field `{where}` was removed: requests, presets and scripts that send it are refused",
                breaking=True,
                level="major",
                at=("input", "form", "groups"),
            )
    for key, (path, spec) in new_fields.items():
        if key not in old_fields:
            where = _label(key)
            if spec.get("required") and not _has_default(spec):
                yield Change(
                    "required-field-added",
                    where,
                    f"new required field `{where}` has no default: requests made the old way are refused",
                    breaking=True,
                    level="major",
                    at=path,
                )
            else:
                yield Change("field-added", where, f"new optional field `{where}`", False, "minor", path)
            continue
        yield from _field_changes(key, path, old_fields[key][1], spec)


# ---- outputs, components, the rest ---------------------------------------------------------------


def _outputs(document: Mapping[str, Any]) -> dict[str, PathKey]:
    fulfillment = document.get("fulfillment") or {}
    found: dict[str, PathKey] = {}
    for mode in ("manual", "automatic"):
        actions = ((fulfillment.get(mode) or {}) if isinstance(fulfillment, Mapping) else {}).get("actions")
        for index, action in enumerate(actions or []):
            outputs = action.get("outputs") if isinstance(action, Mapping) else None
            for key in outputs or {}:
                found.setdefault(str(key), ("fulfillment", mode, "actions", index, "outputs", key))
    return found


def _components(document: Mapping[str, Any]) -> dict[str, tuple[int, Mapping[str, Any]]]:
    return {
        str(c.get("id")): (i, c)
        for i, c in enumerate(document.get("components") or [])
        if isinstance(c, Mapping)
    }


def diff_documents(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, path: str = ""
) -> DocumentDiff:
    """Compare two versions of one document (None: the document does not exist on that side)."""
    either = new if new is not None else old or {}
    metadata = either.get("metadata") or {}
    result = DocumentDiff(
        path=path,
        id=str(metadata.get("id") or path),
        kind=str(either.get("kind") or ""),
        old_version=_version(old),
        new_version=_version(new),
        old_schema=(old or {}).get("schemaVersion"),
        new_schema=(new or {}).get("schemaVersion"),
    )
    if old is None:
        result.added = True
        return result
    if new is None:
        result.removed = True
        result.changes.append(
            Change("document-removed", result.id, f"{result.id} was removed", True, "major", ())
        )
        return result
    if result.old_schema != result.new_schema:
        result.changes.append(
            Change(
                "schema-version-changed",
                "schemaVersion",
                f"schemaVersion {result.old_schema} → {result.new_schema}",
                False,
                "patch",
                ("schemaVersion",),
            )
        )
    result.changes.extend(_form_changes(old, new))
    old_outputs, new_outputs = _outputs(old), _outputs(new)
    for key in old_outputs:
        if key not in new_outputs:
            result.changes.append(
                Change(
                    "output-removed",
                    f"outputs.{key}",
                    f"output `{key}` is no longer produced: readers of `.output.{key}` break",
                    True,
                    "major",
                    ("fulfillment",),
                )
            )
    for key, at in new_outputs.items():
        if key not in old_outputs:
            result.changes.append(
                Change("output-added", f"outputs.{key}", f"new output `{key}`", False, "minor", at)
            )
    old_components, new_components = _components(old), _components(new)
    for component_id in old_components:
        if component_id not in new_components:
            result.changes.append(
                Change(
                    "component-removed",
                    f"components.{component_id}",
                    f"component `{component_id}` was removed: its outputs are gone",
                    True,
                    "major",
                    ("components",),
                )
            )
    for component_id, (index, spec) in new_components.items():
        if component_id not in old_components:
            result.changes.append(
                Change(
                    "component-added",
                    f"components.{component_id}",
                    f"new component `{component_id}` ({spec.get('catalogItem')})",
                    False,
                    "minor",
                    ("components", index),
                )
            )
        elif old_components[component_id][1] != spec:
            result.changes.append(
                Change(
                    "component-changed",
                    f"components.{component_id}",
                    f"component `{component_id}` changed",
                    False,
                    "patch",
                    ("components", index),
                )
            )
    old_mode = ((old.get("fulfillment") or {}).get("strategy") or {}).get("mode")
    new_mode = ((new.get("fulfillment") or {}).get("strategy") or {}).get("mode")
    if old_mode != new_mode:
        result.changes.append(
            Change(
                "mode-changed",
                "fulfillment.strategy.mode",
                f"mode {old_mode} → {new_mode}",
                False,
                "minor",
                ("fulfillment", "strategy", "mode"),
            )
        )
    if not result.changes and _without_version(old) != _without_version(new):
        result.changes.append(
            Change("content-changed", "(document)", "actions, texts or metadata changed", False, "patch", ())
        )
    elif (
        result.changes
        and old.get("fulfillment") != new.get("fulfillment")
        and not any(c.kind in ("output-removed", "output-added", "mode-changed") for c in result.changes)
    ):
        result.changes.append(
            Change(
                "fulfillment-changed",
                "fulfillment",
                "fulfillment actions changed",
                False,
                "patch",
                ("fulfillment",),
            )
        )
    return result


def _version(document: Mapping[str, Any] | None) -> str | None:
    if document is None:
        return None
    version = (document.get("metadata") or {}).get("version")
    return str(version) if version is not None else None


def _without_version(document: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(document)
    metadata = dict(copy.get("metadata") or {})
    metadata.pop("version", None)
    copy["metadata"] = metadata
    return copy


def diff_catalogs(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> list[DocumentDiff]:
    """Compare two catalogs given as {relative path: document}; documents are matched by metadata.id
    (a moved file is the same document), else by path. Unchanged documents are left out."""

    def by_id(documents: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, Mapping[str, Any]]]:
        found: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for rel, data in documents.items():
            metadata = data.get("metadata") if isinstance(data, Mapping) else None
            key = str(metadata.get("id")) if isinstance(metadata, Mapping) and metadata.get("id") else rel
            found[key] = (rel, data)
        return found

    before, after = by_id(old), by_id(new)
    results: list[DocumentDiff] = []
    for key in sorted({*before, *after}):
        old_entry, new_entry = before.get(key), after.get(key)
        rel = (new_entry or old_entry or ("", {}))[0]
        diff = diff_documents(
            old_entry[1] if old_entry else None, new_entry[1] if new_entry else None, path=rel
        )
        if diff.changes or diff.added or diff.old_version != diff.new_version:
            results.append(diff)
    return results
