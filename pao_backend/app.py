"""create_app(settings): wires routers, error handlers and the lifespan. Nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from pao_backend import __version__
from pao_backend.api.errors import install_error_handlers
from pao_backend.api.limits import BodySizeLimit, refuse_unstorable_text
from pao_backend.api.routes import actions as actions_routes
from pao_backend.api.routes import catalog as catalog_routes
from pao_backend.api.routes import governance as governance_routes
from pao_backend.api.routes import health as health_routes
from pao_backend.api.routes import presets as presets_routes
from pao_backend.api.routes import requests as requests_routes
from pao_backend.api.routes import tickets as tickets_routes
from pao_backend.auth import Authenticator
from pao_backend.backstage.catalog_routes import catalog_router
from pao_backend.backstage.scaffolder_routes import scaffolder_router
from pao_backend.catalog.service import CatalogService
from pao_backend.catalog.watcher import CatalogWatcher
from pao_backend.demo.provisioner import create_demo_router
from pao_backend.governance.prometheus import install_prometheus
from pao_backend.orchestration import engine as engine_runtime
from pao_backend.persistence.db import Database
from pao_backend.portal.leadership import leadership_router
from pao_backend.portal.routes import portal_router, static_files
from pao_backend.settings import Settings
from pao_backend.ticketing.factory import ticket_system


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Migrations, then the durable engine (DBOS is launched off the loop: its workflows get their own).
        engine = await asyncio.to_thread(
            engine_runtime.build_engine,
            settings,
            catalog=lambda: app.state.catalog.current,
            db=app.state.db,
            registry=app.state.actions,
        )
        await asyncio.to_thread(engine_runtime.launch, engine)
        app.state.engine = engine
        await engine.hub.start()
        watcher = CatalogWatcher(app.state.catalog) if settings.watch_catalog else None
        if watcher is not None:
            watcher.start()
        try:
            yield
        finally:
            if watcher is not None:
                watcher.stop()
            await engine.hub.stop()
            await asyncio.to_thread(engine_runtime.shutdown)
            app.state.db.dispose()

    app = FastAPI(
        title="PAO — Platform Automation Orchestrator",
        version=__version__,
        description=(
            "Self-service for platform teams' offerings; speaks Backstage's catalog and scaffolder APIs"
        ),
        lifespan=lifespan,
        # Path, query and JSON body: no text PAO cannot store or send (NUL, half a surrogate pair) -> 422.
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.settings = settings
    # Built at start so that running without authentication is logged once, loudly, before any request.
    app.state.authenticator = Authenticator(settings)
    app.state.catalog = CatalogService(settings.catalog_dir, endpoints=settings.resolved_endpoints)
    app.state.db = Database.from_settings(settings)
    # One action registry for the engine and the remote-invoke API.
    app.state.actions = engine_runtime.default_registry(
        settings, tickets=ticket_system(settings, db=app.state.db, catalog=lambda: app.state.catalog.current)
    )
    install_error_handlers(app)
    app.include_router(health_routes.router)
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    app.include_router(catalog_router)
    app.include_router(scaffolder_router)
    app.include_router(catalog_routes.catalog_router)
    app.include_router(catalog_routes.plan_router)

    app.include_router(requests_routes.router)
    app.include_router(actions_routes.actions_router(app.state.actions, settings))
    if settings.demo_provisioner:
        app.include_router(
            create_demo_router(delay=settings.demo_provisioner_delay, base_url=settings.provisioner_url)
        )
    app.include_router(presets_routes.router)
    app.include_router(tickets_routes.router)
    app.include_router(governance_routes.router)
    install_prometheus(app, db=lambda: app.state.db, catalog=lambda: app.state.catalog.current)
    # The portal's pages come last so that no API path is ever shadowed by a page.
    app.mount("/static", static_files, name="static")
    app.include_router(leadership_router)
    app.include_router(portal_router)
    return app
