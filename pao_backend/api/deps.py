"""FastAPI dependencies shared by the routers (`Annotated` aliases ending in `Dep`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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
