"""PAO requests seen as Backstage scaffolder tasks: SerializedTask, task events and their SSE framing.

A task is a request (same id). Its `spec.steps` are the planned component actions (`<componentId>.<n>`,
as in the dry-run). PAO's request events become Backstage events with the same integer ids: every event
is a `log` (action events carry `{stepId, status}`), and PAO's `completion` becomes Backstage's
completion (`output` on success, `error` otherwise). Only `log` and `completion` are emitted, which
every Backstage frontend version accepts.

A failed request can still be retried in PAO, and Backstage's retry deletes the old completion; so only
the request's latest completion counts, and only while the request is in the state it reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pao_backend.backstage.dry_run import action_step_id
from pao_backend.backstage.translate import TEMPLATE_API_VERSION, entity_ref
from pao_backend.errors import InputError

__all__ = [
    "BACKSTAGE_STATUSES",
    "backstage_events",
    "latest_completion_id",
    "order_tasks",
    "request_url",
    "serialize_task",
    "sse_frame",
    "states_for_statuses",
    "task_event",
    "task_steps",
]

# Backstage task status -> PAO request states.
BACKSTAGE_STATUSES: dict[str, tuple[str, ...]] = {
    "open": ("submitted", "scheduled"),
    "processing": ("running", "retrying", "escalated"),
    "completed": ("completed",),
    "failed": ("failed",),
    "cancelled": ("cancelled", "aborted"),
}
_FINISHED = {"completed", "failed", "cancelled", "aborted"}
_STEP_STATUS = {
    "running": "processing",
    "waiting": "processing",
    "completed": "completed",
    "failed": "failed",
    "skipped": "skipped",
    "cancelled": "cancelled",
}
_ORDER_FIELDS = {"created_at": "createdAt", "status": "status", "created_by": "createdBy"}


def states_for_statuses(statuses: Iterable[str]) -> list[str]:
    """PAO states for Backstage statuses (`open`, `processing`, ...); unknown statuses are 400s."""
    states: list[str] = []
    for status in statuses:
        for one in status.split(","):
            key = one.strip().lower()
            if not key:
                continue
            if key not in BACKSTAGE_STATUSES:
                raise InputError(f"unknown task status {one!r}; use one of {', '.join(BACKSTAGE_STATUSES)}")
            states.extend(BACKSTAGE_STATUSES[key])
    return states


def order_tasks(tasks: list[dict[str, Any]], order: str | None) -> list[dict[str, Any]]:
    """`order=asc|desc:<created_at|status|created_by>` as Backstage's router accepts it."""
    if not order:
        return sorted(tasks, key=lambda t: t["createdAt"] or "", reverse=True)
    direction, _, field = order.partition(":")
    if direction not in ("asc", "desc") or field not in _ORDER_FIELDS:
        raise InputError("Invalid order field")
    key = _ORDER_FIELDS[field]
    return sorted(tasks, key=lambda t: str(t.get(key) or ""), reverse=direction == "desc")


def task_steps(detail: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every planned action of every component, as a task step with its (redacted) input."""
    return [
        {
            "id": action_step_id(component["id"], action["index"]),
            "name": f"{component['id']}: {action['name']}",
            "action": f"pao:{action['type']}",
            "input": action.get("input") or {},
        }
        for component in detail.get("components", [])
        for action in component.get("actions", [])
    ]


def _output(detail_or_body: Mapping[str, Any], request_url: str) -> dict[str, Any]:
    outputs = detail_or_body.get("outputs") or {}
    links = [{"title": "Request in PAO", "url": request_url, "icon": "dashboard"}]
    links.extend(
        {"title": key, "url": value}
        for key, value in sorted(outputs.items())
        if isinstance(value, str) and value.startswith(("http://", "https://"))
    )
    output: dict[str, Any] = {"links": links}
    if outputs:
        text = "\n".join(
            f"- **{key}**: `{json.dumps(value, default=str)}`" for key, value in sorted(outputs.items())
        )
        output["text"] = [{"title": "Outputs", "content": text}]
    return output


def request_url(base_url: str, request_id: str) -> str:
    return f"{base_url.rstrip('/')}/requests/{request_id}"


def serialize_task(detail: Mapping[str, Any], *, base_url: str) -> dict[str, Any]:
    """`SerializedTask` of a request detail (`orchestration.service.get_request`); never any secret."""
    catalog_id = str(detail["catalogId"])
    url = request_url(base_url, str(detail["id"]))
    return {
        "id": detail["id"],
        "spec": {
            "apiVersion": TEMPLATE_API_VERSION,
            "parameters": detail.get("values") or {},
            "steps": task_steps(detail),
            "output": _output({}, url),
            "templateInfo": {
                "entityRef": entity_ref("template", catalog_id),
                "baseUrl": f"{base_url.rstrip('/')}/api/pao/v1/catalog/{catalog_id}",
                "entity": {"metadata": {"name": catalog_id, "title": detail.get("title")}},
            },
            "user": {"ref": detail.get("requester")},
        },
        "status": detail["status"],
        "createdAt": detail.get("createdAt"),
        "lastHeartbeatAt": detail.get("updatedAt"),
        "createdBy": detail.get("requester"),
    }


def latest_completion_id(events: Sequence[Mapping[str, Any]], state: str) -> int | None:
    """The id of the completion that stands: the last one, while the request is still in its state."""
    completions = [e for e in events if e["type"] == "completion"]
    if not completions or state not in _FINISHED:
        return None
    last = completions[-1]
    return int(last["id"]) if (last.get("body") or {}).get("state") == state else None


def task_event(
    event: Mapping[str, Any], *, base_url: str, completion_id: int | None
) -> dict[str, Any] | None:
    """One PAO request event as a Backstage task event; None for a completion that no longer stands."""
    body = event.get("body") or {}
    message = str(body.get("message") or event["type"])
    common = {"id": event["id"], "taskId": event["requestId"], "createdAt": event["createdAt"]}
    if event["type"] == "completion":
        if event["id"] != completion_id:
            return None
        state = str(body.get("state"))
        status = "cancelled" if state in ("cancelled", "aborted") else state
        completion: dict[str, Any] = {"message": f"Run completed with status: {status}"}
        if state == "completed":
            completion["output"] = _output(body, request_url(base_url, str(event["requestId"])))
        elif state == "failed":
            error = body.get("error") or {}
            text = error.get("message") if isinstance(error, dict) else None
            completion["error"] = {"name": "Error", "message": str(text or message)}
        return {**common, "type": "completion", "body": completion, "isTaskRecoverable": False}
    log: dict[str, Any] = {"message": message}
    component_id = event.get("componentId") or body.get("componentId")
    index = event.get("actionIndex", body.get("index"))
    if component_id is not None and index is not None:
        log["stepId"] = action_step_id(str(component_id), int(index))
        if event["type"] == "action" and str(body.get("state")) in _STEP_STATUS:
            log["status"] = _STEP_STATUS[str(body["state"])]
    return {**common, "type": "log", "body": log}


def backstage_events(
    events: Sequence[Mapping[str, Any]], *, state: str, base_url: str, after: int = 0
) -> list[dict[str, Any]]:
    """The task's events after `after`, plus its standing completion even if `after` is past it."""
    completion_id = latest_completion_id(events, state)
    mapped = []
    for event in events:
        if event["id"] <= after and event["id"] != completion_id:
            continue
        converted = task_event(event, base_url=base_url, completion_id=completion_id)
        if converted is not None:
            mapped.append(converted)
    return mapped


def sse_frame(event: Mapping[str, Any]) -> bytes:
    """Backstage's exact framing: `event: <type>\\ndata: <json>\\n\\n` (no `id:` line)."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()
