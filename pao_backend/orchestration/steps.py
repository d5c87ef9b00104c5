"""Steps: every piece of I/O the workflows do — database writes, events, running actions.

Each `@DBOS.step` is idempotent against PAO's tables, because after a crash DBOS runs a step again
if its result was not recorded: an action that completed is never run again (its run row says so),
and an action re-run after a crash sends the same attempt key, so the backend can deduplicate.
Step results are small dicts/strings without secrets (DBOS stores them in its tables).
PAO's transactions here are short (a few statements on a request's rows) and run on the engine's
event loop: handing each to a thread cost more CPU than the transaction itself (bench/orchestrate.py).
What may take long — the action's own I/O, cancel checks — is awaited, never run inline.
An action step reads, runs the action, and writes once: the run is recorded as running together with
its outcome, or after RUNNING_NOTICE_SECONDS if the action is still running then.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dbos import DBOS
from sqlalchemy.orm import Session

from pao_backend.catalog.models import Action
from pao_backend.errors import PaoError
from pao_backend.orchestration import events
from pao_backend.orchestration.action_inputs import RenderedAction, render_action
from pao_backend.orchestration.engine import Engine, current_engine
from pao_backend.orchestration.guidance import escalation_for, guidance_for_error
from pao_backend.orchestration.outputs import extract_outputs
from pao_backend.orchestration.states import transition
from pao_backend.persistence import requests as repo
from pao_backend.persistence.db import add_at_commit
from pao_backend.persistence.secrets import decrypt_secrets, delete_secrets
from pao_backend.persistence.tables import ActionRunRow, ComponentRow, RequestRow, utcnow
from pao_backend.templating import Secret
from scaffolder_actions import ActionResult, run_action

log = logging.getLogger("pao.steps")

# An action attempt's result: {"state": completed|failed|cancelled} plus "request": completed when the
# step completed the request too (its last component).
ActionOutcome = dict[str, str]


def _outcome(state: str, request_state: str | None) -> ActionOutcome:
    return {"state": state, "request": request_state} if request_state else {"state": state}


# An action still running this long after it started is recorded as running then (watchers see it
# within this time), together with a first check whether another process asked to cancel its request;
# one that answers sooner is recorded as running and done in one transaction, with its outcome. Under
# load an action that answers at once can take a few hundred ms to be seen answering (the event loop is
# busy), so a shorter time would cost most actions a third transaction.
RUNNING_NOTICE_SECONDS = 1.0
# After that, how often a running action checks for a cancel from another process.
CANCEL_CHECK_SECONDS = 0.25


# ---- state changes (inside a transaction) -------------------------------------------------------


def _check_transition(
    session: Session,
    engine: Engine,
    kind: str,
    request_id: str,
    component_id: str | None,
    current: str,
    to: str,
    reason: str | None,
) -> str | None:
    """Check `current → to` against the transition table; returns the reason, or None when the table
    refuses it (a `rejected` event says why). The state event the caller writes is the history."""
    verdict = transition(current, to, kind=kind)
    if not verdict.accepted:
        events.append(
            session,
            engine.db,
            request_id=request_id,
            component_id=component_id,
            type=events.REJECTED,
            body={"from": current, "to": to, "reason": verdict.reason, "message": verdict.reason},
        )
        return None
    return reason or verdict.reason


def set_request_state(
    session: Session, engine: Engine, request: RequestRow, to: str, *, reason: str | None = None
) -> bool:
    """Apply the transition table; a refused change becomes a `rejected` event instead."""
    why = _check_transition(session, engine, "request", request.id, None, request.state, to, reason)
    if why is None:
        return False
    now = utcnow()
    events.append(
        session,
        engine.db,
        request_id=request.id,
        type=events.STATE,
        body={"state": to, "from": request.state, "reason": why, "message": f"Request {to}: {why}"},
    )
    request.state = to
    request.updated_at = now
    if to == "running" and request.started_at is None:
        request.started_at = now
    if to in ("completed", "aborted", "cancelled"):
        request.finished_at = now
    return True


def set_component_state(
    session: Session,
    engine: Engine,
    component: ComponentRow,
    to: str,
    *,
    reason: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Apply the transition table (`at`: when it happened, if earlier than now)."""
    why = _check_transition(
        session,
        engine,
        "component",
        component.request_id,
        component.component_id,
        component.state,
        to,
        reason,
    )
    if why is None:
        return False
    body = {
        "componentId": component.component_id,
        "state": to,
        "from": component.state,
        "reason": why,
        "message": f"{component.component_id} ({component.item_id}) {to}: {why}",
    }
    if at is not None:
        body["at"] = at.isoformat()
    events.append(
        session,
        engine.db,
        request_id=component.request_id,
        component_id=component.component_id,
        type=events.COMPONENT,
        body=body,
    )
    component.state = to
    now = at or utcnow()
    if to == "running":
        component.started_at = component.started_at or now
        component.finished_at = None
    if to in ("completed", "failed", "skipped", "cancelled"):
        component.finished_at = now
    return True


def component_summary(rows: list[ComponentRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.component_id,
            "dependsOn": list(c.depends_on),
            "state": c.state,
            "round": c.round,
            "actions": [a.get("type", "") for a in c.actions],
        }
        for c in rows
    ]


def _start_component(
    session: Session, engine: Engine, component: ComponentRow, round: int, at: datetime | None = None
) -> None:
    """pending/failed → running, in the caller's transaction (a fused first action step)."""
    if component.state in ("pending", "failed"):
        component.round = round
        set_component_state(session, engine, component, "running", at=at)


def _close_component(
    session: Session, engine: Engine, request: RequestRow, component: ComponentRow, state: str
) -> None:
    """running → completed/failed/cancelled, in the caller's transaction."""
    if component.state == "pending" and state == "cancelled":
        set_component_state(session, engine, component, "cancelled")
    elif component.state == "running":
        if state == "completed":
            request.completion_seq += 1
            component.completed_seq = request.completion_seq
        set_component_state(session, engine, component, state)


def _close_fused(
    session: Session,
    engine: Engine,
    request: RequestRow,
    component: ComponentRow,
    state: str,
    *,
    others_completed: bool | None = None,
) -> str | None:
    """Close the component (a fused step's end); when it was the request's last, complete the request in
    the same transaction and return its state, so the request workflow needs no settle step.
    `others_completed`: already read by the caller (else it is read here)."""
    _close_component(session, engine, request, component, state)
    if state != "completed":
        return None
    if others_completed is None:
        others_completed = repo.others_completed(session, request.id, component.component_id)
    if not others_completed:
        return None
    if request.state not in ("completed", "aborted", "cancelled"):  # not already (a step run again)
        _complete(session, engine, request)
    return request.state


def _completion(session: Session, engine: Engine, request: RequestRow, message: str) -> None:
    events.append(
        session,
        engine.db,
        request_id=request.id,
        type=events.COMPLETION,
        body={
            "state": request.state,
            "message": message,
            "outputs": dict(request.outputs),
            "error": request.error,
            "guidance": request.guidance,
        },
    )


def _finish_cleanup(session: Session, engine: Engine, request: RequestRow) -> None:
    """A finished request keeps no secrets and no scratch files."""
    delete_secrets(session, request_id=request.id)
    shutil.rmtree(engine.workspace / request.id, ignore_errors=True)


# ---- request steps ------------------------------------------------------------------------------


def begin_in(
    session: Session, engine: Engine, request: RequestRow, components: list[ComponentRow]
) -> dict[str, Any]:
    """Mark the (locked) request running; its state and components (id, dependsOn, state, round)."""
    if request.state == "submitted" and request.cancel_requested_at is None:
        set_request_state(session, engine, request, "running")
    return {"state": request.state, "components": component_summary(components)}


def _begin_request(request_id: str) -> dict[str, Any]:
    engine = current_engine()
    with engine.db.transaction() as session:
        request = repo.require_request(session, request_id, for_update=True)
        result = begin_in(session, engine, request, repo.components(session, request_id))
    engine.hub.notify(request_id)
    return result


@DBOS.step(name="pao.begin_request")
async def begin_request(request_id: str) -> dict[str, Any]:
    """Mark the request running; return its components (id, dependsOn, state, round)."""
    result: dict[str, Any] = _begin_request(request_id)
    return result


def _settle_request(request_id: str) -> str:
    engine = current_engine()
    with engine.db.transaction() as session:
        request = repo.require_request(session, request_id, for_update=True)
        rows = repo.components(session, request_id)
        if request.state in ("completed", "aborted", "cancelled"):
            return request.state
        if all(c.state == "completed" for c in rows):
            _complete(session, engine, request)
        else:
            _settle_unfinished(session, engine, request, rows)
        state = request.state
    engine.hub.notify(request_id)
    return state


def _complete(session: Session, engine: Engine, request: RequestRow) -> None:
    """Every component completed: so did the request."""
    set_request_state(session, engine, request, "completed")
    _finish_cleanup(session, engine, request)
    _completion(session, engine, request, "Request completed: every component is done")


def _settle_unfinished(
    session: Session, engine: Engine, request: RequestRow, rows: list[ComponentRow]
) -> None:
    """Nothing runs and something did not complete: the request is cancelled, or failed and waits."""
    if request.cancel_requested_at is not None:
        for c in rows:
            if c.state in ("pending", "failed"):
                set_component_state(session, engine, c, "cancelled")
        set_request_state(session, engine, request, "cancelled")
        _finish_cleanup(session, engine, request)
        _completion(session, engine, request, "Request cancelled")
    else:
        failed = next((c for c in rows if c.state == "failed"), None)
        if failed is not None and failed.error:
            request.error = {"componentId": failed.component_id, **failed.error}
            catalog = engine.catalog()
            team = catalog.teams.get(failed.team) if catalog is not None else None
            guidance = guidance_for_error(
                failed.error,
                escalation=escalation_for(team, team_id=failed.team or None),
                can_escalate=bool(failed.manual_actions) and failed.mode == "automatic",
            )
            request.guidance = guidance.to_dict()
        set_request_state(session, engine, request, "failed")
        _completion(
            session,
            engine,
            request,
            "Request failed and waits for a person: retry, abort or cancel",
        )


@DBOS.step(name="pao.settle_request")
async def settle_request(request_id: str) -> str:
    """Nothing is running: the request is completed, cancelled, or failed (waiting for a person)."""
    state: str = _settle_request(request_id)
    return state


def _apply_control(request_id: str, operation: str) -> dict[str, Any]:
    engine = current_engine()
    with engine.db.transaction() as session:
        request = repo.require_request(session, request_id, for_update=True)
        rows = repo.components(session, request_id)
        if operation == "retry" and request.state == "retrying":
            for c in rows:
                if c.state == "failed":
                    set_component_state(session, engine, c, "pending", reason="retry requested")
                    c.round += 1
                    c.error = None
            request.error = None
            request.guidance = None
            set_request_state(session, engine, request, "running")
        elif operation in ("abort", "cancel") and request.state in ("aborted", "cancelled"):
            target = "skipped" if operation == "abort" else "cancelled"
            for c in rows:
                if c.state == "pending" or (c.state == "failed" and operation == "cancel"):
                    set_component_state(session, engine, c, target)
            _finish_cleanup(session, engine, request)
            _completion(session, engine, request, f"Request {request.state}")
        result = {"state": request.state, "components": component_summary(rows)}
    engine.hub.notify(request_id)
    return result


@DBOS.step(name="pao.apply_control")
async def apply_control(request_id: str, operation: str) -> dict[str, Any]:
    """Carry out retry/abort/cancel (the service already moved the request's state)."""
    result: dict[str, Any] = _apply_control(request_id, operation)
    return result


# ---- component steps ----------------------------------------------------------------------------


def _begin_component(request_id: str, component_id: str, round: int) -> dict[str, Any]:
    engine = current_engine()
    with engine.db.transaction() as session:
        request = repo.require_request(session, request_id)
        component = repo.require_component(session, request_id, component_id)
        types = [a.get("type", "") for a in component.actions]
        if component.state in ("completed", "cancelled", "skipped"):
            return {"state": component.state, "actions": types}
        if request.cancel_requested_at is not None:
            set_component_state(session, engine, component, "cancelled")
        elif component.state != "running":
            component.round = round
            set_component_state(session, engine, component, "running")
        state = component.state
    engine.hub.notify(request_id)
    return {"state": state, "actions": types}


@DBOS.step(name="pao.begin_component")
async def begin_component(request_id: str, component_id: str, round: int) -> dict[str, Any]:
    """Mark the component running (or cancelled); return its action types."""
    result: dict[str, Any] = _begin_component(request_id, component_id, round)
    return result


def _end_component(request_id: str, component_id: str, state: str) -> str:
    engine = current_engine()
    with engine.db.transaction() as session:
        request = repo.require_request(session, request_id, for_update=True)
        component = repo.require_component(session, request_id, component_id)
        if component.state == "running":
            if state == "completed":
                request.completion_seq += 1
                component.completed_seq = request.completion_seq
            set_component_state(session, engine, component, state)
        final = component.state
    engine.hub.notify(request_id)
    return final


@DBOS.step(name="pao.end_component")
async def end_component(request_id: str, component_id: str, state: str) -> str:
    final: str = _end_component(request_id, component_id, state)
    return final


# ---- actions ------------------------------------------------------------------------------------


def attempt_key(request_id: str, component_id: str, index: int, round: int) -> str:
    """Stable per attempt: a re-run after a crash sends the same key, a person's retry a new one."""
    return f"{request_id}/{component_id}/{index}/{round}"


def _with_secrets(current: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    joined = copy.deepcopy(dict(current))
    for key, value in secrets.items():
        group_id, _, field_id = key.partition(".")
        group = joined.get(group_id)
        if field_id and isinstance(group, dict):
            group[field_id] = Secret(value)
    return joined


def _system_scope(engine: Engine, stored: Mapping[str, Any]) -> dict[str, Any]:
    system = copy.deepcopy(dict(stored.get("system") or {}))
    system["secrets"] = {
        name: {key: Secret(value.get_secret_value()) for key, value in entries.items()}
        for name, entries in engine.settings.credentials.items()
    }
    return system


class Prepared:
    """What preparing an attempt hands to the run: never stored, may hold secrets."""

    def __init__(self, **kw: Any) -> None:
        self.state: str = kw.get("state", "running")
        self.action: Action | None = kw.get("action")
        self.input: dict[str, Any] = kw.get("input", {})
        self.display: dict[str, Any] = kw.get("display", {})  # the input as shown: secrets masked
        self.secrets: frozenset[str] = kw.get("secrets", frozenset())
        self.key: str = kw.get("key", "")
        self.requester: str = kw.get("requester", "")
        self.metadata: dict[str, Any] = kw.get("metadata", {})
        self.started_at: datetime = kw.get("started_at") or utcnow()
        # Set when this step also completed the request (its last component).
        self.request_state: str | None = kw.get("request_state")


def _run_event(session: Session, engine: Engine, run: ActionRunRow, kind: str, **body: Any) -> None:
    events.append(
        session,
        engine.db,
        request_id=run.request_id,
        component_id=run.component_id,
        action_index=run.index,
        type=kind,
        body={"componentId": run.component_id, "index": run.index, **body},
    )


def action_event(
    session: Session, engine: Engine, run: ActionRunRow, state: str, message: str, **extra: Any
) -> None:
    """The `action` event of `run` reaching `state` (extra keys such as outputs/ticket go into the body)."""
    _run_event(
        session,
        engine,
        run,
        events.ACTION,
        type=run.type,
        state=state,
        attempt=run.attempt,
        **extra,
        message=message,
    )


def action_label(run: ActionRunRow) -> str:
    """How messages name an action: `<component> action <n> (<type>)`."""
    return f"{run.component_id} action {run.index + 1} ({run.type})"


def log_events(session: Session, engine: Engine, run: ActionRunRow, result: ActionResult) -> None:
    """The action's log lines as `log` events."""
    for line in result.logs:
        _run_event(session, engine, run, events.LOG, level=line.level, message=line.message)


def fail_run(
    session: Session, engine: Engine, run: ActionRunRow, component: ComponentRow, error: dict[str, Any]
) -> None:
    """The run failed: record the error on it and its component, and announce it."""
    run.state = "failed"
    run.error = str(error.get("message", ""))
    run.failure_class = str(error.get("failureClass", "configuration"))
    run.finished_at = utcnow()
    component.error = {
        "actionIndex": run.index,
        "actionType": run.type,
        "message": run.error,
        "failureClass": run.failure_class,
        "retryable": bool(error.get("retryable", False)),
        "details": error.get("details") or {},
    }
    action_event(
        session,
        engine,
        run,
        "failed",
        f"{action_label(run)} failed: {run.error}",
        failureClass=run.failure_class,
    )


def cancel_run(run: ActionRunRow, message: str) -> None:
    """The run ended because its request was cancelled (the caller announces it if it wants)."""
    run.state, run.finished_at, run.failure_class = "cancelled", utcnow(), "cancelled"
    run.error = message


def fail_or_cancel_run(
    session: Session, engine: Engine, run: ActionRunRow, component: ComponentRow, error: dict[str, Any]
) -> str:
    """An action that ended with `error`: cancelled (the request was cancelled) or failed; returns which."""
    if error.get("failureClass") == "cancelled":
        cancel_run(run, str(error.get("message", "")))
        action_event(session, engine, run, "cancelled", f"{action_label(run)} cancelled")
        return "cancelled"
    fail_run(session, engine, run, component, error)
    return "failed"


def complete_run(
    session: Session,
    engine: Engine,
    request: RequestRow,
    component: ComponentRow,
    run: ActionRunRow,
    outputs: dict[str, Any],
    *,
    message: str,
    **extra: Any,
) -> None:
    """The run completed: its outputs become the component's and the request's."""
    run.state, run.finished_at, run.outputs = "completed", utcnow(), outputs
    request.outputs = {**request.outputs, **outputs}
    component.outputs = {**component.outputs, **outputs}
    request.completion_seq += 1
    action_event(session, engine, run, "completed", message, **extra, outputs=outputs)


@dataclass
class _PreRendered:
    action: Action | None = None
    rendered: RenderedAction | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def _render_with(
    engine: Engine, request: RequestRow, component: ComponentRow, index: int, ciphertext: bytes | None
) -> _PreRendered:
    if index >= len(component.actions):
        return _PreRendered(error=f"component {component.component_id} has no action {index + 1}")
    secrets = decrypt_secrets(engine.box, request_id=request.id, ciphertext=ciphertext)
    scope = {
        "current": _with_secrets(component.current, secrets),
        "output": dict(request.outputs),
        "metadata": (request.system or {}).get("metadata", {}),
        "system": _system_scope(engine, request.system or {}),
    }
    try:
        action = Action.model_validate(component.actions[index])
        rendered = render_action(
            action, scope, for_display=False, endpoints=engine.settings.resolved_endpoints
        )
    except PaoError as exc:
        return _PreRendered(error=exc.message)
    return _PreRendered(action=action, rendered=rendered, secrets=secrets)


def _reusable(runs: list[ActionRunRow], spec: Mapping[str, Any]) -> ActionRunRow | None:
    """The completed run a retry reuses; none when escalation (J) swapped the action list."""
    done = next((r for r in runs if r.state == "completed"), None)
    return done if done is not None and done.type == spec.get("type") else None


def _this_attempt(runs: list[ActionRunRow], round: int) -> ActionRunRow | None:
    """The run of this round's attempt, if an earlier try (before a crash) recorded one."""
    return next((r for r in runs if r.attempt == round), None)


def _key_for(request_id: str, component_id: str, index: int, round: int, spec: Mapping[str, Any]) -> str:
    # A ticket keeps its key across a person's retries (the action finds its ticket instead of filing a
    # second one); other actions get a new key per retry round.
    return attempt_key(request_id, component_id, index, 0 if spec.get("type") == "jira-ticket" else round)


def _prepared(
    request: RequestRow, component: ComponentRow, index: int, key: str, pre: _PreRendered
) -> Prepared:
    assert pre.action is not None and pre.rendered is not None
    component_id = component.component_id
    return Prepared(
        state="running",
        action=pre.action,
        input=pre.rendered.input,
        display=pre.rendered.display,
        secrets=pre.rendered.secrets | frozenset(pre.secrets.values()),
        key=key,
        requester=request.requester,
        metadata={
            "requestId": request.id,
            "componentId": component_id,
            "actionIndex": index,
            "actionId": f"{component_id}.{index}",
            "offeringId": request.catalog_id,
            "itemId": component.item_id,
            "team": component.team,
            "requester": request.requester,
            "user": request.requester,
            "declaredOutputs": dict(pre.action.outputs),
        },
    )


def _new_run(
    session: Session,
    component: ComponentRow,
    index: int,
    round: int,
    action_type: str,
    key: str,
    started_at: datetime,
) -> ActionRunRow:
    """A running attempt's row, inserted when the transaction commits."""
    run = ActionRunRow(
        request_id=component.request_id,
        component_id=component.component_id,
        index=index,
        type=action_type,
        attempt=round,
        state="running",
        attempt_key=key,
        started_at=started_at,
    )
    add_at_commit(session, run)
    return run


def _record_running(
    session: Session,
    engine: Engine,
    component: ComponentRow,
    run: ActionRunRow | None,
    prepared: Prepared,
    *,
    index: int,
    round: int,
    start_component: bool,
) -> ActionRunRow:
    """Record the attempt as running (a new run row unless a crashed try left one), and its component
    too when this is a fused step's first action."""
    assert prepared.action is not None
    if start_component:
        _start_component(session, engine, component, round, at=prepared.started_at)
    if run is None:
        run = _new_run(
            session, component, index, round, prepared.action.type, prepared.key, prepared.started_at
        )
    run.input_display = prepared.display
    action_event(session, engine, run, "running", f"{action_label(run)} started")
    return run


def _ready_to_run(
    engine: Engine,
    request: RequestRow,
    component: ComponentRow,
    ciphertext: bytes | None,
    runs: list[ActionRunRow],
    index: int,
    round: int,
) -> Prepared | None:
    """The prepared attempt when nothing must be written before it runs (the usual case), else None."""
    if index >= len(component.actions) or request.cancel_requested_at is not None:
        return None
    spec = component.actions[index]
    if _reusable(runs, spec) is not None:
        return None
    run = _this_attempt(runs, round)
    if run is not None and run.state != "running":
        return Prepared(state=run.state)
    pre = _render_with(engine, request, component, index, ciphertext)
    if pre.rendered is None:
        return None
    return _prepared(
        request, component, index, _key_for(request.id, component.component_id, index, round, spec), pre
    )


def prepare_action(
    request_id: str,
    component_id: str,
    index: int,
    round: int,
    *,
    fused: bool = False,
    last: bool = False,
    record: bool = True,
) -> Prepared:
    """Prepare an action attempt: reuse it if done, render its input.

    `record`: record the run as running now. Otherwise this only reads, and the run is recorded by the
    step's closing transaction, or by `record_running` once the action has run for a moment — so an
    action that answers at once costs one write transaction, not two.
    `fused`: this step also starts the component (first action) and ends it when the outcome is known
    here (cancelled, reused last action) — one step per action instead of three."""
    engine = current_engine()
    if not record:
        with engine.db.reading() as session:
            request, component, ciphertext, runs = repo.action_context(
                session, request_id, component_id, index, to_read=True
            )
            ready = _ready_to_run(engine, request, component, ciphertext, runs, index, round)
        if ready is not None:
            return ready
    with engine.db.transaction() as session:
        # Everything is read before anything changes, so the changes are written once, at commit.
        request, component, ciphertext, runs = repo.action_context(
            session, request_id, component_id, index, for_update=fused
        )
        if fused and request.cancel_requested_at is not None:
            _close_component(session, engine, request, component, "cancelled")
            return Prepared(state="cancelled")
        if fused:
            _start_component(session, engine, component, round)
        spec = component.actions[index]
        done = _reusable(runs, spec)
        if done is not None:
            if done.attempt != round:
                action_event(
                    session,
                    engine,
                    done,
                    "completed",
                    f"{action_label(done)} already done; reused",
                    reused=True,
                )
            settled = None
            if fused and last:
                settled = _close_fused(session, engine, request, component, "completed")
            return Prepared(state="completed", request_state=settled)
        if request.cancel_requested_at is not None:
            return Prepared(state="cancelled")
        run = _this_attempt(runs, round)
        if run is not None and run.state != "running":
            return Prepared(state=run.state)
        key = _key_for(request_id, component_id, index, round, spec)
        # Rendered before the run row is added: the row is then written once, with its input.
        pre = _render_with(engine, request, component, index, ciphertext)
        if pre.rendered is None:
            if run is None:
                run = _new_run(session, component, index, round, str(spec.get("type", "")), key, utcnow())
            fail_run(
                session,
                engine,
                run,
                component,
                {
                    "message": pre.error or "the action could not be rendered",
                    "failureClass": "configuration",
                    "details": {},
                },
            )
            if fused:
                _close_component(session, engine, request, component, "failed")
            return Prepared(state="failed")
        prepared = _prepared(request, component, index, key, pre)
        _record_running(
            session, engine, component, run, prepared, index=index, round=round, start_component=False
        )
    engine.hub.notify(request_id)
    return prepared


def record_running(
    request_id: str, component_id: str, index: int, round: int, prepared: Prepared, *, fused: bool
) -> bool:
    """The action has been running for a moment: record it, so watchers see it running. Returns whether
    its request was asked to cancel (read in the same transaction)."""
    engine = current_engine()
    with engine.db.transaction() as session:
        context = repo.run_context(session, request_id, component_id, index, round)
        cancel = context.request.cancel_requested_at is not None
        if context.run is not None:
            return cancel
        _record_running(
            session,
            engine,
            context.component,
            None,
            prepared,
            index=index,
            round=round,
            start_component=fused,
        )
    engine.hub.notify(request_id)
    return cancel


def _finish_action(
    request_id: str,
    component_id: str,
    index: int,
    round: int,
    prepared: Prepared,
    result: ActionResult,
    *,
    fused: bool = False,
    last: bool = False,
) -> ActionOutcome:
    engine = current_engine()
    settled = None
    assert prepared.action is not None
    with engine.db.transaction() as session:
        context = repo.run_context(session, request_id, component_id, index, round)
        request, component, run = context.request, context.component, context.run
        if run is None:  # it answered before it was recorded as running: recorded now, with its outcome
            run = _record_running(
                session, engine, component, None, prepared, index=index, round=round, start_component=fused
            )
        elif run.state != "running":
            return {"state": run.state}
        log_events(session, engine, run, result)
        error: dict[str, Any] | None = result.error.to_dict() if result.error is not None else None
        outputs: dict[str, Any] = {}
        if error is None:
            try:
                outputs = extract_outputs(prepared.action, result.outputs)
            except PaoError as exc:
                error = {"message": exc.message, "failureClass": "configuration", "retryable": False}
        if error is not None:
            state = fail_or_cancel_run(session, engine, run, component, error)
        else:
            if run.type == "jira-ticket":
                run.ticket_key = result.outputs.get("key")
                run.ticket_url = result.outputs.get("url")
            complete_run(
                session, engine, request, component, run, outputs, message=f"{action_label(run)} completed"
            )
            state = "completed"
        if fused and (last or state != "completed"):
            settled = _close_fused(
                session, engine, request, component, state, others_completed=context.others_completed
            )
    engine.hub.notify(request_id)
    return _outcome(state, settled)


def load_run(
    session: Session, request_id: str, component_id: str, index: int, round: int
) -> tuple[RequestRow, ComponentRow, ActionRunRow]:
    """The request (locked for the update), component and action run of one attempt."""
    context = repo.run_context(session, request_id, component_id, index, round)
    assert context.run is not None
    return context.request, context.component, context.run


def cancel_requested(request_id: str) -> bool:
    """Whether the request was cancelled (or is gone): read by long-running actions and waits."""
    with current_engine().db.reading() as session:
        request = repo.get_request(session, request_id)
        return request is None or request.cancel_requested_at is not None


def component_workspace(engine: Engine, request_id: str, component_id: str) -> Path:
    """One workspace per component, shared by its actions (as Backstage shares one per task): git-commit
    commits what cookiecutter rendered one action earlier. (L)"""
    return engine.workspace / request_id / component_id


async def run_cancellable(
    engine: Engine,
    request_id: str,
    prepared: Prepared,
    workspace: Path,
    *,
    when_slow: Callable[[], bool] | None = None,
) -> ActionResult:
    """Run the prepared action; a cancel of its request (this process or another) sets its `cancelled`.
    `when_slow` is called after RUNNING_NOTICE_SECONDS instead of the first cancel check (it says whether
    the request was cancelled)."""
    assert prepared.action is not None
    cancelled = asyncio.Event()
    entry = (asyncio.get_running_loop(), cancelled)
    engine.cancel_events[request_id].add(entry)
    task = asyncio.ensure_future(
        run_action(
            engine.registry.require(f"pao:{prepared.action.type}"),
            prepared.input,
            workspace=workspace,
            attempt_key=prepared.key,
            secrets={f"secret{i}": value for i, value in enumerate(sorted(prepared.secrets))},
            cancelled=cancelled,
            metadata=prepared.metadata,
        )
    )
    try:
        while True:
            wait = RUNNING_NOTICE_SECONDS if when_slow is not None else CANCEL_CHECK_SECONDS
            done, _ = await asyncio.wait({task}, timeout=wait)
            if done:
                return task.result()
            if when_slow is not None:
                if when_slow():
                    cancelled.set()
                when_slow = None
            elif not cancelled.is_set() and await asyncio.to_thread(cancel_requested, request_id):
                cancelled.set()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        engine.cancel_events[request_id].discard(entry)
        if not engine.cancel_events[request_id]:
            engine.cancel_events.pop(request_id, None)


async def execute_action(
    request_id: str, component_id: str, index: int, round: int, *, fused: bool = False, last: bool = False
) -> ActionOutcome:
    """Run one action attempt: reuse it if done, render its input, run it, record the outcome."""
    engine = current_engine()
    prepared = prepare_action(request_id, component_id, index, round, fused=fused, last=last, record=False)
    if prepared.state != "running" or prepared.action is None:
        return _outcome(prepared.state, prepared.request_state)
    result = await run_cancellable(
        engine,
        request_id,
        prepared,
        component_workspace(engine, request_id, component_id),
        when_slow=lambda: record_running(request_id, component_id, index, round, prepared, fused=fused),
    )
    return _finish_action(request_id, component_id, index, round, prepared, result, fused=fused, last=last)


@DBOS.step(name="pao.run_action")
async def run_action_step(
    request_id: str, component_id: str, index: int, round: int, fused: bool = False, last: bool = False
) -> ActionOutcome:
    """One action attempt as a DBOS step: the action's state (completed/failed/cancelled), and `request`
    when the step also completed the request.

    `fused`: the step also starts the component and, when the action is its last or does not complete,
    ends it — so a component of default actions costs one step per action."""
    return await execute_action(request_id, component_id, index, round, fused=fused, last=last)
