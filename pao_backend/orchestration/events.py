"""Request events: written with the state change they describe, then fanned out to subscribers.

Writers append events inside their transaction (`append`) and call `EventHub.notify()` after the
commit, which wakes the request's subscribers in this process (thread-safe: steps run on the engine's
event loop, subscribers on the web server's). Events written by other processes (`pao worker`) are
noticed on PostgreSQL by a LISTEN on the channel each such commit notifies (then every process,
this one included, is woken that way alone), and on SQLite by one poller per process that reads which
requests have events after the highest id it saw, every `event_poll_seconds`.
Subscribers then read their request's events after the last id they saw, so nothing is lost or
repeated and the id doubles as SSE `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pao_backend.persistence import events as event_repo
from pao_backend.persistence.db import Database
from pao_backend.persistence.tables import EventRow

log = logging.getLogger("pao.events")

# Event types. Every body has a human `message`.
STATE = event_repo.REQUEST_STATE  # the request changed state: {state, from, reason, message}
# a component changed state: {componentId, state, from, reason, message, at (when earlier than written)}
COMPONENT = event_repo.COMPONENT_STATE
ACTION = "action"  # an action run changed state: {componentId, index, type, state, attempt, message, ...}
LOG = "log"  # a log line of an action: {componentId, index, level, message}
REJECTED = "rejected"  # a state change was refused: {from, to, reason, message}
COMPLETION = "completion"  # the request reached completed/failed/aborted/cancelled: {state, message, ...}

# Events a subscriber reads at once; a full batch is followed by another read at once.
READ_LIMIT = 1000


def append(
    session: Session,
    db: Database,
    *,
    request_id: str,
    type: str,
    body: dict[str, Any],
    component_id: str | None = None,
    action_index: int | None = None,
) -> None:
    """Add an event in the caller's transaction (a per-request lock keeps ids in commit order)."""
    db.lock_events(session, request_id)
    event_repo.add_event(
        session,
        request_id=request_id,
        type=type,
        body=body,
        component_id=component_id,
        action_index=action_index,
    )


def event_dict(row: EventRow) -> dict[str, Any]:
    """The API shape of an event."""
    return {
        "id": row.id,
        "requestId": row.request_id,
        "componentId": row.component_id,
        "actionIndex": row.action_index,
        "type": row.type,
        "body": row.body,
        "createdAt": _iso(row.created_at),
    }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@dataclass(eq=False)
class _Waiter:
    """One subscriber: its loop, its wake-up, and the last event id it read."""

    loop: asyncio.AbstractEventLoop
    wake: asyncio.Event
    after: int


class EventHub:
    """Wakes subscribers when events may have arrived; subscribers read them from the database."""

    def __init__(self, db: Database, *, poll_seconds: float = 0.05) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        # Subscribers by request id: a commit wakes only the subscribers of its request.
        self._waiters: dict[str, set[_Waiter]] = {}
        self._seen = 0
        self._poller: asyncio.Task[None] | None = None
        self._listener: threading.Thread | None = None
        self._stop_listening = threading.Event()
        # Subscribers' reads get threads of their own: the loop's default pool is small (cores + 4)
        # and shared with everything else that blocks.
        self._readers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="pao-events")

    def notify(self, request_id: str | None = None) -> None:
        """A transaction that wrote `request_id`'s events committed (None: anything may have changed).
        Callable from any thread. With PostgreSQL's notifications running, the commit's own notification
        wakes the subscribers instead (waking them here too would make each read twice)."""
        if self._listener is None:
            self._wake(request_id)

    def _wake(self, request_id: str | None, *, behind: int | None = None) -> None:
        """Wake the subscribers of `request_id` (None: everybody); `behind`: only those that have not
        read that event id yet."""
        with self._lock:
            if request_id is None:
                waiters = [w for group in self._waiters.values() for w in group]
            else:
                waiters = list(self._waiters.get(request_id, ()))
        for waiter in waiters:
            if waiter.loop.is_closed():
                continue
            if behind is not None and waiter.after >= behind:
                continue
            with contextlib.suppress(RuntimeError):
                waiter.loop.call_soon_threadsafe(waiter.wake.set)

    async def start(self) -> None:
        """Start noticing events written by other processes: PostgreSQL's notifications (a thread), or
        on SQLite a poller on the running loop."""
        if self._poller is not None or self._listener is not None:
            return
        if not self.db.is_sqlite:
            self._stop_listening.clear()
            self._listener = threading.Thread(
                target=self.db.listen_events,
                args=(self._wake, self._stop_listening),
                name="pao-events-listener",
                daemon=True,
            )
            self._listener.start()
            return
        self._seen = await asyncio.to_thread(self._last_id)
        self._poller = asyncio.create_task(self._poll(), name="pao-event-poller")

    async def stop(self) -> None:
        if self._listener is not None:
            self._stop_listening.set()
            await asyncio.to_thread(self._listener.join)
            self._listener = None
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        self._readers.shutdown(wait=False, cancel_futures=True)
        self._readers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="pao-events")

    def _last_id(self) -> int:
        with self.db.reading() as session:
            return event_repo.last_event_id(session)

    def _changed(self, after: int) -> dict[str, int]:
        with self.db.reading() as session:
            return event_repo.requests_with_events_after(session, after)

    async def _poll(self) -> None:
        # SQLite: writers are serial, so event ids become visible in order and one id remembers what
        # was seen. Subscribers that already read an event (its commit woke them) are not woken again.
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.poll_seconds)
            with self._lock:
                idle = not self._waiters
            if idle:
                continue
            try:
                changed = await loop.run_in_executor(self._readers, self._changed, self._seen)
            except Exception:  # a database hiccup must not end the poller
                log.warning("event poller could not read the events table", exc_info=True)
                continue
            for request_id, last in changed.items():
                self._seen = max(self._seen, last)
                self._wake(request_id, behind=last)

    def _read(self, request_id: str, after: int) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            return [
                event_dict(r)
                for r in event_repo.events_after(
                    session, request_id=request_id, after=after, limit=READ_LIMIT
                )
            ]

    async def subscribe(
        self, request_id: str, *, after: int = 0, idle_seconds: float = 15.0
    ) -> AsyncIterator[dict[str, Any] | None]:
        """Yield the request's events after `after`, forever; yields None after `idle_seconds` of quiet
        (the SSE route sends a keep-alive then)."""
        loop = asyncio.get_running_loop()
        entry = _Waiter(loop, asyncio.Event(), after)
        wake = entry.wake
        with self._lock:
            self._waiters.setdefault(request_id, set()).add(entry)
        try:
            while True:
                wake.clear()
                events = await loop.run_in_executor(self._readers, self._read, request_id, entry.after)
                if events:
                    entry.after = events[-1]["id"]
                for event in events:
                    yield event
                # A short read saw everything committed before `wake` was cleared; whatever commits
                # later sets `wake` again, so there is no need to read once more to find nothing.
                if len(events) >= READ_LIMIT:
                    continue
                try:
                    await asyncio.wait_for(wake.wait(), timeout=idle_seconds)
                except TimeoutError:
                    yield None
        finally:
            with self._lock:
                group = self._waiters.get(request_id)
                if group is not None:
                    group.discard(entry)
                    if not group:
                        del self._waiters[request_id]
