"""Migration 0005 moves the state history into the events without losing a change or its time, and
its downgrade writes the rows back from the events, including changes made after the upgrade
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, column, insert, select, table, text

from pao_backend.persistence import events as event_repo
from pao_backend.persistence.db import Database
from pao_backend.persistence.migrate import alembic_config
from pao_backend.persistence.tables import EventRow, RequestRow, UtcDateTime
from tests.support.databases import postgres_database

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'pao.db'}")
        yield db
        db.dispose()
        return
    with postgres_database(request.getfixturevalue("postgres_url")) as url:
        db = Database(url.replace("postgresql://", "postgresql+psycopg://"))
        yield db
        db.dispose()


def _alembic(db: Database, connection: Connection, verb: str, revision: str) -> None:
    config = alembic_config(db.url)
    config.attributes["connection"] = connection
    getattr(command, verb)(config, revision)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _state_event(
    connection: Connection, component: str | None, before: str | None, after: str, written: datetime
) -> None:
    """A state event of request r1 (component None) or of its component, as the engine writes it."""
    connection.execute(
        insert(EventRow.__table__).values(
            request_id="r1",
            component_id=component,
            type="state" if component is None else "component",
            body={"state": after, "from": before, "reason": "why", "message": "m"},
            created_at=written,
        )
    )


def _seed_0004(connection: Connection) -> None:
    """A request as revision 0004 stored it: each change as a row and as an event; the component's
    running change happened 3 s before its event was written (a fused action step)."""
    connection.execute(
        insert(RequestRow.__table__).values(
            id="r1",
            catalog_id="db",
            item_version="1.0.0",
            kind="item",
            requester="user:default/a",
            state="completed",
            correlation_id="r1",
        )
    )
    changes = [
        (None, None, "submitted", 0),
        (None, "submitted", "running", 1),
        ("c", "pending", "running", 2),
        ("c", "running", "completed", 5),
    ]
    for component, before, after, seconds in changes:
        connection.execute(
            text(
                "INSERT INTO state_changes (request_id, component_id, from_state, to_state, reason, at) "
                "VALUES ('r1', :c, :f, :s, 'why', :at)"
            ),
            {"c": component, "f": before, "s": after, "at": _at(seconds)},
        )
        _state_event(
            connection,
            component,
            before,
            after,
            _at(5 if (component, after) == ("c", "running") else seconds),
        )
    # Not a change: a cancel request is told as a state event with the same state.
    _state_event(connection, None, "running", "running", _at(3))


def _history(db: Database) -> list[tuple[Any, ...]]:
    with db.reading() as session:
        return [
            (c.component_id, c.from_state, c.to_state, c.at)
            for c in event_repo.state_changes(session, ["r1"])
        ]


def test_the_history_moves_into_the_events_and_back(database: Database) -> None:
    with database.engine.connect() as connection:
        _alembic(database, connection, "upgrade", "0004")
        _seed_0004(connection)
        connection.commit()
        _alembic(database, connection, "upgrade", "0005")
        # After the upgrade a change is written as its event alone.
        _state_event(connection, None, "running", "completed", _at(5))
        connection.commit()

    expected = [
        (None, None, "submitted", _at(0)),
        (None, "submitted", "running", _at(1)),
        ("c", "pending", "running", _at(2)),  # the change's own time, not its event's
        ("c", "running", "completed", _at(5)),
        (None, "running", "completed", _at(5)),
    ]
    assert _history(database) == expected
    with database.engine.connect() as connection:
        _alembic(database, connection, "downgrade", "0004")
        connection.commit()
        changes = table(
            "state_changes",
            column("id"),
            column("component_id"),
            column("from_state"),
            column("to_state"),
            column("at", UtcDateTime()),
        )
        restored = connection.execute(
            select(changes.c.component_id, changes.c.from_state, changes.c.to_state, changes.c.at).order_by(
                changes.c.id
            )
        ).all()
    assert [tuple(row) for row in restored] == expected
