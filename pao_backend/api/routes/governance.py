"""Governance API: the change calendar, approvals of held requests, metrics and team readiness.

Thin: each route parses, calls one governance function and returns.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from pao_backend.api.deps import CatalogDep, CurrentUserDep, SettingsDep
from pao_backend.governance import gate
from pao_backend.governance.calendar_views import calendar_document
from pao_backend.orchestration.engine import Engine

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
