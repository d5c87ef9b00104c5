"""/api/pao/v1/inbox (the built-in inbox) and /api/pao/v1/webhooks/jira. Thin: one service call per route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from pao_backend.api.deps import CurrentUserDep, SettingsDep
from pao_backend.auth import Identity
from pao_backend.orchestration.engine import Engine
from pao_backend.orchestration.escalation import escalate
from pao_backend.persistence.db import Database
from pao_backend.ticketing.service import (
    Caller,
    get_inbox_ticket,
    handle_jira_webhook,
    list_inbox,
    reject_inbox_ticket,
    resolve_inbox_ticket,
    verify_webhook_secret,
)
from pao_backend.ticketing.waits import Notify, dbos_notify

router = APIRouter(prefix="/api/pao/v1", tags=["inbox"])


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _notify(request: Request) -> Notify:
    notify: Notify = getattr(request.app.state, "ticket_notify", None) or dbos_notify
    return notify


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


DbDep = Annotated[Database, Depends(_db)]
EngineDep = Annotated[Engine, Depends(_engine)]
NotifyDep = Annotated[Notify, Depends(_notify)]


def _caller(user: Identity) -> Caller:
    return Caller(ref=user.ref, teams=(*user.platform_teams, *user.teams), admin=user.is_admin)


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outputs: dict[str, Any] = Field(
        default_factory=dict, description="Every declared output key, as a string"
    )


class EscalateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    component_id: str | None = Field(
        default=None, alias="componentId", description="The failed component (default: every failed one)"
    )


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(description="Why the team will not do it; the requester reads this")


@router.get("/inbox", summary="Open tickets of a team (default: every team you work for)")
def inbox(
    db: DbDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    team: str | None = None,
    include_closed: Annotated[bool, Query(alias="includeClosed")] = False,
) -> dict[str, Any]:
    tickets = list_inbox(
        db, base_url=settings.base_url, caller=_caller(user), team=team, include_closed=include_closed
    )
    return {"items": [t.to_dict() for t in tickets], "totalItems": len(tickets)}


@router.get("/inbox/{ticket_id}", summary="One inbox ticket")
def inbox_ticket(ticket_id: str, db: DbDep, settings: SettingsDep, user: CurrentUserDep) -> dict[str, Any]:
    return get_inbox_ticket(db, base_url=settings.base_url, key=ticket_id, caller=_caller(user)).to_dict()


@router.post("/inbox/{ticket_id}/resolve", summary="Done: enter the declared outputs; the request moves on")
async def resolve(
    ticket_id: str,
    body: ResolveBody,
    db: DbDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> dict[str, Any]:
    ticket = await resolve_inbox_ticket(
        db,
        key=ticket_id,
        outputs=body.outputs,
        caller=_caller(user),
        base_url=settings.base_url,
        notify=notify,
    )
    return ticket.to_dict()


@router.post("/inbox/{ticket_id}/reject", summary="Won't do, with a reason; the component fails")
async def reject(
    ticket_id: str,
    body: RejectBody,
    db: DbDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    notify: NotifyDep,
) -> dict[str, Any]:
    ticket = await reject_inbox_ticket(
        db, key=ticket_id, reason=body.reason, caller=_caller(user), base_url=settings.base_url, notify=notify
    )
    return ticket.to_dict()


@router.post(
    "/webhooks/jira", status_code=202, tags=["webhooks"], summary="JIRA issue events (shared secret)"
)
async def jira_webhook(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    notify: NotifyDep,
    token: str | None = None,
    secret: Annotated[str | None, Header(alias="X-PAO-Webhook-Secret")] = None,
) -> dict[str, Any]:
    expected = settings.jira_webhook_secret.get_secret_value() if settings.jira_webhook_secret else None
    verify_webhook_secret(expected, header=secret, token=token)
    return await handle_jira_webhook(db, payload=await request.json(), notify=notify)


@router.post(
    "/requests/{request_id}/escalate",
    tags=["requests"],
    summary="Run a failed automatic component's manual (ticket) path with the failure attached",
)
async def escalate_request(
    request_id: str, engine: EngineDep, user: CurrentUserDep, body: EscalateBody | None = None
) -> dict[str, Any]:
    return await escalate(
        engine=engine,
        request_id=request_id,
        actor=user.ref,
        actor_teams=(*user.platform_teams, *user.teams),
        admin=user.is_admin,
        component_id=body.component_id if body else None,
    )
