"""The calendar as API documents: windows with their current and next occurrence, what is frozen now,
and the verdict for one offering (also used by the plan preview)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pao_backend.catalog.store import Catalog
from pao_backend.governance.calendar import Calendar, RequestFacts, request_environment, verdict
from pao_backend.governance.calendar_file import CalendarStore

__all__ = ["calendar_document", "calendar_verdict_document", "plan_calendar"]


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def calendar_verdict_document(
    catalog: Catalog,
    calendar: Calendar | None,
    offering_id: str,
    values: Mapping[str, Any] | None = None,
    *,
    environment: str,
    now: datetime,
) -> dict[str, Any]:
    """{verdict, message, until, nextPossible, roles, windows, environment} for a request made `now`."""
    catalog.require_offering(offering_id)
    target = request_environment(values or {}, environment)
    facts = RequestFacts.for_offering(catalog, offering_id, environment=target)
    return {**verdict(calendar, facts, now).to_dict(), "environment": target, "at": _iso(now)}


def calendar_document(
    *,
    store: CalendarStore,
    catalog: Catalog,
    now: datetime,
    catalog_id: str | None = None,
    environment: str = "",
) -> dict[str, Any]:
    calendar = store.current()
    windows = [w.to_dict(now) for w in calendar.windows] if calendar is not None else []
    document: dict[str, Any] = {
        "now": _iso(now),
        "timezone": calendar.timezone.key if calendar is not None else None,
        "windows": windows,
        "frozenNow": [w["id"] for w in windows if w["activeNow"]],
        "findings": [p.to_dict() for p in store.problems],
    }
    if catalog_id:
        document["verdict"] = calendar_verdict_document(
            catalog, calendar, catalog_id, environment=environment, now=now
        )
    return document


def plan_calendar(
    *, catalog: Catalog, catalog_dir: Path, offering_id: str, values: Mapping[str, Any], environment: str
) -> dict[str, Any]:
    """The calendar verdict for the plan preview (POST /api/pao/v1/plan): what would happen if the
    request were submitted now."""
    from pao_backend.governance import gate

    return calendar_verdict_document(
        catalog,
        gate.calendar_store(catalog_dir).current(),
        offering_id,
        values,
        environment=environment,
        now=gate.clock(),
    )
