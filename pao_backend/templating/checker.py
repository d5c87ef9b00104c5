"""Static checks of a template against what a document can know: its form, the catalog's metadata,
the outputs of earlier actions, and the `.system` keys.

The catalog validator calls `check` for every templated string and turns issues into positioned
problems; `start`/`end` are offsets in the template text.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pao_backend.templating.errors import TemplateSyntaxError
from pao_backend.templating.parser import Variable, variables
from pao_backend.templating.scope import (
    NAMESPACES,
    SYSTEM_KEYS,
    SYSTEM_PLATFORM_KEYS,
    SYSTEM_USER_KEYS,
)

IssueCode = Literal[
    "template-syntax",
    "unknown-namespace",
    "unknown-current-path",
    "unknown-metadata-item",
    "unknown-metadata-key",
    "unknown-output",
    "unknown-system-key",
    "unknown-secret",
]


@dataclass(frozen=True)
class TemplateIssue:
    code: IssueCode
    message: str
    hint: str
    start: int
    end: int
    variable: Variable | None = None
    severity: Literal["error", "warning"] = "error"


def check(
    template: str,
    *,
    form_paths: Collection[tuple[str, ...]],
    metadata: Mapping[str, Mapping[str, Any]],
    output_keys: Collection[str],
    secret_names: Collection[str] | None = None,
) -> list[TemplateIssue]:
    """Everything wrong with the variables of `template`; empty when it is fine.

    `form_paths` are the `.current` paths the form defines (see `scope.form_paths`), `metadata` the
    `.metadata` namespace by item id, `output_keys` the keys that actions running earlier produce,
    `secret_names` the configured secrets (None: not checked).
    """
    try:
        found = variables(template)
    except TemplateSyntaxError as exc:
        offset = exc.offset or 0
        return [TemplateIssue("template-syntax", exc.reason, exc.hint, offset, offset + 2)]
    issues: list[TemplateIssue] = []
    for var in found:
        issue = _check_variable(var, form_paths, metadata, output_keys, secret_names)
        if issue is not None:
            issues.append(issue)
    return issues


def _issue(var: Variable, code: IssueCode, message: str, hint: str) -> TemplateIssue:
    return TemplateIssue(code, message, hint, var.start, var.end, var)


def _suggest(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean `{close[0]}`?" if close else ""


def _join(hint: str, suggestion: str) -> str:
    return f"{suggestion} {hint}" if suggestion else hint


def _check_variable(
    var: Variable,
    form_paths: Collection[tuple[str, ...]],
    metadata: Mapping[str, Mapping[str, Any]],
    output_keys: Collection[str],
    secret_names: Collection[str] | None,
) -> TemplateIssue | None:
    if var.namespace not in NAMESPACES:
        return _issue(
            var,
            "unknown-namespace",
            f"`{var.dotted}` uses the unknown namespace `.{var.namespace}`",
            _join(
                "namespaces are .current, .output, .metadata and .system",
                _suggest(var.namespace, NAMESPACES),
            ),
        )
    if var.namespace == "current":
        return _check_current(var, form_paths)
    if var.namespace == "metadata":
        return _check_metadata(var, metadata)
    if var.namespace == "output":
        key = var.path[0]
        if key in output_keys:
            return None
        known = ", ".join(sorted(output_keys)) or "none"
        return _issue(
            var,
            "unknown-output",
            f"`{var.dotted}`: no earlier action declares the output `{key}`",
            _join(
                f"declare it in an earlier action's `outputs` (known so far: {known})",
                _suggest(key, output_keys),
            ),
        )
    return _check_system(var, secret_names)


def _check_current(var: Variable, form_paths: Collection[tuple[str, ...]]) -> TemplateIssue | None:
    if var.path in form_paths:
        return None
    dotted = sorted(".".join(p) for p in form_paths)
    return _issue(
        var,
        "unknown-current-path",
        f"`{var.dotted}` is not a field of the form",
        _join(
            "use `.current.name` or `.current.<groupId>.<fieldId>` of a field the form defines",
            _suggest(".".join(var.path), dotted),
        ),
    )


def _check_metadata(var: Variable, metadata: Mapping[str, Mapping[str, Any]]) -> TemplateIssue | None:
    item_id = var.path[0]
    if item_id not in metadata:
        return _issue(
            var,
            "unknown-metadata-item",
            f"`{var.dotted}`: there is no catalog item `{item_id}`",
            _join("write `.metadata.<itemId>.<key>` with an existing item id", _suggest(item_id, metadata)),
        )
    if len(var.path) < 2:
        return _issue(
            var,
            "unknown-metadata-key",
            f"`{var.dotted}` names the whole metadata of `{item_id}`",
            "name one key, e.g. `.metadata.<itemId>.owner.team`",
        )
    node: Any = metadata[item_id]
    for depth, key in enumerate(var.path[1:], start=1):
        if not isinstance(node, Mapping) or key not in node:
            keys = sorted(node) if isinstance(node, Mapping) else []
            where = ".".join(var.path[:depth])
            return _issue(
                var,
                "unknown-metadata-key",
                f"`{var.dotted}`: `{where}` has no key `{key}`",
                _join(f"known keys: {', '.join(keys) or 'none'}", _suggest(key, keys)),
            )
        node = node[key]
    return None


def _check_system(var: Variable, secret_names: Collection[str] | None) -> TemplateIssue | None:
    head, rest = var.path[0], var.path[1:]
    groups = {"user": SYSTEM_USER_KEYS, "platform": SYSTEM_PLATFORM_KEYS}
    if head in SYSTEM_KEYS and not rest:
        return None
    if head in groups and len(rest) == 1 and rest[0] in groups[head]:
        return None
    if head == "secrets" and len(rest) in (1, 2):
        if secret_names is None or rest[0] in secret_names:
            return None
        return _issue(
            var,
            "unknown-secret",
            f"`{var.dotted}`: no secret `{rest[0]}` is configured",
            _join("configure it (PAO_CREDENTIALS) or fix the name", _suggest(rest[0], secret_names)),
        )
    known = [
        *SYSTEM_KEYS,
        *(f"{g}.{k}" for g, keys in groups.items() for k in keys),
        "secrets.<name>[.<key>]",
    ]
    return _issue(
        var,
        "unknown-system-key",
        f"`{var.dotted}` is not a `.system` value",
        _join(f"known: {', '.join(known)}", _suggest(".".join(var.path), known)),
    )
