"""Context-aware rendering: a value lands as data in its target language, never as structure.

* TEXT    plain text: strings as-is, numbers, `true`/`false`, null → "", lists → "a, b", objects → JSON.
* JSON    inside a JSON string literal a value is escaped into the string; elsewhere it is inserted as a
          JSON value (strings quoted, numbers bare, null). The whole result must parse as JSON.
* JIRA    JIRA wiki markup characters escaped; lists → comma list; objects → a `{code:json}` block; null → "".
* URL     path, query and fragment values percent-encoded (`/`, `?`, `&`, `#`, `..` included); a value in the
          host must be a host name; a value that starts the URL must be an absolute http(s) URL.
* HEADER  like TEXT, but no CR, LF or other control character survives.

Values wrapped in `Secret` render in clear into `Rendered.value` and as `***` into `Rendered.display`;
`Rendered.secrets` lists the secret strings (and their encoded forms) so logs can be redacted.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from pao_backend.templating.errors import TemplateRenderError
from pao_backend.templating.parser import Variable, parse
from pao_backend.templating.scope import Secret

REDACTED = "***"


class Context(StrEnum):
    TEXT = "text"
    JSON = "json"
    JIRA = "jira"
    URL = "url"
    HEADER = "header"


@dataclass(frozen=True)
class Placeholder:
    """A stand-in for a value not known yet (e.g. `<output:databaseUrl>` in a plan): shown verbatim."""

    text: str


@dataclass(frozen=True)
class Rendered:
    value: str
    display: str
    secrets: frozenset[str]


Missing = Callable[[Variable], Any]

_MISSING = object()
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_HOST = re.compile(r"[A-Za-z0-9.\-]*(:[0-9]*)?\Z")
_ABSOLUTE_URL = re.compile(r"https?://[^\s/?#]+[^\s]*\Z", re.IGNORECASE)
# Always markup in JIRA wiki text (macros, links, tables, images, line breaks).
_JIRA_ALWAYS = set("{}[]|!\\")
# Markup only at a word boundary (`*bold*`, `-strike-`, `# list`); "orders-db" stays readable.
_JIRA_BOUNDARY = set("*_+-^~?#")
_JIRA_LINE_START = re.compile(r"^(h[1-6]|bq)\.", re.MULTILINE)


def render(
    template: str,
    scope: Mapping[str, Any],
    context: Context,
    *,
    missing: Missing | None = None,
) -> Rendered:
    """Render `template` for `context`; raise TemplateRenderError naming the variable and the fix.

    `missing`, when given, supplies a value for a variable the scope does not hold (e.g. a Placeholder
    for outputs that do not exist yet), or raises KeyError to report the value missing; without it a
    missing value is an error.
    """
    parts = parse(template)
    resolved: list[str | tuple[Variable, Any]] = []
    secrets: set[str] = set()
    for part in parts:
        if isinstance(part, str):
            resolved.append(part)
            continue
        value = _lookup(scope, part)
        if value is _MISSING:
            if missing is None:
                raise _missing_error(template, part, scope)
            try:
                value = missing(part)
            except KeyError:
                raise _missing_error(template, part, scope) from None
        _collect_secrets(value, secrets)
        resolved.append((part, value))
    value_text = _assemble(template, resolved, context, reveal=True)
    display_text = _assemble(template, resolved, context, reveal=False) if secrets else value_text
    return Rendered(value=value_text, display=display_text, secrets=frozenset(_encoded_forms(secrets)))


def text_of(value: Any, *, reveal: bool = True) -> str:
    """The TEXT form of one value."""
    return _text(value, reveal)


def _lookup(scope: Mapping[str, Any], var: Variable) -> Any:
    node: Any = scope.get(var.namespace, _MISSING)
    for key in var.path:
        if node is _MISSING:
            return _MISSING
        if isinstance(node, Mapping):
            node = node.get(key, _MISSING)
        elif isinstance(node, list | tuple) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return _MISSING
    return node


def _missing_error(template: str, var: Variable, scope: Mapping[str, Any]) -> TemplateRenderError:
    hints = {
        "current": "the request has no such value; check the field exists in the form",
        "output": f"no earlier action produced `{var.path[0]}`; declare it in an earlier action's `outputs`",
        "metadata": "use `.metadata.<itemId>.<key>` of an existing item and key",
        "system": "see the .system keys in the catalog format; secrets must be configured to be used",
    }
    if var.namespace not in scope:
        return TemplateRenderError(
            f"`{var.dotted}` uses the unknown namespace `.{var.namespace}`",
            template=template,
            offset=var.start,
            hint="namespaces are .current, .output, .metadata and .system",
        )
    return TemplateRenderError(
        f"`{var.dotted}` has no value",
        template=template,
        offset=var.start,
        hint=hints.get(var.namespace, ""),
    )


def _collect_secrets(value: Any, into: set[str]) -> None:
    if isinstance(value, Secret):
        if value.value:
            into.add(value.value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect_secrets(item, into)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_secrets(item, into)


def _encoded_forms(secrets: set[str]) -> set[str]:
    """Each secret as it may appear in any rendered output, so redaction finds every form."""
    forms: set[str] = set()
    for secret in secrets:
        forms.update(
            {
                secret,
                json.dumps(secret, ensure_ascii=False)[1:-1],
                json.dumps(secret)[1:-1],
                quote(secret, safe=""),
                _jira_escape(secret),
                _CONTROL.sub(" ", secret),
            }
        )
    return {form for form in forms if form}


# ---- value forms ---------------------------------------------------------------------------------


def _number(value: int | float) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def _plain(value: Any, reveal: bool) -> Any:
    """The value as JSON-compatible data, secrets revealed or redacted."""
    if isinstance(value, Secret):
        return value.value if reveal else REDACTED
    if isinstance(value, Placeholder):
        return value.text
    if isinstance(value, Mapping):
        return {str(k): _plain(v, reveal) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, reveal) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return int(value)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def _json(value: Any, reveal: bool) -> str:
    return json.dumps(_plain(value, reveal), ensure_ascii=False, allow_nan=False)


def _text(value: Any, reveal: bool) -> str:
    if isinstance(value, Secret):
        return value.value if reveal else REDACTED
    if isinstance(value, Placeholder):
        return value.text
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _json(value, reveal)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_text(v, reveal) for v in value)
    return str(value)


def _jira_escape(text: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == "\\":
            # `\\` would be a JIRA line break; the entity renders as one backslash.
            out.append("&#92;")
            continue
        if ch in _JIRA_ALWAYS:
            out.append("\\" + ch)
            continue
        if ch in _JIRA_BOUNDARY:
            before = text[i - 1] if i > 0 else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            if not (before.isalnum() and after.isalnum()):
                out.append("\\" + ch)
                continue
        out.append(ch)
    return _JIRA_LINE_START.sub(lambda m: m.group(1) + "\\.", "".join(out))


def _jira(value: Any, reveal: bool) -> str:
    if isinstance(value, Placeholder):
        return value.text
    if isinstance(value, Mapping):
        block = json.dumps(_plain(value, reveal), ensure_ascii=False, indent=2)
        # `{code` can only occur inside a JSON string here; `\u0063` keeps the JSON equal but ends no block.
        block = block.replace("{code", "{\\u0063ode").replace("{noformat", "{\\u006eoformat")
        return "{code:json}\n" + block + "\n{code}"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_jira(v, reveal) for v in value)
    return _jira_escape(_text(value, reveal))


def _header(value: Any, reveal: bool) -> str:
    return _CONTROL.sub(" ", _text(value, reveal))


# ---- assembling per context ----------------------------------------------------------------------


def _assemble(
    template: str, parts: list[str | tuple[Variable, Any]], context: Context, *, reveal: bool
) -> str:
    if context is Context.JSON:
        return _assemble_json(template, parts, reveal)
    if context is Context.URL:
        return _assemble_url(template, parts, reveal)
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        var, value = part
        try:
            if context is Context.JIRA:
                out.append(_jira(value, reveal))
            elif context is Context.HEADER:
                out.append(_header(value, reveal))
            else:
                out.append(_text(value, reveal))
        except ValueError as exc:
            raise TemplateRenderError(f"`{var.dotted}`: {exc}", template=template, offset=var.start) from exc
    result = "".join(out)
    if context is Context.HEADER:
        result = _CONTROL.sub(" ", result)
    return result


def _assemble_json(template: str, parts: list[str | tuple[Variable, Any]], reveal: bool) -> str:
    out: list[str] = []
    in_string = escaped = False
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            for ch in part:
                if not in_string:
                    in_string = ch == '"'
                elif escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            continue
        var, value = part
        try:
            if in_string:
                out.append(json.dumps(_text(value, reveal), ensure_ascii=False)[1:-1])
            else:
                out.append(_json(value, reveal))
        except ValueError as exc:
            raise TemplateRenderError(
                f"`{var.dotted}` cannot be written as JSON: {exc}", template=template, offset=var.start
            ) from exc
    result = "".join(out)
    if reveal:
        try:
            json.loads(result)
        except json.JSONDecodeError as exc:
            raise TemplateRenderError(
                f"the rendered body is not valid JSON ({exc.msg} at character {exc.pos})",
                template=template,
                hint="check the template's quotes and commas: a variable inside quotes becomes part of "
                'the string, a bare variable becomes a JSON value, e.g. {"name": "{{.current.name}}", '
                '"size": {{.current.basic.size}}}',
            ) from exc
    return result


def _url_part(prefix: str) -> str:
    if not prefix:
        return "start"
    if "#" in prefix:
        return "fragment"
    if "?" in prefix:
        return "query"
    scheme_end = prefix.find("://")
    if scheme_end >= 0 and "/" not in prefix[scheme_end + 3 :]:
        return "authority"
    return "path"


def _url_encode(value: Any, reveal: bool, part: str) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_url_encode(v, reveal, part) for v in value)
    text = _text(value, reveal)
    if part == "path" and text and set(text) <= {"."}:
        # `.` and `..` would climb the path; percent-encoded they are just a name.
        return "%2E" * len(text)
    return quote(text, safe="")


def _assemble_url(template: str, parts: list[str | tuple[Variable, Any]], reveal: bool) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        var, value = part
        where = _url_part("".join(out))
        if isinstance(value, Placeholder):
            out.append(value.text)
        elif where == "start":
            text = _text(value, reveal)
            if reveal and not _ABSOLUTE_URL.match(text):
                raise TemplateRenderError(
                    f"`{var.dotted}` starts the URL but its value is not an absolute http(s) URL",
                    template=template,
                    offset=var.start,
                    hint="give a value like https://host/path, or write the scheme and host in the template",
                )
            out.append(_CONTROL.sub("", text))
        elif where == "authority":
            text = _text(value, reveal)
            if reveal and not _HOST.match(text):
                raise TemplateRenderError(
                    f"`{var.dotted}` lands in the URL's host, but {text!r} is not a host name",
                    template=template,
                    offset=var.start,
                    hint="host values may hold letters, digits, `.`, `-` and a `:port`; "
                    "put user input into the path or query instead",
                )
            out.append(text)
        else:
            out.append(_url_encode(value, reveal, where))
    return "".join(out)
