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
from pao_backend.portal.identity import PortalUser, portal_user
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


def _catalog(request: Request) -> Catalog:
    service = request.app.state.catalog
    catalog: Catalog = service.current
    return catalog


def _page(request: Request, template: str, nav: str, user: PortalUser, **context: Any) -> HTMLResponse:
    catalog = _catalog(request)
    return templates.TemplateResponse(
        request,
        template,
        {"nav": nav, "user": user, "version": __version__, "catalog_etag": catalog.etag, **context},
    )


def _lead_times(request: Request) -> dict[str, str]:
    return lead_times(database(request.app))


@portal_router.get("/", response_class=HTMLResponse)
def catalog_home(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    category: str = "",
    team: str = "",
    mode: str = "",
) -> HTMLResponse:
    user = portal_user(request)
    catalog = _catalog(request)
    all_cards = build_cards(catalog, lead_times=_lead_times(request))
    filters = CatalogFilters(q=q, category=category, team=team, mode=mode)
    return _page(
        request,
        "catalog.html",
        "catalog",
        user,
        all_cards=all_cards,
        cards=filter_cards(all_cards, filters),
        total=len(all_cards),
        filters=filters,
        facets=facet_values(all_cards),
    )


@portal_router.get("/offerings/{offering_id}", response_class=HTMLResponse)
def offering_page(request: Request, offering_id: str) -> HTMLResponse:
    user = portal_user(request)
    catalog = _catalog(request)
    offering = catalog.require_offering(offering_id)
    detail = build_detail(catalog, offering, lead_time=_lead_times(request).get(offering_id))
    presets = _presets_for(request, user, offering_id)
    return _page(request, "offering.html", "catalog", user, detail=detail, presets=presets)


@portal_router.get("/offerings/{offering_id}/request", response_class=HTMLResponse)
def request_form_page(request: Request, offering_id: str, preset: str | None = None) -> HTMLResponse:
    user = portal_user(request)
    catalog = _catalog(request)
    offering = catalog.require_offering(offering_id)
    context = form_page_context(request.app, catalog, offering, user=user, preset_id=preset)
    context["schema_json"] = script_json(context.pop("schema"))
    context["meta_json"] = script_json(context.pop("meta"))
    return _page(request, "request_form.html", "catalog", user, **context)


@portal_router.get("/requests", response_class=HTMLResponse)
def requests_page(request: Request) -> HTMLResponse:
    return _page(request, "requests.html", "requests", portal_user(request), statuses=REQUEST_STATUSES)


@portal_router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(request: Request, request_id: str) -> HTMLResponse:
    return _page(request, "request.html", "requests", portal_user(request), request_id=request_id)


@portal_router.get("/presets", response_class=HTMLResponse)
def presets_page(request: Request) -> HTMLResponse:
    return _page(request, "presets.html", "presets", portal_user(request))


@portal_router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request) -> HTMLResponse:
    return _page(request, "inbox.html", "inbox", portal_user(request))


def _presets_for(request: Request, user: PortalUser, offering_id: str) -> list[dict[str, Any]]:
    return visible_presets(request.app, catalog=_catalog(request), user=user, offering_id=offering_id)


def not_found_page(request: Request, exc: NotFoundError) -> HTMLResponse:
    response = _page(request, "not_found.html", "", portal_user(request), message=exc.message)
    response.status_code = 404
    return response
