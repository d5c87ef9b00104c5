"""Typical lead time per offering: the median time from submission to completion of its completed requests."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from pao_backend.persistence.tables import RequestRow

# The most recent completions are what a requester can expect next; older history is noise.
RECENT = 2000


def humanize(seconds: float) -> str:
    if seconds < 90:
        return f"~{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"~{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"~{round(seconds / 3600, 1):g} h"
    return f"~{round(seconds / 86400, 1):g} days"


def median_seconds(durations: dict[str, list[float]]) -> dict[str, float]:
    return {key: statistics.median(values) for key, values in durations.items() if values}


def lead_times(db: Any) -> dict[str, str]:
    """{offering id: "~4 min"} for offerings with at least one completed request."""
    if db is None:
        return {}
    query = (
        select(RequestRow.catalog_id, RequestRow.created_at, RequestRow.finished_at)
        .where(RequestRow.state == "completed", RequestRow.finished_at.is_not(None))
        .order_by(RequestRow.finished_at.desc())
        .limit(RECENT)
    )
    durations: dict[str, list[float]] = defaultdict(list)
    with db.reading() as session:
        for catalog_id, created, finished in session.execute(query):
            durations[catalog_id].append((finished - created).total_seconds())
    return {key: humanize(value) for key, value in median_seconds(durations).items()}
