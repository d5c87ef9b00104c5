"""How fast the governance core is: a calendar verdict, a diff of two document versions, and the
metrics of a synthetic history of 10,000 requests.

.venv/bin/python bench/governance.py
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from pao_backend.governance.calendar import ComponentFacts, RequestFacts, verdict
from pao_backend.governance.calendar_file import load_calendar_file
from pao_backend.governance.diff import diff_documents
from pao_backend.governance.metrics import (
    ActionRunFact,
    ComponentFact,
    RequestFact,
    StateChange,
    compute_metrics,
)

ROOT = Path(__file__).resolve().parent.parent


def per_call(fn: Callable[[], object], *, seconds: float = 1.0) -> float:
    """Mean microseconds per call over about `seconds`."""
    fn()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(10):
            fn()
        calls += 10
    return elapsed / calls * 1e6


def history(size: int) -> list[RequestFact]:
    rng = random.Random(7)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    rows = []
    for n in range(size):
        created = start + timedelta(minutes=17 * n)
        run = rng.uniform(5, 600)
        wait = rng.choice([0.0, 0.0, rng.uniform(3600, 5 * 86400)])
        end = run + wait + 1
        changes = (
            StateChange("submitted", created),
            StateChange("running", created + timedelta(seconds=1)),
            StateChange("running", created + timedelta(seconds=1), "c"),
            StateChange("waiting", created + timedelta(seconds=1 + run), "c")
            if wait
            else StateChange("running", created, "x"),
            StateChange("completed", created + timedelta(seconds=end), "c"),
            StateChange("completed", created + timedelta(seconds=end)),
        )
        rows.append(
            RequestFact(
                id=str(n),
                catalog_id=f"item-{n % 12}",
                requester=f"user-{n % 300}",
                state="completed",
                created_at=created,
                finished_at=created + timedelta(seconds=end),
                components=(ComponentFact("c", f"item-{n % 12}", f"team-{n % 8}", "automatic", "completed"),),
                runs=(ActionRunFact("c", "jira-ticket" if wait else "rest-api", "completed"),),
                changes=changes,
            )
        )
    return rows


def main() -> None:
    calendar = load_calendar_file(ROOT / "catalog").calendar
    facts = RequestFacts(
        components=(ComponentFacts("database-postgresql-standard", "databases", "platform-databases"),),
        environment="production",
    )
    now = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
    print(
        f"calendar verdict (3 windows, held):       {per_call(lambda: verdict(calendar, facts, now)):8.1f} µs"
    )
    later = datetime(2027, 2, 17, 12, 0, tzinfo=UTC)
    allowed = per_call(lambda: verdict(calendar, facts, later))
    print(f"calendar verdict (3 windows, allowed):    {allowed:8.1f} µs")
    versions = ROOT / "tests" / "fixtures" / "versions"
    old = yaml.safe_load((versions / "postgresql-1.2.0.yaml").read_text("utf-8"))
    new = yaml.safe_load((versions / "postgresql-2.0.0.yaml").read_text("utf-8"))
    print(f"diff of two document versions:            {per_call(lambda: diff_documents(old, new)):8.1f} µs")
    rows = history(10_000)
    started = time.perf_counter()
    compute_metrics(rows)
    print(f"metrics of 10,000 requests:               {(time.perf_counter() - started) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
