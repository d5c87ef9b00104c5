"""The catalog rules beyond the schema, entry points: `check_item`, `check_bundle` (one document) and
`check_catalog` (rules across documents: teams, variables, bundle components, CODEOWNERS ownership).

Rules run on documents that passed the schema (so their models exist) and add positioned problems to
each document. Names and locations live here; forms in `form_rules`, actions and variables in
`fulfillment_rules`, bundle scope and output flow in `bundle_rules`. Codes: `codes.py`.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pao_backend.catalog.bundle_rules import ActionUsage, check_bundle_components
from pao_backend.catalog.codeowners import CodeOwners
from pao_backend.catalog.form_rules import check_form
from pao_backend.catalog.fulfillment_rules import (
    OUTPUT_SOURCES,
    action_lists,
    check_endpoints,
    check_fulfillment,
    check_item_variables,
)
from pao_backend.catalog.models import CatalogBundle, CatalogItem, Team

if TYPE_CHECKING:
    from pao_backend.catalog.documents import ParsedDocument

__all__ = [
    "OUTPUT_SOURCES",
    "CatalogContext",
    "Entry",
    "check_bundle",
    "check_catalog",
    "check_item",
    "check_location",
]

PathKey = tuple[str | int, ...]


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
    usage: dict[str, dict[str, list[ActionUsage]]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------- documents


def _singulars(category: str) -> set[str]:
    names = {category}
    if category.endswith("ies"):
        names.add(category[:-3] + "y")
    elif category.endswith("s"):
        names.add(category[:-1])
    return names


def check_location(doc: ParsedDocument, relative: str) -> None:
    """Names that depend on where the file is: file name = id, folder = category, id starts with the
    category, kind fits the folder. Runs on raw data, so these show up next to schema findings."""
    data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
    raw_metadata = data.get("metadata")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    doc_id, kind, category = metadata.get("id"), data.get("kind"), metadata.get("category")
    folder, _, file_name = relative.rpartition("/")
    stem = file_name.rsplit(".", 1)[0]
    if isinstance(doc_id, str) and stem != doc_id:
        doc.add(
            ("metadata", "id"),
            "E303",
            f"file name `{file_name}` does not match metadata.id `{doc_id}`",
            f"rename the file to `{doc_id}.yaml` (or change the id to `{stem}`)",
        )
    elif isinstance(doc_id, str) and not file_name.endswith(".yaml"):
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
        return
    if kind == "CatalogBundle" and folder != "bundles":
        doc.add(("kind",), "E211", f"a CatalogBundle in {folder}/", "bundles live in catalog/bundles/")
        return
    if kind != "CatalogItem" or not isinstance(category, str):
        return
    if category != folder:
        doc.add(
            ("metadata", "category"),
            "E304",
            f"metadata.category is `{category}` but the document is in `{folder}/`",
            f"set `category: {folder}` or move the file to catalog/{category}/",
        )
    if isinstance(doc_id, str) and doc_id.split("-", 1)[0] not in _singulars(category):
        doc.add(
            ("metadata", "id"),
            "E305",
            f"item id `{doc_id}` should start with its category `{category}`",
            f"name it `{sorted(_singulars(category))[0]}-<service>-<variant>`",
        )


def check_item(doc: ParsedDocument, item: CatalogItem) -> None:
    """Rules of one item that need nothing but the document: its form and its fulfilment."""
    check_form(doc, item.form)
    check_fulfillment(doc, item)


def check_bundle(doc: ParsedDocument, bundle: CatalogBundle) -> None:
    """Rules of one bundle that need nothing but the document: its form and its components' structure."""
    check_form(doc, bundle.form)
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


# ------------------------------------------------------------------------------------------ catalog


def check_catalog(context: CatalogContext) -> None:
    """Rules across documents: teams, variables, bundle components and outputs, ownership."""
    if context.teams is not None:
        for entry in (*context.items.values(), *context.bundles.values()):
            _team_rules(entry, context.teams)
    for entry in context.items.values():
        assert isinstance(entry.model, CatalogItem)
        check_item_variables(entry.doc, entry.model, context)
        if context.endpoints is not None:
            check_endpoints(entry.doc, entry.model, context.endpoints)
    for entry in context.bundles.values():
        assert isinstance(entry.model, CatalogBundle)
        check_bundle_components(entry.doc, entry.model, context)
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
        for list_name, actions in action_lists(entry.model):
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
