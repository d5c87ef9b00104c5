"""Planning (pure): an offering and a request's values become a DAG of components with concrete action inputs.

* An item is one component; a bundle is its components in a stable dependency order. A component may
  start when every component it depends on has completed (`Plan.ready`); independent ones may run at once.
* Bundle scope rule: a component's `.current` is its item's form defaults deep-merged with the bundle's
  values (bundle values win; the bundle's `name` is the component's `name`).
* Each component runs its item's action list for the item's strategy mode; the manual list is kept for
  escalation.
* `render_action` (action_inputs.py, re-exported here) turns one catalog action's config into the input of
  its scaffolder action. At plan time (`for_display=True`) outputs not known yet show as `<output:key>`;
  at run time they render as null. `extract_outputs` (outputs.py) reads declared outputs from results.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote

from pao_backend.catalog.models import Action, CatalogBundle, CatalogItem, Form, Mode
from pao_backend.catalog.store import Catalog
from pao_backend.errors import InputError, NotFoundError
from pao_backend.orchestration.action_inputs import ActionInputError, RenderedAction, action_id, render_action
from pao_backend.orchestration.outputs import OutputError, extract_outputs
from pao_backend.templating import Secret, metadata_scope

__all__ = [
    "ActionInputError",
    "OutputError",
    "Plan",
    "PlannedAction",
    "PlannedComponent",
    "RenderedAction",
    "SystemInfo",
    "action_id",
    "component_current",
    "extract_outputs",
    "plan",
    "render_action",
    "system_scope",
]

_DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,=]+=[^;,]*)*);base64,(.*)$", re.DOTALL)


# ---- .system -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemInfo:
    """What `.system` holds for one request. Store `now`, `uuid` and `short_id` with the request so that
    re-planning on retry renders the same values."""

    request_id: str
    user_id: str
    user_name: str = ""
    user_email: str = ""
    user_teams: tuple[str, ...] = ()
    platform: Mapping[str, str] = field(default_factory=dict)
    # Configured secrets by name: a string, or a map of strings (e.g. {"token": ...}); all become Secrets.
    secrets: Mapping[str, str | Mapping[str, str]] = field(default_factory=dict)
    correlation_id: str = ""
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    short_id: str = ""


def system_scope(info: SystemInfo) -> dict[str, Any]:
    """The `.system` namespace: request ids, time, user, platform and secrets (as `Secret`)."""
    now = info.now.astimezone(UTC)
    secrets: dict[str, Any] = {}
    for name, value in info.secrets.items():
        if isinstance(value, Mapping):
            secrets[name] = {k: Secret(str(v)) for k, v in value.items()}
        else:
            secrets[name] = Secret(str(value))
    return {
        "requestId": info.request_id,
        "correlationId": info.correlation_id or info.request_id,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "date": now.date().isoformat(),
        "time": now.strftime("%H:%M:%S"),
        "uuid": info.uuid,
        "shortId": info.short_id or info.uuid.replace("-", "")[:8],
        "user": {
            "id": info.user_id,
            "name": info.user_name,
            "email": info.user_email,
            "teams": list(info.user_teams),
        },
        "platform": {key: info.platform.get(key, "") for key in ("account", "region", "environment")},
        "secrets": secrets,
    }


# ---- .current ------------------------------------------------------------------------------------


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _defaults(form: Form) -> dict[str, Any]:
    return {
        group.id: {f.id: copy.deepcopy(f.default) for f in group.fields if f.default is not None}
        for group in form.groups
    }


def _file_object(value: Any) -> Any:
    """A data-url file value as `{filename, contentType, size, content}` so templates can name its parts."""
    if not isinstance(value, str):
        return value
    match = _DATA_URL.match(value)
    if match is None:
        return value
    params = dict(p.split("=", 1) for p in match.group(2).split(";") if "=" in p)
    content = match.group(3)
    try:
        size = len(base64.b64decode(content, validate=True))
    except (binascii.Error, ValueError):
        size = None
    return {
        "filename": unquote(params.get("name", "")),
        "contentType": match.group(1) or "application/octet-stream",
        "size": size,
        "content": content,
    }


def _shape(form: Form, values: dict[str, Any], secret_forms: Collection[Form]) -> dict[str, Any]:
    """Every field of `form` present (None when empty), file values as objects, password values as Secret."""
    for group in form.groups:
        group_values = values.get(group.id)
        if not isinstance(group_values, dict):
            group_values = values[group.id] = {}
        for f in group.fields:
            group_values.setdefault(f.id, None)
            if f.type == "file":
                group_values[f.id] = _file_object(group_values[f.id])
    for secret_form in secret_forms:
        for group_id, field_id in secret_form.secret_paths():
            group_values = values.get(group_id)
            if isinstance(group_values, dict) and isinstance(group_values.get(field_id), str):
                group_values[field_id] = Secret(group_values[field_id])
    values.setdefault("name", None)
    return values


def component_current(
    item: CatalogItem, values: Mapping[str, Any], *, bundle: CatalogBundle | None = None
) -> dict[str, Any]:
    """The `.current` of a component: item defaults, deep-merged with the (bundle's) values, which win."""
    if bundle is None:
        merged = _deep_merge(_defaults(item.form), values)
        return _shape(item.form, merged, [item.form])
    bundle_values = _deep_merge(_defaults(bundle.form), values)
    merged = _deep_merge(_defaults(item.form), bundle_values)
    merged["name"] = values.get("name")
    return _shape(item.form, merged, [item.form, bundle.form])


# ---- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedAction:
    index: int
    action: Action
    # Rendered at plan time: outputs not yet known show as `<output:key>`.
    preview: RenderedAction

    @property
    def type(self) -> str:
        return self.action.type

    @property
    def name(self) -> str:
        return self.action.name or self.action.type

    @property
    def output_keys(self) -> tuple[str, ...]:
        return tuple(self.action.outputs)


@dataclass(frozen=True)
class PlannedComponent:
    id: str
    item_id: str
    item_version: str
    team: str
    mode: Mode
    depends_on: tuple[str, ...]
    current: Mapping[str, Any]
    actions: tuple[PlannedAction, ...]
    manual_actions: tuple[PlannedAction, ...]

    def actions_for(self, *, escalated: bool = False) -> tuple[PlannedAction, ...]:
        return self.manual_actions if escalated else self.actions


@dataclass(frozen=True)
class Plan:
    offering_id: str
    kind: Literal["item", "bundle"]
    version: str
    components: tuple[PlannedComponent, ...]
    system: Mapping[str, Any]
    metadata: Mapping[str, Any]
    endpoints: Mapping[str, str] = field(default_factory=dict)

    @property
    def depends_on(self) -> dict[str, tuple[str, ...]]:
        return {c.id: c.depends_on for c in self.components}

    def component(self, component_id: str) -> PlannedComponent:
        for component in self.components:
            if component.id == component_id:
                return component
        raise NotFoundError(
            f"offering {self.offering_id!r} has no component {component_id!r}; "
            f"its components are {', '.join(c.id for c in self.components)}"
        )

    def ready(
        self, completed_ids: Collection[str], *, started_ids: Collection[str] = ()
    ) -> list[PlannedComponent]:
        """Components not completed or started whose dependencies have all completed, in plan order."""
        done = set(completed_ids)
        busy = done | set(started_ids)
        return [c for c in self.components if c.id not in busy and done.issuperset(c.depends_on)]

    def scope(self, component_id: str, outputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The template scope of one component, with the request's outputs so far."""
        return {
            "current": self.component(component_id).current,
            "output": dict(outputs or {}),
            "metadata": self.metadata,
            "system": self.system,
        }

    def render(
        self,
        component_id: str,
        index: int,
        *,
        outputs: Mapping[str, Any] | None = None,
        escalated: bool = False,
    ) -> RenderedAction:
        """Run-time input of one action: outputs so far filled in, missing outputs null."""
        component = self.component(component_id)
        planned = component.actions_for(escalated=escalated)[index]
        return render_action(
            planned.action, self.scope(component_id, outputs), for_display=False, endpoints=self.endpoints
        )


def _order(bundle: CatalogBundle) -> list[str]:
    ids = [c.id for c in bundle.components]
    if len(set(ids)) != len(ids):
        raise InputError(f"bundle {bundle.id!r} has duplicate component ids; make them unique")
    deps = {c.id: list(c.depends_on) for c in bundle.components}
    for cid, needs in deps.items():
        unknown = [d for d in needs if d not in deps]
        if unknown:
            raise InputError(
                f"bundle {bundle.id!r}: component {cid!r} depends on unknown {', '.join(unknown)}; "
                f"name components of the same bundle ({', '.join(ids)})"
            )
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(ids):
        # Stable: among the components whose dependencies are placed, the first declared goes next.
        nxt = next((cid for cid in ids if cid not in placed and placed.issuperset(deps[cid])), None)
        if nxt is None:
            cycle = ", ".join(cid for cid in ids if cid not in placed)
            raise InputError(f"bundle {bundle.id!r}: components {cycle} depend on each other in a cycle")
        order.append(nxt)
        placed.add(nxt)
    return order


def _planned_actions(
    actions: list[Action], scope: Mapping[str, Any], endpoints: Mapping[str, str]
) -> tuple[PlannedAction, ...]:
    return tuple(
        PlannedAction(i, action, render_action(action, scope, for_display=True, endpoints=endpoints))
        for i, action in enumerate(actions)
    )


def plan(
    catalog: Catalog,
    offering_id: str,
    values: Mapping[str, Any],
    *,
    system: SystemInfo,
    outputs: Mapping[str, Any] | None = None,
    endpoints: Mapping[str, str] | None = None,
) -> Plan:
    """Plan a request: components in dependency order, each with its actions rendered for preview.

    `values` are the request's values with secrets joined in (validated beforehand); `outputs` are
    outputs already known (e.g. when re-planning a retried request).
    """
    offering = catalog.require_offering(offering_id)
    metadata = metadata_scope(catalog.items.values())
    sys_scope = system_scope(system)
    resolved_endpoints = dict(endpoints or {})
    known_outputs = dict(outputs or {})
    if isinstance(offering, CatalogItem):
        entries: list[tuple[str, CatalogItem, tuple[str, ...]]] = [(offering.id, offering, ())]
        bundle = None
    else:
        bundle = offering
        by_id = {c.id: c for c in offering.components}
        entries = [
            (cid, catalog.require_item(by_id[cid].catalog_item), tuple(by_id[cid].depends_on))
            for cid in _order(offering)
        ]
    components: list[PlannedComponent] = []
    for cid, item, depends_on in entries:
        current = component_current(item, values, bundle=bundle)
        scope = {"current": current, "output": known_outputs, "metadata": metadata, "system": sys_scope}
        components.append(
            PlannedComponent(
                id=cid,
                item_id=item.id,
                item_version=item.metadata.version,
                team=item.metadata.owner.team,
                mode=item.mode,
                depends_on=depends_on,
                current=current,
                actions=_planned_actions(item.fulfillment.actions_for(item.mode), scope, resolved_endpoints),
                manual_actions=_planned_actions(
                    list(item.fulfillment.manual.actions), scope, resolved_endpoints
                ),
            )
        )
    return Plan(
        offering_id=offering.id,
        kind="item" if bundle is None else "bundle",
        version=offering.metadata.version,
        components=tuple(components),
        system=sys_scope,
        metadata=metadata,
        endpoints=resolved_endpoints,
    )
