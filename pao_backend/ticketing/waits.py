"""Which workflow waits for which ticket, and waking it (a JIRA webhook, an inbox resolution) by DBOS.send.

The engine registers a wait before it blocks on `DBOS.recv(topic=ticket_topic(key), timeout=poll)`; whoever
learns that the ticket changed calls `wake(...)`. Waking is only a nudge: the workflow re-reads the ticket
(a step) and decides, so a lost or duplicated message costs at most one poll interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from pao_backend.persistence.db import Database
from pao_backend.ticketing.tables import TicketWaitRow

# (workflow id, topic, message) -> None; in the app: DBOS.send_async.
Notify = Callable[[str, str, dict[str, Any]], Awaitable[None]]

_log = logging.getLogger("pao.ticketing")


def ticket_topic(key: str) -> str:
    """The DBOS message topic a workflow waiting on ticket `key` receives on."""
    return f"ticket:{key}"


def register_wait(
    db: Database,
    *,
    ticket_key: str,
    workflow_id: str,
    request_id: str | None = None,
    component_id: str | None = None,
) -> None:
    """Record (or move) the wait for `ticket_key` to `workflow_id`."""
    with db.transaction() as session:
        row = session.get(TicketWaitRow, ticket_key)
        if row is None:
            session.add(
                TicketWaitRow(
                    ticket_key=ticket_key,
                    workflow_id=workflow_id,
                    request_id=request_id,
                    component_id=component_id,
                )
            )
        else:
            row.workflow_id, row.request_id, row.component_id = workflow_id, request_id, component_id


def clear_wait(db: Database, *, ticket_key: str) -> None:
    with db.transaction() as session:
        row = session.get(TicketWaitRow, ticket_key)
        if row is not None:
            session.delete(row)


def waiting_workflow(db: Database, *, ticket_key: str) -> str | None:
    with db.reading() as session:
        return session.scalars(
            select(TicketWaitRow.workflow_id).where(TicketWaitRow.ticket_key == ticket_key)
        ).first()


async def wake(db: Database, *, ticket_key: str, notify: Notify, reason: str = "updated") -> bool:
    """Nudge the workflow waiting for `ticket_key`; False when nobody waits for it."""
    workflow_id = await asyncio.to_thread(waiting_workflow, db, ticket_key=ticket_key)
    if workflow_id is None:
        return False
    try:
        await notify(workflow_id, ticket_topic(ticket_key), {"ticket": ticket_key, "reason": reason})
    except Exception as exc:  # the workflow ended or the engine is down: polling still finds the change
        _log.warning("could not wake %s for ticket %s: %s", workflow_id, ticket_key, exc)
        return False
    return True


async def dbos_notify(workflow_id: str, topic: str, message: dict[str, Any]) -> None:
    """The app's Notify: a durable message to the waiting workflow."""
    from dbos import DBOS

    await DBOS.send_async(workflow_id, message, topic)


async def wake_request(db: Database, *, request_id: str, notify: Notify, reason: str = "cancelled") -> int:
    """Nudge every workflow of `request_id` waiting for a ticket (a cancel ends those waits at once)."""

    def keys() -> list[str]:
        with db.reading() as session:
            return list(
                session.scalars(
                    select(TicketWaitRow.ticket_key).where(TicketWaitRow.request_id == request_id)
                )
            )

    woken = 0
    for key in await asyncio.to_thread(keys):
        woken += await wake(db, ticket_key=key, notify=notify, reason=reason)
    return woken
