"""The demo provisioner served over real HTTP on loopback, with failures on demand, for engine tests.

prov = ProvisionerServer(delay=0).start()
prov.fail_next("/databases", 500)                        # next call to that path answers 500
prov.fail_next("/apps", 429, {"Retry-After": "1"})
prov.demo.delay = 2.0                                     # slow from now on
prov.demo.created                                         # what was created: one entry per Idempotency-Key
prov.bodies                                               # every JSON body received, by path
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from pao_backend.demo.provisioner import DemoProvisioner, demo_router

PREFIX = "/demo/provisioner"


class ProvisionerServer:
    def __init__(self, *, delay: float = 0.0) -> None:
        self.demo = DemoProvisioner(delay=delay, base_url="")
        self.failures: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.bodies: dict[str, list[str]] = {}
        self.keys: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        app = FastAPI()
        app.include_router(demo_router(self.demo))

        @app.middleware("http")
        async def inject(request: Request, call_next: Any) -> Response:
            path = request.url.path.removeprefix(PREFIX)
            body = (await request.body()).decode()
            with self._lock:
                self.bodies.setdefault(path, []).append(body)
                self.keys.setdefault(path, []).append(request.headers.get("idempotency-key", ""))
                scripted = self.failures.get(path)
                failure = scripted.pop(0) if scripted else None
            if failure is not None:
                status, headers = failure
                return JSONResponse({"error": "injected failure"}, status_code=status, headers=headers)
            response: Response = await call_next(request)
            return response

        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        self._thread: threading.Thread | None = None

    def fail_next(
        self, path: str, status: int, headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        with self._lock:
            self.failures.setdefault(path, []).extend([(status, dict(headers or {}))] * times)

    def json_bodies(self, path: str) -> list[Any]:
        with self._lock:
            return [json.loads(b) for b in self.bodies.get(path, []) if b]

    @property
    def url(self) -> str:
        sockets = self._server.servers[0].sockets
        port = sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}{PREFIX}"

    def start(self) -> ProvisionerServer:
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test provisioner did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
