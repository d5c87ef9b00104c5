"""Catalog folders from disk: index teams.yaml, <category>/<id>.yaml items and bundles/<id>.yaml, validate
every document (schema, then rules) and keep only the valid ones.

Reading one document (YAML with positions, bad input as findings) is `documents.py`; its names are
re-exported here because callers think of "the loader".
"""

from __future__ import annotations

import gc
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pao_backend.catalog.codeowners import CodeOwners, find_codeowners, parse_codeowners
from pao_backend.catalog.documents import (
    MAX_DOCUMENT_BYTES,
    MAX_NESTING,
    MAX_VALUES,
    ParsedDocument,
    parse_document,
    read_document,
)
from pao_backend.catalog.models import CatalogBundle, CatalogItem, Team
from pao_backend.catalog.problems import Problem
from pao_backend.catalog.rules import (
    CatalogContext,
    Entry,
    check_bundle,
    check_catalog,
    check_item,
    check_location,
)
from pao_backend.catalog.schema import KIND_SCHEMAS, TEAMS_SCHEMA, dotted, kind_problems, schema_problems
from pao_backend.catalog.store import Catalog
from pao_backend.templating import metadata_scope

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_NESTING",
    "MAX_VALUES",
    "RESERVED_FILES",
    "CatalogFiles",
    "LoadResult",
    "ParsedDocument",
    "discover",
    "load_catalog",
    "parse_document",
    "read_document",
]

# Files at the catalog root that are not catalog documents (validated by their own tools).
RESERVED_FILES = frozenset({"calendar.yaml"})


@dataclass
class CatalogFiles:
    """The documents of a catalog folder, relative paths (posix) by role."""

    root: Path
    teams: str | None = None
    items: list[str] = field(default_factory=list)
    bundles: list[str] = field(default_factory=list)
    # Files found where no catalog document belongs: (relative path, why).
    misplaced: list[tuple[str, str]] = field(default_factory=list)

    def all(self) -> Iterator[str]:
        if self.teams:
            yield self.teams
        yield from self.items
        yield from self.bundles


_YAML_SUFFIXES = (".yaml", ".yml")


def discover(root: Path) -> CatalogFiles:
    """Index a catalog folder: teams.yaml, <category>/<id>.yaml items, bundles/<id>.yaml bundles."""
    files = CatalogFiles(root=root)
    if not root.is_dir():
        return files
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_file():
            if name == "teams.yaml":
                files.teams = name
            elif name in RESERVED_FILES or not name.endswith(_YAML_SUFFIXES):
                continue
            else:
                files.misplaced.append((name, "the catalog root holds only teams.yaml and calendar.yaml"))
            continue
        if not entry.is_dir():
            continue
        target = files.bundles if name == "bundles" else files.items
        for document in sorted(entry.rglob("*"), key=lambda p: p.as_posix()):
            if not document.is_file() or not document.name.endswith(_YAML_SUFFIXES):
                continue
            relative = document.relative_to(root).as_posix()
            if document.parent != entry:
                files.misplaced.append((relative, f"documents live directly in {name}/, not in sub-folders"))
            elif document.name.startswith("."):
                continue
            else:
                target.append(relative)
    return files


@dataclass
class LoadResult:
    """The valid part of a catalog folder plus every problem found."""

    catalog: Catalog
    problems: list[Problem]
    # Parsed documents by relative path (valid or not), for tools that need positions or raw data.
    documents: dict[str, ParsedDocument] = field(default_factory=dict)
    # Relative paths of documents that exist but were left out because of errors.
    rejected: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def _codeowners_for(root: Path, explicit: Path | None) -> tuple[CodeOwners | None, str]:
    """The CODEOWNERS rules and the catalog folder's path inside that repository ("catalog/")."""
    root = root.resolve()
    if explicit is not None:
        file = explicit.resolve()
        repository = file.parent.parent if file.parent.name in (".github", "docs") else file.parent
    else:
        repository = root.parent
        found = find_codeowners(repository)
        if found is None:
            return None, ""
        file = found
    try:
        prefix = root.relative_to(repository).as_posix() + "/"
        text = file.read_text("utf-8")
    except (ValueError, OSError, UnicodeDecodeError):
        return None, ""
    display = (
        os.path.relpath(file) if not file.is_relative_to(Path.cwd()) else str(file.relative_to(Path.cwd()))
    )
    return parse_codeowners(text, display), prefix


def _claimed_id(doc: ParsedDocument) -> str | None:
    metadata = doc.data.get("metadata") if isinstance(doc.data, dict) else None
    claimed = metadata.get("id") if isinstance(metadata, dict) else None
    return claimed if isinstance(claimed, str) else None


def _model_problems(doc: ParsedDocument, exc: ValidationError) -> None:
    for error in exc.errors():
        path = tuple(step for step in error["loc"] if isinstance(step, str | int))
        doc.add(path, "E200", f"`{dotted(path)}`: {error['msg']}", "see the schema description of this key")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a catalog loads.

    Loading allocates hundreds of thousands of small, acyclic objects (YAML nodes, dicts) that stay alive;
    each allocation burst would trigger collections that walk all of them again (measured: half the
    validation time for 1,000 documents). Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_catalog(
    root: Path,
    *,
    codeowners: Path | None = None,
    endpoints: Collection[str] | None = None,
    secret_names: Collection[str] | None = None,
) -> LoadResult:
    """Load, validate and index a catalog folder; invalid documents are reported and left out.

    `codeowners` is the CODEOWNERS file to check ownership against; by default the one of the
    repository that holds the catalog (`<root>/../CODEOWNERS`, `.github/` or `docs/`), when present.
    `endpoints` / `secret_names` are the configured names rest-api endpoints and `.system.secrets`
    may use (None: not checked).
    """
    with _collector_paused():
        return _load_catalog(root, codeowners, endpoints, secret_names)


def _load_catalog(
    root: Path,
    codeowners: Path | None,
    endpoints: Collection[str] | None,
    secret_names: Collection[str] | None,
) -> LoadResult:
    files = discover(root)
    problems: list[Problem] = []
    documents: dict[str, ParsedDocument] = {}

    def display(relative: str) -> str:
        return str(root / relative)

    if not root.is_dir():
        problems.append(
            Problem(str(root), 1, 1, "error", "E109", f"`{root}` is not a folder", "pass the catalog folder")
        )
    for relative, why in files.misplaced:
        problems.append(
            Problem(
                display(relative),
                1,
                1,
                "error",
                "E311",
                f"`{relative}` is not where catalog documents live",
                why,
            )
        )

    teams: dict[str, Team] | None = None
    if files.teams:
        teams_doc = read_document(root / files.teams, display(files.teams))
        documents[files.teams] = teams_doc
        if teams_doc.data is not None:
            teams_doc.problems.extend(schema_problems(teams_doc, TEAMS_SCHEMA))
        if teams_doc.data is not None and not teams_doc.has_errors:
            teams = {}
            for index, raw in enumerate(teams_doc.data["teams"]):
                team = Team.model_validate(raw)
                if team.id in teams:
                    teams_doc.add(
                        ("teams", index, "id"), "E708", f"team id `{team.id}` is listed twice", "remove one"
                    )
                teams.setdefault(team.id, team)
    elif files.items or files.bundles:
        problems.append(
            Problem(
                display("teams.yaml"),
                1,
                1,
                "error",
                "E707",
                "the catalog has no teams.yaml, so no owner team can be checked",
                "add catalog/teams.yaml listing the platform teams (see docs/platform-teams.md)",
            )
        )

    owners, prefix = _codeowners_for(root, codeowners)
    context = CatalogContext(
        teams=teams,
        codeowners=owners,
        repo_prefix=prefix,
        endpoints=endpoints,
        secret_names=secret_names,
    )
    by_id: dict[str, list[Entry]] = {}
    for relative in [*files.items, *files.bundles]:
        doc = read_document(root / relative, display(relative))
        documents[relative] = doc
        if doc.data is None:
            continue
        kind_errors = kind_problems(doc)
        if kind_errors:
            doc.problems.extend(kind_errors)
            continue
        kind = doc.data["kind"]
        doc.problems.extend(schema_problems(doc, KIND_SCHEMAS[kind], doc.data["schemaVersion"]))
        check_location(doc, relative)
        if doc.has_errors:
            continue
        model: CatalogItem | CatalogBundle
        try:
            if kind == "CatalogItem":
                model = CatalogItem.model_validate(doc.data)
                check_item(doc, model)
            else:
                model = CatalogBundle.model_validate(doc.data)
                check_bundle(doc, model)
        except ValidationError as exc:  # the schema and the models disagree: report, never crash
            _model_problems(doc, exc)
            continue
        by_id.setdefault(model.id, []).append(Entry(relative, doc, model))

    # Ids are checked across every readable document, valid or not: two files claiming one id are both
    # reported, and neither is served.
    claims: dict[str, list[str]] = {}
    for relative in [*files.items, *files.bundles]:
        claimed = _claimed_id(documents[relative])
        if claimed is not None:
            claims.setdefault(claimed, []).append(relative)
    for doc_id, relatives in claims.items():
        if len(relatives) < 2:
            continue
        for relative in relatives:
            others = ", ".join(display(r) for r in relatives if r != relative)
            documents[relative].add(
                ("metadata", "id"),
                "E306",
                f"id `{doc_id}` is also used by {others}",
                "every document needs its own metadata.id; rename one (and its file)",
            )
    for doc_id, entries in by_id.items():
        first = entries[0]
        target = context.items if isinstance(first.model, CatalogItem) else context.bundles
        target[doc_id] = first
    context.metadata = metadata_scope(
        [e.model for e in context.items.values() if isinstance(e.model, CatalogItem)]
    )
    check_catalog(context)

    items = {i: e.model for i, e in context.items.items() if not e.doc.has_errors}
    bundles: dict[str, CatalogBundle] = {}
    for bundle_id, entry in context.bundles.items():
        assert isinstance(entry.model, CatalogBundle)
        for index, component in enumerate(entry.model.components):
            if component.catalog_item in context.items and component.catalog_item not in items:
                entry.doc.add(
                    ("components", index, "catalogItem"),
                    "E701",
                    f"component `{component.id}`: item `{component.catalog_item}` has errors, not served",
                    f"fix {display(context.items[component.catalog_item].relative)} first",
                )
        if not entry.doc.has_errors:
            bundles[bundle_id] = entry.model

    accepted = {*items, *bundles}
    sources: dict[str, str] = {}
    raw_documents: dict[str, dict[str, Any]] = {}
    for doc_id in accepted:
        entry = context.items.get(doc_id) or context.bundles[doc_id]
        sources[doc_id] = entry.relative
        raw_documents[doc_id] = entry.doc.data
    for doc in documents.values():
        problems.extend(doc.problems)
    if owners is not None:
        problems.extend(owners.problems)
    rejected = {rel for rel, doc in documents.items() if doc.has_errors}
    catalog = Catalog(
        items=items,  # type: ignore[arg-type]
        bundles=bundles,
        teams=teams or {},
        sources=sources,
        raw=raw_documents,
    )
    return LoadResult(catalog=catalog, problems=sorted(problems), documents=documents, rejected=rejected)
