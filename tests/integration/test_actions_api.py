"""The actions API as PAO serves it: registry built from settings, identity checked, real actions."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def make_client(tmp_path: Path) -> TestClient:
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        catalog_dir=ROOT / "catalog",
        templates_dir=ROOT / "templates",
        credentials={"provisioner": {"token": "tok-settings-123"}},
    )
    return TestClient(create_app(settings))  # no lifespan: the engine is not needed to invoke an action


def test_pao_lists_its_four_actions_in_backstage_shape(tmp_path: Path) -> None:
    response = make_client(tmp_path).get("/api/pao/v1/actions")
    assert response.status_code == 200, response.text
    assert [a["id"] for a in response.json()] == [
        "pao:cookiecutter",
        "pao:git-commit",
        "pao:jira-ticket",
        "pao:rest-api",
    ]


def test_cookiecutter_then_git_commit_into_the_default_services_repository(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    rendered = client.post(
        "/api/pao/v1/actions/pao:cookiecutter:invoke",
        json={"input": {"template": "service-python", "values": {"name": "api-svc"}, "output": "svc"}},
        headers={"X-PAO-On-Behalf-Of": "user:default/amy"},
    )
    assert rendered.status_code == 200, rendered.text
    files = [f for f in rendered.json()["files"]]
    committed = client.post(
        "/api/pao/v1/actions/pao:git-commit:invoke",
        json={
            "input": {
                "repository": "services",
                "fromWorkspace": "svc",
                "targetPath": "api-svc",
                "commitMessage": "Scaffold api-svc",
                "createRepository": True,
            },
            "files": files,
            "attemptKey": "test/1",
        },
    )
    assert committed.status_code == 200, committed.text
    output = committed.json()["output"]
    repo = tmp_path / "data" / "git" / "services.git"
    assert output["repository"] == str(repo.resolve())
    readme = subprocess.run(
        ["git", "--git-dir", str(repo), "show", "main:api-svc/README.md"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert readme.startswith("# api-svc")
    assert base64.b64decode(files[0]["base64Content"])  # files travelled as base64


def test_an_unknown_credential_is_a_500_configuration_error_not_a_crash(tmp_path: Path) -> None:
    response = make_client(tmp_path).post(
        "/api/pao/v1/actions/pao:rest-api:invoke",
        json={
            "input": {
                "url": "http://127.0.0.1:9/x",
                "authentication": {"type": "bearer", "credential": "nope"},
            }
        },
    )
    assert response.status_code == 500
    assert response.json()["failureClass"] == "configuration"
    assert "provisioner" in response.json()["error"]["message"]
