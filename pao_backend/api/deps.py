"""FastAPI dependencies shared by the routers (`Annotated` aliases ending in `Dep`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pao_backend.auth import ON_BEHALF_OF, ON_BEHALF_OF_TEAMS, Authenticator, Identity
from pao_backend.catalog.service import CatalogService
from pao_backend.catalog.store import Catalog
from pao_backend.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_catalog_service(request: Request) -> CatalogService:
    service: CatalogService = request.app.state.catalog
    return service


def get_catalog(request: Request) -> Catalog:
    """The catalog snapshot for this request (one consistent version even if a reload happens meanwhile)."""
    return get_catalog_service(request).current


CatalogServiceDep = Annotated[CatalogService, Depends(get_catalog_service)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]


def get_authenticator(request: Request) -> Authenticator:
    """The app's Authenticator, built once (at start by create_app, else by the first request)."""
    state = request.app.state
    authenticator: Authenticator | None = getattr(state, "authenticator", None)
    if authenticator is None:
        authenticator = state.authenticator = Authenticator(state.settings)
    return authenticator


def get_current_user(request: Request) -> Identity:
    """The caller (401 without valid credentials). Sync on purpose: fetching JWKS keys blocks, so FastAPI
    runs it in its thread pool."""
    service: CatalogService | None = getattr(request.app.state, "catalog", None)
    team_ids = list(service.current.teams) if service is not None else []
    return get_authenticator(request).authenticate(
        authorization=request.headers.get("authorization"),
        on_behalf_of=request.headers.get(ON_BEHALF_OF),
        on_behalf_of_teams=request.headers.get(ON_BEHALF_OF_TEAMS),
        team_ids=team_ids,
    )


def get_admin_user(user: Annotated[Identity, Depends(get_current_user)]) -> Identity:
    """The caller, who must be an admin (403 otherwise)."""
    user.require_admin()
    return user


CurrentUserDep = Annotated[Identity, Depends(get_current_user)]
# The largest offset or event id a query may name: SQL BIGINT. A larger one was a 500 from the database. (Q)
MAX_SQL_INTEGER = 2**63 - 1
AdminUserDep = Annotated[Identity, Depends(get_admin_user)]
