"""The live-event hub against a real database: events another process commits reach this process's
subscribers (PostgreSQL: LISTEN/NOTIFY; SQLite: the poller), once each, in order, and a subscriber that
already read an event is not woken to read it again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from pao_backend.orchestration import events
from pao_backend.orchestration.events import EventHub
from pao_backend.persistence.db import Database, normalize_url
from pao_backend.persistence.migrate import migrate
from tests.support.databases import postgres_database
from tests.support.rows import bare_request

REQUEST = "r-hub-1"
H = TypeVar("H", bound=EventHub)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pao.db'}"
        return
    with postgres_database(request.getfixturevalue("postgres_url")) as pg:
        yield normalize_url(pg)


@pytest.fixture
def databases(url: str) -> Iterator[tuple[Database, Database]]:
    with _two_databases(url) as pair:
        yield pair


@contextmanager
def _two_databases(url: str) -> Iterator[tuple[Database, Database]]:
    """This process's database and "another process's": a second engine whose commits this process's
    hub hears of only through the database."""
    here, there = Database(url), Database(url)
    migrate(here)
    with there.transaction() as session:
        session.add(bare_request(REQUEST))
    yield here, there
    here.dispose()
    there.dispose()


def _write(db: Database, *messages: str) -> None:
    with db.transaction() as session:
        for message in messages:
            events.append(session, db, request_id=REQUEST, type=events.LOG, body={"message": message})


class _CountingHub(EventHub):
    """Counts the subscribers' reads of the events table."""

    reads = 0

    def _read(self, request_id: str, after: int) -> list[dict[str, Any]]:
        self.reads += 1
        return super()._read(request_id, after)


async def _collect(hub: EventHub, count: int, got: list[dict[str, Any]]) -> None:
    async for event in hub.subscribe(REQUEST, idle_seconds=30):
        assert event is not None
        got.append(event)
        if len(got) == count:
            return


@asynccontextmanager
async def _started(hub: H) -> AsyncIterator[H]:
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


async def _settle(hub: EventHub) -> None:
    """Let a notification or a poll that is on its way arrive."""
    await asyncio.sleep(max(hub.poll_seconds * 4, 0.3))


def test_events_committed_by_another_process_reach_a_subscriber_once_in_order(
    databases: tuple[Database, Database],
) -> None:
    here, there = databases

    async def scenario() -> tuple[list[dict[str, Any]], int, int]:
        async with _started(_CountingHub(here, poll_seconds=0.02)) as hub:
            got: list[dict[str, Any]] = []
            watcher = asyncio.create_task(_collect(hub, 3, got))
            await _settle(hub)
            _write(there, "one", "two")
            await _settle(hub)
            reads_before = hub.reads
            _write(there, "three")
            await asyncio.wait_for(watcher, timeout=5)
            return got, reads_before, hub.reads

    got, reads_before, reads_after = asyncio.run(scenario())
    assert [e["body"]["message"] for e in got] == ["one", "two", "three"]
    assert [e["id"] for e in got] == sorted({e["id"] for e in got})
    # One commit, one read: the poller does not wake a subscriber again for an event it already read.
    assert reads_after - reads_before == 1


def test_this_process_commits_wake_its_subscribers_once(databases: tuple[Database, Database]) -> None:
    here, _ = databases

    async def scenario() -> tuple[list[dict[str, Any]], int]:
        # Polls seldom enough that a poll rarely lands during the read its commit started (a poll then
        # finds the subscriber behind and wakes it once more: harmless, but not what this checks).
        async with _started(_CountingHub(here, poll_seconds=0.2)) as hub:
            got: list[dict[str, Any]] = []
            watcher = asyncio.create_task(_collect(hub, 2, got))
            await _settle(hub)
            reads_before = hub.reads
            _write(here, "local")
            hub.notify(REQUEST)
            await _settle(hub)
            reads = hub.reads - reads_before
            _write(here, "again")
            hub.notify(REQUEST)
            await asyncio.wait_for(watcher, timeout=5)
            return got, reads

    got, reads = asyncio.run(scenario())
    assert [e["body"]["message"] for e in got] == ["local", "again"]
    # The writer's own notify and the database's notice of the same commit do not both cause a read.
    assert reads == 1


def test_a_lost_listener_connection_reconnects_and_nothing_is_missed(postgres_url: str) -> None:
    with postgres_database(postgres_url) as pg, _two_databases(normalize_url(pg)) as (here, there):
        got, dropped = _events_across_a_lost_listener(here, there)
    assert dropped == 1
    assert [e["body"]["message"] for e in got] == ["while it was down", "after"]


def _events_across_a_lost_listener(here: Database, there: Database) -> tuple[list[dict[str, Any]], int]:
    def drop_listener() -> int:
        with there.transaction() as session:
            return len(
                session.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                    )
                ).all()
            )

    async def scenario() -> tuple[list[dict[str, Any]], int]:
        async with _started(EventHub(here)) as hub:
            got: list[dict[str, Any]] = []
            watcher = asyncio.create_task(_collect(hub, 2, got))
            await _settle(hub)
            dropped = drop_listener()
            _write(there, "while it was down")  # may commit before the listener is back
            await asyncio.sleep(1.5)
            _write(there, "after")
            await asyncio.wait_for(watcher, timeout=10)
            return got, dropped

    return asyncio.run(scenario())
