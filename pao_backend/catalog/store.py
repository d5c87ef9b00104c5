"""The in-memory catalog: valid documents indexed by id, with a content version."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pao_backend.catalog.models import CatalogBundle, CatalogItem, Offering, Team
from pao_backend.errors import NotFoundError


@dataclass(frozen=True)
class Catalog:
    """An immutable snapshot of the catalog; a reload builds a new one."""

    items: dict[str, CatalogItem] = field(default_factory=dict)
    bundles: dict[str, CatalogBundle] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    # Where each document came from, relative to the catalog root: id -> "databases/postgresql.yaml".
    sources: dict[str, str] = field(default_factory=dict)
    # Raw (YAML-parsed) documents by id, kept for calendar/diff/render tooling.
    raw: dict[str, dict[str, Any]] = field(default_factory=dict)

    @cached_property
    def etag(self) -> str:
        """Changes whenever any document changes; stable across restarts. Computed once per snapshot."""
        digest = hashlib.sha256()
        for key in sorted(self.raw):
            digest.update(key.encode())
            digest.update(json.dumps(self.raw[key], sort_keys=True, default=str).encode())
        for team_id in sorted(self.teams):
            digest.update(self.teams[team_id].model_dump_json(by_alias=True).encode())
        return digest.hexdigest()[:16]

    def offerings(self) -> list[Offering]:
        return [*self.items.values(), *self.bundles.values()]

    def get_offering(self, offering_id: str) -> Offering | None:
        return self.items.get(offering_id) or self.bundles.get(offering_id)

    def require_offering(self, offering_id: str) -> Offering:
        offering = self.get_offering(offering_id)
        if offering is None:
            raise NotFoundError(
                f"no catalog item or bundle with id {offering_id!r}; list them at GET /api/pao/v1/catalog"
            )
        return offering

    def require_item(self, item_id: str) -> CatalogItem:
        item = self.items.get(item_id)
        if item is None:
            raise NotFoundError(f"no catalog item with id {item_id!r}")
        return item

    def get_team(self, team_id: str) -> Team | None:
        return self.teams.get(team_id)
