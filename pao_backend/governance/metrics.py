"""Platform metrics computed from PAO's own records. Pure: rows in, numbers out.

Definitions (docs/architects.md repeats them for readers):

* adoption — requests and unique requesters per item, per owner team and per ISO week (of submission).
  A bundle request counts once for the bundle and once for each team owning one of its components.
* lead time — submit → completed, for requests completed in the window. Percentiles are nearest-rank
  (p50 of 4 values is the 2nd smallest, p90 the 4th). The time is split by where it went, by sweeping
  the request's state history and its components' state history:
    scheduled  request `scheduled` (a freeze window or a missing approval held it);
    waiting    request `failed` (a person must retry/abort/escalate), or some component `waiting`
               (an open ticket) — a person is the bottleneck, even if automation runs beside it;
    running    some component `running` (automation executing) and none waiting;
    queued     everything else: `submitted`/`retrying`, components pending between steps.
* failure rate — requests that failed at least once / requests submitted; failure classes count failed
  action runs by class.
* retry success rate — of requests retried at least once, the share that completed.
* escalations — requests escalated to their owner team's ticket path.
* automation share — of completed components, the share fulfilled without a ticket (no jira-ticket run).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "SPLIT_CATEGORIES",
    "ActionRunFact",
    "ComponentFact",
    "History",
    "RequestFact",
    "StateChange",
    "automation_share",
    "compute_metrics",
    "iso_week",
    "lead_time_split",
    "percentile",
]

SPLIT_CATEGORIES = ("queued", "scheduled", "waiting", "running")


@dataclass(frozen=True)
class StateChange:
    to_state: str
    at: datetime
    component_id: str | None = None


@dataclass(frozen=True)
class ComponentFact:
    component_id: str
    item_id: str
    team: str
    mode: str
    state: str


@dataclass(frozen=True)
class ActionRunFact:
    component_id: str
    type: str
    state: str
    failure_class: str | None = None


@dataclass(frozen=True)
class RequestFact:
    id: str
    catalog_id: str
    requester: str
    state: str
    created_at: datetime
    finished_at: datetime | None = None
    components: tuple[ComponentFact, ...] = ()
    runs: tuple[ActionRunFact, ...] = ()
    changes: tuple[StateChange, ...] = ()

    @property
    def teams(self) -> set[str]:
        return {c.team for c in self.components if c.team}

    @property
    def items(self) -> set[str]:
        return {self.catalog_id, *(c.item_id for c in self.components)}

    def entered(self, state: str) -> bool:
        return any(c.component_id is None and c.to_state == state for c in self.changes)


@dataclass
class History:
    requests: list[RequestFact] = field(default_factory=list)


def iso_week(instant: datetime) -> str:
    year, week, _ = instant.isocalendar()
    return f"{year}-W{week:02d}"


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def lead_time_split(request: RequestFact) -> dict[str, float]:
    """Seconds of a finished request's lead time by category (see the module docstring)."""
    end = request.finished_at
    if end is None:
        return {}
    request_state = "submitted"
    component_states: dict[str, str] = {}
    spent = dict.fromkeys(SPLIT_CATEGORIES, 0.0)
    cursor = request.created_at
    for change in sorted(request.changes, key=lambda c: c.at):
        at = min(max(change.at, request.created_at), end)
        if at > cursor:
            spent[_category(request_state, component_states)] += (at - cursor).total_seconds()
            cursor = at
        if change.component_id is None:
            request_state = change.to_state
        else:
            component_states[change.component_id] = change.to_state
    if end > cursor:
        spent[_category(request_state, component_states)] += (end - cursor).total_seconds()
    return spent


def _category(request_state: str, components: dict[str, str]) -> str:
    if request_state == "scheduled":
        return "scheduled"
    if request_state == "failed":
        return "waiting"
    if request_state in ("running", "escalated"):
        states = set(components.values())
        if "waiting" in states:
            return "waiting"
        if "running" in states:
            return "running"
    return "queued"


def _ticketed(request: RequestFact, component_id: str) -> bool:
    return any(r.component_id == component_id and r.type == "jira-ticket" for r in request.runs)


def automation_share(requests: Iterable[RequestFact], *, team: str | None = None) -> dict[str, Any]:
    """Completed components fulfilled without a ticket / all completed components."""
    automated = total = 0
    for request in requests:
        for component in request.components:
            if component.state != "completed" or (team is not None and component.team != team):
                continue
            total += 1
            automated += 0 if _ticketed(request, component.component_id) else 1
    return {"automated": automated, "completed": total, "share": _ratio(automated, total)}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _stats(values: Sequence[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "mean": round(sum(values) / len(values), 3) if values else None,
    }


def compute_metrics(requests: Sequence[RequestFact]) -> dict[str, Any]:
    """Every metric over `requests` (already filtered by window/team/item)."""
    by_item: dict[str, list[RequestFact]] = defaultdict(list)
    by_team: dict[str, list[RequestFact]] = defaultdict(list)
    by_week: dict[str, list[RequestFact]] = defaultdict(list)
    for request in requests:
        by_item[request.catalog_id].append(request)
        for team in request.teams:
            by_team[team].append(request)
        by_week[iso_week(request.created_at)].append(request)

    def adoption(groups: dict[str, list[RequestFact]]) -> list[dict[str, Any]]:
        return [
            {"key": key, "requests": len(rows), "requesters": len({r.requester for r in rows})}
            for key, rows in sorted(groups.items())
        ]

    completed = [r for r in requests if r.state == "completed" and r.finished_at is not None]
    lead_times = [(r.finished_at - r.created_at).total_seconds() for r in completed if r.finished_at]
    splits = [lead_time_split(r) for r in completed]
    split: dict[str, Any] = {}
    grand_total = sum(sum(s.values()) for s in splits)
    for category in SPLIT_CATEGORIES:
        values = [s[category] for s in splits]
        total = sum(values)
        split[category] = {
            **_stats(values),
            "totalSeconds": round(total, 3),
            "share": round(total / grand_total, 4) if grand_total else None,
        }
    failed = [r for r in requests if r.entered("failed") or r.state == "failed"]
    classes = Counter(
        run.failure_class or "unknown" for r in requests for run in r.runs if run.state == "failed"
    )
    retried = [r for r in requests if r.entered("retrying")]
    escalated = [r for r in requests if r.entered("escalated")]
    teams = sorted({t for r in requests for t in r.teams})
    return {
        "requests": len(requests),
        "requesters": len({r.requester for r in requests}),
        "states": dict(sorted(Counter(r.state for r in requests).items())),
        "adoption": {
            "byItem": adoption(by_item),
            "byTeam": adoption(by_team),
            "byWeek": adoption(by_week),
        },
        "leadTime": {"seconds": _stats(lead_times), "split": split},
        "failures": {
            "requestsFailed": len(failed),
            "rate": _ratio(len(failed), len(requests)),
            "classes": dict(sorted(classes.items(), key=lambda kv: (-kv[1], kv[0]))),
        },
        "retries": {
            "requestsRetried": len(retried),
            "succeeded": sum(1 for r in retried if r.state == "completed"),
            "successRate": _ratio(sum(1 for r in retried if r.state == "completed"), len(retried)),
        },
        "escalations": {
            "requests": len(escalated),
            "byTeam": dict(sorted(Counter(t for r in escalated for t in r.teams).items())),
        },
        "automation": {
            **automation_share(requests),
            "byTeam": {team: automation_share(requests, team=team) for team in teams},
        },
    }
