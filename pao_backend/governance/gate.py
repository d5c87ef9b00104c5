"""The change calendar in the engine: refuse at submit, hold durably, approve, release.

* At submit (`check_submit`), a request that a hard `onFreeze: refuse` window covers is refused with
  the date it can be made (409). Everything else is stored and handed to the engine.
* In the request workflow, before anything runs and again when a person retries a failed request,
  `hold()` asks the calendar again (checked at run time: a window may have opened or begun
  meanwhile). While a hard window covers the request or a soft window waits for its approval,
  the request is `scheduled` and the workflow waits durably (DBOS recv with a timeout: it
  survives restarts and resumes with the time that is left). A person's approval or cancel
  wakes it at once. A request that was accepted is never refused later: a refuse window that
  begins while it waits holds it like a schedule window.
* The clock is `gate.clock` (UTC-aware); tests replace it with `use_clock`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dbos import DBOS
from sqlalchemy import bindparam, select

from pao_backend.auth import Identity
from pao_backend.catalog.store import Catalog
from pao_backend.errors import ConflictError, NotAllowedError
from pao_backend.governance.calendar import (
    Calendar,
    ComponentFacts,
    RequestFacts,
    Verdict,
    request_environment,
    verdict,
)
from pao_backend.governance.calendar_file import CalendarStore
from pao_backend.governance.tables import CalendarHoldRow
from pao_backend.orchestration import events, steps
from pao_backend.orchestration.engine import Engine, current_engine
from pao_backend.persistence import requests as repo
from pao_backend.persistence.core_rows import Part, Shape
from pao_backend.persistence.db import LOCK_REQUEST, events_notice, request_locked
from pao_backend.persistence.tables import ComponentRow, RequestRow, utcnow

__all__ = [
    "CALENDAR_EVENT",
    "GATE_TOPIC",
    "MAX_WAIT_SECONDS",
    "Clock",
    "approve",
    "calendar_store",
    "check_submit",
    "get_hold",
    "has_role",
    "hold",
    "hold_document",
    "offering_verdict",
    "use_clock",
    "wake",
]

Clock = Callable[[], datetime]
GATE_TOPIC = "pao.calendar"
CALENDAR_EVENT = "calendar"  # {verdict, message, until, roles, windows}
# A held request re-reads the calendar at least this often (an edited calendar may open it earlier).
MAX_WAIT_SECONDS = 6 * 3600.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


clock: Clock = _utc_now


@contextlib.contextmanager
def use_clock(fake: Clock) -> Iterator[None]:
    """Evaluate the calendar with `fake` as the current time (tests)."""
    global clock
    previous, clock = clock, fake
    try:
        yield
    finally:
        clock = previous


_STORES: dict[Path, CalendarStore] = {}


def calendar_store(root: Path) -> CalendarStore:
    """The process's calendar of a catalog folder (re-read when the file changes)."""
    key = root.resolve()
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = CalendarStore(root)
    return store


def has_role(user: Identity, role: str) -> bool:
    """A calendar role is a PAO role (admin, team-member, developer) or a group/team the user is in;
    admins hold every role."""
    if user.is_admin:
        return True
    return role in {str(r) for r in user.roles} or role in user.teams


# ---- submit time ----------------------------------------------------------------------------------


def offering_verdict(
    catalog: Catalog,
    calendar: Calendar | None,
    offering_id: str,
    values: Mapping[str, Any],
    *,
    default_environment: str,
    now: datetime | None = None,
) -> Verdict:
    """The calendar's verdict on a request for an offering made now (plan preview, submit)."""
    facts = RequestFacts.for_offering(
        catalog, offering_id, environment=request_environment(values, default_environment)
    )
    return verdict(calendar, facts, now or clock())


def check_submit(
    *,
    catalog: Catalog,
    catalog_dir: Path,
    offering_id: str,
    values: Mapping[str, Any],
    default_environment: str,
) -> Verdict:
    """Refuse (409) a request a hard `refuse` window covers; otherwise return the verdict."""
    result = offering_verdict(
        catalog,
        calendar_store(catalog_dir).current(),
        offering_id,
        values,
        default_environment=default_environment,
    )
    if result.kind == "refused":
        window = result.windows[0].window if result.windows else None
        raise ConflictError(
            f"{offering_id}: {result.message}",
            details={
                "status": 409,
                "calendar": result.to_dict(),
                "window": window.id if window else None,
                "nextPossible": result.to_dict()["nextPossible"],
            },
        )
    return result


# ---- run time (inside the request workflow) -----------------------------------------------------


def _facts(engine: Engine, request: RequestRow, components: Sequence[ComponentRow]) -> RequestFacts:
    catalog = engine.catalog()
    found = []
    for component in components:
        item = catalog.items.get(component.item_id) if catalog is not None else None
        category = (item.metadata.category or "") if item is not None else component.item_id.split("-")[0]
        found.append(ComponentFacts(item=component.item_id, category=category, team=component.team))
    environment = request_environment(request.values or {}, engine.settings.platform.get("environment", ""))
    return RequestFacts(components=tuple(found), environment=environment)


def _event(engine: Engine, session: Any, request_id: str, result: Verdict) -> None:
    events.append(
        session,
        engine.db,
        request_id=request_id,
        type=CALENDAR_EVENT,
        body={**result.to_dict(), "message": result.message},
    )


# What a calendar check reads, in one query: the request (locked), its components in order, its hold
# (plain columns: `core_rows`).
_CHECK = Shape(Part.whole(RequestRow, but=("system",)), Part.whole(ComponentRow), Part.whole(CalendarHoldRow))
_CHECK_CONTEXT = (
    select(*_CHECK.columns(), events_notice(RequestRow.id))
    .select_from(RequestRow)
    .outerjoin(ComponentRow, ComponentRow.request_id == RequestRow.id)
    .outerjoin(CalendarHoldRow, CalendarHoldRow.request_id == RequestRow.id)
    .where(RequestRow.id == bindparam("request_id"))
    .order_by(ComponentRow.position)
    .with_for_update(of=RequestRow.__table__, **LOCK_REQUEST)
)


def _check_hold(request_id: str, resuming: bool = False, begin: bool = False) -> dict[str, Any]:
    """Ask the calendar in one transaction; `begin`: when it lets the request go, also mark it running
    and add its components (`begun`, as steps.begin_request returns them)."""
    engine = current_engine()
    with engine.db.transaction() as session:
        rows = session.connection().execute(_CHECK_CONTEXT, {"request_id": request_id}).all()
        if not rows:
            repo.require_request(session, request_id)  # says the request does not exist
        request_locked(session, request_id)
        request = _CHECK.get(rows[0], 0, session=session)
        hold_row = _CHECK.get(rows[0], 2, session=session)
        components = [c for row in rows if (c := _CHECK.get(row, 1, session=session)) is not None]
        decision = _decide(session, engine, request, components, resuming, hold_row)
        if begin and decision["state"] == "go":
            decision["begun"] = steps.begin_in(session, engine, request, components)
    engine.hub.notify(request_id)
    return decision


def _decide(
    session: Any,
    engine: Engine,
    request: RequestRow,
    components: Sequence[ComponentRow],
    resuming: bool,
    hold_row: CalendarHoldRow | None,
) -> dict[str, Any]:
    """The calendar's decision for the locked request — go, wait (seconds) or cancelled — with its hold
    row (None: it has none yet), the request's state and the calendar event updated to match."""
    now = clock()
    request_id = request.id
    holdable = ("submitted", "scheduled", "running") if resuming else ("submitted", "scheduled")
    if request.cancel_requested_at is not None:
        return {"state": "cancelled", "wait": 0.0}
    if request.state not in holdable:
        return {"state": "go", "wait": 0.0}
    approved = hold_row.approved_windows if hold_row is not None else set()
    calendar = calendar_store(engine.settings.catalog_dir).current()
    result = verdict(calendar, _facts(engine, request, components), now, approved=approved)
    if result.kind == "allowed":
        if hold_row is not None and hold_row.released_at is None:
            hold_row.verdict = "released"
            hold_row.released_at = utcnow()
            hold_row.updated_at = utcnow()
            _event(engine, session, request_id, result)
        if request.state == "scheduled":
            steps.set_request_state(
                session, engine, request, "running", reason=f"change calendar: {result.message}"
            )
        state, wait = "go", 0.0
    else:
        # Accepted requests are never refused later: a refuse window that began meanwhile holds them.
        end = result.until or result.next_possible
        if result.kind == "needs_approval":
            end = min(w.occurrence.end for w in result.windows)
        wait = MAX_WAIT_SECONDS if end is None else (end - now).total_seconds()
        wait = max(0.05, min(wait, MAX_WAIT_SECONDS))
        verdict_name = "needs_approval" if result.kind == "needs_approval" else "scheduled"
        changed = hold_row is None or hold_row.verdict != verdict_name or hold_row.until != end
        if hold_row is None:
            hold_row = CalendarHoldRow(request_id=request_id, created_at=utcnow(), approvals=[])
            session.add(hold_row)
        hold_row.verdict = verdict_name
        hold_row.message = result.message[:1000]
        hold_row.windows = [w.to_dict() for w in result.windows]
        hold_row.until = end
        hold_row.roles = list(result.roles)
        hold_row.released_at = None
        hold_row.updated_at = utcnow()
        if request.state in ("submitted", "running"):
            steps.set_request_state(
                session, engine, request, "scheduled", reason=f"change calendar: {result.message}"
            )
        if changed:
            _event(engine, session, request_id, result)
        state = "wait"
    return {"state": state, "wait": wait}


@DBOS.step(name="pao.calendar_check")
async def check_hold(request_id: str, resuming: bool = False) -> dict[str, Any]:
    """Ask the calendar; move the request to scheduled (held) or running (released)."""
    result: dict[str, Any] = _check_hold(request_id, resuming)
    return result


@DBOS.step(name="pao.start_request")
async def start_request(request_id: str) -> dict[str, Any]:
    """The first calendar check; when nothing holds the request, it is marked running in the same step."""
    result: dict[str, Any] = _check_hold(request_id, begin=True)
    return result


async def admit(request_id: str) -> dict[str, Any] | None:
    """Start the request once the calendar lets it: its components (as steps.begin_request returns them),
    or None when it was cancelled first. Called by the request workflow before anything runs."""
    decision = await start_request(request_id)
    if decision["state"] == "go":
        return dict(decision["begun"])
    if decision["state"] == "wait":
        await DBOS.recv_async(GATE_TOPIC, timeout_seconds=float(decision["wait"]))
        if await hold(request_id) == "go":
            return await steps.begin_request(request_id)
    return None


async def hold(request_id: str, *, resuming: bool = False) -> str:
    """Wait (durably) while the change calendar holds the request. Returns "go" or "cancelled".

    Called by the request workflow before its first step, and with `resuming=True` when a person's retry
    resumes a failed request (a freeze may have begun since); every check and every wait is recorded, so
    after a restart the workflow resumes waiting for the time that is left.
    """
    while True:
        decision = await check_hold(request_id, resuming)
        if decision["state"] != "wait":
            return str(decision["state"])
        await DBOS.recv_async(GATE_TOPIC, timeout_seconds=float(decision["wait"]))


async def wake(request_id: str) -> None:
    """Make a held request look at the calendar (and its approvals, its cancel) again now."""
    await DBOS.send_async(request_id, {"op": "wake"}, topic=GATE_TOPIC)


# ---- approval -----------------------------------------------------------------------------------


def hold_document(row: CalendarHoldRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "verdict": row.verdict,
        "message": row.message,
        "windows": row.windows,
        "until": row.until.isoformat().replace("+00:00", "Z") if row.until else None,
        "roles": row.roles,
        "approvals": row.approvals,
        "releasedAt": row.released_at.isoformat().replace("+00:00", "Z") if row.released_at else None,
    }


def get_hold(*, engine: Engine, request_id: str) -> dict[str, Any] | None:
    with engine.db.reading() as session:
        repo.require_request(session, request_id)
        return hold_document(session.get(CalendarHoldRow, request_id))


async def approve(*, engine: Engine, request_id: str, user: Identity, comment: str = "") -> dict[str, Any]:
    """Approve a request a soft window holds; the user needs the window's role. 409 when nothing waits
    for an approval, 403 without the role."""
    with engine.db.transaction() as session:
        request = repo.require_request(session, request_id, for_update=True)
        row = session.get(CalendarHoldRow, request_id)
        if row is None or row.verdict != "needs_approval" or request.state != "scheduled":
            state = row.verdict if row is not None else "not held"
            raise ConflictError(
                f"request {request_id} does not wait for an approval (request {request.state}, calendar "
                f"{state}); only requests held by a soft change window can be approved",
                details={"status": 409},
            )
        mine = [w for w in row.windows if has_role(user, str(w.get("approvalRole") or "admin"))]
        if not mine:
            raise NotAllowedError(
                f"{user.ref} may not approve request {request_id}: the window needs the role "
                f"{' or '.join(row.roles)}; ask a member of that group"
            )
        at = utcnow().isoformat().replace("+00:00", "Z")
        row.approvals = [
            *(row.approvals or []),
            *({"window": w["id"], "by": user.ref, "at": at, "comment": comment} for w in mine),
        ]
        row.updated_at = utcnow()
        events.append(
            session,
            engine.db,
            request_id=request_id,
            type=CALENDAR_EVENT,
            body={
                "verdict": "approved",
                "windows": [w["id"] for w in mine],
                "by": user.ref,
                "message": f"Approved by {user.ref} for {', '.join(w['name'] for w in mine)}"
                + (f": {comment}" if comment else ""),
            },
        )
        repo.add_audit(
            session,
            actor=user.ref,
            action="request.approve",
            target_type="request",
            target_id=request_id,
            details={"windows": [w["id"] for w in mine], "comment": comment},
        )
        document = hold_document(row)
    engine.hub.notify(request_id)
    await wake(request_id)
    assert document is not None
    return document
