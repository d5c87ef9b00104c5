"""The scaffolding offering as a developer orders it: the requests API, the durable engine, real cookiecutter
and real git into the default `services` repository."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG

API = "/api/pao/v1/requests"


def wait(client: TestClient, request_id: str, *states: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        detail: dict[str, Any] = client.get(f"{API}/{request_id}").json()
        if detail["state"] in states:
            return detail
        assert time.monotonic() < deadline, f"request stayed {detail['state']}: {detail}"
        time.sleep(0.05)


def test_ordering_a_python_service_commits_it_to_the_services_repository(tmp_path: Path) -> None:
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        catalog_dir=SAMPLE_CATALOG,
        templates_dir=SAMPLE_CATALOG.parent / "templates",
        engine_poll_seconds=0.01,
        event_poll_seconds=0.05,
    )
    with TestClient(create_app(settings)) as client:
        response = client.post(
            API,
            json={
                "catalogId": "scaffolding-service-python",
                "values": {"name": "billing-api", "service": {"description": "Billing", "owner": "payments"}},
            },
        )
        assert response.status_code == 201, response.text
        detail = wait(client, response.json()["id"], "completed", "failed")
        assert detail["state"] == "completed", detail
    repo = tmp_path / "data" / "git" / "services.git"
    tree = subprocess.run(
        ["git", "--git-dir", str(repo), "ls-tree", "-r", "--name-only", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "billing-api/src/billing_api/__init__.py" in tree
    assert (
        detail["outputs"]["commit"]
        == subprocess.run(
            ["git", "--git-dir", str(repo), "rev-parse", "main"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
