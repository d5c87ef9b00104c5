"""Governance service functions: metrics documents, catalog size and growth. They own their reads."""

from __future__ import annotations

import functools
import subprocess
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pao_backend.catalog.codeowners import find_codeowners
from pao_backend.catalog.problems import Problem
from pao_backend.catalog.store import Catalog
from pao_backend.governance.metrics import compute_metrics, iso_week
from pao_backend.governance.ownership import OwnershipReport, check_ownership
from pao_backend.governance.readiness import TeamEvidence, readiness
from pao_backend.governance.records import RecordFilter, request_facts, ticket_facts
from pao_backend.persistence.db import Database

__all__ = ["catalog_growth", "catalog_size", "metrics_document", "teams_document"]


def catalog_size(catalog: Catalog) -> dict[str, Any]:
    items = list(catalog.items.values())
    return {
        "items": len(items),
        "bundles": len(catalog.bundles),
        "teams": len(catalog.teams),
        "byMode": dict(sorted(Counter(i.fulfillment.strategy.mode for i in items).items())),
        "byTeam": dict(sorted(Counter(i.metadata.owner.team for i in items).items())),
        "byCategory": dict(sorted(Counter(i.metadata.category or "" for i in items).items())),
    }


@functools.lru_cache(maxsize=8)
def _growth(root: str, head: str) -> tuple[tuple[str, int], ...]:
    try:
        completed = subprocess.run(
            ["git", "log", "--diff-filter=A", "--format=@%cI", "--name-only", "--", "."],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if completed.returncode != 0:
        return ()
    added: Counter[str] = Counter()
    week = ""
    for line in completed.stdout.splitlines():
        if line.startswith("@"):
            week = iso_week(datetime.fromisoformat(line[1:]))
        elif line.endswith((".yaml", ".yml")) and "/" in line and not line.endswith("calendar.yaml"):
            added[week] += 1
    return tuple(sorted(added.items()))


def catalog_growth(catalog_dir: Path) -> list[dict[str, Any]]:
    """Documents added per ISO week (from git history of the catalog folder), with the running total.
    Empty when the catalog is not in a git work tree."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=catalog_dir, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return []
    total = 0
    growth = []
    for week, count in _growth(str(catalog_dir.resolve()), head):
        total += count
        growth.append({"week": week, "added": count, "total": total})
    return growth


def metrics_document(
    *,
    db: Database,
    catalog: Catalog,
    catalog_dir: Path,
    start: datetime | None = None,
    end: datetime | None = None,
    team: str | None = None,
    item: str | None = None,
) -> dict[str, Any]:
    """GET /api/pao/v1/metrics: every metric for requests submitted in [start, end)."""
    where = RecordFilter(start=start, end=end, team=team, item=item)
    with db.reading() as session:
        facts = request_facts(session, where)
    return {
        "filter": {
            "from": start.astimezone(UTC).isoformat() if start else None,
            "to": end.astimezone(UTC).isoformat() if end else None,
            "team": team,
            "item": item,
        },
        **compute_metrics(facts),
        "catalog": {**catalog_size(catalog), "growth": catalog_growth(catalog_dir)},
    }


def teams_document(
    *,
    db: Database,
    catalog: Catalog,
    findings: Sequence[Problem],
    catalog_dir: Path,
    now: datetime,
    team_id: str | None = None,
    since: timedelta = timedelta(days=90),
) -> list[dict[str, Any]]:
    """Readiness of every platform team (or one), from the catalog, the last `since` of requests, ticket
    actions, validation findings and CODEOWNERS coverage."""
    teams = [catalog.teams[team_id]] if team_id else [catalog.teams[t] for t in sorted(catalog.teams)]
    with db.reading() as session:
        facts = request_facts(session, RecordFilter(start=now - since))
        tickets = ticket_facts(session)
    ownership = _ownership(catalog_dir)
    reports = []
    for team in teams:
        items = [i for i in catalog.items.values() if i.metadata.owner.team == team.id]
        bundles = [b for b in catalog.bundles.values() if b.metadata.owner.team == team.id]
        sources = {catalog.sources.get(i, "") for i in [*(i.id for i in items), *(b.id for b in bundles)]}
        mine = [p for p in findings if any(s and p.path.replace("\\", "/").endswith(s) for s in sources)]
        evidence = TeamEvidence(
            team=team,
            items=items,
            bundles=bundles,
            requests=[r for r in facts if team.id in r.teams],
            tickets=tickets.get(team.id, []),
            errors=sum(1 for p in mine if p.is_error),
            warnings=sum(1 for p in mine if not p.is_error),
            codeowners=ownership.coverage(team.id) if ownership is not None else (0, 0),
        )
        reports.append(readiness(evidence, now=now))
    return reports


def _ownership(catalog_dir: Path) -> OwnershipReport | None:
    """CODEOWNERS coverage of the repository holding the catalog (None when there is no CODEOWNERS)."""
    repository = catalog_dir.resolve().parent
    if find_codeowners(repository) is None:
        return None
    try:
        return check_ownership(repository, catalog_dir)
    except (OSError, ValueError):
        return None
