"""Presets: create (from values or a completed request), list, get, update, delete.

Every function owns its transaction. Secrets are never saved: password fields are stripped before
anything is written, whatever the caller sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pao_backend.catalog.models import Form
from pao_backend.catalog.store import Catalog
from pao_backend.catalog.values import split_secrets
from pao_backend.errors import ConflictError, InputError, NotAllowedError, NotFoundError
from pao_backend.persistence.db import Database
from pao_backend.presets import repository
from pao_backend.presets.compare import compare, field_rules, preset_value_errors
from pao_backend.presets.models import Preset, PresetCreate, PresetPage, PresetRead, PresetUpdate, Visibility
from pao_backend.presets.tables import PresetRow


class Caller(Protocol):
    """Who is asking: a user ref (`user:default/jane`) and the teams they belong to."""

    @property
    def ref(self) -> str: ...

    @property
    def teams(self) -> Sequence[str]: ...


def strip_secrets(form: Form, values: dict[str, Any]) -> dict[str, Any]:
    clean, _ = split_secrets(form, values)
    return clean


def _require_valid(form: Form, values: dict[str, Any], offering_id: str) -> None:
    errors = preset_value_errors(form, values)
    if errors:
        summary = "; ".join(str(e) for e in errors[:5])
        raise InputError(
            f"preset values for {offering_id!r} are invalid: {summary}. Fix the fields named and save again.",
            details={"errors": [e.model_dump() for e in errors], "status": 422},
        )


def _team_for(caller: Caller, visibility: Visibility, team: str | None) -> str | None:
    if visibility == "me":
        return None
    if team is None:
        if not caller.teams:
            raise InputError(
                "a team preset needs a team, and you belong to none; save it with visibility 'me'",
                details={"errors": [{"path": "visibility", "message": "you belong to no team"}]},
            )
        return caller.teams[0]
    if team not in caller.teams:
        raise NotAllowedError(f"you are not a member of team {team!r}; pick one of {caller.teams}")
    return team


def _read(catalog: Catalog, preset: Preset) -> PresetRead:
    offering = catalog.get_offering(preset.offering_id)
    if offering is None:
        changes = []
        current_version = None
        name = None
    else:
        changes = compare(offering.form, preset.fields, preset.values)
        current_version = offering.metadata.version
        name = offering.metadata.name
    return PresetRead(
        id=preset.id,
        name=preset.name,
        description=preset.description,
        visibility=preset.visibility,
        team=preset.team,
        owner=preset.owner,
        offering_id=preset.offering_id,
        offering_name=name,
        offering_version=preset.offering_version,
        current_version=current_version,
        values=preset.values,
        source_request=preset.source_request,
        changes=changes,
        created_at=preset.created_at,
        updated_at=preset.updated_at,
    )


def _visible(preset: PresetRow, caller: Caller) -> bool:
    return preset.owner == caller.ref or (preset.visibility == "team" and preset.team in caller.teams)


def _require_row(db_session: Any, caller: Caller, preset_id: str) -> PresetRow:
    row = repository.get_row(db_session, preset_id)
    if row is None or not _visible(row, caller):
        raise NotFoundError(
            f"no preset {preset_id!r} that you can see; list yours at GET /api/pao/v1/presets"
        )
    return row


def create_preset(*, db: Database, catalog: Catalog, caller: Caller, data: PresetCreate) -> PresetRead:
    """Save values (or a completed request's values) as a preset, without secrets."""
    with db.transaction() as session:
        if data.from_request is not None:
            source = repository.get_source_request(session, data.from_request)
            if source is None or source.requester != caller.ref:
                raise NotFoundError(f"no request {data.from_request!r} of yours to save as a preset")
            if source.state != "completed":
                raise ConflictError(
                    f"request {source.id!r} is {source.state}; only a completed request can become a preset"
                )
            offering = catalog.require_offering(source.offering_id)
            values = strip_secrets(offering.form, source.values)
            version = source.offering_version
        else:
            assert data.offering_id is not None and data.values is not None
            offering = catalog.require_offering(data.offering_id)
            values = strip_secrets(offering.form, data.values)
            _require_valid(offering.form, values, offering.id)
            version = offering.metadata.version
        now = datetime.now(UTC)
        row = repository.add(
            session,
            PresetRow(
                id=uuid.uuid4().hex,
                name=data.name.strip(),
                description=data.description.strip(),
                visibility=data.visibility,
                team=_team_for(caller, data.visibility, data.team),
                owner=caller.ref,
                offering_id=offering.id,
                offering_version=version,
                values=values,
                fields=field_rules(offering.form),
                source_request=data.from_request,
                created_at=now,
                updated_at=now,
            ),
        )
        preset = repository.to_preset(row)
    return _read(catalog, preset)


def list_presets(
    *, db: Database, catalog: Catalog, caller: Caller, offering_id: str | None = None
) -> PresetPage:
    with db.reading() as session:
        rows = repository.list_visible(
            session, owner=caller.ref, teams=list(caller.teams), offering_id=offering_id
        )
        presets = [repository.to_preset(r) for r in rows]
    items = [_read(catalog, p) for p in presets]
    return PresetPage(items=items, total_items=len(items))


def get_preset(*, db: Database, catalog: Catalog, caller: Caller, preset_id: str) -> PresetRead:
    with db.reading() as session:
        preset = repository.to_preset(_require_row(session, caller, preset_id))
    return _read(catalog, preset)


def update_preset(
    *, db: Database, catalog: Catalog, caller: Caller, preset_id: str, data: PresetUpdate
) -> PresetRead:
    """Rename, re-describe, share or re-value a preset you own; new values are checked like a request's."""
    with db.transaction() as session:
        row = _require_row(session, caller, preset_id)
        if row.owner != caller.ref:
            raise NotAllowedError(
                f"preset {preset_id!r} belongs to {row.owner}; only its owner can change it"
            )
        if data.name is not None:
            row.name = data.name.strip()
        if data.description is not None:
            row.description = data.description.strip()
        if data.visibility is not None or data.team is not None:
            visibility: Visibility = data.visibility or ("team" if row.visibility == "team" else "me")
            row.visibility = visibility
            row.team = _team_for(caller, visibility, data.team)
        if data.values is not None:
            offering = catalog.require_offering(row.offering_id)
            values = strip_secrets(offering.form, data.values)
            _require_valid(offering.form, values, offering.id)
            row.values = values
            row.fields = field_rules(offering.form)
            row.offering_version = offering.metadata.version
        row.updated_at = datetime.now(UTC)
        session.flush()
        preset = repository.to_preset(row)
    return _read(catalog, preset)


def delete_preset(*, db: Database, caller: Caller, preset_id: str) -> None:
    with db.transaction() as session:
        row = _require_row(session, caller, preset_id)
        if row.owner != caller.ref:
            raise NotAllowedError(
                f"preset {preset_id!r} belongs to {row.owner}; only its owner can delete it"
            )
        repository.delete(session, row)
