"""How a request's event writers are ordered on PostgreSQL: every transaction that writes a request's
events holds the request's row lock until it commits — taken by `events.append` or by a query that
locks the request anyway — so event ids commit in order; transactions that first inserted rows
referencing the request do not deadlock taking it; and the commit notifies the listeners."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import select

from pao_backend.orchestration import events
from pao_backend.persistence import requests as repo
from pao_backend.persistence.db import EVENTS_CHANNEL, Database, normalize_url
from pao_backend.persistence.migrate import migrate
from pao_backend.persistence.tables import ActionRunRow, EventRow
from tests.support.databases import postgres_database
from tests.support.rows import bare_request

REQUEST = "r-lock-1"


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    with postgres_database(postgres_url) as url:
        db = Database(normalize_url(url))
        migrate(db)
        with db.transaction() as session:
            session.add(bare_request(REQUEST, state="running"))
        yield db
        db.dispose()


@pytest.mark.parametrize(
    ("first_by", "second_by"), [("append", "query"), ("query", "append"), ("append", "append")]
)
def test_a_second_writer_waits_for_the_first_to_commit(
    database: Database, first_by: str, second_by: str
) -> None:
    holding, release = threading.Event(), threading.Event()
    committed: list[str] = []

    def writer(name: str, lock_by: str, before: threading.Event | None) -> None:
        if before is not None:
            assert before.wait(5)
        with database.transaction() as session:
            if lock_by == "query":
                repo.require_request(session, REQUEST, for_update=True)
            events.append(session, database, request_id=REQUEST, type=events.LOG, body={"message": name})
            if before is None:
                holding.set()
                assert release.wait(5)
        committed.append(name)

    first = threading.Thread(target=writer, args=("first", first_by, None))
    second = threading.Thread(target=writer, args=("second", second_by, holding))
    first.start()
    second.start()
    time.sleep(0.5)
    assert committed == []  # the second waits for the first's lock
    release.set()
    first.join(5)
    second.join(5)
    assert committed == ["first", "second"]
    with database.reading() as session:
        messages = [body["message"] for body in session.scalars(select(EventRow.body).order_by(EventRow.id))]
    assert messages == ["first", "second"]


def test_writers_that_inserted_rows_referencing_the_request_do_not_deadlock(database: Database) -> None:
    # Each first inserts an action run (which takes a key-share lock on the request), then writes an
    # event. With FOR UPDATE as the lock, each would wait for the other's key-share lock.
    both_inserted = threading.Barrier(2, timeout=5)
    failures: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            with database.transaction() as session:
                session.add(
                    ActionRunRow(
                        request_id=REQUEST,
                        component_id="c",
                        index=index,
                        type="rest-api",
                        attempt=0,
                        state="running",
                        attempt_key=f"{REQUEST}/c/{index}/0",
                    )
                )
                session.flush()
                both_inserted.wait()
                events.append(
                    session, database, request_id=REQUEST, type=events.LOG, body={"message": str(index)}
                )
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert failures == []
    with database.reading() as session:
        assert len(list(session.scalars(select(EventRow.id)))) == 2


@pytest.mark.parametrize("lock_by", ["append", "query"])
def test_the_commit_notifies_the_listeners_once(database: Database, lock_by: str) -> None:
    with psycopg.connect(
        database.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as listen:
        listen.execute(f"LISTEN {EVENTS_CHANNEL}")
        with database.transaction() as session:
            if lock_by == "query":
                repo.require_request(session, REQUEST, for_update=True)
            for n in range(2):
                events.append(
                    session, database, request_id=REQUEST, type=events.LOG, body={"message": str(n)}
                )
            assert list(listen.notifies(timeout=0.2)) == []  # not before the commit
        payloads = [note.payload for note in listen.notifies(timeout=1.0, stop_after=2)]
    assert payloads == [REQUEST]
