"""The requester's plan preview: validate values, resolve the offering into ordered components, render
every action exactly as it would run with secrets masked. No side effect.

Served natively (`POST /api/pao/v1/plan`) and as Backstage's dry-run (`POST /api/scaffolder/v2/dry-run`).
Step ids name a component action: `<componentId>.<n>` (n from 1, in the order the actions run).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pao_backend.auth import Identity
from pao_backend.catalog.store import Catalog
from pao_backend.catalog.values import apply_defaults, join_secrets, normalize_values, require_valid_values
from pao_backend.orchestration.planner import Plan, PlannedAction, PlannedComponent, SystemInfo, plan

__all__ = ["Preview", "action_step_id", "dry_run_result", "plan_document", "preview_plan", "preview_system"]


def action_step_id(component_id: str, index: int) -> str:
    """The step id of a component's action (`index` counts from 0)."""
    return f"{component_id}.{index + 1}"


def preview_system(
    identity: Identity, *, platform: Mapping[str, str], request_id: str = "preview"
) -> SystemInfo:
    """`.system` of a preview: the caller, the platform, and fixed ids (nothing is created)."""
    return SystemInfo(
        request_id=request_id,
        user_id=identity.ref,
        user_name=identity.name,
        user_email=identity.email,
        user_teams=tuple(identity.teams),
        platform=dict(platform),
        short_id="preview0",
    )


@dataclass(frozen=True)
class Preview:
    plan: Plan

    def steps(self) -> list[dict[str, Any]]:
        """Every action of every component, in plan order, as a Backstage task step with its masked input."""
        return [
            {
                "id": action_step_id(component.id, planned.index),
                "name": f"{component.id}: {planned.name}",
                "action": planned.preview.action_id,
                "input": planned.preview.display,
            }
            for component in self.plan.components
            for planned in component.actions
        ]


def preview_plan(
    catalog: Catalog,
    offering_id: str,
    values: Mapping[str, Any],
    *,
    secrets: Mapping[str, str] | None,
    system: SystemInfo,
    endpoints: Mapping[str, str] | None = None,
) -> Preview:
    """Fill defaults, validate (InputError 422 with field errors) and plan, as a submit would.

    Secrets only ever appear masked in the result.
    """
    offering = catalog.require_offering(offering_id)
    values = apply_defaults(offering.form, values)
    require_valid_values(offering.form, values, secrets=secrets, offering_id=offering_id)
    joined = normalize_values(offering.form, join_secrets(offering.form, values, secrets))
    return Preview(plan(catalog, offering_id, joined, system=system, endpoints=endpoints))


def _action_document(component: PlannedComponent, planned: PlannedAction) -> dict[str, Any]:
    return {
        "stepId": action_step_id(component.id, planned.index),
        "index": planned.index,
        "type": planned.type,
        "action": planned.preview.action_id,
        "name": planned.name,
        "input": planned.preview.display,
        "outputs": list(planned.output_keys),
    }


def plan_document(preview: Preview) -> dict[str, Any]:
    """The native plan: components in dependency order with their rendered, masked actions."""
    plan_ = preview.plan
    return {
        "offeringId": plan_.offering_id,
        "kind": plan_.kind,
        "version": plan_.version,
        "components": [
            {
                "id": c.id,
                "itemId": c.item_id,
                "itemVersion": c.item_version,
                "team": c.team,
                "mode": c.mode,
                "dependsOn": list(c.depends_on),
                "actions": [_action_document(c, a) for a in c.actions],
                "manualActions": [_action_document(c, a) for a in c.manual_actions],
            }
            for c in plan_.components
        ],
    }


def dry_run_result(preview: Preview) -> dict[str, Any]:
    """Backstage's DryRunResult: a log of what each step would do, the steps, no output and no files."""
    steps = preview.steps()
    log: list[dict[str, Any]] = [{"body": {"message": f"Starting up task with {len(steps)} steps"}}]
    for step in steps:
        log.append(
            {
                "body": {
                    "message": f"Beginning step {step['name']}",
                    "stepId": step["id"],
                    "status": "processing",
                }
            }
        )
        log.append(
            {
                "body": {
                    "message": f"Dry run: {step['action']} would run with input (secrets masked) "
                    f"{_compact(step['input'])}",
                    "stepId": step["id"],
                }
            }
        )
        log.append(
            {
                "body": {
                    "message": f"Finished step {step['name']}",
                    "stepId": step["id"],
                    "status": "completed",
                }
            }
        )
    components = preview.plan.components
    summary = " → ".join(f"{c.id} ({c.mode}, team {c.team})" for c in components)
    return {
        "log": log,
        "output": {
            "links": [],
            "text": [{"title": "Plan", "content": f"{len(components)} component(s): {summary}"}],
        },
        "directoryContents": [],
        "steps": steps,
    }


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
