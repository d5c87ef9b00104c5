"""The `presets` table, on PAO's one metadata (migration 0002)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pao_backend.persistence.tables import Base, utcnow


class PresetRow(Base):
    __tablename__ = "presets"
    __table_args__ = (
        Index("ix_presets_owner_offering", "owner", "offering_id"),
        Index("ix_presets_team_offering", "team", "offering_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(10))  # me | team
    team: Mapped[str | None] = mapped_column(String(200), default=None)
    owner: Mapped[str] = mapped_column(String(300))
    offering_id: Mapped[str] = mapped_column(String(200))
    offering_version: Mapped[str] = mapped_column(String(50))
    # Request values without any password field.
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The form's field rules when saved, to point out what changed since.
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source_request: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
