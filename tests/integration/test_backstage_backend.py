"""A real Backstage backend with PAO's modules, against a live PAO with the sample catalog.

Two processes, both on free loopback ports: PAO (`pao serve`, SQLite, demo provisioner, a service
token) and backstage-plugin/test-backend (backend-defaults + catalog + scaffolder + PAO's catalog and
scaffolder modules, better-sqlite3 in memory). Backstage is driven through its own REST API, as its
frontend would: the catalog, `POST /api/scaffolder/v2/tasks`, and the task's events.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from tests.conftest import ROOT, SAMPLE_CATALOG, require_service

pytestmark = pytest.mark.node

WORKSPACE = ROOT / "backstage-plugin"
TEST_BACKEND = WORKSPACE / "test-backend"
SERVICE_TOKEN = "backstage-service-token-for-tests"  # PAO_SERVICE_TOKENS entry "backstage"
EXTERNAL_TOKEN = "test-backstage-token-0123456789"  # test-backend/app-config.yaml externalAccess
USER_REF = "user:default/jdoe"  # the guest sign-in of test-backend/app-config.yaml
START_TIMEOUT = 120.0
TASK_TIMEOUT = 150.0
WAIT_TIMEOUT = 8  # pao.scaffolder.waitTimeout: how long a step follows a request waiting on people

T = TypeVar("T")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _eventually(what: str, probe: Callable[[], T | None], *, timeout: float, log: Path | None = None) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` (and the log tail) otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except httpx.TransportError as exc:  # not listening yet
            last = exc
        else:
            if result:
                return result
            last = result
        time.sleep(0.25)
    tail = _tail(log) if log else ""
    pytest.fail(f"{what} did not happen within {timeout:.0f}s (last: {last!r}){tail}")


def _tail(log: Path, lines: int = 60) -> str:
    if not log.exists():
        return ""
    # Access-log lines of the polling loops drown the interesting ones.
    text = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "incomingRequest" not in line and '"GET /' not in line
    ][-lines:]
    return f"\n--- {log.name} (last {len(text)} lines) ---\n" + "\n".join(text)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _node() -> str:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        require_service("Node.js and npm on PATH")
    modules = WORKSPACE / "node_modules"
    for package in (
        "@backstage/backend-defaults",
        "@backstage/plugin-scaffolder-backend",
        "tsx",
        "better-sqlite3",
    ):
        if not (modules / package).is_dir():
            require_service(f"backstage-plugin/node_modules/{package} (`make test` runs npm ci there)")
    assert node is not None
    return node


@dataclass
class Pao:
    url: str
    catalog_dir: Path
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}, timeout=30
        )


@dataclass
class Backstage:
    url: str
    log: Path
    user_token: str = ""

    def client(self, *, as_user: bool = False) -> httpx.Client:
        token = self.user_token if as_user else EXTERNAL_TOKEN
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backstage-e2e")


@pytest.fixture(scope="module")
def pao(work: Path) -> Iterator[Pao]:
    """PAO serving a private copy of the sample catalog (tests edit it), demo provisioner on."""
    _node()  # fail or skip before starting anything
    catalog_dir = work / "catalog"
    shutil.copytree(SAMPLE_CATALOG, catalog_dir)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAO_")}
    env.update(
        {
            "PAO_ENVIRONMENT": "test",
            "PAO_HOST": "127.0.0.1",
            "PAO_PORT": str(port),
            "PAO_BASE_URL": url,
            "PAO_CATALOG_DIR": str(catalog_dir),
            "PAO_TEMPLATES_DIR": str(ROOT / "templates"),
            "PAO_DATA_DIR": str(work / "pao-data"),
            "PAO_DEMO_PROVISIONER": "true",
            "PAO_PROVISIONER_URL": f"{url}/demo/provisioner",
            "PAO_DEMO_PROVISIONER_DELAY": "0.1",
            "PAO_SERVICE_TOKENS": f'{{"backstage": "{SERVICE_TOKEN}"}}',
        }
    )
    log = work / "pao.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from pao_backend.cli import app; app()", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            assert process.poll() is None, f"PAO exited with {process.returncode}{_tail(log)}"
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200

        _eventually("PAO answering /healthz", healthy, timeout=START_TIMEOUT, log=log)
        yield Pao(url=url, catalog_dir=catalog_dir, log=log)
    finally:
        _stop(process)


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
    node = _node()
    template = work / "hand-written-template.yaml"
    template.write_text(yaml.safe_dump(COOKIECUTTER_TEMPLATE, sort_keys=False))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    config = work / "app-config.test.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "backend": {"baseUrl": url, "listen": {"host": "127.0.0.1", "port": port}},
                "pao": {
                    "baseUrl": pao.url,
                    "serviceToken": SERVICE_TOKEN,
                    "catalog": {"changePollInterval": {"seconds": 1}},
                    "scaffolder": {"waitTimeout": {"seconds": WAIT_TIMEOUT}},
                },
                "catalog": {"locations": [{"type": "file", "target": str(template)}]},
            }
        )
    )
    log = work / "backstage.log"
    env = {**os.environ, "FORCE_COLOR": "0", "NO_COLOR": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [node, "--import", "tsx", "src/index.ts", "--config", "app-config.yaml", "--config", str(config)],
            cwd=TEST_BACKEND,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def ready() -> bool:
            assert process.poll() is None, f"Backstage exited with {process.returncode}{_tail(log)}"
            return httpx.get(f"{url}/.backstage/health/v1/readiness", timeout=2).status_code == 200

        _eventually("Backstage readiness", ready, timeout=START_TIMEOUT, log=log)
        refreshed = httpx.get(f"{url}/api/auth/guest/refresh", timeout=10)
        assert refreshed.status_code == 200, refreshed.text
        token = refreshed.json()["backstageIdentity"]["token"]
        yield Backstage(url=url, log=log, user_token=token)
    finally:
        _stop(process)


def _pao_entities(pao: Pao) -> set[str]:
    with pao.client() as client:
        response = client.get(
            "/api/catalog/entities", params=[("filter", "kind=template"), ("filter", "kind=group")]
        )
    response.raise_for_status()
    return {f"{e['kind'].lower()}:{e['metadata']['name']}" for e in response.json()}


def _backstage_entities(backstage: Backstage) -> dict[str, dict[str, Any]]:
    with backstage.client() as client:
        response = client.get(
            "/api/catalog/entities", params=[("filter", "kind=template"), ("filter", "kind=group")]
        )
    response.raise_for_status()
    return {f"{e['kind'].lower()}:{e['metadata']['name']}": e for e in response.json()}


def _create_task(client: httpx.Client, template: str, values: dict[str, Any]) -> str:
    created = client.post("/api/scaffolder/v2/tasks", json={"templateRef": template, "values": values})
    assert created.status_code == 201, created.text
    task_id: str = created.json()["id"]
    return task_id


def _run_task(
    backstage: Backstage, template: str, values: dict[str, Any], *, task_id: str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Create a task as the signed-in user (or take `task_id`) and wait for it to end; (task, events)."""
    with backstage.client(as_user=True) as client:
        task_id = task_id or _create_task(client, template, values)

        def finished() -> dict[str, Any] | None:
            task: dict[str, Any] = client.get(f"/api/scaffolder/v2/tasks/{task_id}").json()
            return task if task["status"] in ("completed", "failed", "cancelled") else None

        task = _eventually(
            f"task {task_id} of {template} ending", finished, timeout=TASK_TIMEOUT, log=backstage.log
        )
        events: list[dict[str, Any]] = client.get(f"/api/scaffolder/v2/tasks/{task_id}/events").json()
    return task, events


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
    expected = _pao_entities(pao)
    assert {"template:bundle-webapp-standard", "group:developer-experience"} <= expected

    def all_there() -> bool:
        return expected <= set(_backstage_entities(backstage))

    _eventually(
        "every PAO Template and Group in Backstage's catalog", all_there, timeout=90, log=backstage.log
    )
    entity = _backstage_entities(backstage)["template:bundle-webapp-standard"]
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
    task, events = _run_task(
        backstage, "template:default/bundle-webapp-standard", {"name": "shop-web", **WEBAPP_VALUES}
    )
    log = _messages(events)
    assert task["status"] == "completed", f"{log}{_tail(backstage.log)}"
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


def test_a_failing_pao_request_fails_the_backstage_task_with_paos_guidance(backstage: Backstage) -> None:
    # The demo provisioner refuses names containing "fail"; PAO retries, then gives up with guidance.
    task, events = _run_task(
        backstage, "template:default/bundle-webapp-standard", {"name": "shop-fail", **WEBAPP_VALUES}
    )
    assert task["status"] == "failed", _messages(events)
    error = _completion(events)["error"]["message"]
    assert "PAO request" in error and "failed: database:" in error
    assert "Next steps:" in error and "Escalate" in error, error


def test_a_hand_written_template_using_pao_cookiecutter_gets_the_rendered_files(backstage: Backstage) -> None:
    _eventually(
        "the hand-written template in the catalog",
        lambda: "template:hand-written-cookiecutter" in _backstage_entities(backstage),
        timeout=60,
        log=backstage.log,
    )
    task, events = _run_task(backstage, "template:default/hand-written-cookiecutter", {"name": "orders-api"})
    log = _messages(events)
    assert task["status"] == "completed", f"{log}{_tail(backstage.log)}"
    # debug:log lists the Backstage workspace after pao:cookiecutter ran in PAO.
    listing = next(e["body"]["message"] for e in events if "Workspace:" in str(e["body"].get("message")))
    assert "service/README.md" in listing, listing
    assert "service/pyproject.toml" in listing
    readme = listing.split("service/README.md", 1)[1]
    assert "# orders-api" in readme and "Rendered by PAO for Backstage" in readme
    files = _completion(events)["output"]["text"][0]["content"]
    assert "README.md" in files and "pyproject.toml" in files


def test_a_request_waiting_on_a_ticket_ends_the_step_after_the_wait_timeout_with_status_and_links(
    pao: Pao, backstage: Backstage
) -> None:
    # The event-driven bundle's Kafka topic is manual: PAO files a ticket and waits for the team.
    task, events = _run_task(
        backstage,
        "template:default/bundle-eventdriven-standard",
        {"name": "orders-events", **EVENTDRIVEN_VALUES},
    )
    log = _messages(events)
    assert task["status"] == "completed", f"{log}{_tail(backstage.log)}"
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
        task_id = _create_task(
            client,
            "template:default/bundle-eventdriven-standard",
            {"name": "cancel-me", **EVENTDRIVEN_VALUES},
        )

        def following() -> str | None:
            events = client.get(f"/api/scaffolder/v2/tasks/{task_id}/events").json()
            return _pao_request_id(events) if "Following PAO request" in _messages(events) else None

        request_id = _eventually("the wait step following PAO", following, timeout=60, log=backstage.log)
        cancelled = client.post(f"/api/scaffolder/v2/tasks/{task_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
    task, events = _run_task(backstage, "", {}, task_id=task_id)
    assert task["status"] in ("cancelled", "failed"), _messages(events)

    with pao.client() as client:
        request = client.get(f"/api/pao/v1/requests/{request_id}").json()
    # PAO got the cancel on behalf of the user; how fast a ticket wait stops is PAO's engine's business.
    assert request["cancelRequestedAt"] is not None, request
    assert request["state"] in ("cancelled", "running"), request


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
        entity = _backstage_entities(backstage).get("template:networking-dns-record")
        return entity is not None and entity["metadata"].get("description") == description

    _eventually("the edited description in Backstage", edited, timeout=30, log=backstage.log)
    print(f"edit visible in Backstage after {time.monotonic() - started:.1f}s")

    document.unlink()
    with pao.client() as client:
        client.post("/api/pao/v1/catalog/refresh").raise_for_status()
    _eventually(
        "the removed document gone from Backstage",
        lambda: "template:networking-dns-record" not in _backstage_entities(backstage),
        timeout=30,
        log=backstage.log,
    )
