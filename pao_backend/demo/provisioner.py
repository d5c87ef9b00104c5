"""DEMO ONLY: a pretend provisioning service, so the sample catalog's automatic offerings work out of the
box (`make run` sets PAO_DEMO_PROVISIONER=true). It provisions nothing; every answer says `demo: true`.

Mounted at /demo/provisioner; the sample catalog reaches it as the `provisioner` endpoint
(settings.resolved_endpoints). Slow enough to watch (PAO_DEMO_PROVISIONER_DELAY seconds, or the
`X-Demo-Delay` header), and it fails on request: a `name` containing "fail" answers 500 every time,
"flaky" answers 500 on the first try for that name and then succeeds. Repeating an
Idempotency-Key returns the first answer without creating anything twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

DEMO_NOTE = "PAO demo provisioner: nothing real was created"


class DemoProvisioner:
    """The in-memory state of the demo: answers by Idempotency-Key, and how often each key was tried."""

    def __init__(self, *, delay: float, base_url: str) -> None:
        self.delay = delay
        self.base_url = base_url.rstrip("/")
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.tries: dict[str, int] = {}
        self.created: list[dict[str, Any]] = []

    async def handle(
        self,
        request: Request,
        kind: str,
        name_hint: str | None,
        build: Any,
        key: str | None,
        delay: str | None,
    ) -> JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse({"error": "the body must be JSON", "demo": True}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "the body must be a JSON object", "demo": True}, status_code=400)
        name = str(name_hint or body.get("name") or "")
        token = key or hashlib.sha256(f"{kind}:{name}:{len(self.created)}".encode()).hexdigest()[:16]
        if token in self.answers:
            status, answer = self.answers[token]
            return JSONResponse(answer, status_code=status, headers={"Idempotent-Replayed": "true"})
        self.tries[token] = self.tries.get(token, 0) + 1
        seconds = self.delay
        if delay is not None:
            with contextlib.suppress(ValueError):
                seconds = max(0.0, min(float(delay), 60.0))
        await asyncio.sleep(seconds)
        if "fail" in name:
            return JSONResponse(
                {"error": f"demo failure: names containing 'fail' always fail ({name})", "demo": True},
                status_code=500,
            )
        # "flaky" fails the first try of each name (not of each key), so a person's Retry — which sends a
        # new Idempotency-Key — shows the recovery.
        flaky_key = f"flaky:{kind}:{name}"
        self.tries[flaky_key] = self.tries.get(flaky_key, 0) + 1
        if "flaky" in name and self.tries[flaky_key] == 1:
            return JSONResponse(
                {"error": "demo failure: 'flaky' fails on the first try, then works", "demo": True},
                status_code=500,
            )
        ident = f"{kind[:3]}-{hashlib.sha256(token.encode()).hexdigest()[:10]}"
        answer = {"id": ident, "demo": True, "note": DEMO_NOTE, **build(ident, name, body)}
        self.answers[token] = (201, answer)
        self.created.append({"kind": kind, "id": ident, "name": name, "idempotencyKey": token})
        return JSONResponse(answer, status_code=201)


def create_demo_router(*, delay: float, base_url: str) -> APIRouter:
    """The /demo/provisioner router (DEMO ONLY)."""
    return demo_router(DemoProvisioner(delay=delay, base_url=base_url))


def demo_router(demo: DemoProvisioner) -> APIRouter:
    """The routes of one DemoProvisioner (tests keep the object to read what it saw)."""
    router = APIRouter(prefix="/demo/provisioner", tags=["demo provisioner (not real)"])
    KeyHeader = Header(None, alias="Idempotency-Key")
    DelayHeader = Header(None, alias="X-Demo-Delay")

    @router.post("/databases", status_code=201, summary="DEMO: pretend to create a database")
    async def databases(
        request: Request, key: str | None = KeyHeader, delay: str | None = DelayHeader
    ) -> Any:
        def build(ident: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
            host = f"{name or ident}.db.demo.internal"
            return {
                "status": "available",
                "connection": {
                    "url": f"postgresql://{host}:5432/{name or ident}",
                    "host": host,
                    "port": 5432,
                },
            }

        return await demo.handle(request, "databases", None, build, key, delay)

    @router.put("/secrets/{name}", status_code=201, summary="DEMO: pretend to store a secret")
    async def secrets(
        name: str, request: Request, key: str | None = KeyHeader, delay: str | None = DelayHeader
    ) -> Any:
        def build(ident: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
            # The stored value is never echoed back.
            return {"path": f"secret/data/apps/{name}", "ref": f"vault://apps/{name}"}

        return await demo.handle(request, "secrets", name, build, key, delay)

    @router.post("/apps", status_code=201, summary="DEMO: pretend to deploy an app")
    async def apps(request: Request, key: str | None = KeyHeader, delay: str | None = DelayHeader) -> Any:
        def build(ident: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
            return {"url": f"https://{name or ident}.apps.demo.internal"}

        return await demo.handle(request, "apps", None, build, key, delay)

    @router.post("/dns-records", status_code=201, summary="DEMO: pretend to create a DNS record")
    async def dns_records(
        request: Request,
        zone: str = "demo.internal",
        key: str | None = KeyHeader,
        delay: str | None = DelayHeader,
    ) -> Any:
        def build(ident: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
            return {"fqdn": f"{name or ident}.{zone}"}

        return await demo.handle(request, "dns-records", None, build, key, delay)

    @router.post("/buckets", status_code=201, summary="DEMO: pretend to create a storage bucket")
    async def buckets(request: Request, key: str | None = KeyHeader, delay: str | None = DelayHeader) -> Any:
        def build(ident: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
            return {"url": f"s3://{name or ident}"}

        return await demo.handle(request, "buckets", None, build, key, delay)

    @router.get("", summary="DEMO: what the demo provisioner pretended to create")
    def created() -> dict[str, Any]:
        return {"demo": True, "note": DEMO_NOTE, "created": demo.created}

    return router
