"""The durable request engine end to end: the real app, DBOS, SQLite and PostgreSQL, and a provisioner
that is a real HTTP server on loopback (the demo provisioner, with failures injected on demand)."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.orchestration import steps
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG
from tests.support.databases import dump_postgres, dump_sqlite, postgres_database
from tests.support.provisioner import ProvisionerServer
from tests.support.rest_backend import refused_url

API = "/api/pao/v1/requests"
WEBAPP = {"name": "orders", "basic": {"storageSize": 50}, "app": {"image": "ghcr.io/example/orders:1.2.0"}}


class Pao:
    """A running PAO (app + engine) and its test provisioner."""

    def __init__(
        self, client: TestClient, provisioner: ProvisionerServer, settings: Settings, backend: str
    ) -> None:
        self.client = client
        self.provisioner = provisioner
        self.settings = settings
        self.backend = backend

    def submit(self, catalog_id: str, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
        headers = extra.pop("headers", {})
        response = self.client.post(
            API, json={"catalogId": catalog_id, "values": values, **extra}, headers=headers
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def detail(self, request_id: str) -> dict[str, Any]:
        response = self.client.get(f"{API}/{request_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait(self, request_id: str, *states: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            detail = self.detail(request_id)
            if detail["state"] in states:
                return detail
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"request stayed {detail['state']}, wanted {states}: {json.dumps(detail)[:2000]}"
                )
            time.sleep(0.05)

    def wait_for(self, request_id: str, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            detail = self.detail(request_id)
            if predicate(detail):
                return detail
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not reached: {json.dumps(detail)[:2000]}")
            time.sleep(0.05)

    def events(self, request_id: str, after: int = 0) -> list[dict[str, Any]]:
        response = self.client.get(f"{API}/{request_id}/events", params={"after": after})
        assert response.status_code == 200
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pao(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pao]:
    provisioner = ProvisionerServer(delay=0.0).start()
    data_dir = tmp_path_factory.mktemp(f"pao-{request.param}")
    try:
        if request.param == "postgres":
            server_url = request.getfixturevalue("postgres_url")
            with postgres_database(server_url) as url:
                yield from _running(url, data_dir, provisioner, "postgres")
        else:
            yield from _running("", data_dir, provisioner, "sqlite")
    finally:
        provisioner.stop()


def _running(url: str, data_dir: Path, provisioner: ProvisionerServer, backend: str) -> Iterator[Pao]:
    settings = Settings(
        environment="test",
        data_dir=data_dir,
        database_url=url,
        catalog_dir=SAMPLE_CATALOG,
        endpoints={"provisioner": provisioner.url},
        engine_poll_seconds=0.01,
        event_poll_seconds=0.05,
    )
    with TestClient(create_app(settings)) as client:
        yield Pao(client, provisioner, settings, backend)


def test_webapp_bundle_completes_with_outputs_flowing_between_components(pao: Pao) -> None:
    submitted = pao.submit("bundle-webapp-standard", WEBAPP)
    assert submitted["state"] == "submitted"
    assert submitted["links"]["stream"].endswith("/events/stream")

    detail = pao.wait(submitted["id"], "completed")

    components = {c["id"]: c for c in detail["components"]}
    assert [c["state"] for c in components.values()] == ["completed"] * 3
    database_url = components["database"]["outputs"]["databaseUrl"]
    assert database_url.startswith("postgresql://orders.db.demo.internal")
    # The database's output reached the secret store, whose reference reached the app.
    secret_bodies = [b for b in pao.provisioner.json_bodies("/secrets/orders") if b.get("databaseUrl")]
    assert secret_bodies[-1]["databaseUrl"] == database_url
    app_body = pao.provisioner.json_bodies("/apps")[-1]
    assert app_body["env"]["DATABASE_URL_SECRET"] == components["secrets"]["outputs"]["secretRef"]
    assert detail["outputs"]["appUrl"] == "https://orders.apps.demo.internal"
    assert set(detail["timeInState"]) >= {"submitted", "running"}
    assert detail["components"][0]["actions"][0]["input"]["url"].endswith("/databases")
    events = pao.events(submitted["id"])
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert events[-1]["type"] == "completion" and events[-1]["body"]["state"] == "completed"


def test_an_action_that_answers_at_once_still_reports_running_before_its_outcome(pao: Pao) -> None:
    # Such an action is recorded as running in the transaction that records its outcome (one write
    # instead of two); watchers still see every state, in order.
    request_id = pao.submit("bundle-webapp-standard", {**WEBAPP, "name": "in-order"})["id"]
    pao.wait(request_id, "completed")
    events = pao.events(request_id)
    for component in ("database", "secrets", "app"):
        states = [
            (e["type"], e["body"]["state"])
            for e in events
            if e["componentId"] == component and e["type"] in ("component", "action")
        ]
        assert states == [
            ("component", "running"),
            ("action", "running"),
            ("action", "completed"),
            ("component", "completed"),
        ]


def test_invalid_values_are_refused_with_per_field_errors(pao: Pao) -> None:
    response = pao.client.post(
        API,
        json={"catalogId": "bundle-webapp-standard", "values": {**WEBAPP, "basic": {"storageSize": 5000}}},
    )
    assert response.status_code == 422
    paths = {e["path"] for e in response.json()["errors"]}
    assert "basic.storageSize" in paths
    assert "2000" in response.json()["error"]["message"]


def test_failure_then_retry_resumes_without_redoing_done_work(pao: Pao) -> None:
    # The database works; the secret store fails (500 for every try of the action's retry policy).
    pao.provisioner.fail_next("/secrets/retry-me", 500, times=4)
    submitted = pao.submit("bundle-webapp-standard", {**WEBAPP, "name": "retry-me"})
    failed = pao.wait(submitted["id"], "failed")
    states = {c["id"]: c["state"] for c in failed["components"]}
    assert states == {"database": "completed", "secrets": "failed", "app": "pending"}
    assert failed["error"]["componentId"] == "secrets"
    assert failed["error"]["failureClass"] == "backend_unavailable"
    assert failed["guidance"]["failureClass"] == "backend_unavailable"

    assert pao.client.post(f"{API}/{submitted['id']}/abort").status_code == 200
    aborted = pao.wait_for(submitted["id"], lambda d: d["components"][2]["state"] == "skipped")
    assert aborted["state"] == "aborted"
    conflict = pao.client.post(f"{API}/{submitted['id']}/retry")
    assert conflict.status_code == 409
    assert "aborted" in conflict.json()["error"]["message"]

    pao.provisioner.fail_next("/secrets/retry-me2", 500, times=4)
    second = pao.submit("bundle-webapp-standard", {**WEBAPP, "name": "retry-me2"})
    pao.wait(second["id"], "failed")
    databases_before = len(pao.provisioner.keys["/databases"])
    assert pao.client.post(f"{API}/{second['id']}/retry").status_code == 200
    done = pao.wait(second["id"], "completed")
    # The database was not created again; the secret action ran with a new attempt key.
    assert len(pao.provisioner.keys["/databases"]) == databases_before
    secret_keys = pao.provisioner.keys["/secrets/retry-me2"]
    assert len(set(secret_keys)) == 2
    database = next(c for c in done["components"] if c["id"] == "database")
    assert database["actions"][0]["attempts"] == 1
    assert (
        any(e["body"].get("reused") for e in pao.events(second["id"])) is False
    )  # only failed components rerun


def test_retry_honours_429_retry_after_and_connection_refused_fails(pao: Pao) -> None:
    # The database action retries (3 retries, exponential): a 429 with Retry-After is waited out.
    before = len(pao.provisioner.keys.get("/databases", []))
    pao.provisioner.fail_next("/databases", 429, {"Retry-After": "0"})
    submitted = pao.submit("database-postgresql-standard", {"name": "busy-db"})
    done = pao.wait(submitted["id"], "completed")
    assert done["components"][0]["actions"][0]["state"] == "completed"
    keys = pao.provisioner.keys["/databases"][before:]
    assert len(keys) == 2 and len(set(keys)) == 1  # the same attempt key on both tries

    # The bucket action does not retry: connection refused fails the request at once.

    original = dict(pao.settings.endpoints)
    pao.settings.endpoints = {"provisioner": refused_url()}
    try:
        refused = pao.submit("storage-bucket-standard", _bucket_values("nobody-home"))
        failed = pao.wait(refused["id"], "failed", timeout=90)
    finally:
        pao.settings.endpoints = original
    assert failed["error"]["failureClass"] == "backend_unavailable"
    assert "could not be reached" in failed["error"]["message"]


def _bucket_values(name: str) -> dict[str, Any]:
    return {"name": name}


def test_cancel_stops_the_running_http_call(pao: Pao) -> None:
    pao.provisioner.demo.delay = 20.0
    try:
        submitted = pao.submit("bundle-webapp-standard", {**WEBAPP, "name": "cancel-me"})
        pao.wait_for(
            submitted["id"],
            lambda d: d["components"][0]["actions"][0]["state"] == "running",
        )
        started = time.monotonic()
        response = pao.client.post(f"{API}/{submitted['id']}/cancel")
        assert response.status_code == 200
        detail = pao.wait(submitted["id"], "cancelled", timeout=15)
        assert time.monotonic() - started < 15  # the 20 s call did not run to its end
    finally:
        pao.provisioner.demo.delay = 0.0
    assert [c["state"] for c in detail["components"]] == ["cancelled", "cancelled", "cancelled"]
    assert detail["components"][0]["actions"][0]["state"] == "cancelled"
    again = pao.client.post(f"{API}/{submitted['id']}/cancel")
    assert again.status_code == 409


def test_idempotent_submit_returns_the_first_request(pao: Pao) -> None:
    body = {"catalogId": "bundle-webapp-standard", "values": {**WEBAPP, "name": "idem-app"}}
    first = pao.client.post(API, json=body, headers={"Idempotency-Key": f"k-{pao.backend}"})
    second = pao.client.post(API, json=body, headers={"Idempotency-Key": f"k-{pao.backend}"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    pao.wait(first.json()["id"], "completed")


def test_concurrent_submits_all_complete(pao: Pao) -> None:
    ids: list[str] = []
    errors: list[str] = []

    def one(n: int) -> None:
        response = pao.client.post(
            API,
            json={"catalogId": "bundle-webapp-standard", "values": {**WEBAPP, "name": f"many-{n}"}},
            headers={"Idempotency-Key": f"same-{pao.backend}" if n < 3 else f"own-{pao.backend}-{n}"},
        )
        if response.status_code not in (200, 201):
            errors.append(response.text)
        else:
            ids.append(response.json()["id"])

    threads = [threading.Thread(target=one, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(ids)) == 8  # three submits shared one Idempotency-Key
    for request_id in set(ids):
        pao.wait(request_id, "completed")


def test_injection_in_values_changes_nothing_structural(pao: Pao) -> None:
    evil = '", "admin": true, "x": "\r\nX-Evil: 1 {{.system.secrets}} </script>'
    submitted = pao.submit(
        "security-secret-standard",
        {"name": "inject-me", "secret": {"rotationDays": 30}},
        secrets={"secret.value": evil},
    )
    pao.wait(submitted["id"], "completed")
    body = pao.provisioner.json_bodies("/secrets/inject-me")[-1]
    assert set(body) == {"value", "databaseUrl", "rotationDays", "readers"}
    assert body["value"] == evil
    assert body["rotationDays"] == 30


def test_a_secret_is_found_nowhere_but_at_the_backend(pao: Pao, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Sup3r-S3cret-Value-9f2b"
    caplog.set_level(logging.DEBUG)
    submitted = pao.submit(
        "security-secret-standard",
        {"name": "hide-me", "secret": {"value": secret, "rotationDays": 30}},
    )
    detail = pao.wait(submitted["id"], "completed")
    assert pao.provisioner.json_bodies("/secrets/hide-me")[-1]["value"] == secret  # it did arrive

    forms = {secret, base64.b64encode(secret.encode()).decode(), json.dumps(secret)}
    responses = [
        json.dumps(submitted),
        json.dumps(detail),
        json.dumps(pao.events(submitted["id"])),
        pao.client.get(API).text,
        pao.client.get(f"{API}/{submitted['id']}/events").text,
    ]
    if pao.backend == "postgres":
        dumps = [dump_postgres(pao.settings.database_url)]
    else:
        dumps = [
            dump_sqlite(str(pao.settings.data_dir / "pao.db")),
            dump_sqlite(str(pao.settings.data_dir / "engine.db")),
        ]
    assert all(dumps)
    haystacks = {"responses": "\n".join(responses), "database": "\n".join(dumps), "logs": caplog.text}
    for where, text in haystacks.items():
        for form in forms:
            assert form not in text, f"the secret leaked into the {where}"
    assert detail["components"][0]["actions"][0]["input"]["body"].count("***") == 1


def test_sse_stream_replays_from_last_event_id_and_ends_on_completion(pao: Pao) -> None:
    submitted = pao.submit("bundle-webapp-standard", {**WEBAPP, "name": "sse-app"})
    pao.wait(submitted["id"], "completed")
    events = pao.events(submitted["id"])
    middle = events[len(events) // 2]["id"]
    with pao.client.stream(
        "GET", f"{API}/{submitted['id']}/events/stream", headers={"Last-Event-ID": str(middle)}
    ) as response:
        assert response.status_code == 200
        assert response.headers["x-accel-buffering"] == "no"
        ids = [int(line[4:]) for line in response.iter_lines() if line.startswith("id: ")]
    assert ids == [e["id"] for e in events if e["id"] > middle]


def test_list_filters_by_state_item_and_mine(pao: Pao) -> None:
    mine = pao.client.get(
        API, params={"mine": "true", "status": "completed", "item": "bundle-webapp-standard"}
    )
    assert mine.status_code == 200
    page = mine.json()
    assert page["totalItems"] >= 1
    assert {i["state"] for i in page["items"]} == {"completed"}
    assert {i["catalogId"] for i in page["items"]} == {"bundle-webapp-standard"}
    paged = pao.client.get(API, params={"limit": 1, "offset": 1}).json()
    assert len(paged["items"]) == 1
    assert pao.client.get(f"{API}/does-not-exist").status_code == 404


def test_omitted_fields_take_their_defaults_and_are_recorded(pao: Pao) -> None:
    submitted = pao.submit("bundle-webapp-standard", {"name": "defaults-app"})
    detail = pao.wait(submitted["id"], "completed")
    assert detail["values"]["app"]["image"] == "ghcr.io/example/hello:1.0.0"
    assert detail["values"]["basic"]["storageSize"] == 20


def _step_names(workflow_id: str) -> list[str]:
    return [step["function_name"] for step in DBOS.list_workflow_steps(workflow_id)]


def test_a_request_that_completes_records_one_step_to_start_and_one_per_action(pao: Pao) -> None:
    request_id = pao.submit("bundle-webapp-standard", WEBAPP)["id"]
    pao.wait(request_id, "completed")

    names = _step_names(request_id)
    # The calendar check and the start are one step; the last component's step completed the request,
    # so there is no settle step.
    assert names.count("pao.start_request") == 1
    assert not {"pao.calendar_check", "pao.begin_request", "pao.settle_request"} & set(names)
    for component in ("database", "secrets", "app"):
        component_steps = _step_names(f"{request_id}:{component}:0")
        assert [n for n in component_steps if n.startswith("pao.")] == ["pao.run_action"]


def test_the_last_step_run_again_after_a_crash_changes_nothing(pao: Pao) -> None:
    request_id = pao.submit("bundle-webapp-standard", WEBAPP)["id"]
    pao.wait(request_id, "completed")
    before = pao.events(request_id)

    # DBOS runs a step again when the process died after its transaction but before the step's result
    # was recorded: the action is reused and the completed request stays as it was.
    again = steps.prepare_action(request_id, "app", 0, 0, fused=True, last=True)

    assert (again.state, again.request_state) == ("completed", "completed")
    assert pao.events(request_id) == before
    assert pao.detail(request_id)["state"] == "completed"


def test_a_failed_request_is_settled_by_its_own_step(pao: Pao) -> None:
    pao.provisioner.fail_next("/secrets/fail-settle", 500, times=4)
    request_id = pao.submit("bundle-webapp-standard", {**WEBAPP, "name": "fail-settle"})["id"]
    pao.wait(request_id, "failed")

    assert _step_names(request_id).count("pao.settle_request") == 1
