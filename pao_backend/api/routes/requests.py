"""/api/pao/v1/requests: submit, list, read, events (JSON and SSE), retry, abort, cancel. Thin: each
route parses, calls one service function and returns."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sse_starlette import EventSourceResponse, ServerSentEvent

from pao_backend.api.deps import MAX_SQL_INTEGER, CatalogDep, CurrentUserDep
from pao_backend.errors import InputError
from pao_backend.orchestration import service
from pao_backend.orchestration.engine import Engine
from pao_backend.orchestration.states import RequestState
from pao_backend.persistence.requests import RequestFilter

router = APIRouter(prefix="/api/pao/v1/requests", tags=["requests"])


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


class RequestCreate(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    catalog_id: str = Field(min_length=1, max_length=200, description="Item or bundle id")
    version: str | None = Field(None, description="The offering version the values were made for")
    values: dict[str, Any] = Field(
        default_factory=dict, description="Form values: {name, <group>: {<field>: v}}"
    )
    secrets: dict[str, Any] | None = Field(
        None,
        description='Password values: {"<group>.<field>": text} or {"<group>": {"<field>": text}}; never '
        "stored in clear or shown",
    )

    @field_validator("secrets")
    @classmethod
    def _secrets_are_text(cls, secrets: dict[str, Any] | None) -> dict[str, Any] | None:
        # (Q) A number or object here used to be stored as its Python str() and accepted.
        for key, value in (secrets or {}).items():
            inner = value.items() if isinstance(value, dict) else [(None, value)]
            for field, secret in inner:
                if secret is not None and not isinstance(secret, str):
                    name = f"{key}.{field}" if field is not None else key
                    raise ValueError(f"secret {name!r} must be text (a JSON string)")
        return secrets


@router.post("", status_code=201, summary="Submit a request (repeat with the same Idempotency-Key: 200)")
async def create_request(
    body: RequestCreate,
    response: Response,
    engine: EngineDep,
    catalog: CatalogDep,
    user: CurrentUserDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> dict[str, Any]:
    submitted = await service.submit(
        engine=engine,
        catalog=catalog,
        user=user,
        catalog_id=body.catalog_id,
        version=body.version,
        values=body.values,
        secrets=body.secrets,
        idempotency_key=idempotency_key,
    )
    if not submitted.created:
        response.status_code = 200
    return submitted.request


@router.get("", summary="List requests (filters: mine, team, status, item, from/to; paging)")
def list_requests(
    engine: EngineDep,
    user: CurrentUserDep,
    mine: bool = False,
    team: Annotated[str | None, Query(description="Requests made by members of this team")] = None,
    status: Annotated[
        list[str] | None, Query(description="Request states (repeat or comma-separate)")
    ] = None,
    item: Annotated[str | None, Query(description="Catalog item or bundle id")] = None,
    created_from: Annotated[datetime | None, Query(alias="from")] = None,
    created_to: Annotated[datetime | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
) -> dict[str, Any]:
    states = [s for value in status or [] for s in value.split(",") if s]
    # (Q) An unknown state used to answer an empty list, as if no request were in it.
    unknown = [s for s in states if s not in RequestState.__members__.values()]
    if unknown:
        raise InputError(f"unknown request state {unknown[0]!r}; use one of {', '.join(RequestState)}")
    where = RequestFilter(
        requester=user.ref if mine else None,
        teams=[team] if team else (),
        states=states,
        catalog_id=item,
        created_from=created_from,
        created_to=created_to,
        text=q,
    )
    return service.list_requests(engine=engine, where=where, limit=limit, offset=offset)


@router.get("/{request_id}", summary="A request with its components, actions, outputs and timings")
def get_request(request_id: str, engine: EngineDep, user: CurrentUserDep) -> dict[str, Any]:
    return service.get_request(engine=engine, request_id=request_id)


@router.get("/{request_id}/events", summary="Events after `after` (an event id), oldest first")
def list_events(
    request_id: str,
    engine: EngineDep,
    user: CurrentUserDep,
    after: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    return service.list_events(engine=engine, request_id=request_id, after=after, limit=limit)


@router.get(
    "/{request_id}/events/stream", summary="Live events as Server-Sent Events (Last-Event-ID replays)"
)
async def stream_events(
    request_id: str,
    engine: EngineDep,
    user: CurrentUserDep,
    after: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    service.request_state(engine=engine, request_id=request_id)  # 404 before the stream opens
    start = after
    digits = last_event_id is not None and last_event_id.isascii() and last_event_id.isdigit()
    if last_event_id and digits and int(last_event_id) <= MAX_SQL_INTEGER:
        start = int(last_event_id)

    async def frames() -> AsyncIterator[ServerSentEvent]:
        async for event in engine.hub.subscribe(request_id, after=start):
            if event is None:
                yield ServerSentEvent(comment="keep-alive")
                continue
            yield ServerSentEvent(data=json.dumps(event), event=event["type"], id=str(event["id"]))
            if event["type"] == "completion" and event["body"].get("state") in (
                "completed",
                "aborted",
                "cancelled",
            ):
                return

    return EventSourceResponse(
        frames(), ping=15, headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"}
    )


@router.post("/{request_id}/retry", summary="Resume a failed request from the failed action")
async def retry(request_id: str, engine: EngineDep, user: CurrentUserDep) -> dict[str, Any]:
    return await service.retry(engine=engine, request_id=request_id, actor=user.ref)


@router.post("/{request_id}/abort", summary="Stop a failed request for good")
async def abort(request_id: str, engine: EngineDep, user: CurrentUserDep) -> dict[str, Any]:
    return await service.abort(engine=engine, request_id=request_id, actor=user.ref)


@router.post("/{request_id}/cancel", summary="Cancel a request; running actions stop")
async def cancel(request_id: str, engine: EngineDep, user: CurrentUserDep) -> dict[str, Any]:
    return await service.cancel(engine=engine, request_id=request_id, actor=user.ref)
