"""The change calendar in the engine: refused at submit, held durably across a restart, approved by the
named role, cancelled while held. Real app, DBOS on SQLite, loopback provisioner, an injectable clock."""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.governance import gate
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG
from tests.support.databases import postgres_database
from tests.support.provisioner import ProvisionerServer

API = "/api/pao/v1/requests"
# Fake time starts 3 s before the migration freeze ends and runs at the real pace.
WINDOW_END = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
CALENDAR = """schemaVersion: catalog/v1
kind: ChangeCalendar
timezone: Europe/Berlin
windows:
  - id: migration
    name: Data-centre migration
    freeze: hard
    onFreeze: schedule
    timezone: UTC
    fixed: {from: "2027-03-01 00:00", to: "2027-03-10 12:00"}
    scope: {categories: [databases]}
  - id: storage-move
    name: Storage move
    freeze: hard
    onFreeze: refuse
    timezone: UTC
    fixed: {from: "2027-03-01 00:00", to: "2027-03-20 00:00"}
    scope: {categories: [storage]}
  - id: compute-cutover
    name: Compute cutover
    freeze: hard
    timezone: UTC
    fixed: {from: "2027-03-10 12:00", to: "2027-03-10 12:01"}
    scope: {categories: [compute]}
  - id: restricted
    name: Restricted week
    freeze: soft
    approval: {role: change-managers}
    timezone: UTC
    fixed: {from: "2027-03-01 00:00", to: "2027-03-31 00:00"}
    scope: {categories: [security]}
"""


class ShiftedClock:
    """`start` plus the real time elapsed since the clock was first read (so a slow start-up of the app
    does not eat into the window)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.origin: float | None = None

    def __call__(self) -> datetime:
        if self.origin is None:
            self.origin = time.monotonic()
        return self.start + timedelta(seconds=time.monotonic() - self.origin)

    def jump(self, seconds: float) -> None:
        self.start += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "postgres"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, ProvisionerServer]]:
    with contextlib.ExitStack() as stack:
        url = ""
        if request.param == "postgres":
            url = stack.enter_context(postgres_database(request.getfixturevalue("postgres_url")))
        catalog = tmp_path / "catalog"
        shutil.copytree(SAMPLE_CATALOG, catalog)
        (catalog / "calendar.yaml").write_text(CALENDAR, "utf-8")
        provisioner = ProvisionerServer(delay=0.0).start()
        stack.callback(provisioner.stop)
        settings = Settings(
            environment="test",
            data_dir=tmp_path / "data",
            database_url=url,
            catalog_dir=catalog,
            endpoints={"provisioner": provisioner.url},
            engine_poll_seconds=0.01,
            event_poll_seconds=0.05,
        )
        with gate.use_clock(ShiftedClock(WINDOW_END - timedelta(seconds=3))):
            yield settings, provisioner


def _wait(client: TestClient, request_id: str, *states: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        detail: dict[str, Any] = client.get(f"{API}/{request_id}").json()
        if detail["state"] in states:
            return detail
        if time.monotonic() > deadline:
            raise AssertionError(f"stayed {detail['state']}, wanted {states}: {json.dumps(detail)[:1500]}")
        time.sleep(0.05)


def test_hard_refuse_window_refuses_at_submit_with_the_date_it_can_be_made(
    setup: tuple[Settings, ProvisionerServer],
) -> None:
    settings, _ = setup
    with TestClient(create_app(settings)) as client:
        values = {"name": "frozen-bucket"}
        response = client.post(API, json={"catalogId": "storage-bucket-standard", "values": values})
        assert response.status_code == 409, response.text
        body = response.json()
        assert "storage-move" in body["error"]["message"]
        assert "2027-03-20 01:00 CET" in body["error"]["message"]  # said in the business timezone
        assert client.get(API).json()["totalItems"] == 0


def test_scheduled_request_survives_a_restart_and_starts_when_the_window_opens(
    setup: tuple[Settings, ProvisionerServer],
) -> None:
    settings, provisioner = setup
    with TestClient(create_app(settings)) as client:
        submitted = client.post(
            API, json={"catalogId": "database-postgresql-standard", "values": {"name": "held-db"}}
        )
        assert submitted.status_code == 201, submitted.text
        request_id = submitted.json()["id"]
        held = _wait(client, request_id, "scheduled")
        hold = client.get(f"{API}/{request_id}/calendar").json()["hold"]
        assert hold["verdict"] == "scheduled"
        assert hold["until"] == "2027-03-10T12:00:00Z"
        assert hold["windows"][0]["id"] == "migration"
        assert held["components"][0]["state"] == "pending"
        assert "/databases" not in provisioner.keys
    # The process stops while the request is held; a new one recovers the workflow and its wait.
    with TestClient(create_app(settings)) as client:
        assert client.get(f"{API}/{request_id}").json()["state"] == "scheduled"
        done = _wait(client, request_id, "completed")
        assert gate.clock() >= WINDOW_END
        states = [h["to"] for h in done["stateHistory"]]
        assert states == ["submitted", "scheduled", "running", "completed"]
        assert "migration" in done["stateHistory"][1]["reason"]
        assert len(provisioner.keys["/databases"]) == 1
        events = client.get(f"{API}/{request_id}/events").json()["items"]
        calendar_events = [e["body"]["verdict"] for e in events if e["type"] == "calendar"]
        assert calendar_events == ["scheduled", "allowed"]


def test_soft_window_waits_for_the_named_role_then_proceeds(
    setup: tuple[Settings, ProvisionerServer],
) -> None:
    settings, _ = setup
    with TestClient(create_app(settings)) as client:
        submitted = client.post(
            API,
            json={"catalogId": "security-secret-standard", "values": {"name": "soft-secret"}},
        )
        assert submitted.status_code == 201, submitted.text
        request_id = submitted.json()["id"]
        _wait(client, request_id, "scheduled")
        hold = client.get(f"{API}/{request_id}/calendar").json()["hold"]
        assert hold["verdict"] == "needs_approval" and hold["roles"] == ["change-managers"]

        stranger = {"X-PAO-On-Behalf-Of": "user:default/eve", "X-PAO-On-Behalf-Of-Teams": "platform-compute"}
        refused = client.post(f"{API}/{request_id}/approve", json={}, headers=stranger)
        assert refused.status_code == 403
        assert "change-managers" in refused.json()["error"]["message"]
        time.sleep(0.3)
        assert client.get(f"{API}/{request_id}").json()["state"] == "scheduled"

        manager = {"X-PAO-On-Behalf-Of": "user:default/cm", "X-PAO-On-Behalf-Of-Teams": "change-managers"}
        approved = client.post(f"{API}/{request_id}/approve", json={"comment": "hotfix"}, headers=manager)
        assert approved.status_code == 200, approved.text
        assert approved.json()["approvals"][0]["by"] == "user:default/cm"
        done = _wait(client, request_id, "completed", "failed")
        assert [h["to"] for h in done["stateHistory"]][:3] == ["submitted", "scheduled", "running"]
        again = client.post(f"{API}/{request_id}/approve", json={}, headers=manager)
        assert again.status_code == 409


def test_cancelling_a_held_request_ends_it_at_once(setup: tuple[Settings, ProvisionerServer]) -> None:
    settings, _ = setup
    with TestClient(create_app(settings)) as client:
        submitted = client.post(
            API, json={"catalogId": "security-secret-standard", "values": {"name": "gone"}}
        )
        request_id = submitted.json()["id"]
        _wait(client, request_id, "scheduled")
        assert client.post(f"{API}/{request_id}/cancel").status_code == 200
        cancelled = _wait(client, request_id, "cancelled", timeout=10)
        assert cancelled["components"][0]["state"] == "cancelled"


def test_calendar_api_lists_windows_what_is_frozen_and_a_verdict(
    setup: tuple[Settings, ProvisionerServer],
) -> None:
    settings, _ = setup
    with TestClient(create_app(settings)) as client:
        document = client.get("/api/pao/v1/calendar", params={"catalogId": "storage-bucket-standard"}).json()
        assert document["timezone"] == "Europe/Berlin"
        assert document["frozenNow"] == ["migration", "storage-move", "restricted"]
        assert document["verdict"]["verdict"] == "refused"
        assert document["verdict"]["nextPossible"] == "2027-03-20T00:00:00Z"
        unknown = client.get("/api/pao/v1/calendar", params={"catalogId": "nope"})
        assert unknown.status_code == 404


def test_plan_preview_carries_the_calendar_verdict(setup: tuple[Settings, ProvisionerServer]) -> None:
    settings, _ = setup
    with TestClient(create_app(settings)) as client:
        plan = client.post(
            "/api/pao/v1/plan",
            json={"catalogId": "storage-bucket-standard", "values": {"name": "planned-bucket"}},
        )
        assert plan.status_code == 200, plan.text
        calendar = plan.json()["calendar"]
        assert calendar["verdict"] == "refused"
        assert calendar["windows"][0]["id"] == "storage-move"
        held = client.post(
            "/api/pao/v1/plan",
            json={"catalogId": "database-postgresql-standard", "values": {"name": "planned-db"}},
        ).json()["calendar"]
        assert held["verdict"] == "scheduled" and held["until"] == "2027-03-10T12:00:00Z"


def test_a_retry_during_a_freeze_waits_for_the_window_to_end(
    setup: tuple[Settings, ProvisionerServer],
) -> None:
    # Compute is free until WINDOW_END, then frozen for a minute (fake time).
    settings, provisioner = setup
    with TestClient(create_app(settings)) as client:
        provisioner.fail_next("/apps", 400)
        values = {"name": "cutover-app", "app": {"image": "ghcr.io/example/cutover:1.0.0"}}
        submitted = client.post(API, json={"catalogId": "compute-container-app", "values": values})
        assert submitted.status_code == 201, submitted.text
        request_id = submitted.json()["id"]
        _wait(client, request_id, "failed")
        while gate.clock() < WINDOW_END:
            time.sleep(0.05)
        assert client.post(f"{API}/{request_id}/retry").status_code == 200
        held = _wait(client, request_id, "scheduled")
        assert "compute-cutover" in held["stateHistory"][-1]["reason"]
        hold = client.get(f"{API}/{request_id}/calendar").json()["hold"]
        assert hold["until"] == "2027-03-10T12:01:00Z"
        # The minute passes (the clock jumps); a wake-up makes the workflow look at the calendar again.
        fake = gate.clock
        assert isinstance(fake, ShiftedClock)
        fake.jump(60)
        DBOS.send(request_id, {"op": "wake"}, topic=gate.GATE_TOPIC)
        done = _wait(client, request_id, "completed")
        states = [h["to"] for h in done["stateHistory"]]
        assert states[-4:] == ["running", "scheduled", "running", "completed"]
