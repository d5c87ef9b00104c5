"""Escalation: a failed automatic component runs its manual (ticket) path, with the failure attached.

`escalate(...)` (the service behind POST /api/pao/v1/requests/{id}/escalate) moves the request
failed → escalated, swaps the component's action list for its `manual_actions`, makes it pending in a new
round, and tells the request workflow (control op "escalate"), which starts it like any pending component.
The jira-ticket step then finds the component escalated (`escalation_context`) and puts what was tried,
the error and the request link into the ticket's description. The request completes when the ticket is
done, or fails again (ticket_rejected) when the team declines it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from dbos import DBOS
from sqlalchemy import select
from sqlalchemy.orm import Session

from pao_backend.errors import ConflictError, NotAllowedError
from pao_backend.orchestration import events
from pao_backend.orchestration import steps as engine_steps
from pao_backend.orchestration.engine import Engine
from pao_backend.orchestration.states import check_operation
from pao_backend.orchestration.workflows import CONTROL_TOPIC
from pao_backend.persistence import requests as repo
from pao_backend.persistence.tables import ActionRunRow, ComponentRow


def is_escalated(component: ComponentRow) -> bool:
    """The component runs its manual path because a person escalated its automatic one."""
    return (
        component.mode == "automatic"
        and bool(component.manual_actions)
        and list(component.actions) == list(component.manual_actions)
    )


def _tried(runs: Sequence[ActionRunRow]) -> list[str]:
    lines = []
    for run in runs:
        shown = run.input_display or {}
        target = " ".join(str(shown[k]) for k in ("method", "url") if shown.get(k)) or run.type
        outcome = f"{run.failure_class}: {run.error}" if run.error else run.state
        lines.append(f"{run.type} {target} (attempt {run.attempt + 1}) — {outcome}")
    return lines


def escalation_context(session: Session, *, request_id: str, component_id: str) -> dict[str, Any] | None:
    """What the escalated ticket carries: the automatic runs tried and the error; None if not escalated."""
    component = repo.require_component(session, request_id, component_id)
    if not is_escalated(component):
        return None
    runs = list(
        session.scalars(
            select(ActionRunRow)
            .where(
                ActionRunRow.request_id == request_id,
                ActionRunRow.component_id == component_id,
                ActionRunRow.type != "jira-ticket",
            )
            .order_by(ActionRunRow.attempt, ActionRunRow.index)
        )
    )
    failed = [r for r in runs if r.state == "failed"]
    last = failed[-1] if failed else None
    error = {
        "failureClass": last.failure_class if last else "configuration",
        "message": last.error if last else "the automatic path failed",
    }
    return {"tried": _tried(runs), "error": error, "itemId": component.item_id}


async def escalate(
    *,
    engine: Engine,
    request_id: str,
    actor: str,
    actor_teams: Sequence[str] = (),
    admin: bool = False,
    component_id: str | None = None,
) -> dict[str, Any]:
    """Run the manual path of the failed automatic component(s) of a failed request."""
    from pao_backend.orchestration.service import summary

    with engine.db.transaction() as session:
        request = repo.require_request(session, request_id, for_update=True)
        verdict = check_operation(request.state, "escalate")
        if not verdict.accepted:
            raise ConflictError(f"request {request_id}: {verdict.reason}", details={"reason": verdict.reason})
        failed = [c for c in repo.components(session, request_id) if c.state == "failed"]
        if component_id is not None:
            failed = [c for c in failed if c.component_id == component_id]
            if not failed:
                raise ConflictError(
                    f"request {request_id} has no failed component {component_id!r} to escalate",
                    details={"reason": "not failed"},
                )
        escalatable = [
            c for c in failed if c.mode == "automatic" and c.manual_actions and not is_escalated(c)
        ]
        if not escalatable:
            reason = (
                "only a failed automatic component can be escalated (its manual ticket path runs); "
                "this one is manual or was escalated already: retry, abort or cancel instead"
            )
            guidance = request.guidance or None
            raise ConflictError(
                f"request {request_id}: {reason}",
                details={
                    "reason": reason,
                    "guidance": guidance,
                    "escalation": guidance.get("escalation") if isinstance(guidance, dict) else None,
                },
            )
        allowed = admin or actor == request.requester or all(c.team in actor_teams for c in escalatable)
        if not allowed:
            raise NotAllowedError(
                f"{actor} may not escalate request {request_id}: "
                "only the requester, the owning team or an admin may"
            )
        engine_steps.set_request_state(session, engine, request, "escalated", reason=f"escalated by {actor}")
        for component in escalatable:
            component.actions = list(component.manual_actions)
            component.round += 1
            engine_steps.set_component_state(
                session, engine, component, "pending", reason="escalated: the owning team's ticket path runs"
            )
            events.append(
                session,
                engine.db,
                request_id=request_id,
                component_id=component.component_id,
                type=events.COMPONENT,
                body={
                    "componentId": component.component_id,
                    "state": "pending",
                    "escalated": True,
                    "error": component.error,
                    "message": f"{component.component_id} escalated by {actor}: a ticket for team "
                    f"{component.team or '(owner)'} will be filed with the failure attached",
                },
            )
            component.error = None
        request.error = None
        request.guidance = None
        repo.add_audit(
            session,
            actor=actor,
            action="request.escalate",
            target_type="request",
            target_id=request_id,
            details={"components": [c.component_id for c in escalatable]},
        )
        result = summary(request)
    engine.hub.notify(request_id)
    await DBOS.send_async(
        request_id,
        {"op": "escalate"},
        topic=CONTROL_TOPIC,
        idempotency_key=f"{request_id}:escalate:{uuid.uuid4()}",
    )
    return result
