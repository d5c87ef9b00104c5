"""One YAML catalog document read safely, with the line and column of every value.

`parse_document` turns bytes into plain data (dicts, lists, str, int, float, bool, None) plus a lazy
position index; anything wrong with the bytes or the YAML becomes a `Problem`, never an exception:
size limit, invalid UTF-8 and control characters, malformed YAML, duplicate keys, tags, alias bombs,
nesting, and documents that are not a mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pao_backend.catalog.problems import Problem

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_NESTING",
    "MAX_VALUES",
    "ParsedDocument",
    "parse_document",
    "read_document",
]

MAX_DOCUMENT_BYTES = 1024 * 1024
# A real document has a few hundred values; this bounds YAML alias expansion ("billion laughs").
MAX_VALUES = 50_000
MAX_NESTING = 64
_TOO_LARGE_HINT = "a catalog document describes one offering; move large content (scripts, files) elsewhere"
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
