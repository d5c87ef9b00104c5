"""Repository of request events (ids are global and increase monotonically)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pao_backend.persistence.db import insert_at_commit
from pao_backend.persistence.tables import EventRow, utcnow


def add_event(
    session: Session,
    *,
    request_id: str,
    type: str,
    body: dict[str, Any],
    component_id: str | None = None,
    action_index: int | None = None,
) -> None:
    """Add an event; it is written when the transaction commits, with the transaction's other events."""
    insert_at_commit(
        session,
        EventRow.__table__,
        {
            "request_id": request_id,
            "type": type,
            "body": body,
            "component_id": component_id,
            "action_index": action_index,
            "created_at": utcnow(),
        },
    )


def events_after(session: Session, *, request_id: str, after: int = 0, limit: int = 1000) -> list[EventRow]:
    return list(
        session.scalars(
            select(EventRow)
            .where(EventRow.request_id == request_id, EventRow.id > after)
            .order_by(EventRow.id)
            .limit(limit)
        )
    )


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(EventRow.id))) or 0)


def requests_with_events_after(session: Session, after: int) -> dict[str, int]:
    """The requests that have events after `after`, each with its highest event id."""
    rows = session.execute(
        select(EventRow.request_id, func.max(EventRow.id))
        .where(EventRow.id > after)
        .group_by(EventRow.request_id)
    ).all()
    return {str(r[0]): int(r[1]) for r in rows}
