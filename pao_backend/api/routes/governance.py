"""Governance API: the change calendar, approvals of held requests, metrics and team readiness.

Thin: each route parses, calls one governance function and returns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from pao_backend.api.deps import CatalogDep, CatalogServiceDep, CurrentUserDep, SettingsDep
from pao_backend.errors import NotFoundError
from pao_backend.governance import gate
from pao_backend.governance.calendar_views import calendar_document
from pao_backend.governance.service import metrics_document, teams_document
from pao_backend.orchestration.engine import Engine
from pao_backend.persistence.db import Database

__all__ = ["router"]

router = APIRouter(prefix="/api/pao/v1", tags=["governance"])


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(_engine)]


class ApprovalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field("", max_length=1000, description="Why the change may go ahead now")


@router.get(
    "/calendar", summary="Change calendar: windows, what is frozen now, and a verdict for an offering"
)
def get_calendar(
    catalog: CatalogDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    catalog_id: Annotated[
        str | None, Query(alias="catalogId", description="Verdict for this offering")
    ] = None,
    environment: Annotated[str | None, Query(description="Target environment for the verdict")] = None,
) -> dict[str, Any]:
    return calendar_document(
        store=gate.calendar_store(settings.catalog_dir),
        catalog=catalog,
        now=gate.clock(),
        catalog_id=catalog_id,
        environment=environment or settings.platform.get("environment", ""),
    )


@router.post(
    "/requests/{request_id}/approve",
    summary="Approve a request held by a soft change window (needs the window's role)",
)
async def approve_request(
    request_id: str, engine: EngineDep, user: CurrentUserDep, body: ApprovalCreate | None = None
) -> dict[str, Any]:
    return await gate.approve(
        engine=engine, request_id=request_id, user=user, comment=body.comment if body else ""
    )


@router.get("/requests/{request_id}/calendar", summary="Why the change calendar holds (or held) a request")
def get_request_hold(request_id: str, engine: EngineDep, user: CurrentUserDep) -> dict[str, Any]:
    return {"hold": gate.get_hold(engine=engine, request_id=request_id)}


def _database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DatabaseDep = Annotated[Database, Depends(_database)]


@router.get("/metrics", summary="Platform metrics: adoption, lead time split, failures, retries, automation")
def get_metrics(
    db: DatabaseDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    start: Annotated[
        datetime | None, Query(alias="from", description="Submitted at or after (ISO 8601)")
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="Submitted before (ISO 8601)")] = None,
    team: Annotated[str | None, Query(description="Requests touching this owner team")] = None,
    item: Annotated[
        str | None, Query(description="Requests for this item or bundle (or using the item)")
    ] = None,
) -> dict[str, Any]:
    return metrics_document(
        db=db,
        catalog=catalog,
        catalog_dir=settings.catalog_dir,
        start=_aware(start),
        end=_aware(end),
        team=team,
        item=item,
    )


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.get("/teams", summary="Team readiness: offerings, modes, automation, lead time, tickets, blockers")
def list_team_readiness(
    db: DatabaseDep, service: CatalogServiceDep, settings: SettingsDep, user: CurrentUserDep
) -> dict[str, Any]:
    items = teams_document(
        db=db,
        catalog=service.current,
        findings=service.findings,
        catalog_dir=settings.catalog_dir,
        now=datetime.now(UTC),
    )
    return {"items": items, "totalItems": len(items)}


@router.get("/teams/{team_id}", summary="Readiness of one platform team, with the reasons")
def get_team_readiness(
    team_id: str, db: DatabaseDep, service: CatalogServiceDep, settings: SettingsDep, user: CurrentUserDep
) -> dict[str, Any]:
    catalog = service.current
    if team_id not in catalog.teams:
        raise NotFoundError(f"no platform team {team_id!r} in teams.yaml; list them at GET /api/pao/v1/teams")
    return teams_document(
        db=db,
        catalog=catalog,
        findings=service.findings,
        catalog_dir=settings.catalog_dir,
        now=datetime.now(UTC),
        team_id=team_id,
    )[0]
