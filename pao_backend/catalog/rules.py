"""The catalog rules beyond the schema: names, forms, fulfilment, variables, bundles and ownership.

Rules run on documents that passed the schema (so their models exist) and add positioned problems
to each document; `check_catalog` runs the rules that need the whole catalog. Codes: `codes.py`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pao_backend.catalog.codeowners import CodeOwners
from pao_backend.catalog.models import Action, CatalogBundle, CatalogItem, Form, Team
from pao_backend.catalog.problems import Problem
from pao_backend.catalog.schema import dotted
from pao_backend.templating import TemplateError, TemplateIssue, check, form_paths, variables

if TYPE_CHECKING:
    from pao_backend.catalog.loader import ParsedDocument

__all__ = [
    "OUTPUT_SOURCES",
    "CatalogContext",
    "Entry",
    "check_bundle",
    "check_catalog",
    "check_item",
]

PathKey = tuple[str | int, ...]

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
_TEXT_TYPES = frozenset({"string", "textarea", "password", "email"})
_COUNT_TYPES = frozenset({"multiselect", "file"})
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "x-auth-token"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISSUE_CODES = {
    "template-syntax": "E600",
    "unknown-namespace": "E601",
    "unknown-current-path": "E602",
    "unknown-metadata-item": "E603",
    "unknown-metadata-key": "E604",
    "unknown-output": "E605",
    "unknown-system-key": "E607",
    "unknown-secret": "E609",
}


@dataclass
class Entry:
    """One document that passed the schema: where it is, its parsed form and its model."""

    relative: str
    doc: ParsedDocument
    model: CatalogItem | CatalogBundle


@dataclass
class CatalogContext:
    """What the cross-document rules may know about the whole catalog."""

    items: dict[str, Entry] = field(default_factory=dict)
    bundles: dict[str, Entry] = field(default_factory=dict)
    teams: dict[str, Team] | None = None
    teams_path: str = "teams.yaml"
    codeowners: CodeOwners | None = None
    # Path prefix of catalog documents inside the repository CODEOWNERS describes, e.g. "catalog/".
    repo_prefix: str = "catalog/"
    endpoints: Collection[str] | None = None
    secret_names: Collection[str] | None = None
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Variables each item's templates use, by item id (filled lazily by the bundle rules).
    usage: dict[str, dict[str, list[_ActionUsage]]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------- documents


def _singulars(category: str) -> set[str]:
    names = {category}
    if category.endswith("ies"):
        names.add(category[:-3] + "y")
    elif category.endswith("s"):
        names.add(category[:-1])
    return names


def _location_rules(doc: ParsedDocument, relative: str, doc_id: str, kind: str) -> None:
    folder, _, file_name = relative.rpartition("/")
    stem = file_name.rsplit(".", 1)[0]
    if stem != doc_id:
        doc.add(
            ("metadata", "id"),
            "E303",
            f"file name `{file_name}` does not match metadata.id `{doc_id}`",
            f"rename the file to `{doc_id}.yaml` (or change the id to `{stem}`)",
        )
    elif not file_name.endswith(".yaml"):
        doc.add(
            ("metadata", "id"),
            "E303",
            f"`{file_name}` should end in `.yaml`",
            f"rename it to `{doc_id}.yaml`",
        )
    if kind == "CatalogItem" and folder == "bundles":
        doc.add(
            ("kind",),
            "E211",
            "a CatalogItem in bundles/",
            "move it to catalog/<category>/ or make it a bundle",
        )
    if kind == "CatalogBundle" and folder != "bundles":
        doc.add(("kind",), "E211", f"a CatalogBundle in {folder}/", "bundles live in catalog/bundles/")


def check_item(doc: ParsedDocument, relative: str, item: CatalogItem) -> None:
    """Rules of one item that need nothing but the document and where it lives."""
    _location_rules(doc, relative, item.id, "CatalogItem")
    folder = relative.rpartition("/")[0]
    category = item.metadata.category or ""
    if folder != "bundles" and category != folder:
        doc.add(
            ("metadata", "category"),
            "E304",
            f"metadata.category is `{category}` but the document is in `{folder}/`",
            f"set `category: {folder}` or move the file to catalog/{category}/",
        )
    first = item.id.split("-", 1)[0]
    if first not in _singulars(category):
        doc.add(
            ("metadata", "id"),
            "E305",
            f"item id `{item.id}` should start with its category `{category}`",
            f"name it `{sorted(_singulars(category))[0]}-<service>-<variant>`",
        )
    _form_rules(doc, item.form)
    _fulfillment_rules(doc, item)


def check_bundle(doc: ParsedDocument, relative: str, bundle: CatalogBundle) -> None:
    """Rules of one bundle that need nothing but the document."""
    _location_rules(doc, relative, bundle.id, "CatalogBundle")
    _form_rules(doc, bundle.form)
    seen: dict[str, int] = {}
    for index, component in enumerate(bundle.components):
        if component.id in seen:
            doc.add(
                ("components", index, "id"),
                "E702",
                f"component id `{component.id}` is used twice",
                "give every component its own id",
            )
        seen.setdefault(component.id, index)
    for index, component in enumerate(bundle.components):
        for dep_index, dep in enumerate(component.depends_on):
            if dep == component.id:
                doc.add(
                    ("components", index, "dependsOn", dep_index),
                    "E703",
                    f"component `{component.id}` depends on itself",
                    "remove it from its own dependsOn",
                )
            elif dep not in seen:
                doc.add(
                    ("components", index, "dependsOn", dep_index),
                    "E703",
                    f"component `{component.id}` depends on `{dep}`, which is not a component of this bundle",
                    f"use one of: {', '.join(seen)}",
                )
    cycle = _find_cycle(
        {c.id: [d for d in c.depends_on if d in seen and d != c.id] for c in bundle.components}
    )
    if cycle:
        index = seen[cycle[0]]
        doc.add(
            ("components", index, "dependsOn"),
            "E704",
            f"components depend on each other in a cycle: {' → '.join([*cycle, cycle[0]])}",
            "remove one dependsOn entry of the cycle",
        )


def _find_cycle(graph: Mapping[str, list[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


# --------------------------------------------------------------------------------------------- forms


def _form_rules(doc: ParsedDocument, form: Form) -> None:
    base: PathKey = ("input", "form")
    if form.validation is not None:
        _validation_rules(doc, (*base, "validation"), "string", form.validation.model_dump())
    group_ids: dict[str, int] = {}
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
            raw = _raw_at(doc.data, f_path)
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
    for path, value in _strings(_raw_at(doc.data, ("input",)), ("input",)):
        if "{{" in value:
            doc.add(
                path,
                "W412",
                f"`{dotted(path)}` contains `{{{{`: nothing in input is templated",
                "write a literal default; variables belong in fulfillment templates",
                severity="warning",
            )


def _raw_at(data: Any, path: PathKey) -> Any:
    node = data
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return None
    return node


def _strings(node: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, (*path, index))


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


# ---------------------------------------------------------------------------------------- fulfilment


def _action_lists(item: CatalogItem) -> Iterator[tuple[str, list[Action]]]:
    yield "manual", list(item.fulfillment.manual.actions)
    if item.fulfillment.automatic is not None:
        yield "automatic", list(item.fulfillment.automatic.actions)


def _fulfillment_rules(doc: ParsedDocument, item: CatalogItem) -> None:
    if item.mode == "automatic" and item.fulfillment.automatic is None:
        doc.add(
            ("fulfillment", "strategy", "mode"),
            "E501",
            "mode is automatic but there is no `fulfillment.automatic`",
            "add `automatic: {actions: [...]}` or set `mode: manual`",
        )
    for list_name, actions in _action_lists(item):
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


def _endpoint_rules(doc: ParsedDocument, item: CatalogItem, endpoints: Collection[str]) -> None:
    for list_name, actions in _action_lists(item):
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


# ------------------------------------------------------------------------------------------ catalog


def check_catalog(context: CatalogContext) -> None:
    """Rules across documents: teams, variables, bundle components and outputs, ownership."""
    if context.teams is not None:
        for entry in (*context.items.values(), *context.bundles.values()):
            _team_rules(entry, context.teams)
    for entry in context.items.values():
        assert isinstance(entry.model, CatalogItem)
        _item_variables(entry.doc, entry.model, context)
        if context.endpoints is not None:
            _endpoint_rules(entry.doc, entry.model, context.endpoints)
    for entry in context.bundles.values():
        assert isinstance(entry.model, CatalogBundle)
        _bundle_components(entry.doc, entry.model, context)
    if context.codeowners is not None and context.teams is not None:
        for entry in (*context.items.values(), *context.bundles.values()):
            _ownership_rules(entry, context)


def _team_rules(entry: Entry, teams: dict[str, Team]) -> None:
    owner = entry.model.metadata.owner.team
    team = teams.get(owner)
    if team is None:
        close = difflib.get_close_matches(owner, list(teams), n=1)
        entry.doc.add(
            ("metadata", "owner", "team"),
            "E700",
            f"owner team `{owner}` is not in teams.yaml",
            (f"did you mean `{close[0]}`? " if close else "")
            + "add the team to catalog/teams.yaml or fix the id",
        )
        return
    if isinstance(entry.model, CatalogItem) and team.jira_project:
        for list_name, actions in _action_lists(entry.model):
            for index, action in enumerate(actions):
                project = (
                    (action.config.get("ticket") or {}).get("project")
                    if action.type == "jira-ticket"
                    else None
                )
                if project and project != team.jira_project:
                    entry.doc.add(
                        ("fulfillment", list_name, "actions", index, "config", "ticket", "project"),
                        "W506",
                        f"tickets go to project {project} but team `{owner}` works in {team.jira_project}",
                        f"use `project: {team.jira_project}` unless another team really fulfils this step",
                        severity="warning",
                    )


def _templates(action: Action) -> Iterator[tuple[PathKey, str]]:
    for path, value in _strings(action.config, ("config",)):
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
    row, col = line - 1, column - 1
    seen = 0
    while row < len(lines):
        found = lines[row].find(snippet, col)
        while found >= 0:
            if seen == occurrence:
                return row + 1, found + 1
            seen += 1
            found = lines[row].find(snippet, found + 1)
        row, col = row + 1, 0
    return line, column


def _item_variables(doc: ParsedDocument, item: CatalogItem, context: CatalogContext) -> None:
    paths = form_paths(item.form)
    for list_name, actions in _action_lists(item):
        declared: dict[str, int] = {}
        for index, action in enumerate(actions):
            a_path: PathKey = ("fulfillment", list_name, "actions", index)
            for t_path, template in _templates(action):
                for issue in check(
                    template,
                    form_paths=paths,
                    metadata=context.metadata,
                    output_keys=declared,
                    secret_names=context.secret_names,
                ):
                    code = _ISSUE_CODES.get(issue.code, "E600")
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


def _outputs_of(item: CatalogItem) -> set[str]:
    return {key for action in item.fulfillment.actions_for(item.mode) for key in action.outputs}


def _bundle_components(doc: ParsedDocument, bundle: CatalogBundle, context: CatalogContext) -> None:
    components = {c.id: c for c in bundle.components}
    items: dict[str, CatalogItem] = {}
    for index, component in enumerate(bundle.components):
        entry = context.items.get(component.catalog_item)
        if entry is not None and isinstance(entry.model, CatalogItem):
            items[component.id] = entry.model
            continue
        close = difflib.get_close_matches(component.catalog_item, list(context.items), n=1)
        doc.add(
            ("components", index, "catalogItem"),
            "E701",
            f"component `{component.id}` names `{component.catalog_item}`, which is not a catalog item",
            (f"did you mean `{close[0]}`? " if close else "") + "use the metadata.id of an existing item",
        )
    upstream = _upstream(bundle)
    bundle_paths = form_paths(bundle.form) | {("name",)}
    for index, component in enumerate(bundle.components):
        item = items.get(component.id)
        if item is None:
            continue
        before: set[str] = set()
        for dep in upstream[component.id]:
            if dep in items:
                before |= _outputs_of(items[dep])
        _component_templates(doc, index, component.id, item, bundle_paths, before, items, context)
    producers: dict[str, list[str]] = {}
    for component_id, item in items.items():
        for key in sorted(_outputs_of(item)):
            producers.setdefault(key, []).append(component_id)
    order = list(components)
    for key, owners in producers.items():
        for position, later in enumerate(owners[1:], start=1):
            for earlier in owners[:position]:
                related = earlier in upstream[later] or later in upstream[earlier]
                doc.add(
                    ("components", order.index(later), "catalogItem"),
                    "W606",
                    f"components `{earlier}` and `{later}` both declare the output `{key}`"
                    + (
                        "; the later one shadows the earlier" if related else "; whichever finishes last wins"
                    ),
                    "make sure the later value is meant to win, or pick items that do not clash",
                    severity="warning",
                )


def _upstream(bundle: CatalogBundle) -> dict[str, set[str]]:
    """Every component a component (transitively) depends on; cycles are cut, not followed."""
    direct = {c.id: [d for d in c.depends_on if d != c.id] for c in bundle.components}
    result: dict[str, set[str]] = {}
    for start in direct:
        seen: set[str] = set()
        stack = list(direct[start])
        while stack:
            node = stack.pop()
            if node in seen or node not in direct or node == start:
                continue
            seen.add(node)
            stack.extend(direct[node])
        result[start] = seen
    return result


@dataclass(frozen=True)
class _ActionUsage:
    """The variables one action's templates use, parsed once per item and reused for every bundle."""

    current: tuple[tuple[str, ...], ...]
    outputs: tuple[str, ...]
    declares: frozenset[str]


def _usage(
    item: CatalogItem, cache: dict[str, dict[str, list[_ActionUsage]]]
) -> dict[str, list[_ActionUsage]]:
    cached = cache.get(item.id)
    if cached is not None:
        return cached
    result: dict[str, list[_ActionUsage]] = {}
    for list_name, actions in _action_lists(item):
        entries: list[_ActionUsage] = []
        for action in actions:
            current: list[tuple[str, ...]] = []
            outputs: list[str] = []
            for _, template in _templates(action):
                try:
                    found = variables(template)
                except TemplateError:  # reported on the item (E600)
                    continue
                for var in found:
                    if var.namespace == "current" and var.path not in current:
                        current.append(var.path)
                    elif var.namespace == "output" and var.path[0] not in outputs:
                        outputs.append(var.path[0])
            entries.append(_ActionUsage(tuple(current), tuple(outputs), frozenset(action.outputs)))
        result[list_name] = entries
    cache[item.id] = result
    return result


def _component_templates(
    doc: ParsedDocument,
    index: int,
    component_id: str,
    item: CatalogItem,
    bundle_paths: set[tuple[str, ...]],
    before: set[str],
    items: dict[str, CatalogItem],
    context: CatalogContext,
) -> None:
    """Check a component's item templates in the bundle's scope: its form and upstream outputs."""
    c_path: PathKey = ("components", index, "catalogItem")
    # Bundle scope rule: `.current` is the bundle's form; a field the bundle lacks falls back to the
    # item's default, or stays empty when the item does not require it. Paths the item's own form lacks
    # are reported on the item (E602), not again on every bundle.
    required = {(g.id, f.id) for g in item.form.groups for f in g.fields if f.default is None and f.required}
    # One finding per missing path / output key, naming every action list that uses it.
    missing_paths: dict[str, list[str]] = {}
    missing_outputs: dict[str, list[str]] = {}
    for list_name, entries in _usage(item, context.usage).items():
        declared = set(before)
        for entry in entries:
            for path in entry.current:
                if len(path) >= 2 and (path[0], path[1]) in required and path not in bundle_paths:
                    _note(missing_paths, ".".join(path), list_name)
            for key in entry.outputs:
                if key not in declared:
                    _note(missing_outputs, key, list_name)
            declared |= entry.declares
    for shown, lists in missing_paths.items():
        doc.add(
            c_path,
            "E705",
            f"component `{component_id}`: item `{item.id}` uses `.current.{shown}` ({', '.join(lists)}): "
            "a required field the bundle form lacks and the item gives no default",
            f"add field `{shown}` to the bundle's form (same group and field ids), or give the "
            "item's field a default",
        )
    for key, lists in missing_outputs.items():
        uses = f"component `{component_id}`: item `{item.id}` uses `.output.{key}` ({', '.join(lists)})"
        _component_output(doc, c_path, uses, key, component_id, items)


def _note(found: dict[str, list[str]], what: str, where: str) -> None:
    places = found.setdefault(what, [])
    if where not in places:
        places.append(where)


def _component_output(
    doc: ParsedDocument,
    c_path: PathKey,
    uses: str,
    key: str,
    component_id: str,
    items: dict[str, CatalogItem],
) -> None:
    elsewhere = sorted(
        cid for cid, other in items.items() if cid != component_id and key in _outputs_of(other)
    )
    if not elsewhere:
        # Optional wiring: no component declares it, so it renders empty, as in a standalone request.
        doc.add(
            c_path,
            "W608",
            f"{uses}, which no component of this bundle declares; it will be empty",
            "add a component that declares it (and list it in dependsOn) if the value is needed",
            severity="warning",
        )
        return
    names = ", ".join(elsewhere)
    doc.add(
        c_path,
        "E605",
        f"{uses}, but `{key}` comes from {names}, which it does not depend on",
        f"add {names} to the dependsOn of `{component_id}` so the value exists when it runs",
    )


def _ownership_rules(entry: Entry, context: CatalogContext) -> None:
    assert context.codeowners is not None and context.teams is not None
    team = context.teams.get(entry.model.metadata.owner.team)
    if team is None:
        return
    repo_path = context.repo_prefix + entry.relative
    rule = context.codeowners.rule_for(repo_path)
    owners = rule.owners if rule else ()
    if team.codeowners in owners:
        return
    where = f"line {rule.line}, `{rule.pattern}`" if rule else "no matching line"
    entry.doc.add(
        ("metadata", "owner", "team"),
        "E706",
        f"{context.codeowners.path} ({where}) gives `{repo_path}` to {' '.join(owners) or 'nobody'}, "
        f"not to the owner team `{team.id}` ({team.codeowners})",
        f"add `/{repo_path.rsplit('/', 1)[0]}/ {team.codeowners}` to {context.codeowners.path}",
    )
