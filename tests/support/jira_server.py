"""A JIRA-REST-compatible server for tests: what the `jira` library calls, over real HTTP on loopback.

    with JiraServer(tokens={"t0k3n": "pao-bot"}).running() as jira:
        client = jira_lib.JIRA(server=jira.url, token_auth="t0k3n")
        ...
        jira.resolve("DBA-1", "Done", fields={"customfield_10050": "postgresql://..."})

Implements (REST API 2, Server/Data Center flavour): serverInfo, myself, field, project, issuetype, priority,
resolution, status, issue create/get/delete, search (a JQL subset: `project`, `key`, `labels`, `status`,
`statusCategory`, `resolution`, `issue.property[k].path`, joined by AND), transitions (list/do), issue links
and link types, comments, issue properties. Statuses carry their statusCategory (To Do / In Progress / Done),
closing sets a resolution (Done, Won't Do, Duplicate).

Failure injection per operation (the route's name, e.g. `createIssue`, or `*`): a status (401, 429 with
Retry-After, 500, ...), a delay, for the next N calls. An admin API under `/_admin` (and the same as Python
methods) moves tickets to Done / Won't Do, sets fields, and injects failures. Optional webhooks: every
status change is POSTed as a `jira:issue_updated` event to the configured URLs, as a real JIRA would.

Standalone: `python -m tests.support.jira_server --port 8089 --token t0k3n` (then PAO_JIRA_URL=http://127.0.0.1:8089).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import itertools
import re
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

API = "/rest/api/2"

STATUS_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
STATUSES = {
    "To Do": {"id": "10000", "category": "new"},
    "In Progress": {"id": "3", "category": "indeterminate"},
    "Done": {"id": "10001", "category": "done"},
}
RESOLUTIONS = {
    "Done": {"id": "10000", "description": "Work has been completed on this issue."},
    "Won't Do": {"id": "10001", "description": "This issue won't be actioned."},
    "Duplicate": {"id": "10002", "description": "The problem is a duplicate of an existing issue."},
}
# id -> (name, target status, resolution set on the way); which ones apply depends on the current status.
TRANSITIONS = {
    "11": ("Start Progress", "In Progress", None),
    "21": ("Done", "Done", "Done"),
    "31": ("Won't Do", "Done", "Won't Do"),
    "41": ("Reopen", "To Do", None),
}
_AVAILABLE = {"To Do": ["11", "21", "31"], "In Progress": ["21", "31", "41"], "Done": ["41"]}
ISSUE_TYPES = {"Task": "10002", "Story": "10001", "Bug": "10004", "Epic": "10000", "Sub-task": "10003"}
PRIORITIES = {"Highest": "1", "Critical": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
LINK_TYPES = [
    {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    {"id": "10001", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
    {"id": "10002", "name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
    {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
]
SYSTEM_FIELDS = [
    "summary",
    "description",
    "issuetype",
    "project",
    "priority",
    "labels",
    "components",
    "status",
    "resolution",
    "created",
    "updated",
    "issuelinks",
    "comment",
    "assignee",
    "reporter",
    "resolutiondate",
]
DEFAULT_CUSTOM_FIELDS = {
    "customfield_10014": "Epic Link",
    "customfield_10050": "Connection URL",
    "customfield_10051": "Resource ID",
    "customfield_10052": "Notes",
}


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class JiraFault(Exception):
    """Raised inside the fake to answer with JIRA's error body."""

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers = headers or {}


@dataclass
class Failure:
    """An injected failure: the next `times` calls of `operation` answer `status` (after `delay` seconds)."""

    operation: str
    status: int | None = 500
    times: int = 1
    delay: float = 0.0
    retry_after: int | None = None
    message: str = "injected failure"
    # True: do the work, then answer with the failure (the client never learns that it succeeded).
    after: bool = False


@dataclass
class Issue:
    id: str
    key: str
    project: str
    fields: dict[str, Any]
    status: str = "To Do"
    resolution: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # issue link ids


@dataclass
class Link:
    id: str
    type: dict[str, str]
    inward: str  # the issue the outward description starts from: `inward` blocks `outward`
    outward: str


class _Jql:
    """The JQL subset PAO needs: `a = b AND c in (d, e) AND issue.property[x].y = "z"` (ORDER BY ignored)."""

    _CLAUSE = re.compile(
        r"""^(?P<field>issue\.property\[[^\]]+\](?:\.[\w.]+)?|[\w.]+)\s*
            (?P<op>=|!=|~|\bin\b|\bnot in\b|\bis\b|\bis not\b)\s*(?P<value>.+)$""",
        re.IGNORECASE | re.VERBOSE,
    )

    def __init__(self, jql: str) -> None:
        jql = re.split(r"\border\s+by\b", jql, flags=re.IGNORECASE)[0].strip()
        self.clauses: list[tuple[str, str, list[str]]] = []
        if not jql:
            return
        for part in re.split(r"\s+AND\s+", jql, flags=re.IGNORECASE):
            match = self._CLAUSE.match(part.strip())
            if match is None:
                raise JiraFault(400, [f"Error in the JQL Query: cannot parse '{part.strip()}'."])
            raw = match["value"].strip()
            if raw.startswith("(") and raw.endswith(")"):
                values = [_unquote(v) for v in _split_list(raw[1:-1])]
            else:
                values = [_unquote(raw)]
            self.clauses.append((match["field"], match["op"].lower(), values))

    def matches(self, issue: Issue) -> bool:
        return all(self._clause(issue, *clause) for clause in self.clauses)

    @staticmethod
    def _actual(issue: Issue, name: str) -> list[str | None]:
        lowered = name.lower()
        if lowered == "project":
            return [issue.project]
        if lowered in ("key", "issuekey", "id"):
            return [issue.key, issue.id]
        if lowered == "labels":
            return list(issue.fields.get("labels") or []) or [None]
        if lowered == "status":
            return [issue.status]
        if lowered == "statuscategory":
            return [STATUS_CATEGORIES[STATUSES[issue.status]["category"]]["name"]]
        if lowered == "resolution":
            return [issue.resolution]
        if lowered == "summary":
            return [issue.fields.get("summary")]
        if lowered.startswith("issue.property["):
            match = re.match(r"issue\.property\[([^\]]+)\](?:\.([\w.]+))?", name, re.IGNORECASE)
            assert match is not None
            value: Any = issue.properties.get(match[1])
            for segment in (match[2] or "").split(".") if match[2] else []:
                value = value.get(segment) if isinstance(value, dict) else None
            return [None if value is None else str(value)]
        raise JiraFault(400, [f"Field '{name}' does not exist or you do not have permission to view it."])

    def _clause(self, issue: Issue, name: str, op: str, values: list[str]) -> bool:
        actual = {a.lower() if a is not None else None for a in self._actual(issue, name)}
        wanted = {None if v.lower() in ("empty", "null") else v.lower() for v in values}
        if op in ("=", "in", "is"):
            return bool(actual & wanted)
        if op in ("!=", "not in", "is not"):
            return not (actual & wanted)
        if op == "~":
            return any(a is not None and w is not None and w in a for a in actual for w in wanted)
        raise JiraFault(400, [f"Operator '{op}' is not supported here."])


def _split_list(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace = ","
    lexer.whitespace_split = True
    return [item.strip() for item in lexer]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].replace('\\"', '"')
    return value


class JiraServer:
    """The fake's state plus its ASGI app. Thread-safe: tests call its methods while uvicorn serves."""

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        tokens: dict[str, str] | None = None,
        projects: list[str] | None = None,
        custom_fields: dict[str, str] | None = None,
        webhooks: list[str] | None = None,
        anonymous: bool = False,
    ) -> None:
        self.users = dict(users if users is not None else {"pao-bot": "secret"})
        self.tokens = dict(tokens if tokens is not None else {"t0k3n": "pao-bot"})
        self.projects = {p: str(10000 + i) for i, p in enumerate(projects or [])}
        self.open_projects = projects is None
        self.custom_fields = dict(DEFAULT_CUSTOM_FIELDS if custom_fields is None else custom_fields)
        self.webhooks = list(webhooks or [])
        self.anonymous = anonymous
        self.issues: dict[str, Issue] = {}
        self.links: dict[str, Link] = {}
        self.failures: list[Failure] = []
        self.calls: list[tuple[str, str]] = []  # (operation, method path) of every authenticated call
        self.webhook_deliveries: list[tuple[str, int]] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(10001)
        self._numbers: dict[str, itertools.count[int]] = {}
        self._base_url = "http://127.0.0.1"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # ------------------------------------------------------------------ running

    @property
    def url(self) -> str:
        return self._base_url

    def start(self, host: str = "127.0.0.1", port: int = 0) -> JiraServer:
        config = uvicorn.Config(self.app, host=host, port=port, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="fake-jira", daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the fake JIRA server did not start")
            threading.Event().wait(0.01)
        sock = server.servers[0].sockets[0].getsockname()
        self._base_url = f"http://{sock[0]}:{sock[1]}"
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    @contextlib.contextmanager
    def running(self) -> Iterator[JiraServer]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # ------------------------------------------------------------------ test controls (Python API)

    def inject(
        self,
        operation: str,
        status: int | None = 500,
        *,
        times: int = 1,
        delay: float = 0.0,
        retry_after: int | None = None,
        message: str = "injected failure",
        after: bool = False,
    ) -> None:
        """Make the next `times` calls of `operation` (route name or `*`) fail with `status` after `delay`;
        with `after=True` the call is carried out first and only its answer is lost."""
        with self._lock:
            self.failures.append(Failure(operation, status, times, delay, retry_after, message, after))

    def clear_failures(self) -> None:
        with self._lock:
            self.failures.clear()

    def resolve(self, key: str, resolution: str = "Done", *, fields: dict[str, Any] | None = None) -> None:
        """Close `key` as a person would: set fields, then move it to Done with `resolution`."""
        if resolution not in RESOLUTIONS:
            raise ValueError(f"unknown resolution {resolution!r}; one of {sorted(RESOLUTIONS)}")
        with self._lock:
            issue = self._issue(key)
            if fields:
                self._set_fields(issue, fields)
            old = issue.status
            issue.status, issue.resolution = "Done", resolution
            issue.fields["resolutiondate"] = issue.fields["updated"] = _now()
        self._notify(key, old)

    def delete(self, key: str) -> None:
        """Delete `key` (and its links) as an administrator would."""
        with self._lock:
            issue = self._issue(key)
            for link_id in list(issue.links):
                link = self.links.pop(link_id, None)
                for other in self.issues.values():
                    if link is not None and link_id in other.links:
                        other.links.remove(link_id)
            del self.issues[issue.key]

    def start_progress(self, key: str) -> None:
        with self._lock:
            issue = self._issue(key)
            old, issue.status = issue.status, "In Progress"
        self._notify(key, old)

    def set_fields(self, key: str, fields: dict[str, Any]) -> None:
        with self._lock:
            self._set_fields(self._issue(key), fields)

    def issue_json(self, key: str) -> dict[str, Any]:
        with self._lock:
            return self._render(self._issue(key), properties="*all")

    def find(self, jql: str) -> list[str]:
        """Keys of the issues matching `jql` (the same subset the search endpoint reads)."""
        query = _Jql(jql)
        with self._lock:
            return [i.key for i in self.issues.values() if query.matches(i)]

    def links_of(self, key: str) -> list[tuple[str, str, str]]:
        """(link type name, inward-side key, outward-side key) of every link touching `key`."""
        with self._lock:
            return [
                (link.type["name"], link.inward, link.outward)
                for link in self.links.values()
                if key in (link.inward, link.outward)
            ]

    # ------------------------------------------------------------------ state helpers

    def _issue(self, key_or_id: str) -> Issue:
        for issue in self.issues.values():
            if key_or_id in (issue.key, issue.id):
                return issue
        raise JiraFault(404, ["Issue Does Not Exist"])

    def _set_fields(self, issue: Issue, fields: dict[str, Any]) -> None:
        for field_id in fields:
            if field_id.startswith("customfield_") and field_id not in self.custom_fields:
                self.custom_fields[field_id] = field_id
        issue.fields.update(fields)
        issue.fields["updated"] = _now()

    def _project(self, key: str) -> dict[str, Any]:
        if key not in self.projects:
            if not self.open_projects:
                raise JiraFault(404, [f"No project could be found with key '{key}'."])
            self.projects[key] = str(10000 + len(self.projects))
        return {
            "id": self.projects[key],
            "key": key,
            "name": f"{key} project",
            "self": f"{self._base_url}{API}/project/{self.projects[key]}",
        }

    def _user(self, name: str) -> dict[str, Any]:
        return {
            "self": f"{self._base_url}{API}/user?username={name}",
            "key": name,
            "name": name,
            "emailAddress": f"{name}@example.com",
            "displayName": name,
            "active": True,
        }

    def _status(self, name: str) -> dict[str, Any]:
        info = STATUSES[name]
        category = STATUS_CATEGORIES[info["category"]]
        return {
            "self": f"{self._base_url}{API}/status/{info['id']}",
            "id": info["id"],
            "name": name,
            "description": "",
            "statusCategory": {"self": f"{self._base_url}{API}/statuscategory/{category['id']}", **category},
        }

    def _resolution(self, name: str | None) -> dict[str, Any] | None:
        if name is None:
            return None
        info = RESOLUTIONS[name]
        return {"self": f"{self._base_url}{API}/resolution/{info['id']}", "name": name, **info}

    def _brief(self, issue: Issue) -> dict[str, Any]:
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self._base_url}{API}/issue/{issue.id}",
            "fields": {
                "summary": issue.fields.get("summary"),
                "status": self._status(issue.status),
                "issuetype": issue.fields.get("issuetype"),
            },
        }

    def _render(self, issue: Issue, *, properties: str | None = None) -> dict[str, Any]:
        fields = dict(issue.fields)
        fields["status"] = self._status(issue.status)
        fields["resolution"] = self._resolution(issue.resolution)
        fields["comment"] = {
            "comments": list(issue.comments),
            "maxResults": len(issue.comments),
            "total": len(issue.comments),
            "startAt": 0,
        }
        links = []
        for link_id in issue.links:
            link = self.links[link_id]
            entry: dict[str, Any] = {
                "id": link.id,
                "self": f"{self._base_url}{API}/issueLink/{link.id}",
                "type": {**link.type, "self": f"{self._base_url}{API}/issueLinkType/{link.type['id']}"},
            }
            # Seen from `inward`, the link reads "<inward> blocks <outward>": the other end is outwardIssue.
            if link.inward == issue.key:
                entry["outwardIssue"] = self._brief(self.issues[link.outward])
            else:
                entry["inwardIssue"] = self._brief(self.issues[link.inward])
            links.append(entry)
        fields["issuelinks"] = links
        for custom in self.custom_fields:
            fields.setdefault(custom, None)
        rendered: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue.id,
            "self": f"{self._base_url}{API}/issue/{issue.id}",
            "key": issue.key,
            "fields": fields,
        }
        if properties:
            wanted = set(issue.properties) if "*all" in properties else set(properties.split(","))
            rendered["properties"] = {k: v for k, v in issue.properties.items() if k in wanted}
        return rendered

    def _create(self, body: dict[str, Any], reporter: str) -> Issue:
        fields = dict(body.get("fields") or {})
        errors: dict[str, str] = {}
        project_ref = fields.pop("project", None) or {}
        project_key = project_ref.get("key") or next(
            (k for k, v in self.projects.items() if v == str(project_ref.get("id"))), None
        )
        if not project_key:
            errors["project"] = "project is required"
        type_ref = fields.pop("issuetype", None) or {}
        type_name = type_ref.get("name") or next(
            (n for n, i in ISSUE_TYPES.items() if i == str(type_ref.get("id"))), None
        )
        if type_name not in ISSUE_TYPES:
            errors["issuetype"] = "valid issue type is required"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        priority = (fields.pop("priority", None) or {"name": "Medium"}).get("name")
        if priority not in PRIORITIES:
            errors["priority"] = f"The priority selected is invalid: '{priority}'."
        labels = fields.get("labels") or []
        if any(not isinstance(label, str) or " " in label for label in labels):
            errors["labels"] = "Labels cannot contain spaces."
        for name in fields:
            if name not in SYSTEM_FIELDS and name not in self.custom_fields:
                errors[name] = (
                    f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                )
        if errors:
            raise JiraFault(400, [], errors)
        assert project_key is not None and type_name is not None
        project = self._project(project_key)
        number = next(self._numbers.setdefault(project_key, itertools.count(1)))
        issue_id = str(next(self._ids))
        now = _now()
        fields.update(
            {
                "project": project,
                "issuetype": {"id": ISSUE_TYPES[type_name], "name": type_name, "subtask": False},
                "priority": {"id": PRIORITIES[priority], "name": priority},
                "labels": list(labels),
                "components": [{"name": c.get("name")} for c in fields.get("components") or []],
                "description": fields.get("description"),
                "created": now,
                "updated": now,
                "resolutiondate": None,
                "reporter": self._user(reporter),
                "assignee": None,
            }
        )
        issue = Issue(id=issue_id, key=f"{project_key}-{number}", project=project_key, fields=fields)
        self.issues[issue.key] = issue
        return issue

    def _notify(self, key: str, old_status: str) -> None:
        if not self.webhooks:
            return
        with self._lock:
            issue = self._issue(key)
            payload = {
                "timestamp": int(dt.datetime.now(dt.UTC).timestamp() * 1000),
                "webhookEvent": "jira:issue_updated",
                "issue_event_type_name": "issue_generic",
                "issue": self._render(issue),
                "changelog": {
                    "id": str(next(self._ids)),
                    "items": [
                        {
                            "field": "status",
                            "fieldtype": "jira",
                            "fromString": old_status,
                            "toString": issue.status,
                        }
                    ],
                },
            }
            targets = list(self.webhooks)

        def deliver() -> None:
            for target in targets:
                try:
                    status = httpx.post(target, json=payload, timeout=10).status_code
                except httpx.HTTPError:
                    status = 0
                with self._lock:
                    self.webhook_deliveries.append((target, status))

        threading.Thread(target=deliver, name="fake-jira-webhook", daemon=True).start()

    # ------------------------------------------------------------------ the HTTP app

    async def _gate(self, request: Request) -> None:
        """Every REST route: authenticate, record the call, apply injected failures."""
        route = request.scope.get("route")
        operation = getattr(route, "name", "?")
        failure = None
        with self._lock:
            for candidate in self.failures:
                if candidate.operation in (operation, "*") and candidate.times > 0:
                    candidate.times -= 1
                    failure = candidate
                    break
            self.failures = [f for f in self.failures if f.times > 0]
        if failure is not None and failure.delay:
            await asyncio.sleep(failure.delay)
        if failure is not None and failure.after:
            request.state.fail_after = failure
        elif failure is not None and failure.status is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            raise JiraFault(failure.status, [failure.message], headers=headers)
        user = self._authenticate(request)
        request.state.user = user
        with self._lock:
            self.calls.append((operation, f"{request.method} {request.url.path}"))

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            user = self.tokens.get(header.removeprefix("Bearer ").strip())
            if user:
                return user
        elif header.startswith("Basic "):
            try:
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                name, password = "", ""
            if name and self.users.get(name) == password:
                return name
        elif self.anonymous:
            return "anonymous"
        raise JiraFault(
            401, ["You are not authenticated. Authentication required to perform this operation."]
        )

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="fake JIRA", openapi_url=None, docs_url=None, redoc_url=None)

        @app.exception_handler(JiraFault)
        async def fault(_: Request, exc: Exception) -> Response:
            assert isinstance(exc, JiraFault)
            headers = dict(exc.headers)
            if exc.status == 401:
                headers = {**headers, "WWW-Authenticate": 'Basic realm="protected-area"'}
            body = {"errorMessages": exc.messages, "errors": exc.errors}
            return JSONResponse(body, status_code=exc.status, headers=headers)

        @app.middleware("http")
        async def lose_answer(request: Request, call_next: Any) -> Response:
            response: Response = await call_next(request)
            failure: Failure | None = getattr(request.state, "fail_after", None)
            if failure is not None and failure.status is not None:
                body = {"errorMessages": [failure.message], "errors": {}}
                return JSONResponse(body, status_code=failure.status)
            return response

        rest = APIRouter(prefix=API, dependencies=[Depends(self._gate)])
        self._add_meta_routes(rest)
        self._add_issue_routes(rest)
        app.include_router(rest)
        app.include_router(self._admin_router())
        return app

    def _add_meta_routes(self, rest: APIRouter) -> None:
        @rest.get("/serverInfo", name="serverInfo")
        def server_info() -> dict[str, Any]:
            return {
                "baseUrl": self._base_url,
                "version": "9.12.2",
                "versionNumbers": [9, 12, 2],
                "deploymentType": "Server",
                "buildNumber": 9120002,
                "serverTitle": "Fake JIRA for PAO tests",
            }

        @rest.get("/myself", name="myself")
        def myself(request: Request) -> dict[str, Any]:
            return self._user(request.state.user)

        @rest.get("/field", name="field")
        def fields() -> list[dict[str, Any]]:
            system = [
                {"id": f, "key": f, "name": f.capitalize(), "custom": False, "clauseNames": [f]}
                for f in SYSTEM_FIELDS
            ]
            custom = [
                {
                    "id": fid,
                    "key": fid,
                    "name": name,
                    "custom": True,
                    "clauseNames": [f"cf[{fid.removeprefix('customfield_')}]", name],
                    "schema": {"type": "string", "customId": int(fid.removeprefix("customfield_"))},
                }
                for fid, name in self.custom_fields.items()
            ]
            return system + custom

        @rest.get("/project", name="projects")
        def projects() -> list[dict[str, Any]]:
            with self._lock:
                return [self._project(k) for k in self.projects]

        @rest.get("/project/{key}", name="project")
        def project(key: str) -> dict[str, Any]:
            with self._lock:
                found = next((k for k, v in self.projects.items() if key in (k, v)), key)
                return {**self._project(found), "issueTypes": self._issue_types()}

        @rest.get("/issuetype", name="issueTypes")
        def issue_types() -> list[dict[str, Any]]:
            return self._issue_types()

        @rest.get("/priority", name="priorities")
        def priorities() -> list[dict[str, Any]]:
            return [{"id": i, "name": n} for n, i in PRIORITIES.items()]

        @rest.get("/resolution", name="resolutions")
        def resolutions() -> list[dict[str, Any]]:
            return [r for n in RESOLUTIONS if (r := self._resolution(n)) is not None]

        @rest.get("/status", name="statuses")
        def statuses() -> list[dict[str, Any]]:
            return [self._status(n) for n in STATUSES]

        @rest.get("/issueLinkType", name="issueLinkTypes")
        def link_types() -> dict[str, Any]:
            return {
                "issueLinkTypes": [
                    {**t, "self": f"{self._base_url}{API}/issueLinkType/{t['id']}"} for t in LINK_TYPES
                ]
            }

    def _issue_types(self) -> list[dict[str, Any]]:
        return [
            {"id": i, "name": n, "subtask": n == "Sub-task", "self": f"{self._base_url}{API}/issuetype/{i}"}
            for n, i in ISSUE_TYPES.items()
        ]

    def _add_issue_routes(self, rest: APIRouter) -> None:
        @rest.post("/issue", name="createIssue", status_code=201)
        async def create_issue(request: Request) -> dict[str, Any]:
            body = await request.json()
            with self._lock:
                issue = self._create(body, request.state.user)
                return {"id": issue.id, "key": issue.key, "self": f"{self._base_url}{API}/issue/{issue.id}"}

        @rest.get("/issue/{key}", name="getIssue")
        def get_issue(key: str, properties: str | None = None) -> dict[str, Any]:
            with self._lock:
                return self._render(self._issue(key), properties=properties)

        @rest.delete("/issue/{key}", name="deleteIssue", status_code=204)
        def delete_issue(key: str) -> Response:
            self.delete(key)
            return Response(status_code=204)

        @rest.api_route("/search", methods=["GET", "POST"], name="search")
        async def search(request: Request) -> dict[str, Any]:
            params: dict[str, Any] = dict(request.query_params)
            if request.method == "POST":
                params.update(await request.json())
            query = _Jql(str(params.get("jql") or ""))
            start, limit = int(params.get("startAt") or 0), int(params.get("maxResults") or 50)
            props = params.get("properties")
            if isinstance(props, list):
                props = ",".join(props)
            with self._lock:
                found = [i for i in self.issues.values() if query.matches(i)]
                page = [self._render(i, properties=props) for i in found[start : start + limit]]
            return {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": limit,
                "total": len(found),
                "issues": page,
            }

        @rest.get("/issue/{key}/transitions", name="transitions")
        def transitions(key: str) -> dict[str, Any]:
            with self._lock:
                issue = self._issue(key)
                return {
                    "expand": "transitions",
                    "transitions": [
                        {"id": tid, "name": TRANSITIONS[tid][0], "to": self._status(TRANSITIONS[tid][1])}
                        for tid in _AVAILABLE[issue.status]
                    ],
                }

        @rest.post("/issue/{key}/transitions", name="doTransition", status_code=204)
        async def do_transition(key: str, request: Request) -> Response:
            body = await request.json()
            tid = str((body.get("transition") or {}).get("id", ""))
            with self._lock:
                issue = self._issue(key)
                if tid not in _AVAILABLE[issue.status]:
                    raise JiraFault(400, [f"Transition id '{tid}' is not valid for this issue."])
                _, target, resolution = TRANSITIONS[tid]
                wanted = ((body.get("fields") or {}).get("resolution") or {}).get("name")
                if wanted is not None and wanted not in RESOLUTIONS:
                    raise JiraFault(400, [], {"resolution": f"Resolution '{wanted}' does not exist."})
                old = issue.status
                issue.status = target
                issue.resolution = (wanted or resolution) if target == "Done" else None
                issue.fields["resolutiondate"] = _now() if target == "Done" else None
                extra = {k: v for k, v in (body.get("fields") or {}).items() if k != "resolution"}
                self._set_fields(issue, extra)
                for update in (body.get("update") or {}).get("comment") or []:
                    self._comment(issue, str(update.get("add", {}).get("body", "")), request.state.user)
            self._notify(key, old)
            return Response(status_code=204)

        @rest.get("/issue/{key}/comment", name="comments")
        def comments(key: str) -> dict[str, Any]:
            with self._lock:
                issue = self._issue(key)
                return {
                    "comments": issue.comments,
                    "startAt": 0,
                    "maxResults": 50,
                    "total": len(issue.comments),
                }

        @rest.post("/issue/{key}/comment", name="addComment", status_code=201)
        async def add_comment(key: str, request: Request) -> dict[str, Any]:
            body = await request.json()
            text = body.get("body")
            if not isinstance(text, str) or not text.strip():
                raise JiraFault(400, [], {"comment": "Comment body can not be empty!"})
            with self._lock:
                return self._comment(self._issue(key), text, request.state.user)

        @rest.get("/issue/{key}/properties", name="propertyKeys")
        def property_keys(key: str) -> dict[str, Any]:
            with self._lock:
                issue = self._issue(key)
                return {
                    "keys": [
                        {"key": k, "self": f"{self._base_url}{API}/issue/{issue.id}/properties/{k}"}
                        for k in issue.properties
                    ]
                }

        @rest.get("/issue/{key}/properties/{prop}", name="getProperty")
        def get_property(key: str, prop: str) -> dict[str, Any]:
            with self._lock:
                issue = self._issue(key)
                if prop not in issue.properties:
                    raise JiraFault(404, [f"The property with key '{prop}' does not exist."])
                return {"key": prop, "value": issue.properties[prop]}

        @rest.put("/issue/{key}/properties/{prop}", name="setProperty")
        async def set_property(key: str, prop: str, request: Request) -> Response:
            value = await request.json()
            with self._lock:
                issue = self._issue(key)
                existed = prop in issue.properties
                issue.properties[prop] = value
            return Response(status_code=200 if existed else 201)

        @rest.post("/issueLink", name="createIssueLink", status_code=201)
        async def create_link(request: Request) -> Response:
            body = await request.json()
            type_name = (body.get("type") or {}).get("name")
            link_type = next((t for t in LINK_TYPES if t["name"] == type_name), None)
            if link_type is None:
                raise JiraFault(404, [f"No issue link type with name '{type_name}' found."])
            with self._lock:
                inward = self._issue(str((body.get("inwardIssue") or {}).get("key")))
                outward = self._issue(str((body.get("outwardIssue") or {}).get("key")))
                duplicate = next(
                    (
                        link
                        for link in self.links.values()
                        if (link.type["name"], link.inward, link.outward)
                        == (type_name, inward.key, outward.key)
                    ),
                    None,
                )
                if duplicate is None:
                    link = Link(str(next(self._ids)), link_type, inward.key, outward.key)
                    self.links[link.id] = link
                    inward.links.append(link.id)
                    outward.links.append(link.id)
                if body.get("comment"):
                    self._comment(inward, str(body["comment"].get("body", "")), request.state.user)
            return Response(status_code=201)

        @rest.get("/issueLink/{link_id}", name="getIssueLink")
        def get_link(link_id: str) -> dict[str, Any]:
            with self._lock:
                link = self.links.get(link_id)
                if link is None:
                    raise JiraFault(404, ["No issue link with id exists."])
                return {
                    "id": link.id,
                    "type": link.type,
                    "inwardIssue": self._brief(self.issues[link.inward]),
                    "outwardIssue": self._brief(self.issues[link.outward]),
                }

    def _comment(self, issue: Issue, text: str, author: str) -> dict[str, Any]:
        comment_id = str(next(self._ids))
        now = _now()
        comment = {
            "self": f"{self._base_url}{API}/issue/{issue.id}/comment/{comment_id}",
            "id": comment_id,
            "author": self._user(author),
            "body": text,
            "created": now,
            "updated": now,
        }
        issue.comments.append(comment)
        issue.fields["updated"] = now
        return comment

    def _admin_router(self) -> APIRouter:
        admin = APIRouter(prefix="/_admin")

        @admin.get("/issues")
        def issues() -> list[dict[str, Any]]:
            with self._lock:
                return [self._render(i, properties="*all") for i in self.issues.values()]

        @admin.post("/issues/{key}/resolve")
        async def resolve(key: str, request: Request) -> dict[str, Any]:
            body = await request.json() if await request.body() else {}
            self.resolve(key, body.get("resolution", "Done"), fields=body.get("fields"))
            return self.issue_json(key)

        @admin.post("/issues/{key}/fields")
        async def set_fields(key: str, request: Request) -> dict[str, Any]:
            self.set_fields(key, await request.json())
            return self.issue_json(key)

        @admin.post("/failures", status_code=201)
        async def inject(request: Request) -> dict[str, Any]:
            body = await request.json()
            self.inject(
                body["operation"],
                body.get("status", 500),
                times=int(body.get("times", 1)),
                delay=float(body.get("delay", 0.0)),
                retry_after=body.get("retryAfter"),
            )
            return {"failures": len(self.failures)}

        @admin.delete("/failures", status_code=204)
        def clear() -> Response:
            self.clear_failures()
            return Response(status_code=204)

        return admin


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the fake JIRA used by PAO's tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument(
        "--token", action="append", default=[], help="a bearer token accepted for user pao-bot"
    )
    parser.add_argument("--webhook", action="append", default=[], help="URL to POST issue events to")
    args = parser.parse_args()
    server = JiraServer(tokens={t: "pao-bot" for t in args.token} or None, webhooks=args.webhook)
    server._base_url = f"http://{args.host}:{args.port}"
    print(
        f"fake JIRA on {server.url} (basic pao-bot:secret; bearer {args.token or ['t0k3n']}; admin /_admin)"
    )
    uvicorn.run(server.app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
