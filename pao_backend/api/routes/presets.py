"""/api/pao/v1/presets: reusable request values (create from values or a completed request, list, get,
update, delete). Thin: each route calls one presets service function."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from pao_backend.api.deps import CatalogDep, CurrentUserDep
from pao_backend.persistence.db import Database
from pao_backend.presets import (
    PresetCreate,
    PresetPage,
    PresetRead,
    PresetUpdate,
    create_preset,
    delete_preset,
    get_preset,
    list_presets,
    update_preset,
)

router = APIRouter(prefix="/api/pao/v1/presets", tags=["presets"])


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DbDep = Annotated[Database, Depends(_db)]
_DUMP: dict[str, Any] = {"response_model_by_alias": True}


@router.post("", status_code=201, response_model=PresetRead, summary="Save a preset", **_DUMP)
def create(body: PresetCreate, db: DbDep, catalog: CatalogDep, caller: CurrentUserDep) -> PresetRead:
    """From `offeringId` + `values` (checked like a request's), or `fromRequest` (a completed request
    of yours). Password fields are never saved."""
    return create_preset(db=db, catalog=catalog, caller=caller, data=body)


@router.get("", response_model=PresetPage, summary="Presets you can use", **_DUMP)
def list_(
    db: DbDep,
    catalog: CatalogDep,
    caller: CurrentUserDep,
    offering_id: Annotated[str | None, Query(alias="offeringId")] = None,
) -> PresetPage:
    return list_presets(db=db, catalog=catalog, caller=caller, offering_id=offering_id)


@router.get(
    "/{preset_id}", response_model=PresetRead, summary="One preset, with changes since it was saved", **_DUMP
)
def get(preset_id: str, db: DbDep, catalog: CatalogDep, caller: CurrentUserDep) -> PresetRead:
    return get_preset(db=db, catalog=catalog, caller=caller, preset_id=preset_id)


@router.patch("/{preset_id}", response_model=PresetRead, summary="Change a preset you own", **_DUMP)
def update(
    preset_id: str, body: PresetUpdate, db: DbDep, catalog: CatalogDep, caller: CurrentUserDep
) -> PresetRead:
    return update_preset(db=db, catalog=catalog, caller=caller, preset_id=preset_id, data=body)


@router.delete("/{preset_id}", status_code=204, summary="Delete a preset you own")
def delete(preset_id: str, db: DbDep, caller: CurrentUserDep) -> Response:
    delete_preset(db=db, caller=caller, preset_id=preset_id)
    return Response(status_code=204)
