"""Engine and sessions: the only place where SQLite and PostgreSQL differ.

SQLite (the default, a file under `settings.data_dir`) runs in WAL mode so readers never wait for the
writer, and write transactions start with `BEGIN IMMEDIATE` so two writers queue on the busy timeout
instead of failing with "database is locked" when a read transaction tries to upgrade.
PostgreSQL is used when `PAO_DATABASE_URL` is set.

Repositories never commit: the service function opens `Database.transaction()` and owns it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, bindparam, create_engine, event, insert, inspect, make_url, select, update
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.functions import FunctionElement

from pao_backend.persistence.tables import RequestRow
from pao_backend.settings import Settings

log = logging.getLogger("pao.db")

_SQLITE_BUSY_MS = 30_000
# PostgreSQL: every transaction that writes a request's events notifies this channel with the request
# id; PostgreSQL delivers it when (and only if) the transaction commits.
EVENTS_CHANNEL = "pao_events"
# How long the listener waits for a notification before it checks whether it should stop.
_LISTEN_TICK_SECONDS = 0.2


def database_url(settings: Settings) -> str:
    """PAO's own tables: PAO_DATABASE_URL, or `<data_dir>/pao.db`."""
    return normalize_url(settings.resolved_database_url)


def engine_database_url(settings: Settings) -> str:
    """The DBOS system database: a separate SQLite file, or the same PostgreSQL database (schema `dbos`)."""
    if settings.engine_database_url:
        return normalize_url(settings.engine_database_url)
    url = database_url(settings)
    if is_sqlite_url(url):
        return f"sqlite:///{(settings.data_dir / 'engine.db').resolve()}"
    return url


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the operator wrote."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def create_db_engine(url: str) -> Engine:
    """A SQLAlchemy engine tuned for the dialect."""
    if is_sqlite_url(url):
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_MS / 1000},
            pool_size=16,
            max_overflow=16,
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=30)
    _ping_when_idle(engine)
    return engine


# A pooled PostgreSQL connection idle this long is checked before use.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a connection before use when it sat idle in the pool, as `pool_pre_ping` does on every use:
    after a database restart the idle ones are stale, and a stale one would fail the transaction (an
    action step) that got it. A connection back within a second is not checked: under load that is almost
    every use, and the check is one round trip each."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["pao_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("pao_idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"a pooled connection is gone: {exc}") from exc
        if not alive:
            raise DisconnectionError("a pooled connection did not answer")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("pao_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """PAO's database: an engine plus write and read session factories."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self.is_sqlite = is_sqlite_url(url)
        self._write_lock = threading.RLock()
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        reader = self.engine.execution_options(pao_read_only=True)
        if not self.is_sqlite:
            # Under READ COMMITTED each statement reads its own snapshot, in a transaction or not: reads
            # skip the BEGIN and ROLLBACK round trips.
            reader = reader.execution_options(isolation_level="AUTOCOMMIT")
        self._reader = sessionmaker(reader, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(database_url(settings))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        if self.is_sqlite:
            # Writers of this process queue here instead of in SQLite's busy handler, which sleeps up
            # to 100 ms between tries and turns a short wait into a long one.
            with self._write_lock, self._writer() as session, session.begin():
                yield session
            return
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (SQLite: a deferred transaction that never blocks writers)."""
        # Closing (not rolling back) keeps the loaded rows usable after the block.
        with self._reader() as session:
            yield session

    def lock_events(self, session: Session, request_id: str) -> None:
        """Serialize the transactions that write one request's events, so its event ids commit in order
        (readers resume after the last id they saw). On PostgreSQL that is the request's row lock, held
        until the transaction ends, taken by the same statement that queues the notification
        `listen_events` receives at commit; SQLite writers are serial anyway. Queries that lock the
        request anyway take both in passing (`events_notice`, then `request_locked`)."""
        if self.is_sqlite or request_id in events_locked(session):
            return
        session.execute(_LOCK_FOR_EVENTS, {"request_id": request_id})
        request_locked(session, request_id)

    def listen_events(self, on_commit: Callable[[str | None], None], stop: threading.Event) -> None:
        """PostgreSQL only, blocking until `stop` is set (run it in a thread of its own): calls
        `on_commit(request_id)` when a transaction that wrote the request's events commits, in any
        process. While the connection is down events may pass unseen, so after each (re)connect it calls
        `on_commit(None)`: whoever waits should read again."""
        url = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    on_commit(None)
                    while not stop.is_set():
                        for note in conn.notifies(timeout=_LISTEN_TICK_SECONDS):
                            on_commit(note.payload)
            except psycopg.Error:
                log.warning("lost the events listener's connection; reconnecting in 1 s", exc_info=True)
                stop.wait(1.0)

    def dispose(self) -> None:
        self.engine.dispose()


class _EventsNotice(FunctionElement[Any]):
    inherit_cache = True
    name = "pao_events_notice"


@compiles(_EventsNotice)
def _no_notice(element: _EventsNotice, compiler: Any, **kw: Any) -> str:
    return "NULL"


@compiles(_EventsNotice, "postgresql")
def _notice(element: _EventsNotice, compiler: Any, **kw: Any) -> str:
    return f"pg_notify('{EVENTS_CHANNEL}', {compiler.process(element.clauses, **kw)})"


def events_notice(request_id: Any) -> Any:
    """A column for a query that locks a request's row (`LOCK_REQUEST`): on PostgreSQL it queues the
    notification that `listen_events` receives if the transaction commits (NULL on SQLite)."""
    return _EventsNotice(request_id)


# How PAO locks a request's row. NO KEY UPDATE, not UPDATE: it does not wait for the key-share locks
# that inserting rows referencing the request takes, so two transactions that inserted such rows
# cannot deadlock taking it; it still excludes every other writer of the request (and its events).
LOCK_REQUEST: dict[str, Any] = {"key_share": True}

_LOCK_FOR_EVENTS = (
    select(events_notice(RequestRow.id))
    .where(RequestRow.id == bindparam("request_id"))
    .with_for_update(**LOCK_REQUEST)
)


def request_locked(session: Session, request_id: str) -> None:
    """This transaction ran a query with `events_notice` that locked the request's row: it may write
    the request's events without another statement."""
    events_locked(session).add(request_id)


def events_locked(session: Session) -> set[str]:
    """Ids of the requests whose events this transaction may write without taking the lock again."""
    held: set[str] = session.info.setdefault("pao_events_locked", set())
    return held


def insert_at_commit(session: Session, table: Any, row: dict[str, Any]) -> None:
    """Insert `row` into `table` when the transaction commits, together with the transaction's other
    rows for that table (one executemany instead of one INSERT per row; append-only rows need no id).
    Tables are written in the order they were first given (a parent before the rows that refer to it)."""
    _pending(session).inserts.setdefault(table, []).append(row)


def add_at_commit(session: Session, row: Any) -> None:
    """Insert the new ORM object `row` at commit, with the values it has then — kept out of the session:
    for rows nothing reads back before the commit (no unit of work, no RETURNING of their id)."""
    _pending(session).inserts.setdefault(row.__table__, []).append(row)


def update_at_commit(session: Session, row: Any, columns: Sequence[str]) -> None:
    """Write the `columns` of `row` (a detached object from `core_rows`) that were set since it was read,
    with one UPDATE by primary key at commit: no unit of work."""
    _pending(session).updates.append((row, columns))


@dataclass
class _Pending:
    inserts: dict[Any, list[Any]] = field(default_factory=dict)
    updates: list[tuple[Any, Sequence[str]]] = field(default_factory=list)


def _pending(session: Session) -> _Pending:
    pending: _Pending | None = session.info.get("pao_pending")
    if pending is None:
        pending = session.info["pao_pending"] = _Pending()
        event.listen(session, "before_commit", _write_pending, once=True)
    return pending


def _write_pending(session: Session) -> None:
    pending: _Pending = session.info.pop("pao_pending")
    # Core-level statements on the session's connection: plain rows need none of the ORM's statement
    # handling (the session flushes its own changes after this hook).
    connection = session.connection()
    for table, rows in pending.inserts.items():
        # One executemany per set of columns given; columns not given take their defaults.
        batches: dict[frozenset[str], list[dict[str, Any]]] = {}
        for row in rows:
            values = row if isinstance(row, dict) else _set_columns(table, row)
            batches.setdefault(frozenset(values), []).append(values)
        for batch in batches.values():
            connection.execute(_insert_into(table), batch)
    for row, columns in pending.updates:
        state = inspect(row)
        kept = state.unmodified_intersection(columns)  # never set: no history to look at
        changed = {
            key: getattr(row, key)
            for key in columns
            if key not in kept and state.attrs[key].history.has_changes()
        }
        if changed:
            connection.execute(_update_by_key(row.__table__), {**changed, "pao_key": state.identity[0]})


# Statements built once per table: a new construct costs its cache key on every execution.
@cache
def _insert_into(table: Any) -> Any:
    return insert(table)


@cache
def _update_by_key(table: Any) -> Any:
    """UPDATE `table` WHERE its primary key = :pao_key; the SET columns are the parameters given."""
    (key,) = table.primary_key.columns
    return update(table).where(key == bindparam("pao_key"))


def _set_columns(table: Any, row: Any) -> dict[str, Any]:
    return {key: value for key, value in inspect(row).dict.items() if key in table.c}
