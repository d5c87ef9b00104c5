"""A real HTTP backend on loopback with failures on demand, for rest-api tests.

    backend = RestBackend().start()          # 127.0.0.1, ephemeral port, own thread
    backend.script("/instances", [Reply(500), Reply(201, {"id": "i-1"})])   # first call 500, then 201 forever
    backend.requests                         # every request seen: method, path, headers, body
    backend.stop()

Unscripted paths answer: POST/PUT/PATCH → 201 `{"id": "res-<n>", **json body}`, others → 200 `{"path": ...}`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow backend)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: str
    client: str = ""  # the caller's address and port: one per connection


class RestBackend:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, path: str, replies: list[Reply]) -> None:
        """Replies for `path` (without query), consumed in order; the last one repeats."""
        with self._lock:
            self._scripts[path] = list(replies)

    def seen(self, path: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0] == path]

    def _next_reply(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            replies = self._scripts.get(seen.path.split("?")[0])
            if replies:
                return replies.pop(0) if len(replies) > 1 else replies[0]
            count = len(self.requests)
        if seen.method in ("POST", "PUT", "PATCH"):
            try:
                payload = json.loads(seen.body) if seen.body else {}
            except ValueError:
                payload = {"text": seen.body}
            body = {"id": f"res-{count}", **payload} if isinstance(payload, dict) else {"id": f"res-{count}"}
            return Reply(201, body)
        return Reply(200, {"path": seen.path})

    def start(self) -> RestBackend:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per response and no Nagle: otherwise delayed ACKs add ~40 ms per keep-alive call.
            wbufsize = -1
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                seen = Seen(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=raw.decode("utf-8", "replace"),
                    client=f"{self.client_address[0]}:{self.client_address[1]}",
                )
                reply = backend._next_reply(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.body is None:
                    payload, content_type = b"", None
                elif isinstance(reply.body, str):
                    payload, content_type = reply.body.encode(), "text/plain; charset=utf-8"
                else:
                    payload, content_type = json.dumps(reply.body).encode(), "application/json"
                try:
                    self.send_response(reply.status)
                    if content_type and "content-type" not in {k.lower() for k in reply.headers}:
                        self.send_header("Content-Type", content_type)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
