"""create_app(settings): wires routers, error handlers and the lifespan. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pao_backend import __version__
from pao_backend.api.errors import install_error_handlers
from pao_backend.api.routes import catalog as catalog_routes
from pao_backend.api.routes import presets as presets_routes
from pao_backend.backstage.catalog_routes import catalog_router
from pao_backend.backstage.scaffolder_routes import scaffolder_router
from pao_backend.catalog.service import CatalogService
from pao_backend.portal.routes import portal_router, static_files
from pao_backend.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="PAO — Platform Automation Orchestrator",
        version=__version__,
        description="Self-service for platform teams' offerings; speaks Backstage's catalog and scaffolder APIs",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalog = CatalogService(settings.catalog_dir, endpoints=settings.resolved_endpoints)
    install_error_handlers(app)
    app.include_router(catalog_router)
    app.include_router(scaffolder_router)
    app.include_router(catalog_routes.catalog_router)
    app.include_router(catalog_routes.plan_router)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(presets_routes.router)
    # The portal's pages come last so that no API path is ever shadowed by a page.
    app.mount("/static", static_files, name="static")
    app.include_router(portal_router)
    return app
