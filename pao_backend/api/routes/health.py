"""/healthz (the process answers) and /readyz (it can do its job: database, engine, catalog)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, text

from pao_backend.persistence.tables import ExecutorRow, utcnow

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _database(request: Request) -> dict[str, Any]:
    with request.app.state.db.reading() as session:
        session.execute(text("SELECT 1"))
    return {"ok": True}


def _engine(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    if getattr(request.app.state, "engine", None) is None:
        return {"ok": False, "message": "the workflow engine has not started; see the start-up log"}
    if not settings.workers:
        return {"ok": True, "workers": False}
    with request.app.state.db.reading() as session:
        last_seen = session.scalar(
            select(ExecutorRow.last_seen).where(ExecutorRow.executor_id == settings.executor_id)
        )
    if last_seen is None:
        return {"ok": False, "message": f"executor {settings.executor_id!r} has recorded no heartbeat yet"}
    if last_seen.tzinfo is None:
        last_seen = last_seen.replace(tzinfo=UTC)
    age = (utcnow() - last_seen).total_seconds()
    ok = age <= settings.stale_after_seconds
    check: dict[str, Any] = {
        "ok": ok,
        "executorId": settings.executor_id,
        "heartbeatAgeSeconds": round(age, 1),
    }
    if not ok:
        check["message"] = (
            "this process's heartbeat is stale: its workers are stuck; other workers will take over"
        )
    return check


def _catalog(request: Request) -> dict[str, Any]:
    service = request.app.state.catalog
    errors = sum(1 for p in service.findings if p.is_error)
    catalog = service.current
    check: dict[str, Any] = {
        "ok": bool(catalog.items or catalog.bundles),
        "etag": catalog.etag,
        "offerings": len(catalog.items) + len(catalog.bundles),
        "findings": {"errors": errors, "total": len(service.findings)},
    }
    if not check["ok"]:
        check["message"] = f"no valid offering in {service.root}; run `pao validate` there"
    return check


@router.get("/readyz", summary="Readiness: database, engine heartbeat and catalog (503 names what is wrong)")
def readyz(request: Request) -> JSONResponse:
    checks: dict[str, dict[str, Any]] = {}
    for name, probe in (("database", _database), ("engine", _engine), ("catalog", _catalog)):
        try:
            checks[name] = probe(request)
        except Exception as exc:  # a readiness probe reports failures; it never raises them
            checks[name] = {"ok": False, "message": f"{type(exc).__name__}: {exc}"}
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )
