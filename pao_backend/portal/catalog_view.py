"""What the portal shows of the catalog: offering cards, filters, and an offering's detail.

Pure: builds view models from a `Catalog` snapshot, imports nothing from the web layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pao_backend.catalog.models import CatalogBundle, CatalogItem, Form, FormField, Offering, Team
from pao_backend.catalog.store import Catalog

CardMode = Literal["automatic", "manual", "mixed"]
# `{{.current.name}}` in a URL reads as `<name>` to people.
_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*\.([\w.-]+)\s*\}\}")

_WIDGETS = {
    "string": "text",
    "textarea": "text area",
    "password": "password (never stored)",
    "email": "email",
    "number": "number",
    "boolean": "checkbox",
    "select": "dropdown",
    "multiselect": "multi-select",
    "date": "date picker",
    "file": "file upload",
}


@dataclass(frozen=True)
class OfferingCard:
    id: str
    kind: Literal["item", "bundle"]
    name: str
    description: str
    version: str
    category: str
    team_id: str
    team_name: str
    mode: CardMode
    tags: tuple[str, ...] = ()
    lead_time: str | None = None

    @property
    def search_text(self) -> str:
        return " ".join([self.id, self.name, self.description, self.team_name, *self.tags]).lower()


@dataclass(frozen=True)
class CatalogFilters:
    q: str = ""
    category: str = ""
    team: str = ""
    mode: str = ""


@dataclass(frozen=True)
class FieldRow:
    """One form field as the offering page lists it."""

    path: str
    group: str
    label: str
    widget: str
    required: bool
    default: str
    description: str
    rules: str


@dataclass(frozen=True)
class Deliverable:
    """One thing an offering does: a component's action, in words."""

    component: str
    item_id: str
    item_name: str
    mode: str
    steps: list[str]
    outputs: list[str]
    team_name: str


@dataclass(frozen=True)
class OfferingDetail:
    card: OfferingCard
    owner_contact: str
    team: Team | None
    fields: list[FieldRow]
    deliverables: list[Deliverable]
    custom_metadata: dict[str, str] = field(default_factory=dict)


def offering_mode(catalog: Catalog, offering: Offering) -> CardMode:
    """An item's mode; a bundle is automatic or manual when all its components agree, else mixed."""
    if isinstance(offering, CatalogItem):
        return offering.mode
    modes = {
        catalog.items[c.catalog_item].mode for c in offering.components if c.catalog_item in catalog.items
    }
    if len(modes) == 1:
        return next(iter(modes))
    return "mixed"


def build_card(catalog: Catalog, offering: Offering, *, lead_time: str | None = None) -> OfferingCard:
    team = catalog.get_team(offering.metadata.owner.team)
    is_item = isinstance(offering, CatalogItem)
    category = (offering.metadata.category or "other") if is_item else "bundles"
    return OfferingCard(
        id=offering.id,
        kind="item" if is_item else "bundle",
        name=offering.metadata.name,
        description=offering.metadata.description,
        version=offering.metadata.version,
        category=category,
        team_id=offering.metadata.owner.team,
        team_name=team.name if team else offering.metadata.owner.team,
        mode=offering_mode(catalog, offering),
        tags=tuple(offering.metadata.tags),
        lead_time=lead_time,
    )


def build_cards(catalog: Catalog, *, lead_times: dict[str, str] | None = None) -> list[OfferingCard]:
    """Every offering as a card: bundles first (they are the quick start), then items by name."""
    lead_times = lead_times or {}
    cards = [build_card(catalog, o, lead_time=lead_times.get(o.id)) for o in catalog.offerings()]
    return sorted(cards, key=lambda c: (c.kind != "bundle", c.name.lower()))


def filter_cards(cards: list[OfferingCard], filters: CatalogFilters) -> list[OfferingCard]:
    words = filters.q.lower().split()
    return [
        c
        for c in cards
        if all(w in c.search_text for w in words)
        and (not filters.category or c.category == filters.category)
        and (not filters.team or c.team_id == filters.team)
        and (not filters.mode or c.mode == filters.mode)
    ]


def facet_values(cards: list[OfferingCard]) -> dict[str, list[tuple[str, str]]]:
    """(value, label) choices for the filter dropdowns."""
    categories = sorted({c.category for c in cards})
    teams = sorted({(c.team_id, c.team_name) for c in cards}, key=lambda t: t[1].lower())
    modes = sorted({c.mode for c in cards})
    return {
        "category": [(c, c.capitalize()) for c in categories],
        "team": teams,
        "mode": [(m, m.capitalize()) for m in modes],
    }


def _rules(f: FormField) -> str:
    parts: list[str] = []
    v = f.validation
    if f.enum:
        parts.append("one of " + ", ".join(f.enum) if f.type == "select" else "any of " + ", ".join(f.enum))
    if v is not None:
        unit = {"number": "", "date": "", "file": " bytes", "multiselect": " items"}.get(
            f.type, " characters"
        )
        if v.min is not None:
            parts.append(f"from {_fmt(v.min)}{unit}" if f.type != "date" else f"not before {v.min}")
        if v.max is not None:
            parts.append(f"up to {_fmt(v.max)}{unit}" if f.type != "date" else f"not after {v.max}")
        if v.pattern:
            parts.append(f"matches {v.pattern}")
    return "; ".join(parts)


def _fmt(value: float | str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def field_rows(form: Form) -> list[FieldRow]:
    name_rules = f"matches {form.validation.pattern}" if form.validation and form.validation.pattern else ""
    rows = [
        FieldRow(
            path="name",
            group="",
            label=form.name,
            widget="text",
            required=True,
            default="",
            description=form.description or "",
            rules=name_rules,
        )
    ]
    for group in form.groups:
        for f in group.fields:
            default = "" if f.default is None or f.is_secret else _display(f.default)
            rows.append(
                FieldRow(
                    path=f"{group.id}.{f.id}",
                    group=group.name,
                    label=f.name,
                    widget=_WIDGETS[f.type],
                    required=f.required,
                    default=default,
                    description=f.description or "",
                    rules=_rules(f),
                )
            )
    return rows


def _display(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe_action(action_type: str, config: dict[str, object]) -> str:
    """A short sentence for what an action does, for people (no templates rendered)."""
    if action_type == "jira-ticket":
        ticket = config.get("ticket")
        project = ticket.get("project", "?") if isinstance(ticket, dict) else "?"
        return f"Opens a ticket in {project} for a person to fulfil"
    if action_type == "rest-api":
        endpoint = config.get("endpoint")
        if not isinstance(endpoint, dict):
            return "Calls a provisioning API"
        url = _TEMPLATE_VARIABLE.sub(
            lambda m: "<" + m.group(1).rsplit(".", 1)[-1] + ">", str(endpoint.get("url", ""))
        )
        method = str(endpoint.get("method", "POST"))
        if endpoint.get("base"):
            return f"Calls the {endpoint['base']} API ({method} {url})"
        host = url.split("//", 1)[-1].split("/", 1)[0] if url else "a provisioning API"
        return f"Calls the provisioning API ({method} {host})"
    if action_type == "cookiecutter":
        return f"Generates files from the {config.get('template', '?')} template"
    if action_type == "git-commit":
        return f"Commits to {config.get('repository', 'a repository')}"
    return f"Runs {action_type}"


def _deliverable(catalog: Catalog, component: str, item: CatalogItem) -> Deliverable:
    actions = item.fulfillment.actions_for(item.mode)
    team = catalog.get_team(item.metadata.owner.team)
    return Deliverable(
        component=component,
        item_id=item.id,
        item_name=item.metadata.name,
        mode=item.mode,
        steps=[describe_action(a.type, a.config) for a in actions],
        outputs=sorted({k for a in actions for k in a.outputs}),
        team_name=team.name if team else item.metadata.owner.team,
    )


def build_detail(catalog: Catalog, offering: Offering, *, lead_time: str | None = None) -> OfferingDetail:
    if isinstance(offering, CatalogBundle):
        deliverables = [
            _deliverable(catalog, c.id, catalog.items[c.catalog_item])
            for c in offering.components
            if c.catalog_item in catalog.items
        ]
    else:
        deliverables = [_deliverable(catalog, offering.id, offering)]
    custom = {k: _display(v) for k, v in offering.metadata.custom.items()}
    return OfferingDetail(
        card=build_card(catalog, offering, lead_time=lead_time),
        owner_contact=offering.metadata.owner.contact,
        team=catalog.get_team(offering.metadata.owner.team),
        fields=field_rows(offering.form),
        deliverables=deliverables,
        custom_metadata=custom,
    )
