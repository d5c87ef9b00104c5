"""Rows read with Core and handed on as detached ORM objects: what was set is written back, nothing
else, and a column that was not read cannot be mistaken for NULL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm.exc import DetachedInstanceError

from pao_backend.persistence.core_rows import Part, Shape
from pao_backend.persistence.db import Database
from pao_backend.persistence.migrate import migrate
from pao_backend.persistence.tables import ComponentRow, RequestRow
from tests.support.rows import bare_request

SHAPE = Shape(Part.of(RequestRow, "state", "outputs"), Part.of(ComponentRow, "state"))
QUERY = (
    select(*SHAPE.columns(), RequestRow.title)
    .select_from(RequestRow)
    .outerjoin(ComponentRow, ComponentRow.request_id == RequestRow.id)
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'pao.db'}")
    migrate(database)
    with database.transaction() as session:
        session.add(bare_request("r1", state="running"))
    yield database
    database.dispose()


def _statements(db: Database) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        verb = statement.split()[0]
        if verb != "BEGIN":  # SQLite's BEGIN IMMEDIATE, not the statements under test
            seen.append(verb)

    event.listen(db.engine, "before_cursor_execute", record)
    return seen


def _stored(db: Database) -> tuple[str, dict[str, Any], str]:
    with db.reading() as session:
        row = session.execute(select(RequestRow.state, RequestRow.outputs, RequestRow.title)).one()
    return row[0], row[1], row[2]


def test_what_is_set_is_written_back_with_one_update_and_nothing_else(db: Database) -> None:
    seen = _statements(db)
    with db.transaction() as session:
        found = session.connection().execute(QUERY).one()
        request = SHAPE.get(found, 0, session=session)
        assert SHAPE.get(found, 1) is None  # the outer join found no component
        assert found[SHAPE.width] == ""  # columns after the shape are the query's own
        request.outputs = {"url": "https://db.example"}
        request.state = "running"  # set to what it was: not a change
    assert seen == ["SELECT", "UPDATE"]
    assert _stored(db) == ("running", {"url": "https://db.example"}, "")


def test_an_object_nobody_changed_costs_no_statement(db: Database) -> None:
    seen = _statements(db)
    with db.transaction() as session:
        SHAPE.get(session.connection().execute(QUERY).one(), 0, session=session)
    assert seen == ["SELECT"]


def test_a_column_that_was_not_read_raises_instead_of_reading_as_none(db: Database) -> None:
    with db.reading() as session:
        request = SHAPE.get(session.connection().execute(QUERY).one(), 0)
    assert request.state == "running"
    with pytest.raises(DetachedInstanceError):
        _ = request.requester


def test_without_a_session_nothing_is_written(db: Database) -> None:
    with db.transaction() as session:
        request = SHAPE.get(session.connection().execute(QUERY).one(), 0)
        request.state = "failed"
    assert _stored(db)[0] == "running"
