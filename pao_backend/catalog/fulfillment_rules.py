"""Fulfilment rules: output sources valid for the action type, rest-api endpoints and credentials, and the
variables of every template (namespaces, `.current` paths, `.metadata` ids and keys, earlier `.output` keys).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING

from pao_backend.catalog.form_rules import text_values
from pao_backend.catalog.models import Action, CatalogItem
from pao_backend.catalog.problems import Problem
from pao_backend.templating import TemplateIssue, check, form_paths

if TYPE_CHECKING:
    from pao_backend.catalog.documents import ParsedDocument
    from pao_backend.catalog.rules import CatalogContext

PathKey = tuple[str | int, ...]

__all__ = [
    "ISSUE_CODES",
    "OUTPUT_SOURCES",
    "action_lists",
    "check_endpoints",
    "check_fulfillment",
    "check_item_variables",
    "outputs_of",
    "templates",
]

# What an action's `outputs` may read, by action type: exact sources and prefixes (`prefix.<something>`).
OUTPUT_SOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rest-api": (
        ("response.status", "response.headers", "response.body"),
        ("response.headers.", "response.body."),
    ),
    "jira-ticket": (("ticket.key", "ticket.url", "ticket.id"), ("ticket.fields.",)),
    "cookiecutter": (("output.path", "output.files"), ()),
    "git-commit": (("output.commit", "output.branch", "output.repository", "output.pullRequestUrl"), ()),
}
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "x-auth-token"})
ISSUE_CODES = {
    "template-syntax": "E600",
    "unknown-namespace": "E601",
    "unknown-current-path": "E602",
    "unknown-metadata-item": "E603",
    "unknown-metadata-key": "E604",
    "unknown-output": "E605",
    "unknown-system-key": "E607",
    "unknown-secret": "E609",
}


def action_lists(item: CatalogItem) -> Iterator[tuple[str, list[Action]]]:
    yield "manual", list(item.fulfillment.manual.actions)
    if item.fulfillment.automatic is not None:
        yield "automatic", list(item.fulfillment.automatic.actions)


def check_fulfillment(doc: ParsedDocument, item: CatalogItem) -> None:
    if item.mode == "automatic" and item.fulfillment.automatic is None:
        doc.add(
            ("fulfillment", "strategy", "mode"),
            "E501",
            "mode is automatic but there is no `fulfillment.automatic`",
            "add `automatic: {actions: [...]}` or set `mode: manual`",
        )
    for list_name, actions in action_lists(item):
        for index, action in enumerate(actions):
            a_path: PathKey = ("fulfillment", list_name, "actions", index)
            _output_source_rules(doc, a_path, action)
            if action.type == "rest-api":
                _rest_rules(doc, a_path, action)


def _output_source_rules(doc: ParsedDocument, a_path: PathKey, action: Action) -> None:
    exact, prefixes = OUTPUT_SOURCES.get(action.type, ((), ()))
    for key, source in action.outputs.items():
        if source in exact or any(source.startswith(p) and len(source) > len(p) for p in prefixes):
            continue
        shown = ", ".join([*exact, *(p + "<name>" for p in prefixes)]) or "none"
        doc.add(
            (*a_path, "outputs", key),
            "E500",
            f"output `{key}` reads {source!r}, which a {action.type} action does not produce",
            f"{action.type} sources: {shown}",
        )


def _rest_rules(doc: ParsedDocument, a_path: PathKey, action: Action) -> None:
    endpoint = action.config.get("endpoint") or {}
    url = str(endpoint.get("url", ""))
    base = endpoint.get("base")
    c_path: PathKey = (*a_path, "config", "endpoint")
    absolute = url.startswith(("http://", "https://"))
    if base is None and not absolute:
        doc.add(
            (*c_path, "url"),
            "E504",
            f"url {url!r} is not absolute and no `base` is given",
            "write https://host/path, or name a configured endpoint: `base: provisioner` with `url: /path`",
        )
    elif base is not None and absolute:
        doc.add(
            (*c_path, "url"),
            "E504",
            f"with `base: {base}` the url must be a path, not {url!r}",
            "remove the scheme and host (`url: /path`), or drop `base`",
        )
    headers = action.config.get("headers") or {}
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS and ".system.secrets." not in str(value):
            doc.add(
                (*a_path, "config", "headers", name),
                "E505",
                f"header `{name}` carries a credential written into the document",
                "use `authentication: {type: bearer, credential: <name>}` or `{{.system.secrets.<name>}}`",
            )


def check_endpoints(doc: ParsedDocument, item: CatalogItem, endpoints: Collection[str]) -> None:
    for list_name, actions in action_lists(item):
        for index, action in enumerate(actions):
            base = (action.config.get("endpoint") or {}).get("base") if action.type == "rest-api" else None
            if base is not None and base not in endpoints:
                close = difflib.get_close_matches(str(base), list(endpoints), n=1)
                doc.add(
                    ("fulfillment", list_name, "actions", index, "config", "endpoint", "base"),
                    "W503",
                    f"endpoint `{base}` is not configured (known: {', '.join(sorted(endpoints)) or 'none'})",
                    (f"did you mean `{close[0]}`? " if close else "")
                    + "endpoints are deployment settings (PAO_ENDPOINTS); calls fail until it is configured",
                    severity="warning",
                )


def templates(action: Action) -> Iterator[tuple[PathKey, str]]:
    for path, value in text_values(action.config, ("config",)):
        if "{{" in value:
            yield path, value


def _template_problem(
    doc: ParsedDocument,
    path: PathKey,
    template: str,
    issue: TemplateIssue,
    *,
    code: str,
    severity: str,
    message: str,
    hint: str,
) -> None:
    line, column = _template_position(doc, path, template, issue.start, issue.end)
    doc.problems.append(_problem_at(doc, line, column, code, message, hint, severity))


def _problem_at(
    doc: ParsedDocument, line: int, column: int, code: str, message: str, hint: str, severity: str
) -> Problem:
    return Problem(
        doc.path, line, column, "warning" if severity == "warning" else "error", code, message, hint
    )


def _template_position(
    doc: ParsedDocument, path: PathKey, template: str, start: int, end: int
) -> tuple[int, int]:
    """Where in the file template characters start..end are: exact when that text appears verbatim in the
    source (plain, quoted, literal and folded scalars alike), else the scalar's own position."""
    line, column = doc.position(path)
    snippet = template[start:end].split("\n", 1)[0] or template[start : start + 2]
    if not snippet:
        return line, column
    occurrence = template.count(snippet, 0, start)
    lines = doc.text.splitlines()
    row, col, seen = line - 1, column - 1, 0
    while row < len(lines):
        found = lines[row].find(snippet, col)
        while found >= 0:
            if seen == occurrence:
                return row + 1, found + 1
            seen += 1
            found = lines[row].find(snippet, found + 1)
        row, col = row + 1, 0
    return line, column


def check_item_variables(doc: ParsedDocument, item: CatalogItem, context: CatalogContext) -> None:
    paths = form_paths(item.form)
    for list_name, actions in action_lists(item):
        declared: dict[str, int] = {}
        for index, action in enumerate(actions):
            a_path: PathKey = ("fulfillment", list_name, "actions", index)
            for t_path, template in templates(action):
                for issue in check(
                    template,
                    form_paths=paths,
                    metadata=context.metadata,
                    output_keys=declared,
                    secret_names=context.secret_names,
                ):
                    code = ISSUE_CODES.get(issue.code, "E600")
                    severity, message, hint = issue.severity, issue.message, issue.hint
                    if issue.code == "unknown-output" and issue.variable is not None:
                        # Agreed rule: an item may read outputs of the components a bundle runs before it.
                        code, severity = "W608", "warning"
                        message = (
                            f"`{issue.variable.dotted}`: no earlier action of this item declares "
                            f"`{issue.variable.path[0]}`; it is empty unless the item runs in a bundle "
                            "after a component that declares it"
                        )
                        hint = (
                            "fine for an item meant for bundles; otherwise declare it in an earlier action's "
                            "`outputs` or fix the key"
                        )
                    _template_problem(
                        doc,
                        (*a_path, *t_path),
                        template,
                        issue,
                        code=code,
                        severity=severity,
                        message=message,
                        hint=hint,
                    )
            for key in action.outputs:
                if key in declared:
                    doc.add(
                        (*a_path, "outputs", key),
                        "W606",
                        f"output `{key}` shadows the one declared by action {declared[key] + 1} of this list",
                        "rename one of them unless the later value is meant to win",
                        severity="warning",
                        key=True,
                    )
                declared[key] = index


def outputs_of(item: CatalogItem) -> set[str]:
    return {key for action in item.fulfillment.actions_for(item.mode) for key in action.outputs}
