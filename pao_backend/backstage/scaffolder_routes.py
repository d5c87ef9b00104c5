"""`/api/scaffolder/v2` as ScaffolderClient calls it: parameter schemas, dry-run, tasks, actions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from pao_backend.api.deps import (
    MAX_SQL_INTEGER,
    CatalogDep,
    CurrentUserDep,
    SettingsDep,
    get_current_user,
)
from pao_backend.api.errors import error_body
from pao_backend.api.routes.requests import EngineDep
from pao_backend.backstage.catalog_routes import EntityIndexDep, json_response
from pao_backend.backstage.dry_run import dry_run_result, preview_plan, preview_system
from pao_backend.backstage.entities import EntityIndex, parse_entity_ref
from pao_backend.backstage.parameters import parameter_schema, validate_parameters
from pao_backend.backstage.tasks import (
    backstage_events,
    latest_completion_id,
    order_tasks,
    serialize_task,
    sse_frame,
    states_for_statuses,
    task_event,
)
from pao_backend.backstage.translate import ANNOTATION_CATALOG_ID, TEMPLATE_API_VERSION
from pao_backend.catalog.values import join_secrets, validate_values
from pao_backend.errors import InputError, NotFoundError, UnavailableError
from pao_backend.orchestration import service
from pao_backend.orchestration.engine import Engine
from pao_backend.persistence.requests import RequestFilter
from pao_backend.settings import Settings
from scaffolder_actions import ActionRegistry

__all__ = ["scaffolder_router"]

scaffolder_router = APIRouter(
    prefix="/api/scaffolder/v2", tags=["backstage scaffolder"], dependencies=[Depends(get_current_user)]
)


@scaffolder_router.get(
    "/templates/{namespace}/{kind}/{name}/parameter-schema",
    summary="A Template's form pages (namespace first), as ScaffolderClient.getTemplateParameterSchema",
    responses={
        200: {"description": "`{title, description, steps: [{title, description, schema}]}`"},
        400: {"description": "The kind is not `template`"},
        404: {"description": "No such Template"},
    },
)
def get_parameter_schema(index: EntityIndexDep, namespace: str, kind: str, name: str) -> Response:
    if kind.lower() != "template":
        raise InputError(f"Only template entities can be used as templates, got kind {kind!r}")
    template = index.get(kind, namespace, name)
    if template is None:
        raise NotFoundError(
            f"No entity named '{name}' found, with kind 'template' in namespace '{namespace}'"
        )
    return Response(
        index.derived(template, "parameter-schema", parameter_schema), media_type="application/json"
    )


class DirectoryEntry(BaseModel):
    path: str
    base64Content: str
    executable: bool | None = None


class DryRunRequest(BaseModel):
    template: dict[str, Any] = Field(description="A full scaffolder.backstage.io/v1beta3 Template entity")
    values: dict[str, Any] = Field(
        default_factory=dict, description="Form values, `{name, <groupId>: {...}}`"
    )
    secrets: dict[str, str] | None = Field(default=None, description="Secret values (password fields)")
    directoryContents: list[DirectoryEntry] = Field(default_factory=list)


def _offering_id(template: dict[str, Any]) -> str:
    if (
        template.get("apiVersion") != TEMPLATE_API_VERSION
        or str(template.get("kind", "")).lower() != "template"
        or not isinstance(template.get("spec"), dict)
        or not isinstance(template["spec"].get("steps"), list)
    ):
        raise InputError("Input template is not a template")
    metadata = template.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    offering_id = annotations.get(ANNOTATION_CATALOG_ID) or metadata.get("name")
    if not isinstance(offering_id, str) or not offering_id:
        raise InputError(
            f"the template has no {ANNOTATION_CATALOG_ID} annotation naming a PAO catalog document"
        )
    return offering_id


@scaffolder_router.post(
    "/dry-run",
    summary="Validate values and show every action a request would run, secrets masked; no side effect",
    responses={
        200: {"description": "DryRunResult `{log, output, directoryContents, steps}`"},
        400: {
            "description": "`{errors: [ValidationError]}` (npm jsonschema shape) or a Backstage error body"
        },
    },
)
def dry_run(
    request: Request, body: DryRunRequest, catalog: CatalogDep, settings: SettingsDep, user: CurrentUserDep
) -> Response:
    offering_id = _offering_id(body.template)
    offering = catalog.get_offering(offering_id)
    if offering is None:
        raise InputError(
            f"template {offering_id!r} is not a PAO catalog document; dry-run previews PAO's own Templates"
        )
    # Backstage's check: every page against the whole values (secrets travel apart, masked in values).
    errors = validate_parameters(body.values, body.template)
    if not errors:
        # PAO's checks beyond draft-07 (date bounds, file sizes, password patterns), on the real secrets.
        joined = join_secrets(offering.form, body.values, body.secrets)
        errors = [_as_npm_error(e.path, e.message, e.code) for e in validate_values(offering.form, joined)]
    if errors:
        return _invalid_values(request, offering_id, errors)
    preview = preview_plan(
        catalog,
        offering_id,
        body.values,
        secrets=body.secrets,
        system=preview_system(user, platform=settings.platform, request_id="dry-run"),
        endpoints=settings.resolved_endpoints,
    )
    return json_response(dry_run_result(preview))


def _invalid_values(request: Request, offering_id: str, errors: list[dict[str, Any]]) -> Response:
    """400 `{errors}` as Backstage's scaffolder answers, plus Backstage's error body (`error.message` names
    the fields) so that a client reading it with `ResponseError.fromResponse` shows what to fix. (Q)"""
    fields = [str(e.get("property", "")).removeprefix("instance").lstrip(".") or "values" for e in errors]
    named = "; ".join(
        f"{field} {e.get('message', '')}" for field, e in zip(fields, errors[:10], strict=False)
    )
    message = f"values for {offering_id!r} are invalid: {named}. Fix the fields named and send them again."
    return json_response(
        {**error_body(request, 400, "InputError", message), "errors": errors}, status_code=400
    )


def _as_npm_error(path: str, message: str, code: str) -> dict[str, Any]:
    parts = path.split(".")
    prop = "instance." + path
    return {
        "path": parts,
        "property": prop,
        "message": message,
        "schema": {},
        "instance": None,
        "name": code,
        "argument": None,
        "stack": f"{prop} {message}",
    }


@scaffolder_router.get(
    "/templating-extensions",
    summary="Filters and globals Templates may use; PAO's Templates only hand values to PAO, so none",
)
def templating_extensions() -> dict[str, Any]:
    return {"filters": {}, "globals": {"functions": {}, "values": {}}}


# ---- the task API on PAO requests ---------------------------------------------------------------

LONG_POLL_SECONDS = 30.0
_SSE_HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}


class TaskCreate(BaseModel):
    templateRef: str = Field(description="`template:default/<catalog id>`")
    values: dict[str, Any] = Field(default_factory=dict, description="`{name, <groupId>: {...}}`")
    secrets: dict[str, str] | None = Field(default=None, description="Secret-widget values by field id")


class TaskRetry(BaseModel):
    secrets: dict[str, str] | None = None


def _base_url(settings: Settings) -> str:
    return settings.base_url


def _template_for(index: EntityIndex, ref: str) -> dict[str, Any]:
    parsed = parse_entity_ref(ref, default_kind="template")
    if parsed is None:
        raise InputError(f"invalid templateRef {ref!r}; expected template:<namespace>/<name>")
    kind, namespace, name = parsed
    if kind != "template":
        raise InputError(f"Only template entities can be used as templates, got {ref!r}")
    template = index.get(kind, namespace, name)
    if template is None:
        raise NotFoundError(
            f"No entity named '{name}' found, with kind 'template' in namespace '{namespace}'"
        )
    return template


def _without_token(secrets: dict[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (secrets or {}).items() if k != "backstageToken"}


@scaffolder_router.post(
    "/tasks",
    status_code=201,
    summary="Start a task: submits a PAO request for the Template's catalog document; 201 {id}",
    responses={400: {"description": "`{errors: [ValidationError]}` or a Backstage error body"}},
)
async def create_task(
    request: Request,
    body: TaskCreate,
    index: EntityIndexDep,
    catalog: CatalogDep,
    user: CurrentUserDep,
    engine: EngineDep,
) -> Response:
    template = _template_for(index, body.templateRef)
    offering_id = _offering_id(template)
    offering = catalog.require_offering(offering_id)
    secrets = _without_token(body.secrets)
    errors = validate_parameters(body.values, template)
    if not errors:
        joined = join_secrets(offering.form, body.values, secrets)
        errors = [_as_npm_error(e.path, e.message, e.code) for e in validate_values(offering.form, joined)]
    if errors:
        return _invalid_values(request, offering_id, errors)
    submitted = await service.submit(
        engine=engine, catalog=catalog, user=user, catalog_id=offering_id, values=body.values, secrets=secrets
    )
    return json_response({"id": submitted.request["id"]}, status_code=201)


@scaffolder_router.get("/tasks", summary="List tasks (PAO requests): `{tasks, totalTasks}`")
def list_tasks(
    engine: EngineDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    created_by: Annotated[list[str] | None, Query(alias="createdBy")] = None,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=0)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
    order: Annotated[str | None, Query(description="asc|desc:created_at|status|created_by")] = None,
) -> Response:
    creators = {c.strip().lower() for value in created_by or [] for c in value.split(",") if c.strip()}
    where = RequestFilter(
        requester=next(iter(creators)) if len(creators) == 1 else None,
        states=states_for_statuses(status or []),
    )
    found = service.list_requests(engine=engine, where=where, limit=100_000, offset=0)["items"]
    if len(creators) > 1:
        found = [r for r in found if str(r["requester"]).lower() in creators]
    ordered = order_tasks(found, order)
    page = ordered[offset : offset + limit if limit is not None else None]
    tasks = [
        serialize_task(service.get_request(engine=engine, request_id=r["id"]), base_url=_base_url(settings))
        for r in page
    ]
    return json_response({"tasks": tasks, "totalTasks": len(ordered)})


@scaffolder_router.get(
    "/tasks/{task_id}", summary="One task (PAO request) with its planned steps; no secrets"
)
def get_task(task_id: str, engine: EngineDep, settings: SettingsDep, user: CurrentUserDep) -> Response:
    detail = service.get_request(engine=engine, request_id=task_id)
    return json_response(serialize_task(detail, base_url=_base_url(settings)))


def _read_events(engine: Engine, task_id: str) -> tuple[str, list[dict[str, Any]]]:
    state = service.request_state(engine=engine, request_id=task_id)
    items: list[dict[str, Any]] = service.list_events(engine=engine, request_id=task_id, limit=100_000)[
        "items"
    ]
    return state, items


@scaffolder_router.get(
    "/tasks/{task_id}/eventstream",
    summary="Server-sent task events (`event: <type>` + `data: <json>`); closes after the completion",
    response_class=StreamingResponse,
)
async def stream_task_events(
    task_id: str,
    engine: EngineDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    after: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
) -> StreamingResponse:
    state, history = await asyncio.to_thread(_read_events, engine, task_id)  # 404 before the stream opens
    base_url = _base_url(settings)

    async def frames() -> AsyncIterator[bytes]:
        replay = backstage_events(history, state=state, base_url=base_url, after=after)
        for replayed in replay:
            yield sse_frame(replayed)
            if replayed["type"] == "completion":
                return
        seen = max([after, *(e["id"] for e in history)])
        async for event in engine.hub.subscribe(task_id, after=seen):
            if event is None:
                yield b": keep-alive\n\n"
                continue
            completion_id = None
            if event["type"] == "completion":
                current = await asyncio.to_thread(service.request_state, engine=engine, request_id=task_id)
                completion_id = latest_completion_id([event], current)
            converted = task_event(event, base_url=base_url, completion_id=completion_id)
            if converted is None:
                continue
            yield sse_frame(converted)
            if converted["type"] == "completion":
                return

    return StreamingResponse(frames(), media_type="text/event-stream", headers=_SSE_HEADERS)


@scaffolder_router.get(
    "/tasks/{task_id}/events",
    summary="Task events after `after` (long-poll ≤30 s); the completion is always included",
)
async def poll_task_events(
    task_id: str,
    engine: EngineDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    after: Annotated[int, Query(ge=0, le=MAX_SQL_INTEGER)] = 0,
) -> Response:
    state, history = await asyncio.to_thread(_read_events, engine, task_id)
    base_url = _base_url(settings)
    found = backstage_events(history, state=state, base_url=base_url, after=after)
    if any(e["id"] > after or e["type"] == "completion" for e in found):
        return json_response(found)
    seen = max([after, *(e["id"] for e in history)])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LONG_POLL_SECONDS
    events = cast(
        AsyncGenerator[dict[str, Any] | None, None],
        engine.hub.subscribe(task_id, after=seen, idle_seconds=LONG_POLL_SECONDS),
    )
    try:
        while (remaining := deadline - loop.time()) > 0:
            try:
                event = await asyncio.wait_for(anext(events), timeout=remaining)
            except TimeoutError:
                break
            if event is None:
                break
            state, history = await asyncio.to_thread(_read_events, engine, task_id)
            found = backstage_events(history, state=state, base_url=base_url, after=after)
            if found:
                return json_response(found)
    finally:
        await events.aclose()
    return json_response([])


@scaffolder_router.post(
    "/tasks/{task_id}/cancel", summary="Cancel the task (PAO request): {status: 'cancelled'}"
)
async def cancel_task(task_id: str, engine: EngineDep, user: CurrentUserDep) -> dict[str, str]:
    await service.cancel(engine=engine, request_id=task_id, actor=user.ref)
    return {"status": "cancelled"}


@scaffolder_router.post(
    "/tasks/{task_id}/retry",
    status_code=201,
    summary="Retry a failed task from its failed actions (PAO retry): 201 {id}",
)
async def retry_task(
    task_id: str, engine: EngineDep, user: CurrentUserDep, body: TaskRetry | None = None
) -> dict[str, str]:
    await service.retry(engine=engine, request_id=task_id, actor=user.ref)
    return {"id": task_id}


@scaffolder_router.get(
    "/actions", summary="The actions PAO runs, in Backstage's /v2/actions shape, sorted by id"
)
def list_actions(request: Request) -> list[dict[str, Any]]:
    registry: ActionRegistry | None = getattr(request.app.state, "actions", None)
    if registry is None:
        engine: Engine | None = getattr(request.app.state, "engine", None)
        registry = engine.registry if engine is not None else None
    if registry is None:
        raise UnavailableError("the action registry is not set up yet; PAO is starting")
    return registry.describe()
