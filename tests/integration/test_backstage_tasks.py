"""The Backstage scaffolder task API on PAO requests: real app, real engine (DBOS, SQLite), a provisioner
on loopback. Shapes and the SSE framing are checked against the reference, byte for byte."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG
from tests.support.databases import postgres_database
from tests.support.provisioner import ProvisionerServer

V2 = "/api/scaffolder/v2"
SECRET = "zz-task-secret-value"
DB_VALUES = {"name": "task-db", "basic": {"instanceClass": "small", "storageSize": 40}}


class Backstage:
    def __init__(self, client: TestClient, provisioner: ProvisionerServer) -> None:
        self.client = client
        self.provisioner = provisioner

    def scaffold(self, template: str, values: dict[str, Any], secrets: dict[str, str] | None = None) -> str:
        body: dict[str, Any] = {"templateRef": f"template:default/{template}", "values": values}
        if secrets is not None:
            body["secrets"] = secrets
        response = self.client.post(f"{V2}/tasks", json=body)
        assert response.status_code == 201, response.text
        assert set(response.json()) == {"id"}
        task_id: str = response.json()["id"]
        return task_id

    def task(self, task_id: str) -> dict[str, Any]:
        response = self.client.get(f"{V2}/tasks/{task_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait(self, task_id: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            task = self.task(task_id)
            if task["status"] in statuses:
                return task
            assert time.monotonic() < deadline, f"task stayed {task['status']}"
            time.sleep(0.05)

    def events(self, task_id: str, after: int = 0) -> list[dict[str, Any]]:
        response = self.client.get(f"{V2}/tasks/{task_id}/events", params={"after": after})
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()
        return events

    def stream(self, task_id: str, after: int | None = None) -> tuple[bytes, dict[str, str]]:
        params = {"after": after} if after is not None else {}
        with self.client.stream("GET", f"{V2}/tasks/{task_id}/eventstream", params=params) as response:
            assert response.status_code == 200
            return response.read(), dict(response.headers)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backstage(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backstage]:
    provisioner = ProvisionerServer(delay=0.0).start()
    try:
        if request.param == "postgres":
            with postgres_database(request.getfixturevalue("postgres_url")) as url:
                yield from _running(url, tmp_path_factory, provisioner)
        else:
            yield from _running("", tmp_path_factory, provisioner)
    finally:
        provisioner.stop()


def _running(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, provisioner: ProvisionerServer
) -> Iterator[Backstage]:
    settings = Settings(
        environment="test",
        data_dir=tmp_path_factory.mktemp("pao-tasks"),
        database_url=database_url,
        catalog_dir=SAMPLE_CATALOG,
        base_url="http://pao.example.com",
        endpoints={"provisioner": provisioner.url},
        engine_poll_seconds=0.01,
        event_poll_seconds=0.05,
    )
    with TestClient(create_app(settings)) as client:
        yield Backstage(client, provisioner)


def _frames(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    text = raw.decode()
    assert text.endswith("\n\n")
    frames = []
    for chunk in text[:-2].split("\n\n"):
        match = re.fullmatch(r"event: (log|completion)\ndata: (\{.*\})", chunk)
        assert match, f"not Backstage SSE framing: {chunk!r}"
        frames.append((match.group(1), json.loads(match.group(2))))
    return frames


def test_a_task_runs_a_request_and_lists_its_planned_actions_as_steps(backstage: Backstage) -> None:
    task_id = backstage.scaffold("database-postgresql-standard", DB_VALUES)
    task = backstage.wait(task_id, "completed")
    assert set(task) >= {"id", "spec", "status", "createdAt", "createdBy"}
    assert task["id"] == task_id
    assert task["spec"]["apiVersion"] == "scaffolder.backstage.io/v1beta3"
    assert task["spec"]["templateInfo"]["entityRef"] == "template:default/database-postgresql-standard"
    assert task["spec"]["parameters"]["name"] == "task-db"
    steps = task["spec"]["steps"]
    assert [s["id"] for s in steps] == ["database-postgresql-standard.1"]
    assert steps[0]["name"] and steps[0]["action"] == "pao:rest-api"
    assert task["createdBy"] == "user:default/dev"


def test_eventstream_framing_is_byte_for_byte_backstages_and_ends_with_the_completion(
    backstage: Backstage,
) -> None:
    task_id = backstage.scaffold("database-postgresql-standard", {**DB_VALUES, "name": "sse-db"})
    backstage.wait(task_id, "completed")
    events = backstage.events(task_id)
    raw, headers = backstage.stream(task_id)
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-cache"
    assert headers["x-accel-buffering"] == "no"
    expected = b"".join(
        f"event: {e['type']}\ndata: {json.dumps(e, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()
        for e in events
    )
    assert raw == expected
    frames = _frames(raw)
    ids = [data["id"] for _, data in frames]
    assert all(isinstance(i, int) for i in ids) and ids == sorted(set(ids))
    assert [kind for kind, _ in frames].count("completion") == 1 and frames[-1][0] == "completion"
    completion = frames[-1][1]["body"]
    assert completion["message"] == "Run completed with status: completed"
    assert completion["output"]["links"][0]["url"] == f"http://pao.example.com/requests/{task_id}"
    step = "database-postgresql-standard.1"
    statuses = [d["body"].get("status") for _, d in frames if d["body"].get("stepId") == step]
    assert "processing" in statuses and statuses[-1] == "completed"


def test_after_replays_only_newer_events_but_always_the_completion(backstage: Backstage) -> None:
    task_id = backstage.scaffold("database-postgresql-standard", {**DB_VALUES, "name": "after-db"})
    backstage.wait(task_id, "completed")
    events = backstage.events(task_id)
    middle = events[len(events) // 2]["id"]
    raw, _ = backstage.stream(task_id, after=middle)
    assert [d["id"] for _, d in _frames(raw)] == [e["id"] for e in events if e["id"] > middle]
    last = events[-1]["id"]
    only_completion = _frames(backstage.stream(task_id, after=last + 1000)[0])
    assert [kind for kind, _ in only_completion] == ["completion"]
    assert [e["type"] for e in backstage.events(task_id, after=last + 1000)] == ["completion"]


def test_invalid_values_are_400_with_validation_errors(backstage: Backstage) -> None:
    response = backstage.client.post(
        f"{V2}/tasks",
        json={"templateRef": "template:default/database-postgresql-standard", "values": {"name": "X"}},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert set(error) == {"path", "property", "message", "schema", "instance", "name", "argument", "stack"}
    missing = backstage.client.post(
        f"{V2}/tasks", json={"templateRef": "template:default/nope", "values": {}}
    )
    assert missing.status_code == 404


def test_secrets_travel_apart_and_never_come_back(backstage: Backstage) -> None:
    values = {"name": "task-secret", "secret": {"value": "*" * len(SECRET), "rotationDays": 30}}
    task_id = backstage.scaffold(
        "security-secret-standard", values, secrets={"value": SECRET, "backstageToken": "t"}
    )
    backstage.wait(task_id, "completed")
    bodies = backstage.provisioner.json_bodies("/secrets/task-secret")
    assert bodies and bodies[-1]["value"] == SECRET
    seen = [
        backstage.client.get(f"{V2}/tasks/{task_id}").text,
        backstage.client.get(f"{V2}/tasks/{task_id}/events").text,
        backstage.stream(task_id)[0].decode(),
        backstage.client.get(f"{V2}/tasks").text,
    ]
    assert all(SECRET not in text for text in seen)


def test_failed_task_completes_with_an_error_and_retry_resumes_it(backstage: Backstage) -> None:
    backstage.provisioner.fail_next("/databases", 400)
    task_id = backstage.scaffold("database-postgresql-standard", {**DB_VALUES, "name": "retry-db"})
    backstage.wait(task_id, "failed")
    completion = backstage.events(task_id)[-1]
    assert completion["type"] == "completion"
    assert completion["body"]["message"] == "Run completed with status: failed"
    assert completion["body"]["error"]["name"] == "Error" and completion["body"]["error"]["message"]
    retried = backstage.client.post(f"{V2}/tasks/{task_id}/retry", json={})
    assert retried.status_code == 201 and retried.json() == {"id": task_id}
    backstage.wait(task_id, "completed")
    completions = [e for e in backstage.events(task_id) if e["type"] == "completion"]
    assert [c["body"]["message"] for c in completions] == ["Run completed with status: completed"]


def test_cancel_answers_cancelled_and_the_stream_ends_with_a_cancelled_completion(
    backstage: Backstage,
) -> None:
    backstage.provisioner.demo.delay = 3.0
    try:
        task_id = backstage.scaffold("database-postgresql-standard", {**DB_VALUES, "name": "cancel-db"})
        backstage.wait(task_id, "processing")
        response = backstage.client.post(f"{V2}/tasks/{task_id}/cancel")
        assert response.status_code == 200 and response.json() == {"status": "cancelled"}
        raw, _ = backstage.stream(task_id)  # waits for the completion, then the server closes the stream
    finally:
        backstage.provisioner.demo.delay = 0.0
    kind, data = _frames(raw)[-1]
    assert kind == "completion" and data["body"]["message"] == "Run completed with status: cancelled"
    assert backstage.task(task_id)["status"] == "cancelled"


def test_list_tasks_filters_orders_and_counts(backstage: Backstage) -> None:
    listed = backstage.client.get(
        f"{V2}/tasks", params={"createdBy": "user:default/dev", "status": "completed"}
    )
    assert listed.status_code == 200
    body = listed.json()
    assert set(body) == {"tasks", "totalTasks"}
    assert body["totalTasks"] == len(body["tasks"]) >= 1
    assert {t["status"] for t in body["tasks"]} == {"completed"}
    ordered = backstage.client.get(f"{V2}/tasks", params={"order": "asc:created_at", "limit": 2}).json()
    created = [t["createdAt"] for t in ordered["tasks"]]
    assert created == sorted(created) and len(created) <= 2
    assert backstage.client.get(f"{V2}/tasks", params={"order": "asc:name"}).status_code == 400
    assert backstage.client.get(f"{V2}/tasks", params={"createdBy": "user:default/nobody"}).json() == {
        "tasks": [],
        "totalTasks": 0,
    }


def test_actions_are_listed_in_backstage_shape_sorted_by_id(backstage: Backstage) -> None:
    actions = backstage.client.get(f"{V2}/actions").json()
    ids = [a["id"] for a in actions]
    assert ids == sorted(ids) and "pao:rest-api" in ids
    assert all({"id", "description", "schema", "examples"} <= set(a) for a in actions)
    assert backstage.client.get(f"{V2}/tasks/does-not-exist").status_code == 404


def test_live_stream_and_long_poll_deliver_new_events_until_the_completion(backstage: Backstage) -> None:
    backstage.provisioner.demo.delay = 1.0
    try:
        task_id = backstage.scaffold("database-postgresql-standard", {**DB_VALUES, "name": "live-db"})
        backstage.wait(task_id, "processing")
        seen = backstage.events(task_id)
        assert seen and all(e["type"] == "log" for e in seen)
        newer = backstage.events(task_id, after=seen[-1]["id"])  # waits for the next event instead of []
        assert newer and newer[0]["id"] > seen[-1]["id"]
        raw, _ = backstage.stream(task_id, after=seen[-1]["id"])  # follows the run live, ends at completion
    finally:
        backstage.provisioner.demo.delay = 0.0
    frames = _frames(raw)
    assert frames[-1][0] == "completion"
    assert frames[-1][1]["body"]["message"] == "Run completed with status: completed"
    assert all(data["id"] > seen[-1]["id"] for kind, data in frames if kind == "log")
