"""Catalog documents from disk: YAML read safely, with the line and column of every value.

`parse_document` turns bytes into plain data (dicts, lists, str, int, float, bool, None) plus a lazy
position index; anything wrong with the bytes or the YAML becomes a `Problem`, never an exception.
`load_catalog` indexes a catalog folder (teams, items, bundles), validates every document and keeps
only the valid ones.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pao_backend.catalog.codeowners import CodeOwners, find_codeowners, parse_codeowners
from pao_backend.catalog.models import CatalogBundle, CatalogItem, Team
from pao_backend.catalog.problems import Problem
from pao_backend.catalog.rules import CatalogContext, Entry, check_bundle, check_catalog, check_item
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

MAX_DOCUMENT_BYTES = 1024 * 1024
# A real document has a few hundred values; this bounds YAML alias expansion ("billion laughs").
MAX_VALUES = 50_000
MAX_NESTING = 64
_TOO_LARGE_HINT = "a catalog document describes one offering; move large content (scripts, files) elsewhere"
# Files at the catalog root that are not catalog documents (validated by their own tools).
RESERVED_FILES = frozenset({"calendar.yaml"})

PathKey = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
# Dates and times stay the text they were written as: documents are JSON-shaped, and a `date` field's
# default `2025-01-31` means the string "2025-01-31".
_TEXT_TAGS = frozenset({_STR, "tag:yaml.org,2002:timestamp"})
_CONSTRUCTOR = yaml.SafeLoader("")


class _TooManyValues(Exception):
    pass


class _TooDeep(Exception):
    pass


class _Unsupported(Exception):
    def __init__(self, node: yaml.Node, message: str, hint: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message
        self.hint = hint


@dataclass
class ParsedDocument:
    """One YAML file: its data (None when unreadable), where each value is, and what is wrong with it."""

    path: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    # The node tree is composed again on the first position lookup instead of being kept: most documents
    # never need a position, and keeping thousands of node trees alive makes the garbage collector crawl.
    _root: yaml.Node | None = field(default=None, repr=False)
    text: str = field(default="", repr=False)
    _cache: dict[tuple[bool, PathKey], tuple[int, int]] = field(default_factory=dict, repr=False)

    @property
    def root(self) -> yaml.Node | None:
        """The composed YAML node tree (None when the text is not YAML)."""
        if self._root is None and self.data is not None and self.text:
            try:
                self._root = yaml.compose(self.text, Loader=yaml.CSafeLoader)
            except yaml.YAMLError:  # cannot happen for text that parsed once; positions fall back to 1:1
                return None
        return self._root

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.data, dict)

    def position(self, path: PathKey, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at `path` (of its key with key=True).

        A path that does not exist resolves to its nearest existing ancestor, so a "missing key"
        finding points at the mapping that lacks it.
        """
        cached = self._cache.get((key, path))
        if cached is not None:
            return cached
        node = self.root
        if node is None:
            return (1, 1)
        mark = node.start_mark
        for index, step in enumerate(path):
            found = _child(node, step)
            if found is None:
                break
            key_node, node = found
            last = index == len(path) - 1
            mark = key_node.start_mark if (key and last and key_node is not None) else node.start_mark
        result = (mark.line + 1, mark.column + 1)
        self._cache[(key, path)] = result
        return result

    def problem(
        self,
        path: PathKey,
        code: str,
        message: str,
        hint: str = "",
        *,
        severity: str = "error",
        key: bool = False,
    ) -> Problem:
        line, column = self.position(path, key=key)
        return Problem(
            path=self.path,
            line=line,
            column=column,
            severity="warning" if severity == "warning" else "error",
            code=code,
            message=message,
            hint=hint,
        )

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Record a problem (same arguments as `problem`)."""
        self.problems.append(self.problem(*args, **kwargs))

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)


def _child(node: yaml.Node, step: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        found: tuple[yaml.Node | None, yaml.Node] | None = None
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in merged:
                    inner = _child(source, step) if isinstance(source, yaml.MappingNode) else None
                    if inner is not None and found is None:
                        found = inner
            elif isinstance(key_node, yaml.ScalarNode) and key_node.value == step:
                found = (key_node, value_node)  # the last duplicate wins, as in the data
        return found
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return (None, node.value[step])
    return None


class _Builder:
    """Turns a composed node tree into plain data, counting values so aliases cannot explode."""

    def __init__(self, doc: ParsedDocument) -> None:
        self.doc = doc
        self.count = 0

    def build(self, node: yaml.Node, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooManyValues
        if depth > MAX_NESTING:
            raise _TooDeep
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            if tag in _TEXT_TAGS:
                return node.value
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return _CONSTRUCTOR.construct_yaml_bool(node)
            if tag == _INT:
                return _CONSTRUCTOR.construct_yaml_int(node)
            if tag == _FLOAT:
                return _CONSTRUCTOR.construct_yaml_float(node)
            raise _Unsupported(
                node,
                f"unsupported YAML tag {tag!r}",
                "catalog documents use plain YAML: remove the tag (quote the value if it is text)",
            )
        if isinstance(node, yaml.SequenceNode):
            if tag != _SEQ:
                raise _Unsupported(node, f"unsupported YAML tag {tag!r}", "remove the tag")
            return [self.build(item, depth + 1) for item in node.value]
        if isinstance(node, yaml.MappingNode):
            if tag != _MAP:
                raise _Unsupported(node, f"unsupported YAML tag {tag!r}", "remove the tag")
            result: dict[str, Any] = {}
            merged: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                    for source in sources:
                        value = self.build(source, depth + 1)
                        if not isinstance(value, dict):
                            raise _Unsupported(
                                key_node,
                                "a merge key `<<` needs a mapping",
                                "merge a mapping anchor: `<<: *name`",
                            )
                        for k, v in value.items():
                            merged.setdefault(k, v)
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Unsupported(
                        key_node,
                        "a mapping key must be plain text, not a list or mapping",
                        "write keys as plain words, e.g. `instanceClass:`",
                    )
                # Keys are text: `on:`/`yes:` stay the words they look like, `5432:` stays "5432".
                key = key_node.value
                if key in result:
                    self.doc.problems.append(
                        Problem(
                            path=self.doc.path,
                            line=key_node.start_mark.line + 1,
                            column=key_node.start_mark.column + 1,
                            severity="error",
                            code="E104",
                            message=f"duplicate key `{key}` in this mapping",
                            hint="remove one of the two; YAML would silently keep only the last",
                        )
                    )
                result[key] = self.build(value_node, depth + 1)
            if merged:
                for k, v in merged.items():
                    result.setdefault(k, v)
            return result
        raise _Unsupported(node, "unsupported YAML node", "use plain mappings, lists and scalars")


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def parse_document(content: bytes, path: str) -> ParsedDocument:
    """Parse one YAML document; every failure becomes a positioned problem on the result."""
    doc = ParsedDocument(path=path)

    def fail(code: str, line: int, column: int, message: str, hint: str) -> ParsedDocument:
        doc.problems.append(Problem(path, line, column, "error", code, message, hint))
        doc.data = None
        return doc

    if len(content) > MAX_DOCUMENT_BYTES:
        return fail(
            "E101",
            1,
            1,
            f"document is {len(content):,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}",
            _TOO_LARGE_HINT,
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = content[: exc.start].decode("utf-8", errors="replace")
        line, column = _line_col(prefix, len(prefix))
        return fail(
            "E102",
            line,
            column,
            f"not UTF-8 text (byte 0x{content[exc.start]:02x} at offset {exc.start}); is this a binary file?",
            "save the document as UTF-8 YAML",
        )
    doc.text = text
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = (exc.problem or "invalid YAML").strip()
        context = f" ({exc.context.strip()})" if exc.context else ""
        return fail(
            "E100",
            line,
            column,
            f"invalid YAML: {problem}{context}",
            _yaml_hint(problem),
        )
    except yaml.reader.ReaderError as exc:
        line, column = _line_col(text, exc.position)
        return fail(
            "E102",
            line,
            column,
            f"unacceptable character #x{exc.character:04x}: {exc.reason}"
            if isinstance(exc.character, int)
            else f"unreadable text: {exc.reason}",
            "remove control characters; catalog documents are printable UTF-8 text",
        )
    except yaml.YAMLError as exc:
        return fail("E100", 1, 1, f"invalid YAML: {exc}", "check the document with a YAML linter")
    except RecursionError:
        return fail("E107", 1, 1, "document is nested too deeply", f"keep nesting under {MAX_NESTING} levels")
    if root is None:
        return fail(
            "E103",
            1,
            1,
            "document is empty",
            "start from a starter: `pao new item` or `pao new bundle`",
        )
    builder = _Builder(doc)
    try:
        data = builder.build(root, 0)
    except _TooManyValues:
        return fail(
            "E105",
            root.start_mark.line + 1,
            root.start_mark.column + 1,
            f"document expands to more than {MAX_VALUES:,} values (YAML aliases referencing aliases?)",
            "remove the anchors and aliases (&name / *name) and write the values out",
        )
    except _TooDeep:
        return fail(
            "E107",
            root.start_mark.line + 1,
            root.start_mark.column + 1,
            f"document is nested more than {MAX_NESTING} levels deep (or an alias refers to itself)",
            "flatten the document; an alias may not point into its own anchor",
        )
    except _Unsupported as exc:
        mark = exc.node.start_mark
        return fail("E106", mark.line + 1, mark.column + 1, exc.message, exc.hint)
    if not isinstance(data, dict):
        shape = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        doc.data = None
        doc.problems.append(
            Problem(
                path,
                root.start_mark.line + 1,
                root.start_mark.column + 1,
                "error",
                "E103",
                f"document is {shape}; a catalog document is a mapping",
                "start with `schemaVersion: catalog/v1` and `kind: CatalogItem` (or CatalogBundle) as keys",
            )
        )
        return doc
    doc.data = data
    return doc


def _yaml_hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return "a value containing `: ` must be quoted, or the line is indented wrongly"
    if "found character '\\t'" in problem or "tab" in problem:
        return "YAML indentation uses spaces, never tabs"
    if "expected a single document" in problem or "another" in problem:
        return "one document per file: remove the extra `---`"
    if "could not find expected ':'" in problem:
        return "a key is missing its `:`, or a multi-line value is not indented"
    if "found undefined alias" in problem:
        return "define the anchor (&name) before using the alias (*name)"
    return "fix the YAML at this position (indentation, quoting, brackets)"


def read_document(file: Path, display: str) -> ParsedDocument:
    """Read and parse a file; I/O problems become findings too."""
    try:
        size = file.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            return _too_big(display, size)
        content = file.read_bytes()
    except OSError as exc:
        doc = ParsedDocument(path=display)
        doc.problems.append(
            Problem(
                display,
                1,
                1,
                "error",
                "E109",
                f"cannot read the file: {exc.strerror or exc}",
                "check the path",
            )
        )
        return doc
    return parse_document(content, display)


def _too_big(display: str, size: int) -> ParsedDocument:
    doc = ParsedDocument(path=display)
    doc.problems.append(
        Problem(
            display,
            1,
            1,
            "error",
            "E101",
            f"document is {size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}",
            _TOO_LARGE_HINT,
        )
    )
    return doc


# --------------------------------------------------------------------------------------------- catalog


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
        if doc.has_errors:
            continue
        model: CatalogItem | CatalogBundle
        try:
            if kind == "CatalogItem":
                model = CatalogItem.model_validate(doc.data)
                check_item(doc, relative, model)
            else:
                model = CatalogBundle.model_validate(doc.data)
                check_bundle(doc, relative, model)
        except ValidationError as exc:  # the schema and the models disagree: report, never crash
            _model_problems(doc, exc)
            continue
        by_id.setdefault(model.id, []).append(Entry(relative, doc, model))

    for doc_id, entries in by_id.items():
        if len(entries) > 1:
            for entry in entries:
                others = ", ".join(display(e.relative) for e in entries if e is not entry)
                entry.doc.add(
                    ("metadata", "id"),
                    "E306",
                    f"id `{doc_id}` is also used by {others}",
                    "every document needs its own metadata.id; rename one (and its file)",
                )
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
