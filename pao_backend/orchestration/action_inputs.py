"""Action inputs (pure): one catalog action's config rendered into the input of its scaffolder action.

Every templated string is rendered in the context where it lands: rest-api URLs in URL context, headers in
HEADER, JSON bodies in JSON; jira-ticket texts in JIRA; cookiecutter values, git paths, contents and messages
in TEXT. The result comes twice: `input` (secrets in clear, to run) and `display` (secrets as `***`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pao_backend.catalog.models import Action
from pao_backend.errors import InputError
from pao_backend.templating import Context, Placeholder, Rendered, Variable, render

__all__ = ["JIRA_SUMMARY_MAX", "ActionInputError", "RenderedAction", "action_id", "render_action"]

JIRA_SUMMARY_MAX = 255
_CONTENT_TYPES = {
    "json": "application/json",
    "form-data": "application/x-www-form-urlencoded",
    "text": "text/plain",
}


class ActionInputError(InputError):
    """An action's config cannot become a valid action input (bad URL, path, summary too long, ...)."""


@dataclass(frozen=True)
class RenderedAction:
    """The concrete input of a scaffolder action: `input` to run, `display` to show, `secrets` to redact."""

    type: str
    input: dict[str, Any]
    display: dict[str, Any]
    secrets: frozenset[str]

    @property
    def action_id(self) -> str:
        return action_id(self.type)


def action_id(action_type: str) -> str:
    """The scaffolder action id of a catalog action type: `rest-api` -> `pao:rest-api`."""
    return f"pao:{action_type}"


class _Renderer:
    """Renders the strings of one action config, collecting both forms and the secrets used."""

    def __init__(self, action: Action, scope: Mapping[str, Any], for_display: bool) -> None:
        self.action = action
        self.scope = scope
        self.for_display = for_display
        self.secrets: set[str] = set()

    def _missing(self, var: Variable) -> Any:
        if var.namespace != "output":
            raise KeyError(var.dotted)
        if self.for_display:
            return Placeholder(f"<output:{'.'.join(var.path)}>")
        return None

    def render(self, template: str, context: Context, where: str) -> Rendered:
        try:
            rendered = render(template, self.scope, context, missing=self._missing)
        except InputError as exc:
            raise ActionInputError(
                f"{self.action.type} action, `{where}`: {exc.message}", details=exc.details
            ) from exc
        self.secrets.update(rendered.secrets)
        return rendered

    def both(self, template: str, context: Context, where: str) -> tuple[str, str]:
        rendered = self.render(template, context, where)
        return rendered.value, rendered.display

    def deep(self, value: Any, context: Context, where: str) -> tuple[Any, Any]:
        """Render every string inside a JSON-like value; other values pass through."""
        if isinstance(value, str):
            return self.both(value, context, where)
        if isinstance(value, Mapping):
            real: dict[str, Any] = {}
            shown: dict[str, Any] = {}
            for key, item in value.items():
                real[str(key)], shown[str(key)] = self.deep(item, context, f"{where}.{key}")
            return real, shown
        if isinstance(value, list):
            pairs = [self.deep(item, context, f"{where}[{i}]") for i, item in enumerate(value)]
            return [p[0] for p in pairs], [p[1] for p in pairs]
        return copy.deepcopy(value), copy.deepcopy(value)

    def fail(self, message: str) -> ActionInputError:
        return ActionInputError(f"{self.action.type} action: {message}")


def render_action(
    action: Action,
    scope: Mapping[str, Any],
    *,
    for_display: bool,
    endpoints: Mapping[str, str] | None = None,
) -> RenderedAction:
    """The scaffolder action input for `action` in `scope` (namespaces current/output/metadata/system).

    `for_display=True` (plan time) shows outputs not produced yet as `<output:key>`; `False` (run time)
    renders them as null. `endpoints` resolves rest-api `endpoint.base` names.
    """
    renderer = _Renderer(action, scope, for_display)
    builders = {
        "rest-api": _rest_api,
        "jira-ticket": _jira_ticket,
        "cookiecutter": _cookiecutter,
        "git-commit": _git_commit,
    }
    builder = builders.get(action.type)
    if builder is None:
        raise ActionInputError(
            f"unknown action type {action.type!r}; use one of {', '.join(sorted(builders))}"
        )
    try:
        real, shown = builder(renderer, action.config, endpoints or {})
    except (KeyError, TypeError, AttributeError) as exc:
        raise renderer.fail(f"config is incomplete or malformed ({exc}); run `pao validate`") from exc
    return RenderedAction(action.type, real, shown, frozenset(renderer.secrets))


Pair = tuple[dict[str, Any], dict[str, Any]]


def _rest_api(r: _Renderer, config: Mapping[str, Any], endpoints: Mapping[str, str]) -> Pair:
    endpoint = config["endpoint"]
    base_name = endpoint.get("base")
    if base_name:
        base = endpoints.get(base_name)
        if base is None:
            known = ", ".join(sorted(endpoints)) or "none"
            raise r.fail(
                f"endpoint base {base_name!r} is not configured (known: {known}); "
                "set it in PAO_ENDPOINTS, e.g. PAO_ENDPOINTS='{\"" + base_name + '": "https://..."}\''
            )
        path_value, path_display = r.both("/" + endpoint["url"].lstrip("/"), Context.URL, "endpoint.url")
        url, url_display = base.rstrip("/") + path_value, base.rstrip("/") + path_display
    else:
        url, url_display = r.both(endpoint["url"], Context.URL, "endpoint.url")
    parts = urlsplit(url)
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    if not absolute and not (r.for_display and "<output:" in url):
        raise r.fail(
            f"endpoint.url {url_display!r} is not an absolute http(s) URL; "
            "write https://host/path or name a configured `endpoint.base`"
        )
    headers: dict[str, str] = {}
    headers_display: dict[str, str] = {}
    for name, template in (config.get("headers") or {}).items():
        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", str(name)):
            raise r.fail(f"header name {name!r} is not a valid HTTP header name")
        headers[name], headers_display[name] = r.both(str(template), Context.HEADER, f"headers.{name}")
    body = body_display = content_type = None
    if config.get("body"):
        body_type = config["body"]["type"]
        template = config["body"]["contentTemplate"]
        content_type = _CONTENT_TYPES.get(body_type)
        if content_type is None:
            raise r.fail(f"body.type {body_type!r} is unknown; use json, form-data or text")
        if body_type == "json":
            body, body_display = r.both(template, Context.JSON, "body.contentTemplate")
        elif body_type == "form-data":
            # Rendered as a URL query, so every value is percent-encoded; the `?` is only the context marker.
            body, body_display = (s[1:] for s in r.both("?" + template, Context.URL, "body.contentTemplate"))
        else:
            body, body_display = r.both(template, Context.TEXT, "body.contentTemplate")
    retry = config.get("retry") or {}
    auth = config.get("authentication")
    common = {
        "method": str(endpoint["method"]).upper(),
        "contentType": content_type,
        "timeout": config.get("timeout"),
        "retry": {"attempts": int(retry.get("attempts", 0)), "backoff": retry.get("backoff", "exponential")},
        "authentication": dict(auth) if auth else None,
        "expectedStatus": list(config["expectedStatus"]) if config.get("expectedStatus") else None,
    }
    real = {"url": url, "headers": headers, "body": body, **common}
    shown = {"url": url_display, "headers": headers_display, "body": body_display, **copy.deepcopy(common)}
    return real, shown


def _jira_ticket(r: _Renderer, config: Mapping[str, Any], endpoints: Mapping[str, str]) -> Pair:
    ticket = config["ticket"]
    summary, summary_display = r.both(ticket["summaryTemplate"], Context.JIRA, "ticket.summaryTemplate")
    # A JIRA summary is one line.
    summary, summary_display = (" ".join(s.splitlines()) for s in (summary, summary_display))
    if len(summary) > JIRA_SUMMARY_MAX:
        raise r.fail(
            f"the ticket summary is {len(summary)} characters after rendering; JIRA allows "
            f"{JIRA_SUMMARY_MAX} — shorten ticket.summaryTemplate or move detail into descriptionTemplate"
        )
    description, description_display = r.both(
        ticket.get("descriptionTemplate") or "", Context.JIRA, "ticket.descriptionTemplate"
    )
    epic = epic_display = None
    if ticket.get("epicKey"):
        epic, epic_display = r.both(ticket["epicKey"], Context.TEXT, "ticket.epicKey")
    fields, fields_display = r.deep(ticket.get("customFields") or {}, Context.JIRA, "ticket.customFields")
    common = {
        "project": ticket["project"],
        "issueType": ticket["issueType"],
        "priority": ticket.get("priority") or "Medium",
        "labels": list(ticket.get("labels") or []),
        "components": list(ticket.get("components") or []),
    }
    real = {
        **common,
        "summary": summary,
        "description": description,
        "epicKey": epic,
        "customFields": fields,
    }
    shown = {
        **copy.deepcopy(common),
        "summary": summary_display,
        "description": description_display,
        "epicKey": epic_display,
        "customFields": fields_display,
    }
    return real, shown


def _safe_relative(r: _Renderer, path: str, where: str) -> str:
    segments = re.split(r"[/\\]", path)
    if not path or path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path) or ".." in segments:
        raise r.fail(
            f"{where} {path!r} must be a relative path inside the repository or workspace "
            "(no leading `/`, no drive letter, no `..`)"
        )
    return path


def _cookiecutter(r: _Renderer, config: Mapping[str, Any], endpoints: Mapping[str, str]) -> Pair:
    template = _safe_relative(r, str(config["template"]), "template")
    values: dict[str, Any] = {}
    values_display: dict[str, Any] = {}
    for key, value in (config.get("values") or {}).items():
        if isinstance(value, str):
            values[key], values_display[key] = r.both(value, Context.TEXT, f"values.{key}")
        else:
            values[key], values_display[key] = copy.deepcopy(value), copy.deepcopy(value)
    output = _safe_relative(r, str(config.get("output") or "."), "output")
    real = {"template": template, "values": values, "output": output}
    shown = {"template": template, "values": values_display, "output": output}
    return real, shown


def _git_commit(r: _Renderer, config: Mapping[str, Any], endpoints: Mapping[str, str]) -> Pair:
    repository, repository_display = r.both(config["repository"], Context.TEXT, "repository")
    branch, branch_display = r.both(config["branch"], Context.TEXT, "branch")
    if not (r.for_display and "<output:" in branch) and (
        not branch
        or branch.startswith(("-", "/"))
        or ".." in branch
        or re.search(r"[\s~^:?*\[\\]|@\{|\.lock$|/$|//", branch)
    ):
        raise r.fail(f"branch {branch_display!r} is not a valid git branch name")
    files: list[dict[str, Any]] = []
    files_display: list[dict[str, Any]] = []
    for i, spec in enumerate(config.get("files") or []):
        path, path_display = r.both(spec["path"], Context.TEXT, f"files[{i}].path")
        _safe_relative(r, path, f"files[{i}].path")
        operation = spec["operation"]
        content = content_display = None
        if spec.get("contentTemplate") is not None:
            content, content_display = r.both(
                spec["contentTemplate"], Context.TEXT, f"files[{i}].contentTemplate"
            )
        files.append({"path": path, "operation": operation, "content": content})
        files_display.append({"path": path_display, "operation": operation, "content": content_display})
    message, message_display = r.both(config["commitMessage"], Context.TEXT, "commitMessage")
    source = config.get("source")
    if source is not None:
        source = _safe_relative(r, str(source), "source")
    common = {
        "createPullRequest": bool(config.get("createPullRequest", False)),
        "createRepository": bool(config.get("createRepository", False)),
        "fromWorkspace": source,
    }
    real = {"repository": repository, "branch": branch, "files": files, "commitMessage": message, **common}
    shown = {
        "repository": repository_display,
        "branch": branch_display,
        "files": files_display,
        "commitMessage": message_display,
        **common,
    }
    if config.get("targetPath") is not None:
        target, target_display = r.both(config["targetPath"], Context.TEXT, "targetPath")
        real["targetPath"], shown["targetPath"] = _safe_relative(r, target, "targetPath"), target_display
    return real, shown
