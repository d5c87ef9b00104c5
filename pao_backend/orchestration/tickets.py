"""Waiting for tickets, for the engine: the durable wait loop, the outcome rules, and escalation text.

The engine's workflow calls `wait_for_ticket(...)` after pao:jira-ticket has filed a ticket, passing
  read = a DBOS step that returns `ticket_snapshot(await tickets.get(key))`,
  recv = `lambda topic, timeout: DBOS.recv_async(topic, timeout)`,
so the loop is deterministic on replay: every read is a checkpointed step, every wait a durable recv.
The JIRA webhook and the inbox wake the workflow through `DBOS.send(..., topic=ticket_topic(key))`
(pao_backend.ticketing.waits); without a wake-up the loop polls every `poll_seconds`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

from pao_backend.ticketing.waits import ticket_topic
from scaffolder_actions import TicketRejectedError
from scaffolder_actions.tickets import REJECTING_RESOLUTIONS, Ticket

Outcome = Literal["open", "done", "rejected"]
ReadTicket = Callable[[str], Awaitable[Mapping[str, Any]]]
Receive = Callable[[str, float], Awaitable[Any]]

__all__ = [
    "Outcome",
    "escalation_description",
    "rejection_error",
    "ticket_outcome",
    "ticket_result",
    "ticket_snapshot",
    "ticket_topic",
    "wait_for_ticket",
]


def ticket_snapshot(ticket: Ticket) -> dict[str, Any]:
    """A ticket as JSON (what a DBOS step returns and what events show)."""
    return {
        "key": ticket.key,
        "url": ticket.url,
        "id": ticket.id,
        "status": ticket.status,
        "statusCategory": ticket.status_category,
        "resolution": ticket.resolution,
        "fields": dict(ticket.fields),
    }


def ticket_outcome(snapshot: Mapping[str, Any]) -> Outcome:
    """done: status category Done; rejected: closed with a "Won't Do"-like resolution; else open."""
    if snapshot.get("statusCategory") != "done":
        return "open"
    resolution = str(snapshot.get("resolution") or "").strip().lower()
    return "rejected" if resolution in REJECTING_RESOLUTIONS else "done"


def ticket_result(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The action result `extract_outputs` reads `ticket.key`, `ticket.url`, `ticket.fields.<id>` from."""
    fields = {k: _plain(v) for k, v in dict(snapshot.get("fields") or {}).items()}
    return {
        "key": snapshot.get("key"),
        "url": snapshot.get("url"),
        "id": snapshot.get("id"),
        "fields": fields,
    }


def _plain(value: Any) -> Any:
    # JIRA select/user fields come as objects; outputs want the value a person chose.
    if isinstance(value, Mapping):
        for name in ("value", "name", "displayName", "key"):
            if isinstance(value.get(name), str):
                return value[name]
    return value


def rejection_error(snapshot: Mapping[str, Any], *, team: str | None = None) -> TicketRejectedError:
    key, resolution = snapshot.get("key"), snapshot.get("resolution")
    by = f"team {team}" if team else "the owner team"
    return TicketRejectedError(
        f"ticket {key} was closed by {by} as “{resolution}”, so this component will not be fulfilled; "
        f"read the ticket's comments for the reason: {snapshot.get('url')}",
        details={"ticket": key, "url": snapshot.get("url"), "resolution": resolution},
    )


async def wait_for_ticket(
    key: str,
    *,
    read: ReadTicket,
    recv: Receive,
    poll_seconds: float,
    max_poll_seconds: float | None = None,
    stop: Callable[[Mapping[str, Any]], bool] = lambda _snapshot: False,
) -> Mapping[str, Any]:
    """Until the ticket is closed: read it (a step), then wait for a wake-up or the poll interval.

    The interval doubles from `poll_seconds` up to `max_poll_seconds` while nothing wakes the wait, and
    starts again after a wake-up: each poll is recorded, so a ticket open for weeks must not record one
    every minute. Returns the closing snapshot (or the one `stop` accepted, e.g. a cancel); the caller
    decides by `ticket_outcome(...)` (done → outputs, rejected → `rejection_error(...)`).
    """
    ceiling = max(poll_seconds, max_poll_seconds or poll_seconds)
    interval = poll_seconds
    while True:
        snapshot = await read(key)
        if ticket_outcome(snapshot) != "open" or stop(snapshot):
            return snapshot
        woken = await recv(ticket_topic(key), interval)
        interval = poll_seconds if woken is not None else min(interval * 2, ceiling)


def escalation_description(
    *,
    description: str,
    request_id: str,
    request_url: str,
    component_id: str,
    item_id: str,
    tried: Sequence[str],
    error: Mapping[str, Any],
    guidance: Mapping[str, Any] | None = None,
) -> str:
    """The escalated ticket's body (JIRA markup): the document's description, then what PAO tried and why
    it failed, so the team can finish the job by hand. `error` is ActionError.to_dict() (already redacted)."""
    lines = [
        "h3. Escalated by PAO: automatic fulfilment failed",
        f"PAO tried to fulfil component *{component_id}* ({item_id}) of request [{request_id}|{request_url}] "
        "automatically and failed. Please fulfil it by hand and close this ticket when done.",
        "",
        "h4. What was tried",
        *[f"# {step}" for step in tried or ["(no automatic action ran)"]],
        "",
        "h4. The error",
        f"*{error.get('failureClass', 'configuration')}*: {{noformat}}{error.get('message', '')}{{noformat}}",
    ]
    if guidance and guidance.get("message"):
        lines += ["", f"_{guidance['message']}_"]
    if description.strip():
        lines += ["", "h4. The request", description]
    return "\n".join(lines)
