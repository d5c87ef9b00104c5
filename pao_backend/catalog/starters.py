"""Starter documents for `pao new`: cookiecutter templates in templates/catalog-item and catalog-bundle.

The generated document validates clean in the catalog it is written to (a test checks every mode).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cookiecutter.main import cookiecutter

from pao_backend.catalog.models import CatalogItem, Team

__all__ = [
    "STARTERS_DIR",
    "BundleStarter",
    "ItemStarter",
    "StarterError",
    "generate_bundle",
    "generate_item",
    "item_id_for",
]


def _starters_dir() -> Path:
    """templates/ of the source checkout, else the copy a wheel installs under <prefix>/share/pao."""
    checkout = Path(__file__).resolve().parents[2] / "templates"
    installed = Path(sys.prefix) / "share" / "pao" / "templates"
    return checkout if (checkout / "catalog-item").is_dir() or not installed.is_dir() else installed


STARTERS_DIR = _starters_dir()


class StarterError(Exception):
    """The starter cannot be generated as asked (the message says why and what to do)."""


@dataclass(frozen=True)
class ItemStarter:
    category: str
    service: str
    team: Team
    mode: str = "manual"
    variant: str = "standard"
    name: str = ""
    endpoint_base: str = "provisioner"


@dataclass(frozen=True)
class BundleStarter:
    name: str
    team: Team
    items: Sequence[CatalogItem]
    variant: str = "standard"
    title: str = ""


def item_id_for(category: str, service: str, variant: str) -> str:
    """`databases` + `postgresql` + `standard` -> `database-postgresql-standard`."""
    first = category[:-3] + "y" if category.endswith("ies") else category.removesuffix("s")
    return f"{first or category}-{service}-{variant}"


def _render(template: str, context: dict[str, Any], output_dir: Path) -> None:
    try:
        cookiecutter(
            str(STARTERS_DIR / template),
            no_input=True,
            extra_context=context,
            output_dir=str(output_dir),
            overwrite_if_exists=True,  # the category folder usually exists; the file itself is checked first
            default_config=True,
        )
    except Exception as exc:  # cookiecutter raises many unrelated types; all mean "could not render"
        raise StarterError(f"cookiecutter could not render {template}: {exc}") from exc


def generate_item(catalog: Path, starter: ItemStarter) -> Path:
    """Write catalog/<category>/<id>.yaml from the item starter; returns its path."""
    doc_id = item_id_for(starter.category, starter.service, starter.variant)
    target = catalog / starter.category / f"{doc_id}.yaml"
    if target.exists():
        raise StarterError(f"{target} already exists; choose another service or variant name")
    name = starter.name or " ".join(word.capitalize() for word in starter.service.split("-"))
    context = {
        "category": starter.category,
        "id": doc_id,
        "name": name,
        "description": f"{name}: say in one or two sentences what a developer gets and when to choose it.",
        "team": starter.team.id,
        "contact": starter.team.contact,
        "jira_project": starter.team.jira_project or "OPS",
        "mode": starter.mode,
        "endpoint_base": starter.endpoint_base,
        "endpoint_path": f"/{starter.service}",
    }
    _render("catalog-item", context, catalog)
    return target


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000).strip()


def generate_bundle(catalog: Path, starter: BundleStarter) -> Path:
    """Write catalog/bundles/<id>.yaml chaining the given items (each depends on the one before)."""
    if not starter.items:
        raise StarterError("a bundle needs at least one catalog item; pass --item <item id>")
    doc_id = f"bundle-{starter.name}-{starter.variant}"
    target = catalog / "bundles" / f"{doc_id}.yaml"
    if target.exists():
        raise StarterError(f"{target} already exists; choose another name or variant")
    components: list[str] = []
    used: set[str] = set()
    previous: str | None = None
    groups: dict[str, dict[str, Any]] = {}
    for item in starter.items:
        component_id = _component_id(item, used)
        used.add(component_id)
        entry = {"id": component_id, "catalogItem": item.id, "dependsOn": [previous] if previous else []}
        components.append(f"  - {_flow(entry)}")
        previous = component_id
        # Fields the item requires without a default must come from the bundle's form.
        for group in item.form.groups:
            for field in group.fields:
                if field.required and field.default is None:
                    target_group = groups.setdefault(
                        group.id, {"id": group.id, "name": group.name, "fields": []}
                    )
                    if all(f["id"] != field.id for f in target_group["fields"]):
                        target_group["fields"].append(field.model_dump(by_alias=True, exclude_none=True))
    title = starter.title or " ".join(word.capitalize() for word in starter.name.split("-")) + " Stack"
    context = {
        "folder": "bundles",
        "id": doc_id,
        "name": title,
        "description": f"{title}: say in one or two sentences what a developer gets in one request "
        "and when to choose it.",
        "team": starter.team.id,
        "contact": starter.team.contact,
        "components_yaml": "\n".join(components),
        "groups_yaml": "\n".join(f"      - {_flow(g)}" for g in groups.values()),
    }
    _render("catalog-bundle", context, catalog)
    return target


def _component_id(item: CatalogItem, used: set[str]) -> str:
    # The category word names the role in the stack: database, compute, security, ...
    base = item.id.split("-")[0]
    base = "".join(ch for ch in base if ch.isalnum()) or "component"
    base = base[0].lower() + base[1:] if base[0].isalpha() else "c" + base
    candidate, number = base, 2
    while candidate in used:
        candidate, number = f"{base}{number}", number + 1
    return candidate
