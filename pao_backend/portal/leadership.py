"""The leadership page (/leadership): adoption over time, where the lead time goes, failure classes,
automation share by team, team readiness and the change calendar — one server-rendered page with
inline SVG charts and the numbers beside them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pao_backend import __version__
from pao_backend.api.deps import CatalogServiceDep, CurrentUserDep, SettingsDep
from pao_backend.governance import gate
from pao_backend.governance.calendar_views import calendar_document
from pao_backend.governance.metrics import SPLIT_CATEGORIES
from pao_backend.governance.service import metrics_document, teams_document
from pao_backend.persistence.db import Database
from pao_backend.portal.charts import column_chart, hbar_chart, stacked_bar
from pao_backend.portal.routes import templates

__all__ = ["leadership_router"]

leadership_router = APIRouter(include_in_schema=False)

SPLIT_LABELS = {
    "queued": "Queued",
    "scheduled": "Held by a freeze",
    "waiting": "Waiting on a person/ticket",
    "running": "Automation running",
}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _local(iso: str | None, zone: str | None) -> str:
    """An API timestamp shown in the calendar's business timezone, e.g. `2027-01-16 00:00 CET`."""
    if not iso:
        return "–"
    instant = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return instant.astimezone(ZoneInfo(zone or "UTC")).strftime("%Y-%m-%d %H:%M %Z")


def _weeks(start: datetime, end: datetime) -> list[str]:
    weeks: list[str] = []
    cursor = start
    while cursor < end:
        year, week, _ = cursor.isocalendar()
        label = f"{year}-W{week:02d}"
        if label not in weeks:
            weeks.append(label)
        cursor += timedelta(days=1)
    return weeks


@leadership_router.get("/leadership", response_class=HTMLResponse)
def leadership_page(
    request: Request,
    user: CurrentUserDep,
    service: CatalogServiceDep,
    settings: SettingsDep,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
    team: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    catalog = service.current
    db: Database = request.app.state.db
    now = datetime.now(UTC)
    start = now - timedelta(weeks=weeks)
    metrics = metrics_document(
        db=db, catalog=catalog, catalog_dir=settings.catalog_dir, start=start, team=team or None
    )
    readiness = teams_document(
        db=db, catalog=catalog, findings=service.findings, catalog_dir=settings.catalog_dir, now=now
    )
    calendar = calendar_document(
        store=gate.calendar_store(settings.catalog_dir), catalog=catalog, now=gate.clock()
    )
    by_week = {row["key"]: row for row in metrics["adoption"]["byWeek"]}
    week_labels = _weeks(start, now)
    adoption = [(w, float(by_week.get(w, {}).get("requests", 0))) for w in week_labels]
    requesters = [float(by_week.get(w, {}).get("requesters", 0)) for w in week_labels]
    split = metrics["leadTime"]["split"]
    automation = sorted(
        (
            (team_id, 100 * share["share"])
            for team_id, share in metrics["automation"]["byTeam"].items()
            if share["share"] is not None
        ),
        key=lambda kv: -kv[1],
    )
    failures = list(metrics["failures"]["classes"].items())
    context: dict[str, Any] = {
        "nav": "leadership",
        "user": user,
        "version": __version__,
        "catalog_etag": catalog.etag,
        "weeks": weeks,
        "team": team,
        "teams": sorted(catalog.teams),
        "metrics": metrics,
        "readiness": readiness,
        "calendar": calendar,
        "split_rows": [
            {
                "key": key,
                "label": SPLIT_LABELS[key],
                "p50": _duration(split[key]["p50"]),
                "p90": _duration(split[key]["p90"]),
                "share": split[key]["share"],
            }
            for key in SPLIT_CATEGORIES
        ],
        "lead_p50": _duration(metrics["leadTime"]["seconds"]["p50"]),
        "lead_p90": _duration(metrics["leadTime"]["seconds"]["p90"]),
        "duration": _duration,
        "local": lambda iso: _local(iso, calendar["timezone"]),
        "adoption_chart": column_chart(
            adoption,
            label="Requests per week (bars) and unique requesters (line)",
            second=requesters,
            second_label="unique requesters",
        ),
        "split_chart": stacked_bar(
            [(SPLIT_LABELS[k], float(split[k]["totalSeconds"])) for k in SPLIT_CATEGORIES],
            label="Where the lead time went",
        ),
        "failure_chart": hbar_chart([(k, float(v)) for k, v in failures], label="Failed actions by class"),
        "automation_chart": hbar_chart(automation, label="Automation share by team", maximum=100, unit=" %"),
    }
    return templates.TemplateResponse(request, "leadership.html", context)
