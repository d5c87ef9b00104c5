"""`/api/pao/v1/catalog`: list, documents, forms, Templates, findings and reload; plus `/api/pao/v1/plan`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from pao_backend.api.deps import CatalogDep, CatalogServiceDep, CurrentUserDep, SettingsDep, get_current_user
from pao_backend.backstage.catalog_routes import EntityIndexDep, entity_index
from pao_backend.backstage.dry_run import plan_document, preview_plan, preview_system
from pao_backend.backstage.translate import fulfillment_mode
from pao_backend.catalog.form_schema import form_schema, parameter_pages, ui_schema
from pao_backend.catalog.models import CatalogBundle, CatalogItem, Offering
from pao_backend.catalog.problems import Problem
from pao_backend.catalog.store import Catalog
from pao_backend.errors import NotFoundError
from pao_backend.governance.calendar_views import plan_calendar

__all__ = ["catalog_router", "plan_router"]

catalog_router = APIRouter(
    prefix="/api/pao/v1/catalog", tags=["catalog"], dependencies=[Depends(get_current_user)]
)
plan_router = APIRouter(prefix="/api/pao/v1", tags=["catalog"])

FulfillmentMode = Literal["manual", "automatic", "mixed"]


class _Read(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class OwnerRead(_Read):
    team: str
    contact: str
    teamName: str | None = None


class ComponentRead(_Read):
    id: str
    catalogItem: str
    dependsOn: list[str]


class CatalogEntryRead(_Read):
    """One offering as listed: what it is, who owns it, how it is fulfilled."""

    id: str
    kind: Literal["CatalogItem", "CatalogBundle"]
    name: str
    description: str
    version: str
    category: str | None = Field(description="The item's category; `bundle` for bundles")
    owner: OwnerRead
    mode: FulfillmentMode
    tags: list[str]
    source: str | None = Field(default=None, description="Path of the document inside the catalog folder")
    components: list[ComponentRead] | None = None
    templateRef: str = Field(
        description="The Backstage Template of this offering, e.g. template:default/<id>"
    )


class CatalogPage(_Read):
    items: list[CatalogEntryRead]
    totalItems: int
    etag: str


class CatalogDocumentRead(CatalogEntryRead):
    metadata: dict[str, Any] = Field(description="Custom static metadata (keys beyond the known ones)")
    document: dict[str, Any] = Field(description="The document as written (YAML parsed)")


class FormRead(_Read):
    offeringId: str
    version: str
    schema_: dict[str, Any] = Field(alias="schema", description="Draft-07 JSON Schema of the request values")
    uiSchema: dict[str, Any] = Field(description="react-jsonschema-form UI schema")
    pages: list[dict[str, Any]] = Field(
        description="The same form as Backstage parameter pages (ui:* inline)"
    )
    secretKeys: list[str] = Field(
        description='Keys of password fields in a request\'s secrets: "<groupId>.<fieldId>"'
    )


class FindingRead(_Read):
    path: str
    line: int
    column: int
    severity: Literal["error", "warning"]
    code: str
    message: str
    hint: str = ""


class FindingsRead(_Read):
    etag: str
    errors: int
    warnings: int
    findings: list[FindingRead]


class RefreshRead(FindingsRead):
    changed: bool = Field(description="Whether the served catalog changed")


class EtagRead(_Read):
    etag: str


class TeamRead(_Read):
    id: str
    name: str
    contact: str
    jiraProject: str | None = None
    codeowners: str
    description: str | None = None
    escalation: dict[str, Any] | None = None


def _entry(offering: Offering, catalog: Catalog) -> dict[str, Any]:
    meta = offering.metadata
    team = catalog.get_team(meta.owner.team)
    entry: dict[str, Any] = {
        "id": offering.id,
        "kind": offering.kind,
        "name": meta.name,
        "description": meta.description.strip(),
        "version": meta.version,
        "category": meta.category if isinstance(offering, CatalogItem) else "bundle",
        "owner": {
            "team": meta.owner.team,
            "contact": meta.owner.contact,
            "teamName": team.name if team else None,
        },
        "mode": fulfillment_mode(offering, catalog),
        "tags": list(meta.tags),
        "source": catalog.sources.get(offering.id),
        "templateRef": f"template:default/{offering.id}",
    }
    if isinstance(offering, CatalogBundle):
        entry["components"] = [
            {"id": c.id, "catalogItem": c.catalog_item, "dependsOn": list(c.depends_on)}
            for c in offering.components
        ]
    return entry


def _matches(entry: dict[str, Any], offering: Offering, q: str) -> bool:
    haystack = " ".join(
        [entry["id"], entry["name"], entry["description"], entry["category"] or "", " ".join(entry["tags"])]
        + [f.name for g in offering.form.groups for f in g.fields]
    ).lower()
    return all(word in haystack for word in q.lower().split())


def _split(values: list[str] | None) -> set[str]:
    return {v.strip().lower() for value in values or [] for v in value.split(",") if v.strip()}


@catalog_router.get("", response_model=CatalogPage, summary="List offerings, filtered and searched")
def list_catalog(
    catalog: CatalogDep,
    q: Annotated[
        str | None, Query(description="Words that must all appear (id, name, description, tags, fields)")
    ] = None,
    category: Annotated[
        list[str] | None, Query(description="Category (`bundle` for bundles); repeatable")
    ] = None,
    owner: Annotated[list[str] | None, Query(description="Owner team id; repeatable")] = None,
    mode: Annotated[list[FulfillmentMode] | None, Query(description="manual, automatic or mixed")] = None,
    version: Annotated[
        str | None, Query(description="Exact version, or a prefix such as `1.` for majors")
    ] = None,
    tags: Annotated[
        list[str] | None, Query(description="Every tag listed must be present; comma or repeat")
    ] = None,
    kind: Annotated[Literal["CatalogItem", "CatalogBundle"] | None, Query()] = None,
) -> dict[str, Any]:
    categories, owners, wanted_tags = _split(category), _split(owner), _split(tags)
    modes = set(mode or [])
    items = []
    for offering in sorted(catalog.offerings(), key=lambda o: o.id):
        entry = _entry(offering, catalog)
        if (
            (categories and (entry["category"] or "").lower() not in categories)
            or (owners and entry["owner"]["team"].lower() not in owners)
            or (modes and entry["mode"] not in modes)
            or (version and not str(entry["version"]).startswith(version))
            or (wanted_tags and not wanted_tags <= {t.lower() for t in entry["tags"]})
            or (kind and entry["kind"] != kind)
            or (q and not _matches(entry, offering, q))
        ):
            continue
        items.append(entry)
    return {"items": items, "totalItems": len(items), "etag": catalog.etag}


@catalog_router.get(
    "/etag",
    response_model=EtagRead,
    summary="The served catalog's version; changes on every reload that changes anything (also as ETag)",
)
def get_etag(catalog: CatalogDep, response: Response) -> dict[str, str]:
    response.headers["etag"] = f'"{catalog.etag}"'
    return {"etag": catalog.etag}


@catalog_router.get("/teams", response_model=list[TeamRead], summary="The platform teams (teams.yaml)")
def list_teams(catalog: CatalogDep) -> list[dict[str, Any]]:
    return [team.model_dump(by_alias=True) for _, team in sorted(catalog.teams.items())]


def _findings(problems: list[Problem], etag: str) -> dict[str, Any]:
    return {
        "etag": etag,
        "errors": sum(1 for p in problems if p.is_error),
        "warnings": sum(1 for p in problems if not p.is_error),
        "findings": [p.to_dict() for p in problems],
    }


@catalog_router.get(
    "/findings", response_model=FindingsRead, summary="Validation findings of the whole catalog"
)
def get_findings(service: CatalogServiceDep) -> dict[str, Any]:
    return _findings(service.findings, service.current.etag)


@catalog_router.post(
    "/refresh",
    response_model=RefreshRead,
    summary="Reload the catalog folder; an invalid document never replaces its last good version",
)
def refresh_catalog(service: CatalogServiceDep, request: Request) -> dict[str, Any]:
    result = service.reload()
    if result.changed:
        entity_index(request)  # translate the new version now, not on the next Backstage call
    return {**_findings(result.problems, result.etag), "changed": result.changed}


@catalog_router.get("/{offering_id}", response_model=CatalogDocumentRead, summary="One catalog document")
def get_document(catalog: CatalogDep, offering_id: str) -> dict[str, Any]:
    offering = catalog.require_offering(offering_id)
    return {
        **_entry(offering, catalog),
        "metadata": offering.metadata.custom,
        "document": catalog.raw.get(offering_id, {}),
    }


@catalog_router.get(
    "/{offering_id}/form",
    response_model=FormRead,
    summary="The request form as JSON Schema (draft-07) + UI schema, and as Backstage parameter pages",
)
def get_form(catalog: CatalogDep, offering_id: str) -> dict[str, Any]:
    offering = catalog.require_offering(offering_id)
    form = offering.form
    return {
        "offeringId": offering.id,
        "version": offering.metadata.version,
        "schema": form_schema(form),
        "uiSchema": ui_schema(form),
        "pages": parameter_pages(form),
        "secretKeys": [f"{g}.{f}" for g, f in form.secret_paths()],
    }


_YAML = {200: {"content": {"application/yaml": {}}, "description": "YAML"}}


@catalog_router.get(
    "/{offering_id}/template",
    summary="The offering's Backstage Template (scaffolder.backstage.io/v1beta3) as YAML",
    response_class=Response,
    responses=_YAML,  # type: ignore[arg-type]
)
def get_template(index: EntityIndexDep, catalog: CatalogDep, offering_id: str) -> Response:
    catalog.require_offering(offering_id)
    template = index.get("template", "default", offering_id)
    if template is None:  # the index is of another snapshot only during a reload race
        raise NotFoundError(f"no Template for {offering_id!r} yet; retry in a moment")
    text = yaml.safe_dump(template, sort_keys=False, allow_unicode=True, width=120)
    return Response(text, media_type="application/yaml")


@catalog_router.get(
    "/{offering_id}/source",
    summary="The catalog document itself as YAML (Backstage's source-location points here)",
    response_class=Response,
    responses=_YAML,  # type: ignore[arg-type]
)
def get_source(catalog: CatalogDep, offering_id: str) -> Response:
    catalog.require_offering(offering_id)
    text = yaml.safe_dump(catalog.raw.get(offering_id, {}), sort_keys=False, allow_unicode=True, width=120)
    return Response(text, media_type="application/yaml")


@catalog_router.get(
    "/{offering_id}/findings", response_model=FindingsRead, summary="Validation findings of one document"
)
def get_document_findings(service: CatalogServiceDep, offering_id: str) -> dict[str, Any]:
    catalog = service.current
    catalog.require_offering(offering_id)
    source = catalog.sources.get(offering_id, "")
    mine = [p for p in service.findings if source and p.path.replace("\\", "/").endswith(source)]
    return _findings(mine, catalog.etag)


class PlanCreate(_Read):
    catalogId: str = Field(description="Item or bundle id")
    values: dict[str, Any] = Field(description="`{name, <groupId>: {<fieldId>: value}}`")
    secrets: dict[str, str] | None = Field(
        default=None, description='Password values by "<groupId>.<fieldId>"'
    )


class PlannedActionRead(_Read):
    stepId: str
    index: int
    type: str
    action: str
    name: str
    input: dict[str, Any] = Field(description="The input exactly as it would run, secrets shown as ***")
    outputs: list[str]


class PlannedComponentRead(_Read):
    id: str
    itemId: str
    itemVersion: str
    team: str
    mode: Literal["manual", "automatic"]
    dependsOn: list[str]
    actions: list[PlannedActionRead]
    manualActions: list[PlannedActionRead] = Field(description="The JIRA path, run on escalation")


class PlanRead(_Read):
    offeringId: str
    kind: Literal["item", "bundle"]
    version: str
    components: list[PlannedComponentRead]
    calendar: dict[str, Any] | None = Field(
        default=None,
        description="The change calendar's verdict if submitted now: allowed | scheduled (until) | "
        "refused (nextPossible) | needs_approval (roles), with the windows that decide it",
    )


@plan_router.post(
    "/plan",
    response_model=PlanRead,
    summary="Preview a request: validate values (422, field errors), render every action; no side effect",
)
def create_plan(
    body: PlanCreate, catalog: CatalogDep, settings: SettingsDep, user: CurrentUserDep
) -> dict[str, Any]:
    system = preview_system(user, platform=settings.platform)
    preview = preview_plan(
        catalog,
        body.catalogId,
        body.values,
        secrets=body.secrets,
        system=system,
        endpoints=settings.resolved_endpoints,
    )
    document = plan_document(preview)
    # calendar (G): what the change calendar would do with this request now.
    document["calendar"] = plan_calendar(
        catalog=catalog,
        catalog_dir=settings.catalog_dir,
        offering_id=body.catalogId,
        values=body.values,
        environment=settings.platform.get("environment", ""),
    )
    return document
