"""state history from the events: state_changes is no longer written or read

Every state change was written twice, as a `state_changes` row and as a state event. The events are
now the only record (persistence/events.py `state_changes` reads them). A component's change to
running could be recorded with an earlier time than its event (an action step writes both when the
action has answered); that time moves into the event's body as `at`, so no history is lost.
The table stays, unused, so that processes of the previous release (which still write it) keep
working during a rolling upgrade; a later release drops it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 07:30:00
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATE_TYPES = ("state", "component")
_EARLIER = timedelta(milliseconds=1)

_changes = sa.table(
    "state_changes",
    sa.column("id", sa.BigInteger),
    sa.column("request_id", sa.String),
    sa.column("component_id", sa.String),
    sa.column("from_state", sa.String),
    sa.column("to_state", sa.String),
    sa.column("reason", sa.Text),
    sa.column("at", sa.DateTime(timezone=True)),
)
_events = sa.table(
    "request_events",
    sa.column("id", sa.BigInteger),
    sa.column("request_id", sa.String),
    sa.column("component_id", sa.String),
    sa.column("type", sa.String),
    sa.column("body", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _is_change(type: str, body: dict[str, Any]) -> bool:
    return type in _STATE_TYPES and "from" in body and body["from"] != body.get("state")


def upgrade() -> None:
    bind = op.get_bind()
    # The n-th change of a component to running belongs to its n-th running event.
    running: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for request_id, component_id, at in bind.execute(
        sa.select(_changes.c.request_id, _changes.c.component_id, _changes.c.at)
        .where(_changes.c.component_id.is_not(None), _changes.c.to_state == "running")
        .order_by(_changes.c.id)
    ):
        running[(request_id, component_id)].append(_utc(at))
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for event_id, request_id, component_id, type, body, created_at in bind.execute(
        sa.select(
            _events.c.id,
            _events.c.request_id,
            _events.c.component_id,
            _events.c.type,
            _events.c.body,
            _events.c.created_at,
        )
        .where(_events.c.type == "component")
        .order_by(_events.c.id)
    ):
        if not (_is_change(type, body) and body.get("state") == "running"):
            continue
        key = (request_id, component_id)
        times = running.get(key, [])
        n = seen[key]
        seen[key] += 1
        if n < len(times) and times[n] < _utc(created_at) - _EARLIER:
            bind.execute(
                sa.update(_events)
                .where(_events.c.id == event_id)
                .values(body={**body, "at": times[n].isoformat()})
            )


def downgrade() -> None:
    # The events hold every change since; the table is written again from them, whole.
    bind = op.get_bind()
    bind.execute(sa.delete(_changes))
    rows = [
        {
            "request_id": request_id,
            "component_id": component_id,
            "from_state": body["from"],
            "to_state": body["state"],
            "reason": body.get("reason", ""),
            "at": datetime.fromisoformat(body["at"]) if "at" in body else _utc(created_at),
        }
        for request_id, component_id, type, body, created_at in bind.execute(
            sa.select(
                _events.c.request_id,
                _events.c.component_id,
                _events.c.type,
                _events.c.body,
                _events.c.created_at,
            )
            .where(_events.c.type.in_(_STATE_TYPES))
            .order_by(_events.c.id)
        )
        if _is_change(type, body)
    ]
    if rows:
        bind.execute(sa.insert(_changes), rows)
