"""The request form page's view model: the form, its JSON Schema (the one the server checks with),
and the preset to prefill from."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from pao_backend.auth import Identity
from pao_backend.catalog.form_schema import form_schema
from pao_backend.catalog.models import Form, Offering
from pao_backend.catalog.store import Catalog
from pao_backend.errors import NotFoundError
from pao_backend.portal.catalog_view import build_card
from pao_backend.presets import get_preset, list_presets
from pao_backend.presets.compare import drop_removed


def field_meta(form: Form) -> list[dict[str, Any]]:
    """Per field: its path, type and label (the rules themselves come from the JSON Schema)."""
    fields: list[dict[str, Any]] = [{"path": "name", "type": "string", "label": form.name}]
    for group in form.groups:
        fields.extend({"path": f"{group.id}.{f.id}", "type": f.type, "label": f.name} for f in group.fields)
    return fields


def database(app: FastAPI) -> Any:
    return getattr(app.state, "db", None)


def form_page_context(
    app: FastAPI, catalog: Catalog, offering: Offering, *, user: Identity, preset_id: str | None
) -> dict[str, Any]:
    preset: dict[str, Any] | None = None
    changes: list[dict[str, Any]] = []
    values: dict[str, Any] | None = None
    if preset_id:
        read = get_preset(db=database(app), catalog=catalog, caller=user, preset_id=preset_id)
        if read.offering_id != offering.id:
            raise NotFoundError(f"preset {preset_id!r} is for {read.offering_id!r}, not {offering.id!r}")
        preset = read.model_dump(by_alias=True, mode="json")
        changes = [c.model_dump(by_alias=True) for c in read.changes]
        values = drop_removed(offering.form, read.values)
    meta = {
        "offeringId": offering.id,
        "version": offering.metadata.version,
        "fields": field_meta(offering.form),
        "preset": {"id": preset["id"], "name": preset["name"], "values": values} if preset else None,
        "changes": changes,
    }
    return {
        "card": build_card(catalog, offering),
        "form": offering.form,
        "schema": form_schema(offering.form),
        "meta": meta,
        "preset": preset,
        "changes": changes,
    }


def visible_presets(
    app: FastAPI, *, catalog: Catalog, user: Identity, offering_id: str
) -> list[dict[str, Any]]:
    db = database(app)
    if db is None:
        return []
    page = list_presets(db=db, catalog=catalog, caller=user, offering_id=offering_id)
    return [p.model_dump(by_alias=True, mode="json") for p in page.items]
