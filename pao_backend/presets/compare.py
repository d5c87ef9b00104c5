"""What changed in an offering's form since a preset was saved (pure)."""

from __future__ import annotations

from typing import Any

from pao_backend.catalog.models import Form
from pao_backend.catalog.values import FieldError, validate_values
from pao_backend.presets.models import PresetChange


def field_rules(form: Form) -> dict[str, dict[str, Any]]:
    """The rules of every field, keyed by dotted path, as recorded with a preset."""
    rules: dict[str, dict[str, Any]] = {}
    name_validation = form.validation
    rules["name"] = {
        "type": "string",
        "required": True,
        "pattern": name_validation.pattern if name_validation else None,
        "min": name_validation.min if name_validation else None,
        "max": name_validation.max if name_validation else None,
    }
    for group in form.groups:
        for f in group.fields:
            v = f.validation
            rules[f"{group.id}.{f.id}"] = {
                "type": f.type,
                "label": f.name,
                "required": f.required,
                "hasDefault": f.default is not None,
                "enum": list(f.enum) if f.enum is not None else None,
                "pattern": v.pattern if v else None,
                "min": v.min if v else None,
                "max": v.max if v else None,
            }
    return rules


def secret_errors_only_missing(form: Form, errors: list[FieldError]) -> list[FieldError]:
    """Drop "is required" for password fields: a preset never holds secrets, the user types them again."""
    secret = {f"{g}.{f}" for g, f in form.secret_paths()}
    return [e for e in errors if not (e.path in secret and e.code == "required")]


def preset_value_errors(form: Form, values: dict[str, Any]) -> list[FieldError]:
    return secret_errors_only_missing(form, validate_values(form, values))


def _what_changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    words: list[str] = []
    if old.get("type") != new.get("type"):
        words.append(f"type {old.get('type')} → {new.get('type')}")
    if old.get("enum") != new.get("enum") and new.get("enum") is not None:
        dropped = sorted(set(old.get("enum") or []) - set(new.get("enum") or []))
        added = sorted(set(new.get("enum") or []) - set(old.get("enum") or []))
        if dropped:
            words.append("no longer offers " + ", ".join(dropped))
        if added:
            words.append("now also offers " + ", ".join(added))
    if not old.get("required") and new.get("required"):
        words.append("is now required")
    for key, label in (("min", "minimum"), ("max", "maximum"), ("pattern", "pattern")):
        if old.get(key) != new.get(key):
            words.append(f"{label} {old.get(key)} → {new.get(key)}")
    return words


def compare(form: Form, recorded: dict[str, dict[str, Any]], values: dict[str, Any]) -> list[PresetChange]:
    """Fields added, removed or changed since `recorded`, plus preset values the current form rejects."""
    current = field_rules(form)
    changes: dict[str, PresetChange] = {}
    for path in recorded.keys() - current.keys():
        changes[path] = PresetChange(
            path=path, change="removed", message="is no longer in the form; the saved value is dropped"
        )
    for path in current.keys() - recorded.keys():
        rule = current[path]
        message = (
            "is a new required field: fill it in"
            if rule.get("required") and not rule.get("hasDefault")
            else "is a new field; its default is used"
        )
        changes[path] = PresetChange(path=path, change="added", message=message)
    for path in current.keys() & recorded.keys():
        words = _what_changed(recorded[path], current[path])
        if words:
            changes[path] = PresetChange(path=path, change="changed", message="; ".join(words))
    for error in preset_value_errors(form, values):
        earlier = changes.get(error.path)
        if earlier is not None and (
            earlier.change == "removed" or (earlier.change == "added" and error.code == "required")
        ):
            continue
        message = f"saved value {error.message}" + (f" ({earlier.message})" if earlier else "")
        changes[error.path] = PresetChange(path=error.path, change="invalid", message=message)
    return [changes[p] for p in sorted(changes)]


def drop_removed(form: Form, values: dict[str, Any]) -> dict[str, Any]:
    """The values that still have a field in `form` (removed fields and groups are left out)."""
    kept: dict[str, Any] = {}
    if "name" in values:
        kept["name"] = values["name"]
    for group in form.groups:
        group_values = values.get(group.id)
        if isinstance(group_values, dict):
            ids = {f.id for f in group.fields}
            kept[group.id] = {k: v for k, v in group_values.items() if k in ids}
    return kept
