"""How fast templates render and requests plan: numbers for the planner and the template language.

.venv/bin/python bench/plan.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pao_backend.catalog.loader import load_catalog
from pao_backend.orchestration.planner import SystemInfo, plan
from pao_backend.templating import Context, Secret, render

ROOT = Path(__file__).resolve().parent.parent


def per_call(fn: Callable[[], object], *, seconds: float = 1.0) -> float:
    """Mean microseconds per call over about `seconds`."""
    fn()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            fn()
        calls += 20
    return elapsed / calls * 1e6


def main() -> None:
    catalog = load_catalog(ROOT / "catalog").catalog
    system = SystemInfo(request_id="req-bench", user_id="user:default/bench", user_email="b@example.com")
    endpoints = {"provisioner": "http://127.0.0.1:8000/demo/provisioner"}
    scope = {
        "current": {"name": "orders-db", "basic": {"size": 20, "tags": ["a", "b"], "pw": Secret("s3cret")}},
        "system": {"requestId": "req-1"},
    }
    body = '{"name": "{{.current.name}}", "size": {{.current.basic.size}}, "tags": {{.current.basic.tags}}}'
    rows = [
        (
            "render TEXT, 2 variables",
            lambda: render("{{.current.name}} {{.system.requestId}}", scope, Context.TEXT),
        ),
        ("render JSON body, 3 variables (parse-checked)", lambda: render(body, scope, Context.JSON)),
        (
            "render URL, 2 variables",
            lambda: render("https://h/x/{{.current.name}}?s={{.current.basic.size}}", scope, Context.URL),
        ),
        (
            "render HEADER with a secret",
            lambda: render("Bearer {{.current.basic.pw}}", scope, Context.HEADER),
        ),
        (
            "plan item database-postgresql-standard",
            lambda: plan(
                catalog,
                "database-postgresql-standard",
                {"name": "orders"},
                system=system,
                endpoints=endpoints,
            ),
        ),
        (
            "plan bundle bundle-webapp-standard (3 components)",
            lambda: plan(
                catalog, "bundle-webapp-standard", {"name": "shop"}, system=system, endpoints=endpoints
            ),
        ),
    ]
    results = [(label, per_call(fn)) for label, fn in rows]
    width = max(len(label) for label, _ in results)
    for label, micros in results:
        print(f"{label:<{width}}  {micros:10.1f} µs/call  {1e6 / micros:12,.0f}/s")
    item, bundle = results[-2][1], results[-1][1]
    print(f"bundle/item plan ratio: {bundle / item:.2f}")


if __name__ == "__main__":
    main()
