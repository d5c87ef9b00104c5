"""Keep-alive HTTP clients shared by action runs.

A fresh client per run opens a new connection per call — and against an HTTPS backend pays a TLS
handshake each time. `SharedClients` keeps one client per event loop (a connection belongs to the
loop that opened it), so runs on a loop reuse connections to the same backend. Cookies are refused:
one request's session must never reach another's.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

log = logging.getLogger("scaffolder_actions.http_clients")

# No cap on connections: a run must never wait for another run's connection (the per-run clients
# this replaces had none either). Idle ones are kept for 1 s, less than servers keep theirs (gunicorn
# 2 s, uvicorn and Node 5 s): a connection the server is closing at that moment would fail the call.
_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=20, keepalive_expiry=1.0)


# Closes scheduled on the caller's own loop (asyncio keeps only weak references to tasks).
_closing: set[asyncio.Task[None]] = set()


@dataclass
class _Entry:
    client: httpx.AsyncClient
    users: int = 0
    retired: bool = False  # closed by its last user


class SharedClients:
    """One keep-alive httpx client per event loop, for every action run on that loop."""

    def __init__(self, verify: ssl.SSLContext | bool = True) -> None:
        self._verify = verify
        self._lock = threading.Lock()
        self._entries: dict[asyncio.AbstractEventLoop, _Entry] = {}

    def _new(self) -> httpx.AsyncClient:
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        return httpx.AsyncClient(verify=self._verify, cookies=no_cookies, limits=_LIMITS)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """The running loop's client, for the length of one run."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._entries.get(loop)
            if entry is None:
                # A loop that has ended cannot close its client any more: forget it.
                for ended in [known for known in self._entries if known.is_closed()]:
                    del self._entries[ended]
                entry = self._entries[loop] = _Entry(self._new())
            entry.users += 1
        try:
            yield entry.client
        finally:
            with self._lock:
                entry.users -= 1
                last = entry.retired and entry.users == 0
            if last:
                await entry.client.aclose()

    def close(self, timeout: float = 5.0) -> None:
        """Close every client on its own loop: idle ones now, busy ones when their last run ends (a
        call in flight is never cut off). Best called from a thread that runs none of those loops,
        while they still run; later runs get new clients."""
        with self._lock:
            idle = []
            for loop, entry in self._entries.items():
                entry.retired = True
                if entry.users == 0:
                    idle.append((loop, entry.client))
            self._entries.clear()
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, client in idle:
            if loop.is_closed() or not loop.is_running():
                continue
            if loop is current:  # waiting here would block the loop that has to do the closing
                task = loop.create_task(client.aclose())
                _closing.add(task)
                task.add_done_callback(_closing.discard)
                continue
            try:
                asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout)
            except (TimeoutError, RuntimeError):
                log.warning("an HTTP client did not close within %.0f s; dropping its connections", timeout)
