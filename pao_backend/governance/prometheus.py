"""Prometheus on /metrics: a collector that reads PAO's records at scrape time, plus HTTP request
counters. One registry per app (never the process-global one), so several apps can live in one process."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from pao_backend.catalog.store import Catalog
from pao_backend.governance.metrics import percentile
from pao_backend.governance.tables import CalendarHoldRow
from pao_backend.persistence.db import Database
from pao_backend.persistence.tables import ActionRunRow, ComponentRow, RequestRow, utcnow

__all__ = ["PaoCollector", "install_prometheus"]

LEAD_TIME_WINDOW = timedelta(days=30)


class PaoCollector(Collector):
    """Counts and gauges from the request tables and the catalog, computed on each scrape."""

    def __init__(self, db: Database, catalog: Callable[[], Catalog]) -> None:
        self.db = db
        self.catalog = catalog

    def collect(self) -> Iterator[Metric]:
        requests = GaugeMetricFamily(
            "pao_requests", "Requests by offering and current state", labels=["item", "state"]
        )
        submitted = CounterMetricFamily(
            "pao_requests_submitted", "Requests submitted, by offering", labels=["item"]
        )
        components = GaugeMetricFamily(
            "pao_components",
            "Request components by owner team, mode and state",
            labels=["team", "mode", "state"],
        )
        failures = CounterMetricFamily(
            "pao_action_failures", "Failed action attempts by failure class", labels=["failure_class"]
        )
        tickets = CounterMetricFamily(
            "pao_tickets", "Ticket actions run (manual fulfilment), by state", labels=["state"]
        )
        held = GaugeMetricFamily(
            "pao_requests_held", "Requests held by the change calendar", labels=["verdict"]
        )
        lead = GaugeMetricFamily(
            "pao_lead_time_seconds",
            "Submit-to-completed time of requests completed in the last 30 days (nearest-rank quantiles)",
            labels=["quantile"],
        )
        with self.db.reading() as session:
            by_item: dict[str, int] = {}
            for item, state, count in session.execute(
                select(RequestRow.catalog_id, RequestRow.state, func.count()).group_by(
                    RequestRow.catalog_id, RequestRow.state
                )
            ):
                requests.add_metric([item, state], count)
                by_item[item] = by_item.get(item, 0) + count
            for item, count in sorted(by_item.items()):
                submitted.add_metric([item], count)
            for team, mode, state, count in session.execute(
                select(ComponentRow.team, ComponentRow.mode, ComponentRow.state, func.count()).group_by(
                    ComponentRow.team, ComponentRow.mode, ComponentRow.state
                )
            ):
                components.add_metric([team, mode, state], count)
            for failure_class, count in session.execute(
                select(ActionRunRow.failure_class, func.count())
                .where(ActionRunRow.state == "failed")
                .group_by(ActionRunRow.failure_class)
            ):
                failures.add_metric([failure_class or "unknown"], count)
            for state, count in session.execute(
                select(ActionRunRow.state, func.count())
                .where(ActionRunRow.type == "jira-ticket")
                .group_by(ActionRunRow.state)
            ):
                tickets.add_metric([state], count)
            for verdict, count in session.execute(
                select(CalendarHoldRow.verdict, func.count()).group_by(CalendarHoldRow.verdict)
            ):
                held.add_metric([verdict], count)
            since = utcnow() - LEAD_TIME_WINDOW
            spans = [
                (finished - created).total_seconds()
                for created, finished in session.execute(
                    select(RequestRow.created_at, RequestRow.finished_at).where(
                        RequestRow.state == "completed", RequestRow.finished_at >= since
                    )
                )
                if finished is not None
            ]
        for quantile in (50, 90):
            value = percentile(spans, quantile)
            if value is not None:
                lead.add_metric([f"0.{quantile // 10}"], value)
        catalog = self.catalog()
        items = GaugeMetricFamily("pao_catalog_items", "Catalog items by fulfilment mode", labels=["mode"])
        modes: dict[str, int] = {}
        for document in catalog.items.values():
            mode = document.fulfillment.strategy.mode
            modes[mode] = modes.get(mode, 0) + 1
        for mode, count in sorted(modes.items()):
            items.add_metric([mode], count)
        bundles = GaugeMetricFamily("pao_catalog_bundles", "Catalog bundles", value=len(catalog.bundles))
        yield from (requests, submitted, components, failures, tickets, held, lead, items, bundles)


def install_prometheus(app: FastAPI, *, db: Callable[[], Database], catalog: Callable[[], Catalog]) -> None:
    """Serve /metrics and count HTTP requests (by route template, method and status)."""
    registry = CollectorRegistry()
    registry.register(_LazyCollector(db, catalog))
    http_requests = Counter(
        "pao_http_requests",
        "HTTP requests by route, method and status",
        ["route", "method", "status"],
        registry=registry,
    )
    http_seconds = Histogram(
        "pao_http_request_duration_seconds", "HTTP request duration by route", ["route"], registry=registry
    )
    app.state.prometheus = registry

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        if template != "/metrics":
            http_requests.labels(template, request.method, str(response.status_code)).inc()
            http_seconds.labels(template).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _LazyCollector(Collector):
    """Builds the PaoCollector on first scrape (the database exists only once the app is created)."""

    def __init__(self, db: Callable[[], Database], catalog: Callable[[], Catalog]) -> None:
        self._db = db
        self._catalog = catalog

    def collect(self) -> Iterator[Metric]:
        yield from PaoCollector(self._db(), self._catalog).collect()

    def describe(self) -> list[Metric]:
        return []  # no collect() at registration time
