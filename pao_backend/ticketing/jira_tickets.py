"""JiraTicketSystem: tickets in JIRA through the `jira` library, with retries that honour Retry-After.

The `jira` client is synchronous; every call runs in a worker thread. The client's own retry loop is turned
off (it sleeps up to minutes, blocking) and replaced by ours: 429 and 5xx and connection errors are retried
`attempts` times, waiting what Retry-After says (capped) or an exponential backoff.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import jira
import requests

from scaffolder_actions import (
    ActionTimeoutError,
    BackendRejectedError,
    BackendUnavailableError,
    CredentialsRefusedError,
)
from scaffolder_actions.actions.jira_ticket import PROPERTY_KEY
from scaffolder_actions.tickets import StatusCategory, Ticket, TicketDraft

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

_RETRYABLE = {429, 500, 502, 503, 504}
_CATEGORIES: dict[str, StatusCategory] = {"new": "new", "indeterminate": "indeterminate", "done": "done"}


def _error_text(exc: jira.JIRAError) -> str:
    return (exc.text or "").strip() or f"HTTP {exc.status_code}"


def _retry_after(exc: jira.JIRAError) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class JiraTicketSystem:
    """A TicketSystem backed by a JIRA server (Server/Data Center or Cloud)."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        user: str | None = None,
        attempts: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        timeout: float = 30.0,
        epic_link_field: str = "customfield_10014",
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """`user` set: basic auth (Cloud: email + API token); otherwise `token` is a personal access token."""
        self.url = url.rstrip("/")
        self._token = token
        self._user = user
        self._attempts = attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._timeout = timeout
        self._epic_link_field = epic_link_field
        self._sleep = sleep
        self._client: jira.JIRA | None = None

    def __repr__(self) -> str:
        return f"JiraTicketSystem(url={self.url!r})"

    # ------------------------------------------------------------------ TicketSystem

    async def find_by_label(self, label: str, *, project: str | None = None) -> Ticket | None:
        jql = f'labels = "{label}"' + (f' AND project = "{project}"' if project else "")

        def search(client: jira.JIRA) -> list[Any]:
            return list(client.search_issues(jql, maxResults=2, properties=PROPERTY_KEY))

        found = await self._call(f"search {jql}", search)
        return self._ticket(found[0].raw) if found else None

    async def create(self, draft: TicketDraft, *, properties: Mapping[str, Any]) -> Ticket:
        fields: dict[str, Any] = {
            "project": {"key": draft.project},
            "issuetype": {"name": draft.issue_type},
            "summary": draft.summary,
            "description": draft.description,
            "priority": {"name": draft.priority},
            "labels": list(draft.labels),
        }
        if draft.components:
            fields["components"] = [{"name": name} for name in draft.components]
        if draft.epic_key:
            fields[self._epic_link_field] = draft.epic_key
        fields.update(draft.custom_fields)

        label = next((x for x in draft.labels if x.startswith("pao-action-")), None)
        tries = 0

        def create(client: jira.JIRA) -> str:
            # A create whose answer was lost may have filed the ticket: look before filing again.
            nonlocal tries
            tries += 1
            if tries > 1 and label is not None:
                found = client.search_issues(f'labels = "{label}"', maxResults=1)
                if found:
                    return str(found[0].key)
            return str(client.create_issue(fields=fields, prefetch=False).key)

        key = await self._call(f"create a ticket in {draft.project}", create)
        for name, value in properties.items():

            def add_property(client: jira.JIRA, name: str = name, value: Any = value) -> None:
                client.add_issue_property(key, name, value)

            await self._call(f"store the {name} property on {key}", add_property)
        return await self.get(key)

    async def get(self, key: str) -> Ticket:
        def get(client: jira.JIRA) -> dict[str, Any]:
            raw: dict[str, Any] = client.issue(key, properties=PROPERTY_KEY).raw
            return raw

        return self._ticket(await self._call(f"read {key}", get))

    async def link(self, *, blocked_key: str, blocker_key: str, link_type: str = "blocks") -> None:
        # jira maps an outward description ("blocks") to its type name; inwardIssue is the blocking side.
        def link(client: jira.JIRA) -> None:
            client.create_issue_link(link_type, inwardIssue=blocker_key, outwardIssue=blocked_key)

        await self._call(f"link {blocked_key} as blocked by {blocker_key}", link)

    async def comment(self, key: str, text: str) -> None:
        def comment(client: jira.JIRA) -> None:
            client.add_comment(key, text)

        await self._call(f"comment on {key}", comment)

    # ------------------------------------------------------------------ plumbing

    def _connect(self) -> jira.JIRA:
        if self._client is None:
            auth: dict[str, Any] = (
                {"basic_auth": (self._user, self._token)} if self._user else {"token_auth": self._token}
            )
            self._client = jira.JIRA(server=self.url, max_retries=0, timeout=self._timeout, **auth)
        return self._client

    async def _call(self, what: str, work: Callable[[jira.JIRA], T]) -> T:
        tries = 1 + self._attempts
        last = ""
        for attempt in range(1, tries + 1):
            delay: float | None = None
            try:
                return await asyncio.to_thread(lambda: work(self._connect()))
            except jira.JIRAError as exc:
                status = exc.status_code or 0
                details = {"status": status, "jira": self.url}
                if status in (401, 403):
                    raise CredentialsRefusedError(
                        f"JIRA at {self.url} refused PAO's credentials ({status}) to {what}: check "
                        "PAO_JIRA_USER / PAO_JIRA_TOKEN and the account's project permissions",
                        details=details,
                    ) from None
                if status not in _RETRYABLE:
                    raise BackendRejectedError(
                        f"JIRA at {self.url} rejected the request to {what} ({status}): {_error_text(exc)}",
                        details=details,
                    ) from None
                last = f"HTTP {status}: {_error_text(exc)}"
                delay = _retry_after(exc)
            except requests.Timeout:
                if attempt == tries:
                    raise ActionTimeoutError(
                        f"JIRA at {self.url} did not answer within {self._timeout:g}s to {what} "
                        f"({tries} tries)",
                        details={"jira": self.url, "attempts": tries},
                    ) from None
                last = f"no answer within {self._timeout:g}s"
            except requests.ConnectionError as exc:
                self._client = None
                last = f"connection failed: {type(exc).__name__}"
            if attempt < tries:
                if delay is None:
                    delay = self._base_delay * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
                await self._sleep(min(delay, self._max_delay))
        raise BackendUnavailableError(
            f"JIRA at {self.url} was unavailable to {what} after {tries} tries ({last}); "
            "PAO will retry when the request is retried",
            details={"jira": self.url, "attempts": tries, "last": last},
        )

    def _ticket(self, raw: Mapping[str, Any]) -> Ticket:
        fields: dict[str, Any] = dict(raw.get("fields") or {})
        status = fields.get("status") or {}
        category = str((status.get("statusCategory") or {}).get("key") or "new")
        resolution = fields.get("resolution") or None
        return Ticket(
            key=str(raw["key"]),
            url=f"{self.url}/browse/{raw['key']}",
            id=str(raw.get("id", "")),
            status=str(status.get("name") or ""),
            status_category=_CATEGORIES.get(category, "indeterminate"),
            resolution=str(resolution.get("name")) if isinstance(resolution, dict) else None,
            fields=fields,
            labels=tuple(fields.get("labels") or ()),
        )
