"""Benchmark: PAO's durable engine against the bare engine (DBOS) doing the same shape of work.

    .venv/bin/python bench/orchestrate.py [--requests 500] [--latency-requests 40]
                                          [--backend sqlite|postgres|both] [--rounds 4]

PAO: requests of a 3-component automatic bundle (database → secrets → app, each one rest-api action)
against a loopback provisioner that answers at once. Bare: a DBOS workflow that runs three child
workflows of one trivial step each, in the same dependency order, on a queue, with each child reporting
to its parent by message (how PAO waits, too). Each is measured alone, one after the other: DBOS
launched with the configuration PAO gives it, on a fresh database, with only its own queues — an idle
queue of the other side costs polling CPU (up to 7 ms per component on PostgreSQL when the bare
engine's queue was polled during PAO's run).

Each side runs `--rounds` times (default 4), alternating which goes first: this machine's speed drifts by
tens of percent over minutes, and a side measured only in a slow spell would lose for it. With a target
close to the result, two rounds per side decided little (the same build read 64–74 % on PostgreSQL).

Printed: time per component (latency phase: one request at a time; request time / 3; median and p99 over
all rounds), components per second (throughput phase: all requests submitted at once; each side's best
round, every round's figure too) with the process's CPU time per component in that round, the ratios
(of the best rounds, and round by round with their median), and the latency from a state change (the
event's commit) to its arrival at a subscriber (the code path SSE uses).
PostgreSQL uses PAO_TEST_POSTGRES_URL's server (a fresh database, dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from dbos import DBOS, SetWorkflowID  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from pao_backend.auth import Identity  # noqa: E402
from pao_backend.catalog.service import CatalogService  # noqa: E402
from pao_backend.orchestration import engine as engine_runtime  # noqa: E402
from pao_backend.orchestration import service  # noqa: E402
from pao_backend.persistence.tables import RequestRow  # noqa: E402
from pao_backend.settings import Settings  # noqa: E402
from tests.support.databases import postgres_database  # noqa: E402

BARE_QUEUE = "bench-bare"
TOPIC = "bench.child"
ENDED = ("completed", "failed", "cancelled", "aborted")
# Both sides wait for the throughput phase's end by counting what has not ended, this often, with one
# Core query each: the harness's own cost stays out of the comparison (at 0.05 s with an ORM session,
# PAO's count took 2 % of its samples), and the end is seen at most 0.25 s late in runs of a minute or more.
WAIT_POLL_SECONDS = 0.25
DEPENDS = {"database": [], "secrets": ["database"], "app": ["database", "secrets"]}


# ---- the bare engine ------------------------------------------------------------------------------


@DBOS.step(name="bench.trivial")
async def trivial(n: str) -> str:
    return n


@DBOS.workflow(name="bench.child")
async def bare_child(parent: str, name: str) -> str:
    result = await trivial(name)
    await DBOS.send_async(parent, name, topic=TOPIC)
    return result


@DBOS.workflow(name="bench.parent")
async def bare_parent(request_id: str) -> int:
    bare = _BARE["queue"]
    me = DBOS.workflow_id
    assert me is not None
    done: set[str] = set()
    started: set[str] = set()
    while len(done) < len(DEPENDS):
        for name, deps in DEPENDS.items():
            if name not in started and all(d in done for d in deps):
                with SetWorkflowID(f"{me}:{name}"):
                    await bare.enqueue_async(bare_child, me, name)
                started.add(name)
        message = await DBOS.recv_async(TOPIC, timeout_seconds=600)
        if message is not None:
            done.add(message)
    return len(done)


_BARE: dict[str, Any] = {"queue": None}


# ---- helpers --------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def provisioner() -> Iterator[str]:
    """The loopback provisioner, in its own process (its CPU is not PAO's)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "loopback_provisioner.py"), str(port)])
    try:
        url = f"http://127.0.0.1:{port}/demo/provisioner"
        for _ in range(200):
            try:
                httpx.post(f"{url}/ping", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        yield ""
        return
    server = os.environ.get("PAO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with postgres_database(server) as url:
        yield url


VALUES = {"name": "bench", "app": {"image": "ghcr.io/example/bench:1.0.0"}}
USER = Identity(
    ref="user:default/bench", name="Bench", email="bench@example.com", teams=("developer-experience",)
)


async def pao_request(engine: engine_runtime.Engine, catalog: CatalogService, n: int) -> str:
    submitted = await service.submit(
        engine=engine,
        catalog=catalog.current,
        user=USER,
        catalog_id="bundle-webapp-standard",
        values={**VALUES, "name": f"bench-{n}"},
    )
    return str(submitted.request["id"])


def unfinished(engine: engine_runtime.Engine) -> int:
    """How many requests have not ended yet (the database holds only the bench's)."""
    with engine.db.engine.connect() as connection:
        return int(
            connection.scalar(select(func.count()).where(RequestRow.__table__.c.state.not_in(ENDED))) or 0
        )


def failed(engine: engine_runtime.Engine) -> int:
    with engine.db.reading() as session:
        return int(session.scalar(select(func.count()).where(RequestRow.state != "completed")) or 0)


class EventProbe:
    """Subscribes to requests as SSE does and records state-change → arrival latencies."""

    def __init__(self, engine: engine_runtime.Engine) -> None:
        self.engine = engine
        self.latencies: list[float] = []
        self.tasks: list[asyncio.Task[None]] = []

    def watch(self, request_id: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self._watch(request_id))
        self.tasks.append(task)
        return task

    async def _watch(self, request_id: str) -> None:
        async for event in self.engine.hub.subscribe(request_id, idle_seconds=120):
            if event is None:
                continue
            arrived = datetime.now(UTC)
            created = datetime.fromisoformat(event["createdAt"].replace("Z", "+00:00"))
            self.latencies.append((arrived - created).total_seconds())
            if event["type"] == "completion":
                return

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def bench_settings(tmp: str, url: str, provisioner_url: str = "") -> Settings:
    return Settings(
        environment="test",
        data_dir=Path(tmp),
        database_url=url,
        catalog_dir=ROOT / "catalog",
        endpoints={"provisioner": provisioner_url} if provisioner_url else {},
        heartbeat_seconds=30,
    )


async def measure_pao(backend: str, requests: int, latency_requests: int) -> dict[str, Any]:
    """PAO alone: its engine, its queues, its tables."""
    with database(backend) as url, provisioner() as prov_url, tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(tmp, url, prov_url)
        catalog = CatalogService(settings.catalog_dir, endpoints=settings.resolved_endpoints)
        engine = engine_runtime.build_engine(settings, catalog=lambda: catalog.current, workers=True)
        await asyncio.to_thread(engine_runtime.launch, engine)
        await engine.hub.start()
        await asyncio.sleep(1.5)  # queue workers pick up the registered queues
        try:
            await pao_request(engine, catalog, -1)
            await wait_all(engine)

            # Latency: one request at a time.
            probe = EventProbe(engine)
            latencies: list[float] = []
            for n in range(latency_requests):
                started = time.perf_counter()
                request_id = await pao_request(engine, catalog, n)
                await probe.watch(request_id)  # returns at the completion event, as an SSE client sees it
                latencies.append((time.perf_counter() - started) / 3)
            await probe.close()
            quiet_events = list(probe.latencies)

            # Throughput: everything at once.
            probe = EventProbe(engine)
            started, cpu_started = time.perf_counter(), time.process_time()
            for n in range(requests):
                request_id = await pao_request(engine, catalog, 10_000 + n)
                if n % 10 == 0:
                    probe.watch(request_id)
            await wait_all(engine)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            not_completed = failed(engine)
            await probe.close()
        finally:
            await engine.hub.stop()
            await asyncio.to_thread(engine_runtime.shutdown)
            engine.db.dispose()
    return {
        "latencies": latencies,
        "elapsed": elapsed,
        "cpu": cpu,
        "failed": not_completed,
        "quiet_events": quiet_events,
        "busy_events": list(probe.latencies),
    }


async def measure_bare(backend: str, requests: int, latency_requests: int) -> dict[str, Any]:
    """The bare engine alone: DBOS configured as PAO configures it, on a fresh database, with only the
    bench's queue — so neither side pays for the other's polling."""
    with database(backend) as url, tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(tmp, url)
        await asyncio.to_thread(_launch_bare, settings)
        await asyncio.sleep(1.5)
        try:
            await run_bare(1, prefix="warm")
            latencies: list[float] = []
            for n in range(latency_requests):
                started = time.perf_counter()
                await run_bare(1, prefix=f"lat{n}")
                latencies.append((time.perf_counter() - started) / 3)
            started, cpu_started = time.perf_counter(), time.process_time()
            await run_bare(requests, prefix="tp")
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        finally:
            await asyncio.to_thread(engine_runtime.shutdown)
    return {"latencies": latencies, "elapsed": elapsed, "cpu": cpu}


def _launch_bare(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    DBOS(config=engine_runtime.dbos_config(settings))
    DBOS.launch()
    _BARE["queue"] = DBOS.register_queue(
        BARE_QUEUE, polling_interval_sec=settings.engine_poll_seconds, on_conflict="always_update"
    )


def run_backend(backend: str, requests: int, latency_requests: int, rounds: int) -> dict[str, float]:
    """Each side `rounds` times, alternating which goes first: throughput from each side's best round,
    time per component and event latency from all rounds."""
    runs: dict[str, list[dict[str, Any]]] = {"pao": [], "bare": []}
    measure = {"pao": measure_pao, "bare": measure_bare}
    for round_ in range(rounds):
        for side in ("pao", "bare") if round_ % 2 == 0 else ("bare", "pao"):
            # One event loop per run: DBOS makes its executor the loop's default and shuts it down.
            runs[side].append(asyncio.run(measure[side](backend, requests, latency_requests)))
    pao, bare = (min(runs[side], key=lambda r: r["elapsed"]) for side in ("pao", "bare"))

    def pooled(side: str, key: str) -> list[float]:
        return [x for r in runs[side] for x in r[key]]

    pao_latencies, bare_latencies = pooled("pao", "latencies"), pooled("bare", "latencies")
    busy_events = pooled("pao", "busy_events")
    events = pooled("pao", "quiet_events") + busy_events
    result = {
        "pao_median_ms": statistics.median(pao_latencies) * 1000,
        "pao_p99_ms": pct(pao_latencies, 0.99) * 1000,
        "bare_median_ms": statistics.median(bare_latencies) * 1000,
        "bare_p99_ms": pct(bare_latencies, 0.99) * 1000,
        "pao_cps": 3 * requests / pao["elapsed"],
        "bare_cps": 3 * requests / bare["elapsed"],
        "pao_cpu_ms": pao["cpu"] / (3 * requests) * 1000,
        "bare_cpu_ms": bare["cpu"] / (3 * requests) * 1000,
        "event_p50_ms": pct(events, 0.5) * 1000,
        "event_p99_ms": pct(events, 0.99) * 1000,
        "event_busy_p99_ms": pct(busy_events, 0.99) * 1000,
        "failed": sum(r["failed"] for r in runs["pao"]),
    }
    report(
        backend,
        requests,
        result,
        rounds={side: [3 * requests / r["elapsed"] for r in runs[side]] for side in runs},
    )
    return result


async def wait_all(engine: engine_runtime.Engine) -> None:
    """Until every request submitted so far has ended: one cheap count per poll, as for the bare engine."""
    while await asyncio.to_thread(unfinished, engine):
        await asyncio.sleep(WAIT_POLL_SECONDS)


async def run_bare(count: int, *, prefix: str) -> None:
    queue = _BARE["queue"]
    handles = []
    for n in range(count):
        with SetWorkflowID(f"bare-{prefix}-{n}-{uuid.uuid4().hex[:6]}"):
            handles.append(await queue.enqueue_async(bare_parent, f"{prefix}-{n}"))
    if count == 1:  # latency: poll its status closely
        await handles[0].get_result(polling_interval_sec=0.002)
        return
    while await asyncio.to_thread(bare_unfinished):
        await asyncio.sleep(WAIT_POLL_SECONDS)


def bare_unfinished() -> int:
    """How many parent workflows have not ended (as `unfinished` counts PAO's requests)."""
    from dbos._dbos import _get_dbos_instance  # the system database has no public handle

    sys_db = _get_dbos_instance()._sys_db
    status = sys_db.tables.workflow_status
    with sys_db.engine.begin() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(status)
                .where(status.c.name == "bench.parent", status.c.status.in_(["PENDING", "ENQUEUED"]))
            )
            or 0
        )


def report(backend: str, requests: int, r: dict[str, float], rounds: dict[str, list[float]]) -> None:
    added = r["pao_median_ms"] - r["bare_median_ms"]
    share = r["pao_cps"] / r["bare_cps"]
    print(f"\n== {backend}: {requests} requests × 3 components (failed: {int(r['failed'])})")
    print(f"  time per component   PAO median {r['pao_median_ms']:7.1f} ms  p99 {r['pao_p99_ms']:7.1f} ms")
    print(f"                       bare median {r['bare_median_ms']:6.1f} ms  p99 {r['bare_p99_ms']:7.1f} ms")
    print(
        f"  PAO adds             {added:7.1f} ms per component (median)   target ≤ 10 ms   {_ok(added <= 10)}"
    )
    print(
        f"  throughput           PAO {r['pao_cps']:6.1f} components/s   "
        f"bare {r['bare_cps']:6.1f} components/s (best round)"
    )
    each = "   ".join(
        f"{side} " + ", ".join(f"{cps:.1f}" for cps in values) for side, values in rounds.items()
    )
    print(f"  each round           {each}")
    print(
        f"  CPU per component    PAO {r['pao_cpu_ms']:6.1f} ms             "
        f"bare {r['bare_cpu_ms']:6.1f} ms (all threads of the process)"
    )
    print(
        f"  PAO / bare           {share:7.0%}                                "
        f"target ≥ 70%    {_ok(share >= 0.7)}"
    )
    # The same ratio round by round (each round's two sides ran back to back): how far the verdict
    # stands from the machine's drift.
    paired = [p / b for p, b in zip(rounds["pao"], rounds["bare"], strict=True)]
    print(
        "  each round's ratio   "
        + ", ".join(f"{x:.0%}" for x in paired)
        + f"   (median {statistics.median(paired):.0%})"
    )
    print(
        f"  state change → event p50 {r['event_p50_ms']:6.1f} ms  p99 {r['event_p99_ms']:6.1f} ms "
        f"(under load p99 {r['event_busy_p99_ms']:.1f} ms)   "
        f"target p99 ≤ 250 ms   {_ok(r['event_p99_ms'] <= 250)}"
    )


def _ok(good: bool) -> str:
    return "OK" if good else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--latency-requests", type=int, default=40)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=4, help="runs of each side, alternating")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run_backend(backend, args.requests, args.latency_requests, args.rounds)


if __name__ == "__main__":
    main()
