"""PAO's PostgreSQL pool against a real server: connections a restart left stale are replaced before a
transaction gets them, connections in steady use are not checked each time, and reads hold no
transaction open."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from pao_backend.persistence import db as db_module
from pao_backend.persistence.db import Database, normalize_url
from tests.support.databases import postgres_database


@pytest.fixture
def database(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.2)
    with postgres_database(postgres_url) as url:
        database = Database(normalize_url(url))
        yield database
        database.dispose()


def _pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    seen: list[bool] = []
    ping = database.engine.dialect.do_ping

    def counted(connection: Any) -> bool:
        try:
            alive = bool(ping(connection))
        except Exception:
            seen.append(False)
            raise
        seen.append(alive)
        return alive

    monkeypatch.setattr(database.engine.dialect, "do_ping", counted)
    return seen


def _backend_pid(database: Database) -> int:
    with database.transaction() as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")))


def test_a_connection_a_restart_left_stale_is_replaced_before_use(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _pings(database, monkeypatch)
    first = _backend_pid(database)
    # What a database restart does to the pooled connection: its server process ends.
    libpq_url = database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq_url, autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
    time.sleep(0.3)

    second = _backend_pid(database)  # would raise "terminating connection" with the stale one

    assert second != first
    assert pings == [False]  # the stale one was found out, and its replacement is new


def test_connections_in_steady_use_are_not_checked_each_time(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _backend_pid(database)
    pings = _pings(database, monkeypatch)
    for _ in range(5):
        _backend_pid(database)
    assert pings == []
    time.sleep(0.3)
    _backend_pid(database)
    assert pings == [True]


def test_a_read_leaves_no_transaction_open_and_writes_still_have_one(database: Database) -> None:
    """Reads run statement by statement (no idle-in-transaction session between them, no BEGIN and
    ROLLBACK round trips); a write transaction is still one transaction."""

    def state_of(pid: int) -> str:
        with psycopg.connect(database.url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            row = conn.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            assert row is not None
            return str(row[0])

    with database.reading() as session:
        pid = int(session.scalar(text("SELECT pg_backend_pid()")))
        assert state_of(pid) == "idle"
    with database.transaction() as session:
        pid = int(session.scalar(text("SELECT pg_backend_pid()")))
        assert state_of(pid) == "idle in transaction"
