"""Presets in PAO's database. Repositories never commit: the service owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pao_backend.persistence.tables import RequestRow
from pao_backend.presets.models import Preset
from pao_backend.presets.tables import PresetRow


@dataclass(frozen=True)
class SourceRequest:
    """What a preset takes from a request."""

    id: str
    offering_id: str
    offering_version: str
    values: dict[str, Any]
    state: str
    requester: str


def to_preset(row: PresetRow) -> Preset:
    return Preset(
        id=row.id,
        name=row.name,
        description=row.description,
        visibility="team" if row.visibility == "team" else "me",
        team=row.team,
        owner=row.owner,
        offering_id=row.offering_id,
        offering_version=row.offering_version,
        values=dict(row.values or {}),
        fields=dict(row.fields or {}),
        source_request=row.source_request,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def add(session: Session, row: PresetRow) -> PresetRow:
    session.add(row)
    session.flush()
    return row


def get_row(session: Session, preset_id: str) -> PresetRow | None:
    return session.get(PresetRow, preset_id)


def list_visible(
    session: Session, *, owner: str, teams: list[str], offering_id: str | None = None
) -> list[PresetRow]:
    """Presets the caller owns, plus team presets of the caller's teams; newest first."""
    visible = or_(
        PresetRow.owner == owner,
        (PresetRow.visibility == "team") & PresetRow.team.in_(teams or [""]),
    )
    query = select(PresetRow).where(visible)
    if offering_id:
        query = query.where(PresetRow.offering_id == offering_id)
    return list(session.scalars(query.order_by(PresetRow.updated_at.desc(), PresetRow.id)))


def delete(session: Session, row: PresetRow) -> None:
    session.delete(row)
    session.flush()


def get_source_request(session: Session, request_id: str) -> SourceRequest | None:
    row = session.get(RequestRow, request_id)
    if row is None:
        return None
    return SourceRequest(
        id=row.id,
        offering_id=row.catalog_id,
        offering_version=row.item_version,
        values=dict(row.values or {}),
        state=row.state,
        requester=row.requester,
    )
