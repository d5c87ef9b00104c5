"""Reading PAO's records (the engine's request tables) as metric facts. Never writes, never commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pao_backend.governance.metrics import ActionRunFact, ComponentFact, RequestFact, StateChange
from pao_backend.governance.readiness import TicketFact
from pao_backend.persistence import events as event_repo
from pao_backend.persistence.tables import ActionRunRow, ComponentRow, RequestRow

__all__ = ["RecordFilter", "request_facts", "ticket_facts"]

_CHUNK = 500


@dataclass(frozen=True)
class RecordFilter:
    """Requests submitted in [start, end), touching `team` (an owner team of a component) or `item`."""

    start: datetime | None = None
    end: datetime | None = None
    team: str | None = None
    item: str | None = None


def request_facts(session: Session, where: RecordFilter) -> list[RequestFact]:
    query = select(RequestRow)
    if where.start is not None:
        query = query.where(RequestRow.created_at >= where.start)
    if where.end is not None:
        query = query.where(RequestRow.created_at < where.end)
    rows = list(session.scalars(query.order_by(RequestRow.created_at)))
    ids = [r.id for r in rows]
    components: dict[str, list[ComponentFact]] = defaultdict(list)
    runs: dict[str, list[ActionRunFact]] = defaultdict(list)
    changes: dict[str, list[StateChange]] = defaultdict(list)
    for chunk in _chunks(ids):
        for c in session.scalars(
            select(ComponentRow).where(ComponentRow.request_id.in_(chunk)).order_by(ComponentRow.position)
        ):
            components[c.request_id].append(ComponentFact(c.component_id, c.item_id, c.team, c.mode, c.state))
        for run in session.scalars(select(ActionRunRow).where(ActionRunRow.request_id.in_(chunk))):
            runs[run.request_id].append(
                ActionRunFact(run.component_id, run.type, run.state, run.failure_class)
            )
        for change in event_repo.state_changes(session, chunk):
            changes[change.request_id].append(StateChange(change.to_state, change.at, change.component_id))
    facts = [
        RequestFact(
            id=r.id,
            catalog_id=r.catalog_id,
            requester=r.requester,
            state=r.state,
            created_at=r.created_at,
            finished_at=r.finished_at,
            components=tuple(components[r.id]),
            runs=tuple(runs[r.id]),
            changes=tuple(changes[r.id]),
        )
        for r in rows
    ]
    if where.team:
        facts = [f for f in facts if where.team in f.teams]
    if where.item:
        facts = [f for f in facts if where.item in f.items]
    return facts


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def ticket_facts(session: Session) -> dict[str, list[TicketFact]]:
    """Ticket actions (pao:jira-ticket, JIRA or the built-in inbox) by the owner team of their component."""
    query = select(ActionRunRow, ComponentRow.team).join(
        ComponentRow,
        (ComponentRow.request_id == ActionRunRow.request_id)
        & (ComponentRow.component_id == ActionRunRow.component_id),
    )
    found: dict[str, list[TicketFact]] = defaultdict(list)
    for run, team in session.execute(query.where(ActionRunRow.type == "jira-ticket")):
        if run.started_at is None:
            continue
        finished = run.finished_at if run.state in ("completed", "failed", "cancelled") else None
        found[team].append(TicketFact(run.request_id, run.ticket_key, run.started_at, finished, run.state))
    return found
