"""What PAO refuses in any request body before a route sees it.

A body larger than `Settings.max_request_bytes` is refused with 413 before PAO holds it.

A declared Content-Length above the limit is answered at once, without reading the body; a chunked body
is counted as it arrives and refused at the first byte over the limit (FastAPI re-raises the
HTTPException from the body read, and api/errors.py renders it in Backstage's error shape).

Text PAO cannot store or send (a NUL character, half of a surrogate pair) anywhere in a JSON body is a 422
naming the place (`refuse_unstorable_text`, an app-wide dependency).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pao_backend.api.errors import error_body
from pao_backend.errors import InputError

_SURROGATE = re.compile("[\ud800-\udfff]")


def too_large_message(limit: int) -> str:
    return (
        f"the request body is larger than {limit} bytes ({limit / 1024 / 1024:.1f} MiB), the most PAO "
        "accepts; send a smaller body (a file field takes at most what its form says), or raise "
        "PAO_MAX_REQUEST_BYTES on the server"
    )


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over `limit` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            # Read outside a route (which would have answered through the error handlers).
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = error_body(Request(scope), 413, "PayloadTooLargeError", too_large_message(self.limit))
        # The client may still be sending: close the connection rather than read what we refuse.
        await JSONResponse(body, status_code=413, headers={"Connection": "close"})(scope, receive, send)


_NOT_TEXT = {
    "nul": "contains the NUL character (\\u0000), which PAO cannot store; remove it",
    "surrogate": "contains half of a UTF-16 surrogate pair (e.g. \\ud800), which is no character; "
    "send valid Unicode text",
}


def _flaw(text: str) -> str | None:
    if "\x00" in text:
        return _NOT_TEXT["nul"]
    if _SURROGATE.search(text):
        return _NOT_TEXT["surrogate"]
    return None


def text_problem(value: Any) -> tuple[str, str] | None:
    """`(path, message)` of the first text in `value` (parsed JSON) PAO cannot store or send, else None.

    JSON may escape a NUL character (`\\u0000`, which PostgreSQL cannot store in text) or half of a
    surrogate pair (`\\ud800`, which is no character and cannot be encoded as UTF-8 for a database, a
    ticket or an HTTP body)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str) and (flaw := _flaw(item)) is not None:
            return where or "body", flaw
        if isinstance(item, dict):
            for key, inner in item.items():
                path = f"{where}.{key}" if where else str(key)
                if (flaw := _flaw(str(key))) is not None:
                    return path, f"(a key) {flaw}"
                stack.append((path, inner))
        elif isinstance(item, list):
            stack.extend(
                (f"{where}.{index}" if where else str(index), inner) for index, inner in enumerate(item)
            )
    return None


async def refuse_unstorable_text(request: Request) -> None:
    """App-wide dependency: path and query parameters and a JSON body (parsed once by FastAPI;
    `request.json()` returns that) hold only text PAO can store and send; otherwise 422 naming the place."""
    problem = text_problem({**request.path_params, **dict(request.query_params.multi_items())})
    if problem is None and "json" in request.headers.get("content-type", ""):
        try:
            problem = text_problem(await request.json())
        except ValueError:
            return  # malformed JSON: FastAPI answers it
    if problem is not None:
        path, message = problem
        raise InputError(
            f"invalid request: {path} {message}",
            details={"status": 422, "errors": [{"path": path, "message": message}]},
        )
