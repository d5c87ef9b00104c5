"""Repository of requests, their components, action runs, state changes and audit entries.

Functions take the caller's session and never commit: the service function owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import Integer, String, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, undefer

from pao_backend.errors import NotFoundError
from pao_backend.persistence.core_rows import Part, Shape
from pao_backend.persistence.db import LOCK_REQUEST, add_at_commit, events_notice, request_locked
from pao_backend.persistence.tables import (
    ActionRunRow,
    AuditRow,
    ComponentRow,
    RequestRow,
    RequestSecretRow,
    utcnow,
)


def get_request(
    session: Session, request_id: str, *, for_update: bool = False, with_system: bool = False
) -> RequestRow | None:
    query = select(RequestRow).where(RequestRow.id == request_id)
    if with_system:  # `.system` (large, deferred) in the same query
        query = query.options(undefer(RequestRow.system))
    if for_update:
        query = query.add_columns(events_notice(RequestRow.id)).with_for_update(**LOCK_REQUEST)
    row = session.scalar(query)
    if for_update and row is not None:
        request_locked(session, request_id)
    return row


def require_request(
    session: Session, request_id: str, *, for_update: bool = False, with_system: bool = False
) -> RequestRow:
    row = get_request(session, request_id, for_update=for_update, with_system=with_system)
    if row is None:
        raise NotFoundError(f"request {request_id} does not exist: check the id (GET /api/pao/v1/requests)")
    return row


def find_by_idempotency_key(session: Session, *, requester: str, key: str) -> RequestRow | None:
    return session.scalar(
        select(RequestRow).where(RequestRow.requester == requester, RequestRow.idempotency_key == key)
    )


@dataclass(frozen=True)
class RequestFilter:
    requester: str | None = None
    teams: Sequence[str] = ()
    states: Sequence[str] = ()
    catalog_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None


def list_requests(
    session: Session, where: RequestFilter, *, limit: int, offset: int
) -> tuple[list[RequestRow], int]:
    query = select(RequestRow)
    if where.requester:
        query = query.where(RequestRow.requester == where.requester)
    if where.states:
        query = query.where(RequestRow.state.in_(list(where.states)))
    if where.catalog_id:
        query = query.where(RequestRow.catalog_id == where.catalog_id)
    if where.created_from:
        query = query.where(RequestRow.created_at >= where.created_from)
    if where.created_to:
        query = query.where(RequestRow.created_at < where.created_to)
    if where.text:
        like = f"%{where.text.lower()}%"
        query = query.where(
            or_(func.lower(RequestRow.title).like(like), func.lower(RequestRow.catalog_id).like(like))
        )
    rows = list(session.scalars(query.order_by(RequestRow.created_at.desc(), RequestRow.id)))
    if where.teams:
        # Team membership is a JSON list; filtered here so the query stays portable.
        wanted = set(where.teams)
        rows = [r for r in rows if wanted.intersection(r.requester_teams or [])]
    return rows[offset : offset + limit], len(rows)


def components(session: Session, request_id: str) -> list[ComponentRow]:
    return list(
        session.scalars(
            select(ComponentRow).where(ComponentRow.request_id == request_id).order_by(ComponentRow.position)
        )
    )


def _others_unfinished(request_id: Any, component_id: Any) -> Any:
    """How many other components of the request have not completed (a count, no rows loaded)."""
    return (
        select(func.count())
        .select_from(ComponentRow)
        .where(
            ComponentRow.request_id == request_id,
            ComponentRow.component_id != component_id,
            ComponentRow.state != "completed",
        )
    )


def others_completed(session: Session, request_id: str, component_id: str) -> bool:
    """Whether every other component of the request completed (no flush: the caller's own changes touch
    only `component_id`)."""
    with session.no_autoflush:
        return not session.scalar(_others_unfinished(request_id, component_id))


def _with_component(shape: Shape, component_id: Any, *also: Any) -> Any:
    """SELECT `shape`'s columns and `also` from the request joined with one of its components."""
    return (
        select(*shape.columns(), *also)
        .select_from(RequestRow)
        .join(
            ComponentRow,
            and_(ComponentRow.request_id == RequestRow.id, ComponentRow.component_id == component_id),
        )
    )


def _missing(session: Session, request_id: str, component_id: str) -> NoReturn:
    require_request(session, request_id)  # says which of the two is missing
    raise NotFoundError(f"request {request_id} has no component {component_id!r}")


def _runs_of(component_id: Any, index: Any) -> Any:
    """Join condition: the runs of one action of the joined request's component."""
    return and_(
        ActionRunRow.request_id == RequestRow.id,
        ActionRunRow.component_id == component_id,
        ActionRunRow.index == index,
    )


# An action step's queries run for every action: they are built once, with bound parameters (building
# and keying such a statement cost about 1 ms of CPU per call), and they select plain columns
# (`core_rows`: no ORM loading, no unit of work).
_REQUEST_ID = bindparam("request_id", type_=String)
_COMPONENT_ID = bindparam("component_id", type_=String)
_INDEX = bindparam("index", type_=Integer)
_ATTEMPT = bindparam("attempt", type_=Integer)

# What an action step reads to render and run an action (nothing else: each column costs client CPU).
_TO_RUN = Shape(
    Part.of(RequestRow, "catalog_id", "requester", "cancel_requested_at", "outputs", "system"),
    Part.of(ComponentRow, "request_id", "component_id", "item_id", "team", "current", "actions"),
    Part.of(ActionRunRow, "attempt", "state", "type"),
)
# What it reads to change them (the request's large `values` are never needed there).
_TO_CHANGE = Shape(
    Part.whole(RequestRow, but=("values",)), Part.whole(ComponentRow), Part.whole(ActionRunRow)
)


def _action_context(shape: Shape) -> Any:
    return (
        _with_component(shape, _COMPONENT_ID, RequestSecretRow.ciphertext)
        .outerjoin(RequestSecretRow, RequestSecretRow.request_id == RequestRow.id)
        .outerjoin(ActionRunRow, _runs_of(_COMPONENT_ID, _INDEX))
        .where(RequestRow.id == _REQUEST_ID)
    )


_ACTION_CONTEXT_TO_READ = _action_context(_TO_RUN)
_ACTION_CONTEXT_TO_CHANGE = _action_context(_TO_CHANGE)
_ACTION_CONTEXT_TO_LOCK = _ACTION_CONTEXT_TO_CHANGE.add_columns(events_notice(RequestRow.id)).with_for_update(
    of=RequestRow.__table__, **LOCK_REQUEST
)


def action_context(
    session: Session,
    request_id: str,
    component_id: str,
    index: int,
    *,
    for_update: bool = False,
    to_read: bool = False,
) -> tuple[RequestRow, ComponentRow, bytes | None, list[ActionRunRow]]:
    """The request (with `.system`; locked if `for_update`), one of its components, its encrypted secrets
    and every run of the component's action `index`, in one query: an action step reads them all.
    `to_read`: only the columns needed to render and run the action, for objects that are not changed;
    otherwise what is set on them is written back at commit."""
    if to_read:
        shape, query = _TO_RUN, _ACTION_CONTEXT_TO_READ
    else:
        shape = _TO_CHANGE
        query = _ACTION_CONTEXT_TO_LOCK if for_update else _ACTION_CONTEXT_TO_CHANGE
    params = {"request_id": request_id, "component_id": component_id, "index": index}
    rows = session.connection().execute(query, params).all()
    if not rows:
        _missing(session, request_id, component_id)
    if for_update and not to_read:
        request_locked(session, request_id)
    writes = None if to_read else session
    first = rows[0]
    request = shape.get(first, 0, session=writes)
    component = shape.get(first, 1, session=writes)
    runs = [run for row in rows if (run := shape.get(row, 2, session=writes)) is not None]
    return request, component, first[shape.width], runs


# What an action step's closing transaction reads and changes (a ticket's close reads `actions` too).
_TO_RECORD = Shape(
    Part.of(
        RequestRow,
        "state",
        "cancel_requested_at",
        "completion_seq",
        "outputs",
        "error",
        "guidance",
        "started_at",
        "finished_at",
        "updated_at",
    ),
    Part.of(
        ComponentRow,
        "request_id",
        "component_id",
        "item_id",
        "team",
        "mode",
        "actions",
        "state",
        "round",
        "started_at",
        "finished_at",
        "outputs",
        "error",
        "completed_seq",
    ),
    Part.whole(ActionRunRow),
)

_RUN_CONTEXT = (
    _with_component(
        _TO_RECORD,
        _COMPONENT_ID,
        # Not correlated with the outer row. On PostgreSQL it reads the statement's snapshot, which
        # may predate a component finishing at the same moment: then the request workflow settles
        # the request with a step of its own (a count can only be too high, never too low).
        _others_unfinished(_REQUEST_ID, _COMPONENT_ID).scalar_subquery().correlate(None),
        events_notice(RequestRow.id),
    )
    .outerjoin(ActionRunRow, and_(_runs_of(_COMPONENT_ID, _INDEX), ActionRunRow.attempt == _ATTEMPT))
    .where(RequestRow.id == _REQUEST_ID)
    .with_for_update(of=RequestRow.__table__, **LOCK_REQUEST)
)


@dataclass(frozen=True)
class RunContext:
    """What an action step's closing transaction reads, in one query."""

    request: RequestRow  # locked for the update
    component: ComponentRow
    run: ActionRunRow | None  # None: the run was not recorded yet
    others_completed: bool  # every other component of the request completed


def run_context(session: Session, request_id: str, component_id: str, index: int, attempt: int) -> RunContext:
    """The request (locked), one component, its action run of `attempt`, and whether the request's other
    components completed; what is set on the three is written back at commit."""
    params = {"request_id": request_id, "component_id": component_id, "index": index, "attempt": attempt}
    found = session.connection().execute(_RUN_CONTEXT, params).first()
    if found is None:
        _missing(session, request_id, component_id)
    request_locked(session, request_id)
    return RunContext(
        _TO_RECORD.get(found, 0, session=session),
        _TO_RECORD.get(found, 1, session=session),
        _TO_RECORD.get(found, 2, session=session),
        not found[_TO_RECORD.width],
    )


def require_component(session: Session, request_id: str, component_id: str) -> ComponentRow:
    row = session.scalar(
        select(ComponentRow).where(
            ComponentRow.request_id == request_id, ComponentRow.component_id == component_id
        )
    )
    if row is None:
        raise NotFoundError(f"request {request_id} has no component {component_id!r}")
    return row


def action_runs(session: Session, request_id: str) -> list[ActionRunRow]:
    return list(
        session.scalars(
            select(ActionRunRow)
            .where(ActionRunRow.request_id == request_id)
            .order_by(ActionRunRow.component_id, ActionRunRow.index, ActionRunRow.attempt)
        )
    )


def action_run(
    session: Session, *, request_id: str, component_id: str, index: int, attempt: int
) -> ActionRunRow | None:
    return session.scalar(
        select(ActionRunRow).where(
            ActionRunRow.request_id == request_id,
            ActionRunRow.component_id == component_id,
            ActionRunRow.index == index,
            ActionRunRow.attempt == attempt,
        )
    )


def completed_action_run(
    session: Session, *, request_id: str, component_id: str, index: int
) -> ActionRunRow | None:
    """The completed run of an action in any attempt: retry reuses it instead of running it again."""
    return session.scalar(
        select(ActionRunRow).where(
            ActionRunRow.request_id == request_id,
            ActionRunRow.component_id == component_id,
            ActionRunRow.index == index,
            ActionRunRow.state == "completed",
        )
    )


def add_audit(
    session: Session, *, actor: str, action: str, target_type: str, target_id: str, details: dict[str, Any]
) -> None:
    add_at_commit(
        session,
        AuditRow(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details,
            at=utcnow(),
        ),
    )
