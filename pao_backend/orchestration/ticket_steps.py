"""The jira-ticket executor: file the ticket (a step), then wait durably until it is closed.

    file_ticket (step)   run pao:jira-ticket (finds its labelled ticket before creating one), link it
                         "is blocked by" the tickets of the components it depends on; action + component
                         → waiting
    watch_ticket (step)  record which workflow waits for the ticket (the webhook and the inbox wake it)
    loop                 read_ticket (step) → DBOS.recv(ticket topic, poll interval)
    close_ticket (step)  Done → the declared outputs are read from the ticket, action completed;
                         "Won't Do"-like → action failed (ticket_rejected); cancel → cancelled

Registered for the action type `jira-ticket` with the engine's `register_action_executor`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from dbos import DBOS
from sqlalchemy import select
from sqlalchemy.orm import Session

from pao_backend.catalog.models import Action, CatalogBundle
from pao_backend.errors import PaoError
from pao_backend.orchestration import steps as engine_steps
from pao_backend.orchestration.engine import Engine, current_engine
from pao_backend.orchestration.escalation import escalation_context
from pao_backend.orchestration.outputs import extract_outputs
from pao_backend.orchestration.tickets import (
    escalation_description,
    rejection_error,
    ticket_outcome,
    ticket_result,
    ticket_snapshot,
    wait_for_ticket,
)
from pao_backend.orchestration.workflows import ActionCall, register_action_executor
from pao_backend.persistence import requests as repo
from pao_backend.persistence.tables import ActionRunRow, ComponentRow, RequestRow
from pao_backend.ticketing.factory import ticket_system
from pao_backend.ticketing.waits import clear_wait, register_wait
from scaffolder_actions import ActionError, ActionResult, BackendRejectedError
from scaffolder_actions.tickets import TicketSystem

log = logging.getLogger("pao.tickets")

ACTION_TYPE = "jira-ticket"
_SYSTEMS: dict[int, TicketSystem] = {}


def tickets_for(engine: Engine) -> TicketSystem:
    """The engine's ticket system (the same JIRA or inbox the pao:jira-ticket action files into)."""
    system = _SYSTEMS.get(id(engine))
    if system is None:
        system = _SYSTEMS[id(engine)] = ticket_system(engine.settings, db=engine.db, catalog=engine.catalog)
    return system


# ---- filing -------------------------------------------------------------------------------------


def _link_type(engine: Engine, request: RequestRow) -> str:
    catalog = engine.catalog()
    offering = catalog.bundles.get(request.catalog_id) if catalog is not None else None
    if isinstance(offering, CatalogBundle):
        return offering.fulfillment.orchestration.jira_linking.link_type
    return "blocks"


def _blockers(
    session: Session, engine: Engine, request: RequestRow, component: ComponentRow
) -> list[dict[str, str]]:
    """The tickets of the components this one depends on: they block this component's ticket."""
    if not component.depends_on:
        return []
    keys = session.scalars(
        select(ActionRunRow.ticket_key)
        .where(
            ActionRunRow.request_id == request.id,
            ActionRunRow.component_id.in_(list(component.depends_on)),
            ActionRunRow.ticket_key.is_not(None),
            ActionRunRow.state.in_(("completed", "waiting")),
        )
        .order_by(ActionRunRow.component_id, ActionRunRow.index)
    )
    link_type = _link_type(engine, request)
    return [{"type": link_type, "key": key} for key in dict.fromkeys(k for k in keys if k)]


def _before_filing(request_id: str, component_id: str, index: int, round: int) -> dict[str, Any]:
    """Links to blockers, and a new attempt key when an earlier ticket of this action was rejected."""
    engine = current_engine()
    with engine.db.reading() as session:
        request = repo.require_request(session, request_id)
        component = repo.require_component(session, request_id, component_id)
        rejected_before = session.scalar(
            select(ActionRunRow.id).where(
                ActionRunRow.request_id == request_id,
                ActionRunRow.component_id == component_id,
                ActionRunRow.index == index,
                ActionRunRow.failure_class == "ticket_rejected",
            )
        )
        return {
            "escalation": escalation_context(session, request_id=request_id, component_id=component_id),
            "requestUrl": f"{engine.settings.base_url.rstrip('/')}/requests/{request_id}",
            "links": _blockers(session, engine, request, component),
            # A rejected ticket stays rejected: a person's retry files a new one.
            "key": engine_steps.attempt_key(request_id, component_id, index, round)
            if rejected_before
            else None,
        }


def _after_filing(
    request_id: str, component_id: str, index: int, round: int, key: str, result: ActionResult
) -> dict[str, Any]:
    engine = current_engine()
    with engine.db.transaction() as session:
        component = repo.require_component(session, request_id, component_id)
        run = repo.action_run(
            session, request_id=request_id, component_id=component_id, index=index, attempt=round
        )
        assert run is not None
        if run.state != "running":
            return {"state": run.state, "key": run.ticket_key, "url": run.ticket_url}
        run.attempt_key = key
        engine_steps.log_events(session, engine, run, result)
        if result.error is not None:
            return {
                "state": engine_steps.fail_or_cancel_run(
                    session, engine, run, component, result.error.to_dict()
                )
            }
        ticket_key, url = str(result.outputs["key"]), str(result.outputs.get("url") or "")
        run.state = "waiting"
        run.ticket_key, run.ticket_url = ticket_key, url
        who = f"team {component.team}" if component.team else "the owner team"
        engine_steps.action_event(
            session,
            engine,
            run,
            "waiting",
            f"{component_id}: ticket {ticket_key} filed; waiting for {who} to close it",
            ticket={"key": ticket_key, "url": url},
        )
        engine_steps.set_component_state(
            session, engine, component, "waiting", reason=f"ticket {ticket_key} is open"
        )
    engine.hub.notify(request_id)
    return {"state": "waiting", "key": ticket_key, "url": url}


@DBOS.step(name="pao.file_ticket")
async def file_ticket(request_id: str, component_id: str, index: int, round: int) -> dict[str, Any]:
    """Run pao:jira-ticket for this action; {state: waiting, key, url} once the ticket exists."""
    engine = current_engine()
    prepared = await asyncio.to_thread(engine_steps.prepare_action, request_id, component_id, index, round)
    if prepared.state != "running" or prepared.action is None:
        return {"state": prepared.state}
    extra = await asyncio.to_thread(_before_filing, request_id, component_id, index, round)
    if extra["key"]:
        prepared.key = extra["key"]
    escalated = extra["escalation"]
    if escalated is not None:
        prepared.input["description"] = escalation_description(
            description=str(prepared.input.get("description") or ""),
            request_id=request_id,
            request_url=extra["requestUrl"],
            component_id=component_id,
            item_id=escalated["itemId"],
            tried=escalated["tried"],
            error=escalated["error"],
        )
        prepared.metadata["escalation"] = {"error": escalated["error"], "tried": escalated["tried"]}
    if extra["links"]:
        known = {link.get("key") for link in prepared.input.get("links") or []}
        prepared.input["links"] = [
            *(prepared.input.get("links") or []),
            *(link for link in extra["links"] if link["key"] not in known),
        ]
    workspace = engine_steps.component_workspace(engine, request_id, component_id)
    result = await engine_steps.run_cancellable(engine, request_id, prepared, workspace)
    filed: dict[str, Any] = await asyncio.to_thread(
        _after_filing, request_id, component_id, index, round, prepared.key, result
    )
    return filed


@DBOS.step(name="pao.watch_ticket")
async def watch_ticket(key: str, workflow_id: str, request_id: str, component_id: str) -> None:
    """Record that `workflow_id` waits for `key`, so a webhook or the inbox can wake it."""
    engine = current_engine()
    await asyncio.to_thread(
        lambda: register_wait(
            engine.db,
            ticket_key=key,
            workflow_id=workflow_id,
            request_id=request_id,
            component_id=component_id,
        )
    )


# ---- waiting ------------------------------------------------------------------------------------


@DBOS.step(name="pao.read_ticket")
async def read_ticket(key: str, request_id: str) -> dict[str, Any]:
    """The ticket now, plus whether the request was cancelled. A ticket system that does not answer is
    not a failure of the request: the wait goes on and the next poll tries again."""
    engine = current_engine()
    cancelled = await asyncio.to_thread(engine_steps.cancel_requested, request_id)
    try:
        snapshot = ticket_snapshot(await tickets_for(engine).get(key))
    except BackendRejectedError as exc:
        if exc.details.get("status") not in (None, 404):
            log.warning("could not read ticket %s (%s); still waiting", key, exc.message)
            snapshot = {"key": key, "statusCategory": "new", "readError": exc.message}
        else:  # the ticket was deleted: nobody will do the work
            snapshot = {"key": key, "statusCategory": "done", "resolution": "Deleted", "fields": {}}
    except ActionError as exc:
        log.warning("could not read ticket %s (%s); still waiting", key, exc.message)
        snapshot = {"key": key, "statusCategory": "new", "readError": exc.message}
    snapshot["cancelRequested"] = cancelled
    return snapshot


async def _recv(topic: str, timeout: float) -> Any:
    return await DBOS.recv_async(topic, timeout_seconds=timeout)


# ---- closing ------------------------------------------------------------------------------------


def _resume(session: Session, engine: Engine, component: ComponentRow, reason: str) -> None:
    if component.state == "waiting":
        engine_steps.set_component_state(session, engine, component, "running", reason=reason)


def _close(request_id: str, component_id: str, index: int, round: int, snapshot: Mapping[str, Any]) -> str:
    engine = current_engine()
    key = str(snapshot.get("key"))
    with engine.db.transaction() as session:
        request, component, run = engine_steps.load_run(session, request_id, component_id, index, round)
        if run.state != "waiting":
            return run.state
        outcome = ticket_outcome(snapshot)
        if outcome == "open":  # the wait ended because the request was cancelled
            engine_steps.cancel_run(run, f"the request was cancelled while ticket {key} was open")
            _resume(session, engine, component, "the request was cancelled")
            state = "cancelled"
        elif outcome == "rejected":
            _resume(session, engine, component, f"ticket {key} was closed as {snapshot.get('resolution')}")
            engine_steps.fail_run(
                session,
                engine,
                run,
                component,
                rejection_error(snapshot, team=component.team or None).to_dict(),
            )
            state = "failed"
        else:
            action = Action.model_validate(component.actions[index])
            try:
                outputs = extract_outputs(action, ticket_result(snapshot))
            except PaoError as exc:
                _resume(session, engine, component, f"ticket {key} is done")
                engine_steps.fail_run(
                    session,
                    engine,
                    run,
                    component,
                    {
                        "message": f"ticket {key}: {exc.message}",
                        "failureClass": "configuration",
                        "details": {},
                    },
                )
                state = "failed"
            else:
                engine_steps.complete_run(
                    session,
                    engine,
                    request,
                    component,
                    run,
                    {**outputs},
                    message=f"{component_id}: ticket {key} is done",
                    ticket={"key": key, "url": snapshot.get("url")},
                )
                _resume(session, engine, component, f"ticket {key} is done")
                state = "completed"
    clear_wait(engine.db, ticket_key=key)
    engine.hub.notify(request_id)
    return state


@DBOS.step(name="pao.close_ticket")
async def close_ticket(
    request_id: str, component_id: str, index: int, round: int, snapshot: dict[str, Any]
) -> str:
    """Record how the ticket ended: completed (outputs read from it), failed (rejected) or cancelled."""
    state: str = await asyncio.to_thread(_close, request_id, component_id, index, round, snapshot)
    return state


async def run_jira_ticket(call: ActionCall) -> str:
    """The executor for jira-ticket actions (runs inside the component workflow)."""
    filed = await file_ticket(call.request_id, call.component_id, call.index, call.round)
    if filed["state"] != "waiting":
        return str(filed["state"])
    key = str(filed["key"])
    await watch_ticket(key, DBOS.workflow_id or call.request_id, call.request_id, call.component_id)
    settings = current_engine().settings

    async def read(ticket_key: str) -> dict[str, Any]:
        return await read_ticket(ticket_key, call.request_id)

    snapshot = await wait_for_ticket(
        key,
        read=read,
        recv=_recv,
        poll_seconds=settings.jira_poll_seconds,
        max_poll_seconds=settings.jira_poll_max_seconds,
        stop=lambda s: bool(s.get("cancelRequested")),
    )
    return await close_ticket(call.request_id, call.component_id, call.index, call.round, dict(snapshot))


register_action_executor(ACTION_TYPE, run_jira_ticket)
