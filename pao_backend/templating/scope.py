"""What a template may name: the four namespaces and the shapes of their values.

A scope is a plain mapping `{"current": ..., "output": ..., "metadata": ..., "system": ...}`; values that
are secrets are wrapped in `Secret` so rendering can redact them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pao_backend.catalog.models import CatalogItem, Form

NAMESPACES = ("current", "metadata", "output", "system")

# `.system.<key>` leaves, and the keys of its two objects; `.system.secrets.<name>` is open-ended.
SYSTEM_KEYS = ("correlationId", "date", "requestId", "shortId", "time", "timestamp", "uuid")
SYSTEM_USER_KEYS = ("email", "id", "name", "teams")
SYSTEM_PLATFORM_KEYS = ("account", "environment", "region")
FILE_KEYS = ("content", "contentType", "filename", "size")


@dataclass(frozen=True)
class Secret:
    """A secret value: rendered in clear into what is sent, as `***` into what is shown."""

    value: str

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"


def form_paths(form: Form) -> set[tuple[str, ...]]:
    """Every `.current` path a form defines: `name`, each group, each field, file sub-keys."""
    paths: set[tuple[str, ...]] = {("name",)}
    for group in form.groups:
        paths.add((group.id,))
        for field in group.fields:
            paths.add((group.id, field.id))
            if field.type == "file":
                paths.update((group.id, field.id, key) for key in FILE_KEYS)
    return paths


def item_metadata(item: CatalogItem) -> dict[str, Any]:
    """The `.metadata.<itemId>` object: the document's metadata, custom keys included."""
    data: dict[str, Any] = item.metadata.model_dump(mode="json", exclude_none=True)
    return data


def metadata_scope(items: Iterable[CatalogItem]) -> dict[str, dict[str, Any]]:
    """The `.metadata` namespace for a set of catalog items, by item id."""
    return {item.id: item_metadata(item) for item in items}
