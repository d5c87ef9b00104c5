"""A real Backstage backend with PAO's modules, against a live PAO with the sample catalog.

Two processes, both on free loopback ports: PAO (`pao serve`, SQLite, demo provisioner, a service
token) and backstage-plugin/test-backend (backend-defaults + catalog + scaffolder + PAO's catalog and
scaffolder modules, better-sqlite3 in memory). Backstage is driven through its own REST API, as its
frontend would: the catalog, `POST /api/scaffolder/v2/tasks`, and the task's events.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SAMPLE_CATALOG, require_service
from tests.support.backstage import (
    USER_REF,
    Backstage,
    Pao,
    backstage_entities,
    create_task,
    eventually,
    node_missing,
    pao_entities,
    run_backstage,
    run_pao,
    run_task,
    tail,
    wait_for_task,
)

pytestmark = pytest.mark.node

WAIT_TIMEOUT = 8  # pao.scaffolder.waitTimeout: how long a step follows a request waiting on people


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backstage-e2e")


@pytest.fixture(scope="module")
def pao(work: Path) -> Iterator[Pao]:
    """PAO serving a private copy of the sample catalog (tests edit it), demo provisioner on."""
    missing = node_missing()
    if missing:
        require_service(missing)  # fails under CI, skips locally; before anything starts
    with run_pao(work, catalog=SAMPLE_CATALOG) as running:
        yield running


COOKIECUTTER_TEMPLATE = {
    "apiVersion": "scaffolder.backstage.io/v1beta3",
    "kind": "Template",
    "metadata": {
        "name": "hand-written-cookiecutter",
        "title": "Python service (hand-written, PAO cookiecutter)",
    },
    "spec": {
        "owner": "group:default/developer-experience",
        "type": "service",
        "parameters": [
            {
                "title": "Service",
                "required": ["name"],
                "properties": {"name": {"type": "string", "pattern": "^[a-z][a-z0-9-]+$"}},
            }
        ],
        "steps": [
            {
                "id": "render",
                "name": "Render the skeleton in PAO",
                "action": "pao:cookiecutter",
                "input": {
                    "template": "service-python",
                    "values": {
                        "name": "${{ parameters.name }}",
                        "description": "Rendered by PAO for Backstage",
                        "owner": "developer-experience",
                    },
                    "output": "service",
                },
            },
            {
                "id": "list",
                "name": "Show the workspace",
                "action": "debug:log",
                "input": {"listWorkspace": "with-contents"},
            },
        ],
        "output": {"text": [{"title": "Files", "content": "${{ steps.render.output.files | join(', ') }}"}]},
    },
}


@pytest.fixture(scope="module")
def backstage(pao: Pao, work: Path) -> Iterator[Backstage]:
    """The test backend with PAO's modules, a hand-written template, and a guest user token."""
    template = work / "hand-written-template.yaml"
    template.write_text(yaml.safe_dump(COOKIECUTTER_TEMPLATE, sort_keys=False))
    config = {
        "pao": {"scaffolder": {"waitTimeout": {"seconds": WAIT_TIMEOUT}}},
        "catalog": {"locations": [{"type": "file", "target": str(template)}]},
    }
    with run_backstage(work, pao=pao, config=config) as running:
        expected = pao_entities(pao)  # every test may run alone: wait for the first sync
        eventually(
            "every PAO Template and Group in Backstage's catalog",
            lambda: expected <= set(backstage_entities(running)),
            timeout=90,
            log=running.log,
        )
        yield running


def _messages(events: list[dict[str, Any]]) -> str:
    return "\n".join(str(e["body"].get("message", "")) for e in events)


def _completion(events: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = next(e["body"] for e in events if e["type"] == "completion")
    return body


def _pao_request_id(events: list[dict[str, Any]]) -> str | None:
    found = re.search(r"PAO request (\S+) created", _messages(events))
    return found.group(1) if found else None


EVENTDRIVEN_VALUES = {
    "topic": {"partitions": 6, "retentionDays": 7},
    "bucket": {"storageClass": "infrequent"},
    "app": {"image": "ghcr.io/example/consumer:1.0.0", "replicas": 2},
}

WEBAPP_VALUES = {
    "basic": {"instanceClass": "small", "storageSize": 20},
    "app": {"image": "ghcr.io/example/hello:1.0.0", "replicas": 2, "public": False},
}


def test_every_pao_template_and_group_appears_in_backstage_and_none_is_rejected(
    pao: Pao, backstage: Backstage
) -> None:
    expected = pao_entities(pao)
    assert {"template:bundle-webapp-standard", "group:developer-experience"} <= expected

    def all_there() -> bool:
        return expected <= set(backstage_entities(backstage))

    eventually(
        "every PAO Template and Group in Backstage's catalog", all_there, timeout=90, log=backstage.log
    )
    entity = backstage_entities(backstage)["template:bundle-webapp-standard"]
    assert {"type": "ownedBy", "targetRef": "group:default/developer-experience"} in entity["relations"]
    with backstage.client() as client:
        for kind in ("pending", "failed"):
            unprocessed = client.get(f"/api/catalog/entities/unprocessed/{kind}")
            assert unprocessed.status_code == 200, unprocessed.text
            rejected = [
                (e["unprocessed_entity"]["metadata"]["name"], e.get("errors"))
                for e in unprocessed.json()["entities"]
            ]
            assert rejected == [], f"{kind}: {rejected}"


def test_web_app_bundle_runs_through_backstage_and_completes_with_pao_links(
    pao: Pao, backstage: Backstage
) -> None:
    task, events = run_task(
        backstage, "template:default/bundle-webapp-standard", {"name": "shop-web", **WEBAPP_VALUES}
    )
    log = _messages(events)
    assert task["status"] == "completed", f"{log}{tail(backstage.log)}"
    assert "PAO request" in log and "created for bundle-webapp-standard" in log
    # PAO's progress, component by component, in the Backstage step log.
    for component in ("[database]", "[secrets]", "[app]"):
        assert component in log, log
    assert "Request completed" in log
    output = _completion(events)["output"]
    links = {link["title"]: link.get("url") for link in output["links"]}
    request_url = links["Request in PAO"]
    assert request_url.startswith(f"{pao.url}/requests/")
    request_id = request_url.rsplit("/", 1)[1]
    with pao.client() as client:
        request = client.get(f"/api/pao/v1/requests/{request_id}").json()
    assert request["state"] == "completed"
    assert request["requester"] == USER_REF  # service token + X-PAO-On-Behalf-Of from the task's user
    assert "completed" in output["text"][0]["content"]


def test_a_secret_field_travels_as_a_task_secret_to_pao_and_is_never_shown(
    pao: Pao, backstage: Backstage
) -> None:
    secret = "s3cr3t-value-for-the-backstage-test"
    with backstage.client(as_user=True) as client:
        # Backstage's Secret widget puts the value into `secrets`, keyed by field id, never into `values`.
        task_id = create_task(
            client,
            "template:default/security-secret-standard",
            {"name": "api-key", "secret": {"rotationDays": 90, "readers": ["app"]}},
            secrets={"value": secret},
        )
    task, events = wait_for_task(backstage, task_id)
    assert task["status"] == "completed", _messages(events)
    assert secret not in json.dumps(events) and secret not in json.dumps(task)
    with pao.client() as client:
        request = client.get(f"/api/pao/v1/requests/{_pao_request_id(events)}").json()
    assert secret not in json.dumps(request)
    # The rendered body reached the provisioner with the value in it, shown masked.
    body = json.dumps(request["components"][0]["actions"][0]["input"])
    assert '\\"value\\": \\"***\\"' in body, body


def test_a_failing_pao_request_fails_the_backstage_task_with_paos_guidance(backstage: Backstage) -> None:
    # The demo provisioner refuses names containing "fail"; PAO retries, then gives up with guidance.
    task, events = run_task(
        backstage, "template:default/bundle-webapp-standard", {"name": "shop-fail", **WEBAPP_VALUES}
    )
    assert task["status"] == "failed", _messages(events)
    error = _completion(events)["error"]["message"]
    assert "PAO request" in error and "failed: database:" in error
    assert "Next steps:" in error and "Escalate" in error, error


def test_a_hand_written_template_using_pao_cookiecutter_gets_the_rendered_files(backstage: Backstage) -> None:
    eventually(
        "the hand-written template in the catalog",
        lambda: "template:hand-written-cookiecutter" in backstage_entities(backstage),
        timeout=60,
        log=backstage.log,
    )
    task, events = run_task(backstage, "template:default/hand-written-cookiecutter", {"name": "orders-api"})
    log = _messages(events)
    assert task["status"] == "completed", f"{log}{tail(backstage.log)}"
    # debug:log lists the Backstage workspace after pao:cookiecutter ran in PAO.
    listing = next(e["body"]["message"] for e in events if "Workspace:" in str(e["body"].get("message")))
    assert "service/README.md" in listing, listing
    assert "service/pyproject.toml" in listing
    readme = listing.split("service/README.md", 1)[1]
    assert "# orders-api" in readme and "Rendered by PAO for Backstage" in readme
    files = _completion(events)["output"]["text"][0]["content"]
    assert "README.md" in files and "pyproject.toml" in files


def test_backstage_dry_run_passes_dry_run_to_paos_action(backstage: Backstage) -> None:
    # The Template Editor's dry-run: PAO's cookiecutter says what it would render and writes nothing.
    with backstage.client(as_user=True) as client:
        response = client.post(
            "/api/scaffolder/v2/dry-run",
            json={
                "template": COOKIECUTTER_TEMPLATE,
                "values": {"name": "orders-api"},
                "directoryContents": [],
            },
        )
    assert response.status_code == 200, response.text
    result = response.json()
    log = "\n".join(str(line["body"].get("message", "")) for line in result["log"])
    assert "dry-run: would write" in log, log
    assert result["directoryContents"] == []
    assert "README.md" in result["output"]["text"][0]["content"]


def test_a_request_waiting_on_a_ticket_ends_the_step_after_the_wait_timeout_with_status_and_links(
    pao: Pao, backstage: Backstage
) -> None:
    # The event-driven bundle's Kafka topic is manual: PAO files a ticket and waits for the team.
    task, events = run_task(
        backstage,
        "template:default/bundle-eventdriven-standard",
        {"name": "orders-events", **EVENTDRIVEN_VALUES},
    )
    log = _messages(events)
    assert task["status"] == "completed", f"{log}{tail(backstage.log)}"
    assert "waits on topic" in log, log
    output = _completion(events)["output"]
    assert "**running**" in output["text"][0]["content"] and "topic" in output["text"][0]["content"]
    request_id = _pao_request_id(events)
    with pao.client() as client:
        request = client.get(f"/api/pao/v1/requests/{request_id}").json()
    assert request["state"] == "running"  # it goes on in PAO; Backstage stopped following it
    topic = next(c for c in request["components"] if c["id"] == "topic")
    assert topic["state"] == "waiting"


def test_cancelling_the_backstage_task_cancels_the_pao_request(pao: Pao, backstage: Backstage) -> None:
    with backstage.client(as_user=True) as client:
        task_id = create_task(
            client,
            "template:default/bundle-eventdriven-standard",
            {"name": "cancel-me", **EVENTDRIVEN_VALUES},
        )

        def following() -> str | None:
            events = client.get(f"/api/scaffolder/v2/tasks/{task_id}/events").json()
            return _pao_request_id(events) if "Following PAO request" in _messages(events) else None

        request_id = eventually("the wait step following PAO", following, timeout=60, log=backstage.log)
        cancelled = client.post(f"/api/scaffolder/v2/tasks/{task_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
    task, events = wait_for_task(backstage, task_id)
    assert task["status"] in ("cancelled", "failed"), _messages(events)

    def request_state() -> str | None:
        with pao.client() as client:
            request = client.get(f"/api/pao/v1/requests/{request_id}").json()
        assert request["cancelRequestedAt"] is not None, request  # PAO got the cancel
        return "cancelled" if request["state"] == "cancelled" else None

    eventually("the PAO request cancelled", request_state, timeout=30, log=pao.log)


def test_editing_and_removing_a_catalog_document_shows_in_backstage_within_seconds(
    pao: Pao, backstage: Backstage
) -> None:
    document = pao.catalog_dir / "networking" / "networking-dns-record.yaml"
    data = yaml.safe_load(document.read_text())
    description = "Edited in a temporary copy of the catalog by the Backstage integration test."
    data["metadata"]["description"] = description
    document.write_text(yaml.safe_dump(data, sort_keys=False))
    with pao.client() as client:
        reloaded = client.post("/api/pao/v1/catalog/refresh").json()
    assert reloaded["changed"], reloaded  # PAO accepted the edit (an invalid one keeps the old version)
    started = time.monotonic()

    def edited() -> bool:
        entity = backstage_entities(backstage).get("template:networking-dns-record")
        return entity is not None and entity["metadata"].get("description") == description

    eventually("the edited description in Backstage", edited, timeout=30, log=backstage.log)
    print(f"edit visible in Backstage after {time.monotonic() - started:.1f}s")

    document.unlink()
    with pao.client() as client:
        client.post("/api/pao/v1/catalog/refresh").raise_for_status()
    eventually(
        "the removed document gone from Backstage",
        lambda: "template:networking-dns-record" not in backstage_entities(backstage),
        timeout=30,
        log=backstage.log,
    )
