"""The remote-invoke router: list actions (Backstage /v2/actions shape) and run one with workspace files.

    GET  /api/pao/v1/actions
         -> [{id, description, examples, schema:{input, output}, supportsDryRun}]
    POST /api/pao/v1/actions/{action_id}:invoke   {input, secrets?, files?, dryRun?, attemptKey?}
         -> 200 {output, logs:[{level, message, timestamp}], files:[{path, base64Content, executable}]}
         -> 4xx/5xx {error:{name, message}, request:{method, url}, response:{statusCode},
                     failureClass, retryable, errors?, details?}  (Backstage's error body; secrets masked)

The package's only FastAPI import. `authorize(request, action_id | None)` may raise to refuse the call,
and may return metadata (e.g. `{"user": "user:default/jdoe"}`) that the action receives in ctx.metadata.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import inspect
import shutil
import stat
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from scaffolder_actions._errors import ActionError, FailureClass
from scaffolder_actions._registry import ActionRegistry
from scaffolder_actions._run import run_action, validation_errors

PREFIX = "/api/pao/v1/actions"

Authorize = Callable[[Request, str | None], Awaitable[Mapping[str, Any] | None] | Mapping[str, Any] | None]

STATUS_BY_FAILURE: dict[FailureClass, int] = {
    "invalid_input": 400,
    "credentials_refused": 502,
    "backend_rejected": 422,
    "backend_unavailable": 503,
    "timeout": 504,
    "ticket_rejected": 409,
    "configuration": 500,
    "cancelled": 409,
}


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class WorkspaceFile(_Wire):
    path: str = Field(min_length=1)
    base64_content: str
    executable: bool = False


class InvokeRequest(_Wire):
    input: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    files: list[WorkspaceFile] = Field(default_factory=list)
    dry_run: bool = False
    attempt_key: str | None = Field(None, min_length=1, max_length=500)


def _error_body(request: Request, status: int, name: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": {"name": name, "message": message},
        "request": {"method": request.method, "url": request.url.path},
        "response": {"statusCode": status},
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _input_error(request: Request, message: str, errors: list[dict[str, str]]) -> JSONResponse:
    body = _error_body(
        request, 400, "InputError", message, failureClass="invalid_input", retryable=False, errors=errors
    )
    return JSONResponse(body, status_code=400)


def _action_error(request: Request, error: ActionError) -> JSONResponse:
    status = STATUS_BY_FAILURE.get(error.failure_class, 500)
    extra: dict[str, Any] = {"failureClass": error.failure_class, "retryable": error.retryable}
    details = dict(error.details)
    if "errors" in details:
        extra["errors"] = details.pop("errors")
    if details:
        extra["details"] = details
    name = type(error).__name__
    return JSONResponse(_error_body(request, status, name, error.message, **extra), status_code=status)


def _safe_relative(path: str) -> PurePosixPath | None:
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or pure.parts[0] == ".git":
        return None
    return pure


def _write_files(workspace: Path, files: list[WorkspaceFile]) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for index, entry in enumerate(files):
        pure = _safe_relative(entry.path)
        if pure is None:
            errors.append({"path": f"files.{index}.path", "message": "must be a relative path without `..`"})
            continue
        try:
            content = base64.b64decode(entry.base64_content, validate=True)
        except (binascii.Error, ValueError):
            errors.append({"path": f"files.{index}.base64Content", "message": "is not valid base64"})
            continue
        target = workspace / pure
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        if entry.executable:
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return errors


def _read_files(workspace: Path) -> list[dict[str, Any]]:
    files = []
    for path in sorted(workspace.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        files.append(
            {
                "path": path.relative_to(workspace).as_posix(),
                "base64Content": base64.b64encode(path.read_bytes()).decode(),
                "executable": bool(path.stat().st_mode & stat.S_IXUSR),
            }
        )
    return files


async def _watch_disconnect(request: Request, cancelled: asyncio.Event) -> None:
    """Cancel the run when the caller goes away (Backstage aborts its fetch on task cancel)."""
    while not cancelled.is_set():
        if await request.is_disconnected():
            cancelled.set()
            return
        await asyncio.sleep(0.25)


def create_actions_router(
    registry: ActionRegistry,
    *,
    workspace_root: Path,
    authorize: Authorize | None = None,
) -> APIRouter:
    """The router; each invocation gets a fresh workspace under `workspace_root`, removed afterwards."""
    router = APIRouter(tags=["actions"])

    async def check(request: Request, action_id: str | None) -> dict[str, Any]:
        if authorize is None:
            return {}
        granted = authorize(request, action_id)
        if inspect.isawaitable(granted):
            granted = await granted
        return dict(granted or {})

    @router.get(PREFIX, summary="The actions PAO can run, in Backstage's /v2/actions shape")
    async def list_actions(request: Request) -> list[dict[str, Any]]:
        await check(request, None)
        return [
            {**action.describe(), "supportsDryRun": action.supports_dry_run} for action in registry.list()
        ]

    @router.post(
        PREFIX + "/{action_id}:invoke",
        summary="Run one action with input, secrets and workspace files; returns outputs, logs and files",
        response_model=None,
    )
    async def invoke(action_id: str, request: Request) -> JSONResponse:
        action = registry.get(action_id)
        if action is None:
            known = ", ".join(a.id for a in registry.list()) or "none"
            body = _error_body(request, 404, "NotFoundError", f"no action {action_id!r} (known: {known})")
            return JSONResponse(body, status_code=404)
        metadata = await check(request, action_id)
        try:
            payload = await request.json()
        except ValueError:
            return _input_error(
                request, "the body is not JSON", [{"path": "body", "message": "invalid JSON"}]
            )
        try:
            call = InvokeRequest.model_validate(payload)
        except ValidationError as exc:
            errors = validation_errors(exc)
            summary = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
            return _input_error(request, f"invalid invoke request: {summary}", errors)

        workspace_root.mkdir(parents=True, exist_ok=True)
        workspace = Path(tempfile.mkdtemp(prefix="invoke-", dir=workspace_root))
        try:
            file_errors = await asyncio.to_thread(_write_files, workspace, call.files)
            if file_errors:
                summary = "; ".join(f"{e['path']}: {e['message']}" for e in file_errors)
                return _input_error(request, f"invalid workspace files: {summary}", file_errors)
            cancelled = asyncio.Event()
            watcher = asyncio.create_task(_watch_disconnect(request, cancelled))
            try:
                result = await run_action(
                    action,
                    call.input,
                    workspace=workspace,
                    attempt_key=call.attempt_key or f"invoke-{uuid.uuid4()}",
                    secrets=call.secrets,
                    dry_run=call.dry_run,
                    cancelled=cancelled,
                    metadata={"via": "invoke", **metadata},
                )
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if result.error is not None:
                return _action_error(request, result.error)
            # outputs and logs come back redacted from run_action; files are the action's product, as is.
            body = {
                "output": result.outputs,
                "logs": [line.to_dict() for line in result.logs],
                "files": await asyncio.to_thread(_read_files, workspace),
            }
            return JSONResponse(body)
        finally:
            shutil.rmtree(workspace, ignore_errors=True)

    return router
