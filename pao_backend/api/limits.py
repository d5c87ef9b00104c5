"""A request body larger than `Settings.max_request_bytes` is refused with 413 before PAO holds it.

A declared Content-Length above the limit is answered at once, without reading the body; a chunked body
is counted as it arrives and refused at the first byte over the limit (FastAPI re-raises the
HTTPException from the body read, and api/errors.py renders it in Backstage's error shape).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pao_backend.api.errors import error_body


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
        if declared.isdigit() and int(declared) > self.limit:
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
