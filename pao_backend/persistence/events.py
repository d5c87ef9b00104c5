"""Repository of request events (ids are global and increase monotonically).

The events are also the state history: every state change of a request or a component is written as
one event, and `state_changes` reads them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from pao_backend.persistence.core_rows import Part, Shape
from pao_backend.persistence.db import insert_at_commit
from pao_backend.persistence.tables import EventRow, utcnow

# The event types that tell a state: the request's, and a component's. Such an event is a change when
# its body's `from` differs from its `state` (a cancel request, say, is told without a change); its
# body's `at`, when given, is when the change happened, if earlier than the event was written.
REQUEST_STATE = "state"
COMPONENT_STATE = "component"


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


# The live-event reads run for every subscriber's wake-up and, on SQLite, for every poll: built once,
# and selecting plain columns (`core_rows`: no ORM loading).
_EVENT = Shape(Part.whole(EventRow))
_EVENTS_AFTER = (
    select(*_EVENT.columns())
    .where(EventRow.request_id == bindparam("request_id"), EventRow.id > bindparam("after"))
    .order_by(EventRow.id)
    .limit(bindparam("limit"))
)
_REQUESTS_WITH_EVENTS_AFTER = (
    select(EventRow.request_id, func.max(EventRow.id))
    .where(EventRow.id > bindparam("after"))
    .group_by(EventRow.request_id)
)


def events_after(session: Session, *, request_id: str, after: int = 0, limit: int = 1000) -> list[EventRow]:
    params = {"request_id": request_id, "after": after, "limit": limit}
    return [_EVENT.get(row, 0) for row in session.connection().execute(_EVENTS_AFTER, params)]


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(EventRow.id))) or 0)


def requests_with_events_after(session: Session, after: int) -> dict[str, int]:
    """The requests that have events after `after`, each with its highest event id."""
    rows = session.connection().execute(_REQUESTS_WITH_EVENTS_AFTER, {"after": after})
    return {str(r[0]): int(r[1]) for r in rows}


@dataclass(frozen=True)
class StateChange:
    """One state change of a request (component_id None) or of one of its components."""

    request_id: str
    component_id: str | None
    from_state: str | None
    to_state: str
    reason: str
    at: datetime


def _is_state_change(type: str, body: dict[str, Any]) -> bool:
    return type in (REQUEST_STATE, COMPONENT_STATE) and "from" in body and body["from"] != body.get("state")


def state_changes(session: Session, request_ids: Sequence[str]) -> list[StateChange]:
    """The state changes of these requests, in the order they happened."""
    rows = session.execute(
        select(EventRow.request_id, EventRow.component_id, EventRow.type, EventRow.body, EventRow.created_at)
        .where(EventRow.request_id.in_(request_ids), EventRow.type.in_((REQUEST_STATE, COMPONENT_STATE)))
        .order_by(EventRow.id)
    )
    return [
        StateChange(
            request_id=request_id,
            component_id=component_id,
            from_state=body["from"],
            to_state=body["state"],
            reason=body.get("reason", ""),
            at=datetime.fromisoformat(body["at"]) if "at" in body else created_at,
        )
        for request_id, component_id, type, body, created_at in rows
        if _is_state_change(type, body)
    ]
