"""Benchmark: manual fulfilment latencies against the loopback JIRA (real `jira` client, real app + engine on
SQLite). Prints medians; not part of the test run.

    .venv/bin/python bench/tickets.py [requests]

* file: pao:jira-ticket through JiraTicketSystem (label search + create + property + read back), and the
  same through the built-in inbox;
* close → request completed: via JIRA's webhook (poll interval 1 h, so only the webhook can be it), and via
  polling (poll interval 0.5 s), and via the inbox's resolve.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pao_backend.app import create_app
from pao_backend.persistence.db import Database
from pao_backend.persistence.migrate import migrate
from pao_backend.settings import Settings
from pao_backend.ticketing.inbox import InboxTicketSystem
from pao_backend.ticketing.jira_tickets import JiraTicketSystem
from scaffolder_actions import run_action
from scaffolder_actions.actions.jira_ticket import create_jira_ticket_action
from scaffolder_actions.tickets import TicketSystem
from tests.support.jira_server import JiraServer
from tests.support.live_server import serve
from tests.support.manual_catalog import manual_catalog

API = "/api/pao/v1"
TASK = {"project": "DBA", "summary": "Redis bench", "description": "h3. bench"}


def report(name: str, samples: list[float]) -> float:
    median = statistics.median(samples)
    print(f"{name:<44} median {median * 1000:8.1f} ms   max {max(samples) * 1000:8.1f} ms   n={len(samples)}")
    return median


async def file_tickets(system: TicketSystem, n: int, workdir: Path) -> list[float]:
    action = create_jira_ticket_action(tickets=system)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        result = await run_action(action, TASK, workspace=workdir, attempt_key=f"bench/{i}")
        samples.append(time.perf_counter() - started)
        assert result.ok, result.error
    return samples


def wait(get: Callable[[], dict[str, Any]], predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        detail = get()
        if predicate(detail):
            return detail
        time.sleep(0.005)
    raise AssertionError("timed out")


def ticket_key(detail: dict[str, Any]) -> str | None:
    component = detail["components"][0]
    ticket = component["actions"][-1].get("ticket") if component["actions"] else None
    return str(ticket["key"]) if component["state"] == "waiting" and ticket else None


def detail_of(client: httpx.Client | TestClient, request_id: str) -> Callable[[], dict[str, Any]]:
    def get() -> dict[str, Any]:
        body: dict[str, Any] = client.get(f"{API}/requests/{request_id}").json()
        return body

    return get


def close_to_completed(
    client: httpx.Client | TestClient, close: Callable[[str], None], n: int, name: str
) -> list[float]:
    samples = []
    for i in range(n):
        body = {"catalogId": "database-redis-standard", "values": {"name": f"{name}-{i}"}}
        get = detail_of(client, client.post(f"{API}/requests", json=body).json()["id"])
        key = ticket_key(wait(get, lambda d: ticket_key(d) is not None))
        assert key is not None
        started = time.perf_counter()
        close(key)
        wait(get, lambda d: d["state"] == "completed")
        samples.append(time.perf_counter() - started)
    return samples


def main(n: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="pao-bench-tickets-"))
    with JiraServer().running() as jira:
        jira_file = asyncio.run(file_tickets(JiraTicketSystem(url=jira.url, token="t0k3n"), n, root / "ws"))
        db = Database(f"sqlite:///{root / 'inbox.db'}")
        migrate(db)
        inbox_file = asyncio.run(
            file_tickets(InboxTicketSystem(db=db, base_url="http://pao"), n, root / "ws")
        )
        db.dispose()
        report("file via JIRA (jira client, loopback)", jira_file)
        report("file via the built-in inbox (SQLite)", inbox_file)

        settings = Settings(
            environment="test",
            data_dir=root / "jira-data",
            catalog_dir=manual_catalog(root / "jira"),
            engine_poll_seconds=0.01,
            event_poll_seconds=0.05,
            jira_url=jira.url,
            jira_token=SecretStr("t0k3n"),
            jira_webhook_secret=SecretStr("bench"),
            jira_poll_seconds=3600.0,
        )
        app = create_app(settings)
        with serve(app, lifespan="on") as base_url, httpx.Client(base_url=base_url) as client:
            jira.webhooks.append(f"{base_url}{API}/webhooks/jira?token=bench")

            def close_in_jira(key: str) -> None:
                jira.resolve(key, "Done", fields={"customfield_10060": "redis://bench"})

            hooked = report(
                "JIRA close -> completed (webhook)", close_to_completed(client, close_in_jira, n, "hook")
            )
            jira.webhooks.clear()
            settings.jira_poll_seconds = 0.5
            polled = report(
                "JIRA close -> completed (polling, 0.5 s)",
                close_to_completed(client, close_in_jira, n, "poll"),
            )
            print(f"{'polling / webhook':<44} {polled / hooked:8.1f}x")

    inbox_settings = Settings(
        environment="test",
        data_dir=root / "inbox-data",
        catalog_dir=manual_catalog(root / "inbox"),
        engine_poll_seconds=0.01,
        event_poll_seconds=0.05,
        jira_poll_seconds=3600.0,
    )
    team = {"X-PAO-On-Behalf-Of": "user:default/dana", "X-PAO-On-Behalf-Of-Teams": "platform-databases"}
    with TestClient(create_app(inbox_settings)) as client:

        def resolve(key: str) -> None:
            answer = client.post(
                f"{API}/inbox/{key}/resolve", json={"outputs": {"redisUrl": "redis://x"}}, headers=team
            )
            assert answer.status_code == 200, answer.text

        report("inbox resolve -> completed", close_to_completed(client, resolve, n, "inbox"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
