"""ActionContext: what a handler gets — input, secrets, workspace, a redacting logger, outputs, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from scaffolder_actions._errors import ActionCancelledError
from scaffolder_actions._redact import Redactor

InputT = TypeVar("InputT", bound=BaseModel)
T = TypeVar("T")

LogLevel = Literal["debug", "info", "warn", "error"]
_STDLIB_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}

_log = logging.getLogger("scaffolder_actions")


@dataclass(frozen=True)
class LogLine:
    """One log line of an action run, already redacted."""

    level: LogLevel
    message: str
    timestamp: float

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "message": self.message, "timestamp": self.timestamp}


class ActionLogger:
    """Collects redacted log lines; forwards each to `on_log` (live events) and to stdlib logging."""

    def __init__(
        self,
        redactor: Redactor,
        *,
        on_log: Callable[[LogLine], None] | None = None,
        name: str = "",
    ) -> None:
        self._redactor = redactor
        self._on_log = on_log
        self._name = name
        self.lines: list[LogLine] = []

    def log(self, level: LogLevel, message: str) -> None:
        line = LogLine(level=level, message=self._redactor.redact_text(str(message)), timestamp=time.time())
        self.lines.append(line)
        _log.log(_STDLIB_LEVELS[level], "%s %s", self._name, line.message)
        if self._on_log is not None:
            self._on_log(line)

    def debug(self, message: str) -> None:
        self.log("debug", message)

    def info(self, message: str) -> None:
        self.log("info", message)

    def warning(self, message: str) -> None:
        self.log("warn", message)

    warn = warning

    def error(self, message: str) -> None:
        self.log("error", message)


@dataclass
class ActionContext(Generic[InputT]):
    """The handler's view of one run. `attempt_key` is stable across retries of the same attempt."""

    input: InputT
    secrets: Mapping[str, str]
    workspace: Path
    logger: ActionLogger
    redactor: Redactor
    attempt_key: str
    dry_run: bool = False
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    metadata: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def output(self, name: str, value: Any) -> None:
        """Record an output of the action (Backstage `ctx.output`)."""
        self.outputs[name] = value

    def add_secret(self, value: str) -> None:
        """Mask a value derived from a secret (a header, a URL with a token) in logs and errors."""
        self.redactor.add(value)

    def raise_if_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise ActionCancelledError(f"{self.metadata.get('actionId', 'action')} was cancelled")

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake up and raise ActionCancelledError as soon as the run is cancelled."""
        self.raise_if_cancelled()
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self.cancelled.wait(), timeout=seconds)
        except TimeoutError:
            return
        self.raise_if_cancelled()

    async def until_cancelled(self, awaitable: Awaitable[T], *, timeout: float | None = None) -> T:
        """Await `awaitable` (TimeoutError after `timeout` seconds); if the run is cancelled first, cancel
        it and raise ActionCancelledError.

        Pass the coroutine itself, not wrapped in `asyncio.wait_for`: when the caller is cancelled before
        the work started (a process shutting down), this closes it, so no coroutine is left un-awaited.
        """
        try:
            self.raise_if_cancelled()
            work: asyncio.Future[T] = asyncio.ensure_future(asyncio.wait_for(awaitable, timeout))
        except BaseException:
            _close_unstarted(awaitable)
            raise
        watch: asyncio.Future[Any] = asyncio.ensure_future(self.cancelled.wait())
        try:
            await asyncio.wait([work, watch], return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            work.cancel()
            _close_unstarted(awaitable)
            raise
        finally:
            watch.cancel()
        if work.done():
            return work.result()
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work
        self.raise_if_cancelled()
        raise AssertionError("unreachable: cancelled event set but not visible")  # pragma: no cover


def _close_unstarted(awaitable: Awaitable[Any]) -> None:
    if inspect.iscoroutine(awaitable) and inspect.getcoroutinestate(awaitable) == inspect.CORO_CREATED:
        awaitable.close()
