"""The portal's HTML pages. Each route gathers a view model and renders one template; the live parts
(requests, inbox, presets) are small ES modules that call the native API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from pao_backend import __version__
from pao_backend.api.deps import CatalogDep, CurrentUserDep
from pao_backend.auth import Identity
from pao_backend.catalog.form_schema import help_text
from pao_backend.catalog.store import Catalog
from pao_backend.errors import NotFoundError
from pao_backend.portal.catalog_view import (
    CatalogFilters,
    build_cards,
    build_detail,
    facet_values,
    filter_cards,
)
from pao_backend.portal.form_view import database, form_page_context, visible_presets
from pao_backend.portal.lead_time import lead_times

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["rules_help"] = help_text
static_files = StaticFiles(directory=HERE / "static")

REQUEST_STATUSES = [
    "submitted",
    "scheduled",
    "running",
    "completed",
    "failed",
    "retrying",
    "aborted",
    "escalated",
    "cancelled",
]

portal_router = APIRouter(include_in_schema=False)


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element (no `</script>` can end it early)."""
    text = json.dumps(value, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(
    request: Request, template: str, nav: str, user: Identity, catalog: Catalog, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        template,
        {"nav": nav, "user": user, "version": __version__, "catalog_etag": catalog.etag, **context},
    )


def _not_found(request: Request, user: Identity, catalog: Catalog, message: str) -> HTMLResponse:
    response = _page(request, "not_found.html", "", user, catalog, message=message)
    response.status_code = 404
    return response


@portal_router.get("/", response_class=HTMLResponse)
def catalog_home(
    request: Request,
    user: CurrentUserDep,
    catalog: CatalogDep,
    q: Annotated[str, Query(max_length=200)] = "",
    category: str = "",
    team: str = "",
    mode: str = "",
) -> HTMLResponse:
    all_cards = build_cards(catalog, lead_times=lead_times(database(request.app)))
    filters = CatalogFilters(q=q, category=category, team=team, mode=mode)
    return _page(
        request,
        "catalog.html",
        "catalog",
        user,
        catalog,
        all_cards=all_cards,
        cards=filter_cards(all_cards, filters),
        total=len(all_cards),
        filters=filters,
        facets=facet_values(all_cards),
    )


@portal_router.get("/offerings/{offering_id}", response_class=HTMLResponse)
def offering_page(
    request: Request, offering_id: str, user: CurrentUserDep, catalog: CatalogDep
) -> HTMLResponse:
    offering = catalog.get_offering(offering_id)
    if offering is None:
        return _not_found(request, user, catalog, f"There is no offering {offering_id!r} in the catalog.")
    lead_time = lead_times(database(request.app)).get(offering_id)
    detail = build_detail(catalog, offering, lead_time=lead_time)
    presets = visible_presets(request.app, catalog=catalog, user=user, offering_id=offering_id)
    return _page(request, "offering.html", "catalog", user, catalog, detail=detail, presets=presets)


@portal_router.get("/offerings/{offering_id}/request", response_class=HTMLResponse)
def request_form_page(
    request: Request, offering_id: str, user: CurrentUserDep, catalog: CatalogDep, preset: str | None = None
) -> HTMLResponse:
    offering = catalog.get_offering(offering_id)
    if offering is None:
        return _not_found(request, user, catalog, f"There is no offering {offering_id!r} in the catalog.")
    try:
        context = form_page_context(request.app, catalog, offering, user=user, preset_id=preset)
    except NotFoundError as exc:
        return _not_found(request, user, catalog, exc.message)
    context["schema_json"] = script_json(context.pop("schema"))
    context["meta_json"] = script_json(context.pop("meta"))
    return _page(request, "request_form.html", "catalog", user, catalog, **context)


@portal_router.get("/requests", response_class=HTMLResponse)
def requests_page(request: Request, user: CurrentUserDep, catalog: CatalogDep) -> HTMLResponse:
    return _page(request, "requests.html", "requests", user, catalog, statuses=REQUEST_STATUSES)


@portal_router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request: Request, request_id: str, user: CurrentUserDep, catalog: CatalogDep
) -> HTMLResponse:
    return _page(request, "request.html", "requests", user, catalog, request_id=request_id)


@portal_router.get("/presets", response_class=HTMLResponse)
def presets_page(request: Request, user: CurrentUserDep, catalog: CatalogDep) -> HTMLResponse:
    return _page(request, "presets.html", "presets", user, catalog)


@portal_router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, user: CurrentUserDep, catalog: CatalogDep) -> HTMLResponse:
    return _page(request, "inbox.html", "inbox", user, catalog)
