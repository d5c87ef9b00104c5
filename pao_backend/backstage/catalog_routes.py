"""`/api/catalog`: the read side of Backstage's catalog API, as `@backstage/catalog-client` calls it."""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from pao_backend.api.deps import get_current_user
from pao_backend.backstage.entities import (
    EntityIndex,
    EntityQuery,
    OrderField,
    decode_cursor,
    encode_cursor,
    parse_fields,
    parse_filters,
    project,
)
from pao_backend.catalog.store import Catalog
from pao_backend.errors import InputError, NotFoundError, UnavailableError

__all__ = ["EntityIndexDep", "catalog_router", "entity_index", "json_response"]

# Readers must be identified (a Backstage service token or user token; the dev identity in development).
catalog_router = APIRouter(
    prefix="/api/catalog", tags=["backstage catalog"], dependencies=[Depends(get_current_user)]
)

_BUILD_LOCK = threading.Lock()
_MAX_REFS = 1000


def current_catalog(request: Request) -> Catalog:
    service = getattr(request.app.state, "catalog", None)
    if service is None:
        raise UnavailableError("the catalog is not loaded yet; check the server log for catalog load errors")
    catalog: Catalog = service.current
    return catalog


def entity_index(request: Request) -> EntityIndex:
    """The entities of the current catalog snapshot; rebuilt only when the catalog or base URL changes."""
    catalog = current_catalog(request)
    base_url: str = request.app.state.settings.base_url
    key = f"{catalog.etag}:{base_url}"
    cached: EntityIndex | None = getattr(request.app.state, "backstage_index", None)
    if cached is not None and cached.etag == key:
        return cached
    with _BUILD_LOCK:
        cached = getattr(request.app.state, "backstage_index", None)
        if cached is None or cached.etag != key:
            cached = EntityIndex.build(catalog, base_url=base_url)
            request.app.state.backstage_index = cached
    return cached


EntityIndexDep = Annotated[EntityIndex, Depends(entity_index)]


def json_response(content: Any, status_code: int = 200) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status_code, media_type="application/json")


def _order_fields(params: list[str] | None, *, separator: str, field_first: bool) -> tuple[OrderField, ...]:
    """getEntities sends `order=asc:metadata.name`; queryEntities sends `orderField=metadata.name,asc`."""
    fields = []
    for param in params or []:
        first, sep, second = param.partition(separator)
        field, order = (first, second) if field_first else (second, first)
        if not sep:
            field, order = param, "asc"
        order = order.strip().lower() or "asc"
        if order not in ("asc", "desc") or not field.strip():
            example = "metadata.name,asc" if field_first else "asc:metadata.name"
            raise InputError(f"invalid order {param!r}: expected {example!r}")
        fields.append(OrderField(field.strip(), order))
    return tuple(fields)


_ENTITY_LIST: dict[int | str, dict[str, Any]] = {
    200: {"description": "A bare JSON array of entities", "content": {"application/json": {}}}
}
_ENTITY: dict[int | str, dict[str, Any]] = {
    200: {"description": "The entity", "content": {"application/json": {}}},
    404: {"description": "No such entity (Backstage error body)"},
}

FilterQuery = Annotated[
    list[str] | None,
    Query(description="Repeatable filter set: `kind=template,metadata.namespace=default`; sets are OR'ed"),
]
FieldsQuery = Annotated[
    list[str] | None, Query(description="Comma-joined dotted paths to keep, e.g. `kind,metadata.name`")
]


@catalog_router.get(
    "/entities", summary="List entities (bare array), as CatalogClient.getEntities", responses=_ENTITY_LIST
)
def get_entities(
    index: EntityIndexDep,
    filter: FilterQuery = None,
    fields: FieldsQuery = None,
    order: Annotated[list[str] | None, Query(description="`asc:metadata.name`; repeatable")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int | None, Query(ge=0)] = None,
    after: Annotated[str | None, Query(description="Cursor of the legacy paginated API")] = None,
) -> Response:
    query = EntityQuery(
        filter=parse_filters(filter), order=_order_fields(order, separator=":", field_first=False)
    )
    if after:
        query, offset = decode_cursor(after)
    page = index.query(query, offset=offset, limit=limit)
    wanted = parse_fields(fields)
    if wanted:
        response = json_response([project(e, wanted) for e in page.items])
    else:
        response = Response(index.json_array(page.positions), media_type="application/json")
    if (after is not None or limit is not None) and page.next_offset is not None:
        next_cursor = encode_cursor(query, page.next_offset, index.etag)
        response.headers["link"] = f'<?after={next_cursor}>; rel="next"'
    return response


@catalog_router.get(
    "/entities/by-query",
    summary="Query entities with cursor pagination, as CatalogClient.queryEntities",
    responses={200: {"description": "`{items, totalItems, pageInfo: {nextCursor?, prevCursor?}}`"}},
)
def query_entities(
    index: EntityIndexDep,
    filter: FilterQuery = None,
    fields: FieldsQuery = None,
    order_field: Annotated[
        list[str] | None, Query(alias="orderField", description="`metadata.name,asc`")
    ] = None,
    cursor: Annotated[
        str | None, Query(description="Opaque cursor from pageInfo; other query params ignored")
    ] = None,
    limit: Annotated[int, Query(ge=0, le=10000)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    full_text_filter_term: Annotated[str | None, Query(alias="fullTextFilterTerm")] = None,
    full_text_filter_fields: Annotated[list[str] | None, Query(alias="fullTextFilterFields")] = None,
) -> Response:
    if cursor:
        query, offset = decode_cursor(cursor)
    else:
        query = EntityQuery(
            filter=parse_filters(filter),
            order=_order_fields(order_field, separator=",", field_first=True),
            text=(full_text_filter_term or "").strip(),
            text_fields=tuple(parse_fields(full_text_filter_fields)),
        )
    page = index.query(query, offset=offset, limit=limit)
    wanted = parse_fields(fields)
    page_info: dict[str, str] = {}
    if page.next_offset is not None:
        page_info["nextCursor"] = encode_cursor(query, page.next_offset, index.etag)
    if page.prev_offset is not None:
        page_info["prevCursor"] = encode_cursor(query, page.prev_offset, index.etag)
    if wanted:
        items = json.dumps(
            [project(e, wanted) for e in page.items], ensure_ascii=False, separators=(",", ":")
        )
        items_json = items.encode()
    else:
        items_json = index.json_array(page.positions)
    tail = json.dumps({"totalItems": page.total, "pageInfo": page_info}, separators=(",", ":")).encode()
    return Response(b'{"items":' + items_json + b"," + tail[1:], media_type="application/json")


class EntitiesByRefsRequest(BaseModel):
    entityRefs: list[str] = Field(
        description="Full refs, e.g. `template:default/database-postgresql-standard`"
    )
    fields: list[str] | None = Field(default=None, description="Dotted paths to keep")


@catalog_router.post(
    "/entities/by-refs",
    summary="Entities for refs in request order, `null` for misses, as CatalogClient.getEntitiesByRefs",
    responses={200: {"description": "`{items: (Entity | null)[]}`"}},
)
def get_entities_by_refs(
    index: EntityIndexDep, body: EntitiesByRefsRequest, filter: FilterQuery = None
) -> Response:
    if len(body.entityRefs) > _MAX_REFS:
        raise InputError(f"at most {_MAX_REFS} entityRefs per request; split them (CatalogClient does)")
    entity_filter = parse_filters(filter)
    wanted = parse_fields(body.fields)
    items: list[dict[str, Any] | None] = []
    for ref in body.entityRefs:
        entity = index.get_by_ref(ref)
        if (
            entity is not None
            and entity_filter.sets
            and not entity_filter.matches(index.rows[index.position(entity)])
        ):
            entity = None
        items.append(None if entity is None else project(entity, wanted))
    return json_response({"items": items})


def _require(index: EntityIndex, kind: str, namespace: str, name: str) -> dict[str, Any]:
    entity = index.get(kind, namespace, name)
    if entity is None:
        raise NotFoundError(f"No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'")
    return entity


@catalog_router.get(
    "/entities/by-name/{kind}/{namespace}/{name}",
    summary="One entity by kind, namespace and name (case-insensitive), as CatalogClient.getEntityByRef",
    responses=_ENTITY,
)
def get_entity_by_name(index: EntityIndexDep, kind: str, namespace: str, name: str) -> Response:
    entity = _require(index, kind, namespace, name)
    return Response(index.json[index.position(entity)], media_type="application/json")


@catalog_router.get(
    "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
    summary="An entity's ancestry; PAO's entities come from no parent location, so it is the entity alone",
    responses={200: {"description": "`{rootEntityRef, items: [{entity, parentEntityRefs}]}`"}},
)
def get_entity_ancestry(index: EntityIndexDep, kind: str, namespace: str, name: str) -> Response:
    entity = _require(index, kind, namespace, name)
    ref = f"{entity['kind']}:{entity['metadata']['namespace']}/{entity['metadata']['name']}".lower()
    return json_response({"rootEntityRef": ref, "items": [{"entity": entity, "parentEntityRefs": []}]})


@catalog_router.get("/entities/by-uid/{uid}", summary="One entity by its metadata.uid", responses=_ENTITY)
def get_entity_by_uid(index: EntityIndexDep, uid: str) -> Response:
    entity = index.get_by_uid(uid)
    if entity is None:
        raise NotFoundError(f"No entity with uid {uid}")
    return json_response(entity)


@catalog_router.get(
    "/entity-facets",
    summary="Value counts of fields over the filtered entities, as CatalogClient.getEntityFacets",
    responses={200: {"description": "`{facets: {<facet>: [{value, count}]}}`"}},
)
def get_entity_facets(
    index: EntityIndexDep,
    facet: Annotated[
        list[str] | None, Query(description="Repeatable: `spec.type`, `metadata.tags`, `relations.ownedBy`")
    ] = None,
    filter: FilterQuery = None,
) -> Response:
    return json_response({"facets": index.facets(facet or [], parse_filters(filter))})
