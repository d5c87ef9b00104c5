"""Serve an ASGI app with real uvicorn on 127.0.0.1:0 in a thread (for Node clients and benches)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn


@contextlib.contextmanager
def serve(app: Any, *, lifespan: str = "off", log_level: str = "warning") -> Iterator[str]:
    """Yield the base URL (`http://127.0.0.1:<port>`) while `app` is served; stop it afterwards."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level=log_level, lifespan=lifespan)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-pao", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start; see the log above")
        threading.Event().wait(0.01)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
