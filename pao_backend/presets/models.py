"""Presets: a saved, reusable set of request values for one offering (never with secrets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

Visibility = Literal["me", "team"]


class _Api(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class PresetCreate(_Api):
    """Either `offeringId` + `values`, or `fromRequest` (a completed request's values)."""

    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=500)
    visibility: Visibility = "me"
    team: str | None = Field(default=None, description="The team that sees a team preset; default your first")
    offering_id: str | None = None
    values: dict[str, Any] | None = None
    from_request: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PresetCreate:
        if self.from_request is None and (self.offering_id is None or self.values is None):
            raise ValueError("give either fromRequest, or offeringId and values")
        if self.from_request is not None and (self.offering_id is not None or self.values is not None):
            raise ValueError("give fromRequest alone: the offering and values come from that request")
        return self


class PresetUpdate(_Api):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    description: str | None = Field(default=None, max_length=500)
    visibility: Visibility | None = None
    team: str | None = None
    values: dict[str, Any] | None = None


class PresetChange(_Api):
    """How the offering's form changed for one field since the preset was saved."""

    path: str
    change: Literal["added", "removed", "changed", "invalid"]
    message: str


class PresetRead(_Api):
    id: str
    name: str
    description: str
    visibility: Visibility
    team: str | None
    owner: str
    offering_id: str
    offering_name: str | None = None
    offering_version: str
    current_version: str | None = None
    values: dict[str, Any]
    source_request: str | None = None
    changes: list[PresetChange] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class PresetPage(_Api):
    items: list[PresetRead]
    total_items: int


class Preset(BaseModel):
    """The domain record the repository returns."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    description: str
    visibility: Visibility
    team: str | None
    owner: str
    offering_id: str
    offering_version: str
    values: dict[str, Any]
    # The form's field rules when saved: {"group.field": {type, required, enum, min, max, ...}}.
    fields: dict[str, dict[str, Any]]
    source_request: str | None
    created_at: datetime
    updated_at: datetime
