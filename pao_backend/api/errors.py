"""The one place that maps errors to HTTP, in Backstage's error body shape.

`{error: {name, message}, request: {method, url}, response: {statusCode}}`, plus `errors` (per-field
problems), `guidance` and `escalation` when the error carries them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pao_backend.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotAllowedError,
    NotFoundError,
    PaoError,
    UnavailableError,
)

_STATUS: dict[type[PaoError], int] = {
    InputError: 400,
    AuthenticationError: 401,
    NotFoundError: 404,
    ConflictError: 409,
    NotAllowedError: 403,
    UnavailableError: 503,
}
_NAMES = {
    400: "InputError",
    401: "AuthenticationError",
    403: "NotAllowedError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    409: "ConflictError",
    413: "PayloadTooLargeError",
    422: "InputError",
    503: "ServiceUnavailableError",
}


def error_body(request: Request, status: int, name: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": {"name": name, "message": message},
        "request": {"method": request.method, "url": str(request.url.path)},
        "response": {"statusCode": status},
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def status_for(exc: PaoError) -> int:
    status = exc.details.get("status")
    if isinstance(status, int):
        return status
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500


async def _pao_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PaoError)
    status = status_for(exc)
    extra = {k: v for k, v in exc.details.items() if k != "status"}
    name = type(exc).__name__ if type(exc) in _STATUS else _NAMES.get(status, type(exc).__name__)
    headers = {"WWW-Authenticate": 'Bearer realm="pao"'} if status == 401 else None
    return JSONResponse(
        error_body(request, status, name, exc.message, **extra), status_code=status, headers=headers
    )


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"path": _location(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in exc.errors()
    ]
    message = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
    return JSONResponse(
        error_body(request, 422, "InputError", f"invalid request: {message}", errors=errors), status_code=422
    )


# FastAPI's words when a body is not UTF-8 or nests too deep for Python's JSON parser: nothing to fix.
_UNPARSED_BODY = "There was an error parsing the body"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    name = _NAMES.get(exc.status_code, "Error")
    message = str(exc.detail)
    if message == _UNPARSED_BODY:
        message = (
            "the request body could not be read: send JSON as UTF-8 text, not nested hundreds of levels "
            "deep (Content-Type: application/json)"
        )
    return JSONResponse(
        error_body(request, exc.status_code, name, message),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PaoError, _pao_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
