"""Requests: submit, read, list, retry, abort, cancel. Service functions own their transaction.

Submitting validates the values against the offering's form, moves password values into the
encrypted secret store, plans the components (which also proves every action input renders), stores
everything in one transaction and hands the request to the engine (workflow id = request id).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dbos import DBOS

from pao_backend.auth import Identity
from pao_backend.catalog.models import CatalogBundle, CatalogItem
from pao_backend.catalog.store import Catalog
from pao_backend.catalog.values import (
    apply_defaults,
    join_secrets,
    normalize_values,
    require_valid_values,
    split_secrets,
)
from pao_backend.errors import ConflictError, NotFoundError
from pao_backend.governance import gate as calendar_gate
from pao_backend.orchestration import events, steps
from pao_backend.orchestration.engine import Engine, enqueue_request_async
from pao_backend.orchestration.planner import SystemInfo, component_current, plan
from pao_backend.orchestration.states import REQUEST_TERMINAL, backstage_status, check_operation
from pao_backend.orchestration.workflows import CONTROL_TOPIC
from pao_backend.persistence import events as event_repo
from pao_backend.persistence import requests as repo
from pao_backend.persistence.db import add_at_commit, events_locked
from pao_backend.persistence.secrets import store_secrets
from pao_backend.persistence.tables import ComponentRow, RequestRow, utcnow
from pao_backend.ticketing.waits import dbos_notify, wake_request

API = "/api/pao/v1/requests"


@dataclass(frozen=True)
class Submitted:
    request: dict[str, Any]
    created: bool


def _links(request_id: str) -> dict[str, str]:
    return {
        "self": f"{API}/{request_id}",
        "events": f"{API}/{request_id}/events",
        "stream": f"{API}/{request_id}/events/stream",
        "retry": f"{API}/{request_id}/retry",
        "abort": f"{API}/{request_id}/abort",
        "cancel": f"{API}/{request_id}/cancel",
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def summary(row: RequestRow) -> dict[str, Any]:
    """The list shape of a request."""
    return {
        "id": row.id,
        "catalogId": row.catalog_id,
        "version": row.item_version,
        "kind": row.kind,
        "title": row.title,
        "state": row.state,
        "status": backstage_status(row.state),
        "requester": row.requester,
        "requesterTeams": list(row.requester_teams or []),
        "createdAt": _iso(row.created_at),
        "updatedAt": _iso(row.updated_at),
        "finishedAt": _iso(row.finished_at),
        "links": _links(row.id),
    }


def _flatten_secrets(secrets: Mapping[str, Any] | None) -> dict[str, str]:
    """Accept `{"group.field": v}`, `{"field": v}` (Backstage) or `{"group": {"field": v}}`."""
    flat: dict[str, str] = {}
    for key, value in (secrets or {}).items():
        if isinstance(value, Mapping):
            for inner, secret in value.items():
                flat[f"{key}.{inner}"] = str(secret)
        elif value is not None:
            flat[str(key)] = str(value)
    return flat


async def submit(
    *,
    engine: Engine,
    catalog: Catalog,
    user: Identity,
    catalog_id: str,
    values: Mapping[str, Any],
    version: str | None = None,
    secrets: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Submitted:
    """Validate, store and start a request; a repeated Idempotency-Key returns the first request.

    The blocking part runs in a thread so that the server's event loop (and the live event streams on
    it) keeps moving while the request is validated, planned and stored."""
    submitted = await asyncio.to_thread(
        functools.partial(
            _store,
            engine=engine,
            catalog=catalog,
            user=user,
            catalog_id=catalog_id,
            values=values,
            version=version,
            secrets=secrets,
            idempotency_key=idempotency_key,
        )
    )
    if submitted.created:
        request_id = str(submitted.request["id"])
        engine.hub.notify(request_id)
        await enqueue_request_async(engine, request_id)
    return submitted


def _store(
    *,
    engine: Engine,
    catalog: Catalog,
    user: Identity,
    catalog_id: str,
    values: Mapping[str, Any],
    version: str | None = None,
    secrets: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Submitted:
    """Validate and store a request (blocking: database and CPU work)."""
    if idempotency_key:
        with engine.db.reading() as session:
            existing = repo.find_by_idempotency_key(session, requester=user.ref, key=idempotency_key)
            if existing is not None:
                return Submitted(summary(existing), created=False)

    offering = catalog.get_offering(catalog_id)
    if offering is None:
        raise NotFoundError(
            f"catalog item or bundle {catalog_id!r} does not exist; list offerings at /api/pao/v1/catalog"
        )
    if version is not None and version != offering.metadata.version:
        raise ConflictError(
            f"{catalog_id} is at version {offering.metadata.version}, not {version}; "
            "request the current version (omit `version`) after checking its form",
            details={"status": 409},
        )
    form = offering.form
    # calendar (G): a hard `refuse` freeze window refuses the request with the date it can be made (409).
    calendar_gate.check_submit(
        catalog=catalog,
        catalog_dir=engine.settings.catalog_dir,
        offering_id=catalog_id,
        values=values,
        default_environment=engine.settings.platform.get("environment", ""),
    )
    given_secrets = _flatten_secrets(secrets)
    # Omitted fields take their defaults (as a Backstage form fills them in); the request records them.
    values = apply_defaults(form, values)
    require_valid_values(form, values, secrets=given_secrets, offering_id=catalog_id)
    joined = normalize_values(form, join_secrets(form, values, given_secrets))
    clean_values, request_secrets = split_secrets(form, joined)

    request_id = str(uuid.uuid4())
    now = utcnow()
    info = SystemInfo(
        request_id=request_id,
        user_id=user.ref,
        user_name=user.name,
        user_email=user.email,
        user_teams=tuple(user.teams),
        platform=engine.settings.platform,
        correlation_id=request_id,
        now=now,
    )
    planned = plan(catalog, catalog_id, joined, system=info, endpoints=engine.settings.resolved_endpoints)
    system_scope = {k: v for k, v in planned.system.items() if k != "secrets"}

    row = RequestRow(
        id=request_id,
        catalog_id=catalog_id,
        item_version=offering.metadata.version,
        kind=planned.kind,
        title=f"{offering.metadata.name}: {clean_values.get('name') or ''}".strip(": "),
        values=clean_values,
        requester=user.ref,
        requester_name=user.name,
        requester_email=user.email,
        requester_teams=list(user.teams),
        state="submitted",
        created_at=now,
        updated_at=now,
        idempotency_key=idempotency_key,
        correlation_id=request_id,
        system={"system": system_scope, "metadata": dict(planned.metadata)},
        outputs={},
    )
    bundle = offering if isinstance(offering, CatalogBundle) else None
    component_rows = []
    for position, component in enumerate(planned.components):
        item: CatalogItem = catalog.require_item(component.item_id)
        component_rows.append(
            ComponentRow(
                request_id=request_id,
                component_id=component.id,
                position=position,
                item_id=component.item_id,
                item_version=component.item_version,
                team=component.team,
                mode=component.mode,
                depends_on=list(component.depends_on),
                current=component_current(item, clean_values, bundle=bundle),
                actions=[a.action.model_dump(mode="json") for a in component.actions],
                manual_actions=[a.action.model_dump(mode="json") for a in component.manual_actions],
                state="pending",
                round=0,
                outputs={},
            )
        )
    try:
        with engine.db.transaction() as session:
            # Inserted at commit, the request first: nothing here reads them back.
            add_at_commit(session, row)
            for component_row in component_rows:
                add_at_commit(session, component_row)
            # Nobody else knows the new request before the commit, so nobody else writes its events:
            # events.append needs no lock statement.
            events_locked(session).add(request_id)
            store_secrets(session, engine.box, request_id=request_id, secrets=request_secrets)
            events.append(
                session,
                engine.db,
                request_id=request_id,
                type=events.STATE,
                body={
                    "state": "submitted",
                    "from": None,
                    "reason": "submitted",
                    "message": f"Request for {catalog_id} submitted by {user.ref}",
                },
            )
            repo.add_audit(
                session,
                actor=user.ref,
                action="request.submit",
                target_type="request",
                target_id=request_id,
                details={"catalogId": catalog_id, "version": row.item_version},
            )
    except Exception as exc:
        # Two submits with the same key raced: the loser answers with the winner's request.
        if idempotency_key and "idempotency" in str(exc).lower():
            with engine.db.reading() as session:
                existing = repo.find_by_idempotency_key(session, requester=user.ref, key=idempotency_key)
            if existing is not None:
                return Submitted(summary(existing), created=False)
        raise
    return Submitted(summary(row), created=True)


# ---- reading ------------------------------------------------------------------------------------


def _durations(changes: Sequence[Any], *, until: datetime) -> dict[str, float]:
    """Seconds spent in each state, from consecutive state changes."""
    spent: dict[str, float] = {}
    for current, following in zip(changes, [*changes[1:], None], strict=False):
        end = following.at if following is not None else until
        spent[current.to_state] = spent.get(current.to_state, 0.0) + max(
            0.0, (end - current.at).total_seconds()
        )
    return {k: round(v, 3) for k, v in spent.items()}


def get_request(*, engine: Engine, request_id: str) -> dict[str, Any]:
    """Everything about one request: components, actions, outputs, time in each state, error, guidance."""
    with engine.db.reading() as session:
        row = repo.require_request(session, request_id)
        components = repo.components(session, request_id)
        runs = repo.action_runs(session, request_id)
        changes = event_repo.state_changes(session, [request_id])
    now = row.finished_at or utcnow()
    request_changes = [c for c in changes if c.component_id is None]
    detail = summary(row)
    detail.update(
        {
            "values": row.values,
            "outputs": row.outputs,
            "error": row.error,
            "guidance": row.guidance,
            "escalation": (row.guidance or {}).get("escalation"),
            "correlationId": row.correlation_id,
            "startedAt": _iso(row.started_at),
            "cancelRequestedAt": _iso(row.cancel_requested_at),
            "timeInState": _durations(request_changes, until=now),
            "stateHistory": [
                {"from": c.from_state, "to": c.to_state, "reason": c.reason, "at": _iso(c.at)}
                for c in request_changes
            ],
            "components": [_component(c, runs, changes, now) for c in components],
        }
    )
    return detail


def _component(c: ComponentRow, runs: Sequence[Any], changes: Sequence[Any], now: datetime) -> dict[str, Any]:
    mine = [r for r in runs if r.component_id == c.component_id]
    latest: dict[int, Any] = {}
    for run in mine:
        if run.index not in latest or run.state == "completed" or latest[run.index].state != "completed":
            latest[run.index] = run
    actions = []
    for index, spec in enumerate(c.actions):
        run = latest.get(index)
        actions.append(
            {
                "index": index,
                "type": spec.get("type"),
                "name": spec.get("name") or spec.get("type"),
                "state": run.state if run is not None else "pending",
                "attempt": run.attempt if run is not None else None,
                "attempts": len([r for r in mine if r.index == index]),
                "input": run.input_display if run is not None else None,
                "outputs": run.outputs if run is not None else {},
                "ticket": {"key": run.ticket_key, "url": run.ticket_url}
                if run is not None and run.ticket_key
                else None,
                "error": run.error if run is not None else None,
                "failureClass": run.failure_class if run is not None else None,
                "startedAt": _iso(run.started_at) if run is not None else None,
                "finishedAt": _iso(run.finished_at) if run is not None else None,
            }
        )
    mine_changes = [x for x in changes if x.component_id == c.component_id]
    return {
        "id": c.component_id,
        "itemId": c.item_id,
        "itemVersion": c.item_version,
        "team": c.team,
        "mode": c.mode,
        "dependsOn": list(c.depends_on),
        "state": c.state,
        "round": c.round,
        "startedAt": _iso(c.started_at),
        "finishedAt": _iso(c.finished_at),
        "outputs": c.outputs,
        "error": c.error,
        "timeInState": _durations(mine_changes, until=c.finished_at or now),
        "actions": actions,
    }


def list_requests(
    *,
    engine: Engine,
    where: repo.RequestFilter,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    with engine.db.reading() as session:
        rows, total = repo.list_requests(session, where, limit=limit, offset=offset)
    return {"items": [summary(r) for r in rows], "totalItems": total, "limit": limit, "offset": offset}


def list_events(*, engine: Engine, request_id: str, after: int = 0, limit: int = 1000) -> dict[str, Any]:
    with engine.db.reading() as session:
        repo.require_request(session, request_id)
        rows = event_repo.events_after(session, request_id=request_id, after=after, limit=limit)
    items = [events.event_dict(r) for r in rows]
    return {"items": items, "last": items[-1]["id"] if items else after}


def request_state(*, engine: Engine, request_id: str) -> str:
    with engine.db.reading() as session:
        return repo.require_request(session, request_id).state


# ---- a person's decisions -----------------------------------------------------------------------


def _refuse(request_id: str, reason: str) -> ConflictError:
    return ConflictError(f"request {request_id}: {reason}", details={"status": 409, "reason": reason})


async def retry(*, engine: Engine, request_id: str, actor: str) -> dict[str, Any]:
    """Resume a failed request from its failed actions; completed actions are not run again."""
    return await _decide(
        engine=engine, request_id=request_id, actor=actor, operation="retry", target="retrying"
    )


async def abort(*, engine: Engine, request_id: str, actor: str) -> dict[str, Any]:
    """Stop a failed request for good, keeping what is done."""
    return await _decide(
        engine=engine, request_id=request_id, actor=actor, operation="abort", target="aborted"
    )


async def _decide(
    *, engine: Engine, request_id: str, actor: str, operation: str, target: str
) -> dict[str, Any]:
    with engine.db.transaction() as session:
        row = repo.require_request(session, request_id, for_update=True)
        verdict = check_operation(row.state, operation)
        if not verdict.accepted:
            raise _refuse(request_id, verdict.reason)
        steps.set_request_state(session, engine, row, target, reason=f"{operation} requested by {actor}")
        repo.add_audit(
            session,
            actor=actor,
            action=f"request.{operation}",
            target_type="request",
            target_id=request_id,
            details={},
        )
        result = summary(row)
    engine.hub.notify(request_id)
    await DBOS.send_async(
        request_id,
        {"op": operation},
        topic=CONTROL_TOPIC,
        idempotency_key=f"{request_id}:{operation}:{uuid.uuid4()}",
    )
    return result


async def cancel(*, engine: Engine, request_id: str, actor: str) -> dict[str, Any]:
    """Stop a request: running actions are cancelled (their HTTP calls too), nothing new starts."""
    waiting = False
    with engine.db.transaction() as session:
        row = repo.require_request(session, request_id, for_update=True)
        verdict = check_operation(row.state, "cancel")
        if not verdict.accepted:
            raise _refuse(request_id, verdict.reason)
        if row.cancel_requested_at is not None:
            return summary(row)
        row.cancel_requested_at = utcnow()
        waiting = row.state == "failed"
        if waiting:
            steps.set_request_state(session, engine, row, "cancelled", reason=f"cancelled by {actor}")
        else:
            events.append(
                session,
                engine.db,
                request_id=request_id,
                type=events.STATE,
                body={
                    "state": row.state,
                    "from": row.state,
                    "reason": f"cancel requested by {actor}",
                    "message": f"Cancel requested by {actor}: stopping running actions",
                },
            )
        repo.add_audit(
            session,
            actor=actor,
            action="request.cancel",
            target_type="request",
            target_id=request_id,
            details={},
        )
        result = summary(row)
    engine.hub.notify(request_id)
    if waiting:
        await DBOS.send_async(request_id, {"op": "cancel"}, topic=CONTROL_TOPIC)
    else:
        engine.cancel_local(request_id)
        if result["state"] in ("submitted", "scheduled"):
            await calendar_gate.wake(request_id)  # calendar (G): a held request ends at once
        await wake_request(engine.db, request_id=request_id, notify=dbos_notify)  # tickets (J): waits end now
    return result


def is_finished(state: str) -> bool:
    return state in REQUEST_TERMINAL
