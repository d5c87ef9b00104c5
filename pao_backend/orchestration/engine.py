"""The engine runtime: DBOS configured for PAO, its queues, heartbeats and takeover of dead executors.

DBOS is a process-wide singleton, so is the `Engine` that steps use to reach the database, the event
hub, the secret box and the action registry. `launch()` / `shutdown()` bracket it; create_app's
lifespan and `pao worker` call them, tests too (one engine per process at a time).

Takeover (architecture.md, "known gap"): self-hosted DBOS recovers a process's pending workflows only
when that executor id starts again. Every worker writes a heartbeat; a worker that finds another's
heartbeat older than `stale_after_seconds` claims it with a conditional UPDATE (only one claimer wins)
and asks DBOS to recover that executor's workflows, which puts them back on their queue.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from dbos import DBOS, DBOSConfig, SetWorkflowID
from dbos._queue import Queue
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pao_backend.catalog.store import Catalog
from pao_backend.persistence.db import Database, engine_database_url
from pao_backend.persistence.tables import ExecutorRow, RequestRow, utcnow
from pao_backend.settings import Settings
from scaffolder_actions import ActionRegistry
from scaffolder_actions.tickets import TicketSystem

from .events import EventHub

log = logging.getLogger("pao.engine")

# One queue for request and component workflows: every queue costs a polling thread that queries the
# system database every PAO_ENGINE_POLL_SECONDS. The request queue of earlier builds is still polled,
# slowly, so requests they enqueued (or that are recovered onto it) still run.
COMPONENT_QUEUE = "pao-components"
REQUEST_QUEUE = "pao-requests"
LEGACY_QUEUE_POLL_SECONDS = 1.0


@dataclass
class Engine:
    """What steps need at run time; one per process while DBOS is launched."""

    settings: Settings
    db: Database
    hub: EventHub
    box: Fernet
    registry: ActionRegistry
    catalog: Callable[[], Catalog | None] = lambda: None
    workers: bool = True
    # Cooperative cancel of actions running in this process, by request id.
    cancel_events: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    request_queue: Queue | None = None
    component_queue: Queue | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _heartbeat: threading.Thread | None = None

    @property
    def workspace(self) -> Path:
        return self.settings.data_dir / "work"

    def cancel_local(self, request_id: str) -> None:
        """Set the cancel event of every action of `request_id` running in this process."""
        for loop, event in list(self.cancel_events.get(request_id, ())):
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


_current: Engine | None = None


def current_engine() -> Engine:
    if _current is None:
        raise RuntimeError("the PAO engine is not running: call engine.launch() first")
    return _current


def dbos_config(settings: Settings) -> DBOSConfig:
    """DBOS tuned for interactive latency (architecture.md: the defaults poll once a second)."""
    return {
        "name": "pao",
        "system_database_url": engine_database_url(settings),
        "application_version": settings.app_version,
        "executor_id": settings.executor_id,
        "notification_listener_polling_interval_sec": settings.engine_poll_seconds,
        "log_level": "WARNING",
    }


def launch(engine: Engine) -> None:
    """Start DBOS for this process (blocking; call it outside a running event loop, e.g. via to_thread)."""
    global _current
    if _current is not None:
        raise RuntimeError("a PAO engine is already running in this process; shutdown() it first")
    # Registers the workflows and steps with DBOS before launch.
    from pao_backend.orchestration import ticket_steps, workflows  # noqa: F401

    engine.settings.data_dir.mkdir(parents=True, exist_ok=True)
    DBOS(config=dbos_config(engine.settings))
    if not engine.workers:
        DBOS.listen_queues([])
    _current = engine
    try:
        DBOS.launch()
        poll = engine.settings.engine_poll_seconds
        engine.request_queue = DBOS.register_queue(
            REQUEST_QUEUE,
            polling_interval_sec=max(poll, LEGACY_QUEUE_POLL_SECONDS),
            on_conflict="always_update",
        )
        engine.component_queue = DBOS.register_queue(
            COMPONENT_QUEUE, polling_interval_sec=poll, on_conflict="always_update"
        )
    except BaseException:
        _current = None
        DBOS.destroy()
        raise
    if engine.workers:
        engine._stop.clear()
        engine._heartbeat = threading.Thread(
            target=_heartbeat_loop, args=(engine,), name="pao-heartbeat", daemon=True
        )
        engine._heartbeat.start()
    log.info(
        "engine launched: executor %s, app version %s, workers %s",
        engine.settings.executor_id,
        engine.settings.app_version,
        "on" if engine.workers else "off",
    )


def shutdown() -> None:
    """Stop DBOS and the heartbeat; workflows in flight resume on the next start (or on another worker)."""
    global _current
    engine = _current
    if engine is not None:
        engine._stop.set()
        if engine._heartbeat is not None:
            engine._heartbeat.join(timeout=10)
    _stop_dequeuing()
    if engine is not None:
        # While the engine's loop still runs: its idle connections close there, busy ones after their
        # call (DBOS.destroy cancels those runs; they are recovered on the next start).
        engine.registry.close()
    DBOS.destroy()
    _current = None


def _stop_dequeuing() -> None:
    """Stop DBOS's queue threads and wait for them, before `DBOS.destroy()` stops its event loop.

    DBOS 3.4 stops the loop first and joins the queue threads after; a workflow dequeued in between is
    left pending on a closed loop, and it is reported (and fails a strict test run) when collected.
    The workflow itself is safe: it is still PENDING in the database and is recovered on the next start.
    """
    import dbos._dbos as dbos_module  # the instance is not public; absent, destroy() alone still works

    instance = getattr(dbos_module, "_dbos_global_instance", None)
    if instance is None:
        return
    for event in getattr(instance, "background_thread_stop_events", []):
        event.set()
    for thread in getattr(instance, "_background_threads", []):
        # Python names a thread after its target: "Thread-7 (queue_thread)"; it joins its workers.
        if thread.name.endswith("(queue_thread)"):
            thread.join(timeout=15)


# ---- heartbeats and takeover --------------------------------------------------------------------


def _heartbeat_loop(engine: Engine) -> None:
    first = True
    while not engine._stop.is_set():
        try:
            beat(engine)
            take_over_stale(engine)
            if first:
                resubmit_orphans(engine)
                first = False
        except Exception:
            log.warning("heartbeat/takeover pass failed; trying again", exc_info=True)
        engine._stop.wait(engine.settings.heartbeat_seconds)


def beat(engine: Engine) -> None:
    """Record that this executor is alive."""
    s = engine.settings
    now = utcnow()
    values = {"executor_id": s.executor_id, "app_version": s.app_version, "last_seen": now, "started_at": now}
    insert: Any = (postgresql.insert if not engine.db.is_sqlite else sqlite.insert)(ExecutorRow).values(
        values
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["executor_id"], set_={"last_seen": now, "app_version": s.app_version}
    )
    with engine.db.transaction() as session:
        session.execute(stmt)


def take_over_stale(engine: Engine) -> list[str]:
    """Claim executors whose heartbeat went stale (one claimer wins) and recover their workflows."""
    s = engine.settings
    cutoff = utcnow() - timedelta(seconds=s.stale_after_seconds)
    taken: list[str] = []
    with engine.db.reading() as session:
        stale = list(
            session.scalars(
                select(ExecutorRow).where(
                    ExecutorRow.executor_id != s.executor_id,
                    ExecutorRow.app_version == s.app_version,
                    ExecutorRow.last_seen < cutoff,
                    or_(
                        ExecutorRow.taken_over_at.is_(None), ExecutorRow.taken_over_at < ExecutorRow.last_seen
                    ),
                )
            )
        )
    for row in stale:
        with engine.db.transaction() as session:
            claimed = session.execute(
                update(ExecutorRow)
                .where(
                    ExecutorRow.executor_id == row.executor_id,
                    ExecutorRow.last_seen == row.last_seen,
                    or_(
                        ExecutorRow.taken_over_at.is_(None),
                        and_(ExecutorRow.taken_over_at < ExecutorRow.last_seen),
                    ),
                )
                .values(taken_over_by=s.executor_id, taken_over_at=utcnow())
            )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        handles = DBOS._recover_pending_workflows([row.executor_id])
        log.warning(
            "executor %s is silent since %s: took over %d workflows",
            row.executor_id,
            row.last_seen.isoformat(),
            len(handles),
        )
        taken.append(row.executor_id)
    return taken


def resubmit_orphans(engine: Engine) -> int:
    """Start requests that were stored but never handed to the engine (a crash between the two)."""
    cutoff = utcnow() - timedelta(seconds=5)
    with engine.db.reading() as session:
        ids = list(
            session.scalars(
                select(RequestRow.id).where(RequestRow.state == "submitted", RequestRow.created_at < cutoff)
            )
        )
    started = 0
    for request_id in ids:
        if DBOS.get_workflow_status(request_id) is None:
            enqueue_request(engine, request_id)
            started += 1
    return started


async def enqueue_request_async(engine: Engine, request_id: str) -> None:
    """`enqueue_request` for async callers (the API)."""
    from pao_backend.orchestration.workflows import request_workflow

    assert engine.component_queue is not None
    with SetWorkflowID(request_id):
        await engine.component_queue.enqueue_async(request_workflow, request_id)


def enqueue_request(engine: Engine, request_id: str) -> None:
    """Hand a stored request to the engine (idempotent: the workflow id is the request id)."""
    from pao_backend.orchestration.workflows import request_workflow

    assert engine.component_queue is not None
    with SetWorkflowID(request_id):
        engine.component_queue.enqueue(request_workflow, request_id)


# ---- building one -------------------------------------------------------------------------------


def default_registry(settings: Settings, *, tickets: TicketSystem | None = None) -> ActionRegistry:
    """The actions this deployment can run: credentials, templates and repositories from settings (by
    name); pao:jira-ticket when a ticket system is given."""
    from scaffolder_actions import (
        Credential,
        SharedClients,
        create_cookiecutter_action,
        create_git_commit_action,
        create_jira_ticket_action,
        create_rest_api_action,
    )

    credentials = {
        name: Credential.from_mapping({k: v.get_secret_value() for k, v in values.items()})
        for name, values in settings.credentials.items()
    }
    # Runs share keep-alive connections (no new TCP or TLS handshake per action); the CA bundle is
    # loaded once.
    http = SharedClients(verify=ssl.create_default_context())
    registry = ActionRegistry(
        [
            create_rest_api_action(clients=http, credentials=credentials),
            create_cookiecutter_action(
                templates_root=settings.templates_dir, allowed_locations=settings.template_locations
            ),
            create_git_commit_action(repositories=settings.resolved_repositories),
        ]
    )
    registry.on_close(http.close)
    if tickets is not None:
        registry.register(create_jira_ticket_action(tickets=tickets))
    return registry


def build_engine(
    settings: Settings,
    *,
    catalog: Callable[[], Catalog | None] = lambda: None,
    registry: ActionRegistry | None = None,
    workers: bool | None = None,
    db: Database | None = None,
) -> Engine:
    """An Engine for this process (not launched); migrations are applied to its database."""
    from pao_backend.persistence.migrate import migrate
    from pao_backend.persistence.secrets import secret_box

    database = db or Database.from_settings(settings)
    migrate(database)
    return Engine(
        settings=settings,
        db=database,
        hub=EventHub(database, poll_seconds=settings.event_poll_seconds),
        box=secret_box(settings),
        registry=registry or default_registry(settings),
        catalog=catalog,
        workers=settings.workers if workers is None else workers,
    )
