"""The `{{.<namespace>.<path>}}` variable language: text with variables, nothing else.

No functions, no logic, no escapes. Spaces are allowed inside the braces (`{{ .current.name }}`);
path segments may contain `-` so that `.metadata.<item-id>.<key>` works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pao_backend.templating.errors import TemplateSyntaxError

OPEN = "{{"
CLOSE = "}}"

_NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")


@dataclass(frozen=True)
class Variable:
    """One `{{...}}` occurrence: where it is and what it names."""

    namespace: str
    path: tuple[str, ...]
    raw: str
    start: int
    end: int

    @property
    def dotted(self) -> str:
        """The reference as written without braces, e.g. `.current.basic.size`."""
        return "." + ".".join((self.namespace, *self.path))


def parse(template: str) -> list[str | Variable]:
    """Split a template into literal text and variables, in order; raise TemplateSyntaxError."""
    parts: list[str | Variable] = []
    pos = 0
    while True:
        start = template.find(OPEN, pos)
        if start < 0:
            if pos < len(template):
                parts.append(template[pos:])
            return parts
        if start > pos:
            parts.append(template[pos:start])
        close = template.find(CLOSE, start + len(OPEN))
        reopen = template.find(OPEN, start + len(OPEN))
        if close < 0:
            raise TemplateSyntaxError(
                "unclosed `{{`",
                template=template,
                offset=start,
                hint="close the variable with `}}`, e.g. `{{.current.name}}`",
            )
        if 0 <= reopen < close:
            raise TemplateSyntaxError(
                "`{{` inside a variable",
                template=template,
                offset=reopen,
                hint="close the first variable with `}}` before opening another; "
                "a literal `{{` is not supported, write `{ {`",
            )
        end = close + len(CLOSE)
        parts.append(_variable(template, start, end))
        pos = end


def variables(template: str) -> list[Variable]:
    """The variables of a template, in order of appearance."""
    return [part for part in parse(template) if isinstance(part, Variable)]


def _variable(template: str, start: int, end: int) -> Variable:
    raw = template[start:end]
    inner = raw[len(OPEN) : -len(CLOSE)]
    body = inner.strip()
    offset = start + len(OPEN) + (len(inner) - len(inner.lstrip()))
    if not body:
        raise TemplateSyntaxError(
            "empty variable `{{}}`",
            template=template,
            offset=start,
            hint="name a value, e.g. `{{.current.name}}`, or remove the braces",
        )
    if any(ch.isspace() for ch in body) or any(ch in body for ch in "|()\"'"):
        raise TemplateSyntaxError(
            f"`{raw}` is not a plain variable reference",
            template=template,
            offset=offset,
            hint="templates have no functions, pipes or logic: write one reference such as "
            "`{{.current.name}}` and do any transformation in the receiving system",
        )
    if not body.startswith("."):
        first = body.split(".", 1)[0]
        hint = f"write `{{{{.{body}}}}}`" if _NAMESPACE.match(first) else "write e.g. `{{.current.name}}`"
        raise TemplateSyntaxError(
            f"`{raw}` misses the leading dot",
            template=template,
            offset=offset,
            hint=f"{hint}: every reference starts with `.` and a namespace "
            "(current, output, metadata, system)",
        )
    segments = body[1:].split(".")
    namespace, path = segments[0], segments[1:]
    if not _NAMESPACE.match(namespace):
        raise TemplateSyntaxError(
            f"`{raw}` has no valid namespace",
            template=template,
            offset=offset,
            hint="start with `.current`, `.output`, `.metadata` or `.system`, e.g. `{{.current.name}}`",
        )
    if not path:
        raise TemplateSyntaxError(
            f"`{raw}` names only the namespace `.{namespace}`",
            template=template,
            offset=offset,
            hint=f"add the path of a value, e.g. `{{{{.{namespace}.<key>}}}}`",
        )
    seg_offset = offset + 1 + len(namespace) + 1
    for segment in path:
        if not _SEGMENT.match(segment):
            shown = segment or "(empty)"
            raise TemplateSyntaxError(
                f"`{raw}` has an invalid path segment {shown!r}",
                template=template,
                offset=seg_offset,
                hint="segments are letters, digits, `_` and `-`, separated by single dots "
                "(no `..`, no trailing dot)",
            )
        seg_offset += len(segment) + 1
    return Variable(namespace=namespace, path=tuple(path), raw=raw, start=start, end=end)
