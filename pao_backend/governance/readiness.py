"""Team readiness: where each platform team stands on the road from tickets to automation, and why.
Pure: the team's catalog documents, its requests and tickets, findings and CODEOWNERS coverage in; a
report with a level, the reasons and a recommendation out.

Levels (the roadmap, docs/architects.md):
    0 onboarding   no offering in the catalog yet
    1 manual       offerings fulfilled by tickets only
    2 hybrid       some offerings automated
    3 automated    every offering automated, and ≥ 90 % of completed components ran without a ticket
Blockers (validation errors, CODEOWNERS gaps, no contact, no JIRA project for manual work) are listed
beside the level: they are what to fix first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pao_backend.catalog.models import CatalogBundle, CatalogItem, Team
from pao_backend.governance.metrics import RequestFact, automation_share, percentile

__all__ = ["LEVELS", "TeamEvidence", "TicketFact", "readiness"]

LEVELS = {0: "onboarding", 1: "manual", 2: "hybrid", 3: "automated"}
AUTOMATED_SHARE = 0.9
DAY = 86400.0


@dataclass(frozen=True)
class TicketFact:
    """A ticket action of one of the team's components: open while `finished_at` is None."""

    request_id: str
    key: str | None
    started_at: datetime
    finished_at: datetime | None
    state: str


@dataclass(frozen=True)
class TeamEvidence:
    team: Team
    items: Sequence[CatalogItem]
    bundles: Sequence[CatalogBundle]
    requests: Sequence[RequestFact]
    tickets: Sequence[TicketFact]
    errors: int = 0
    warnings: int = 0
    codeowners: tuple[int, int] = (0, 0)  # (owned correctly, should own)


def _days(seconds: float | None) -> float | None:
    return round(seconds / DAY, 1) if seconds is not None else None


def _duration_text(seconds: float) -> str:
    if seconds >= DAY:
        return f"{seconds / DAY:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 60:.0f} minutes"


def readiness(evidence: TeamEvidence, *, now: datetime) -> dict[str, Any]:
    """The readiness report of one team."""
    team = evidence.team
    modes = {"manual": 0, "automatic": 0}
    for item in evidence.items:
        modes[item.fulfillment.strategy.mode] += 1
    completed = [r for r in evidence.requests if r.state == "completed" and r.finished_at is not None]
    lead_times = [(r.finished_at - r.created_at).total_seconds() for r in completed if r.finished_at]
    median_lead = percentile(lead_times, 50)
    share = automation_share(evidence.requests, team=team.id)
    open_tickets = [t for t in evidence.tickets if t.finished_at is None and t.state == "waiting"]
    open_ages = [(now - t.started_at).total_seconds() for t in open_tickets]
    waits = [(t.finished_at - t.started_at).total_seconds() for t in evidence.tickets if t.finished_at]
    median_wait = percentile(waits, 50)
    owned, should_own = evidence.codeowners

    if not evidence.items and not evidence.bundles:
        level = 0
    elif modes["automatic"] == 0:
        level = 1
    elif modes["manual"] == 0 and (share["share"] is None or share["share"] >= AUTOMATED_SHARE):
        level = 3
    else:
        level = 2

    reasons: list[str] = []
    if level == 0:
        reasons.append("no offering in the catalog yet")
    elif level == 1:
        reasons.append(f"manual only: {modes['manual']} offering(s) fulfilled by JIRA tickets")
    elif level == 2:
        reasons.append(f"{modes['automatic']} of {len(evidence.items)} item(s) automated")
    else:
        reasons.append(f"all {len(evidence.items)} item(s) automated")
    if share["share"] is not None:
        reasons.append(f"{share['share'] * 100:.0f} % of completed components ran without a ticket")
    if median_wait is not None:
        reasons.append(f"tickets wait {_duration_text(median_wait)} on median")
    if open_tickets:
        reasons.append(f"{len(open_tickets)} open ticket(s), oldest {_duration_text(max(open_ages))}")

    blockers: list[str] = []
    if evidence.errors:
        blockers.append(f"{evidence.errors} validation error(s) in the team's documents: run `pao validate`")
    if should_own and owned < should_own:
        blockers.append(f"CODEOWNERS gives {should_own - owned} of {should_own} file(s) to someone else")
    if not team.contact.strip():
        blockers.append("no contact in teams.yaml")
    if not team.jira_project and evidence.items:
        blockers.append("no JIRA project: manual requests and escalations have nowhere to go")
    if team.escalation is None:
        blockers.append("no escalation contact in teams.yaml")

    if level == 1 and median_wait is not None and median_wait >= DAY:
        wait = _duration_text(median_wait)
        recommendation = f"manual only, tickets wait {wait} on median → candidate for automation support"
    elif level == 1:
        recommendation = (
            "manual only → automate the most requested offering first (REST action with JIRA fallback)"
        )
    elif level == 2:
        recommendation = "hybrid → automate the remaining manual offerings; watch the failure classes"
    elif level == 3:
        recommendation = "automated → share the team's patterns; keep the JIRA path as escalation"
    else:
        recommendation = "onboarding → publish a first manual offering (`pao new item`)"
    if blockers:
        recommendation = f"fix first: {blockers[0]}; then {recommendation}"

    return {
        "id": team.id,
        "name": team.name,
        "contact": team.contact,
        "contactPresent": bool(team.contact.strip()),
        "escalation": team.escalation.model_dump(by_alias=True) if team.escalation else None,
        "jiraProject": team.jira_project,
        "jiraProjectConfigured": bool(team.jira_project),
        "offerings": [
            {"id": i.id, "name": i.metadata.name, "kind": "item", "mode": i.fulfillment.strategy.mode}
            for i in evidence.items
        ]
        + [{"id": b.id, "name": b.metadata.name, "kind": "bundle", "mode": None} for b in evidence.bundles],
        "modes": modes,
        "automationShare": share["share"],
        "requests": len(evidence.requests),
        "medianLeadTimeSeconds": median_lead,
        "medianLeadTimeDays": _days(median_lead),
        "tickets": {
            "open": len(open_tickets),
            "oldestOpenSeconds": max(open_ages) if open_ages else None,
            "medianOpenAgeSeconds": percentile(open_ages, 50),
            "medianWaitSeconds": median_wait,
            "medianWaitDays": _days(median_wait),
        },
        "findings": {"errors": evidence.errors, "warnings": evidence.warnings},
        "codeowners": {
            "owned": owned,
            "expected": should_own,
            "coverage": round(owned / should_own, 4) if should_own else None,
        },
        "level": level,
        "levelName": LEVELS[level],
        "reasons": reasons,
        "blockers": blockers,
        "recommendation": recommendation,
    }
