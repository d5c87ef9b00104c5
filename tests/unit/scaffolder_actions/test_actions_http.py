"""The remote-invoke router, served by a real FastAPI app (in-process client) with real actions."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from scaffolder_actions import ActionRegistry, Credential
from scaffolder_actions.actions import (
    create_cookiecutter_action,
    create_git_commit_action,
    create_rest_api_action,
)
from scaffolder_actions.http import create_actions_router
from tests.support.rest_backend import Reply, RestBackend

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "tok-http-0123456789"


@pytest.fixture
def backend() -> Iterator[RestBackend]:
    server = RestBackend().start()
    yield server
    server.stop()


def make_client(tmp_path: Path, **router: Any) -> TestClient:
    registry = ActionRegistry(
        [
            create_rest_api_action(credentials={"provisioner": Credential(token=TOKEN)}),
            create_cookiecutter_action(templates_root=ROOT / "templates"),
            create_git_commit_action(),
        ]
    )
    app = FastAPI()
    app.include_router(create_actions_router(registry, workspace_root=tmp_path / "workspaces", **router))
    return TestClient(app)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_listing_has_backstage_v2_actions_shape_sorted_by_id(tmp_path: Path) -> None:
    response = make_client(tmp_path).get("/api/pao/v1/actions")
    assert response.status_code == 200
    actions = response.json()
    assert [a["id"] for a in actions] == ["pao:cookiecutter", "pao:git-commit", "pao:rest-api"]
    for action in actions:
        assert {"id", "description", "examples", "schema", "supportsDryRun"} <= set(action)
        assert action["schema"]["input"]["type"] == "object"
        assert all({"description", "example"} <= set(e) for e in action["examples"])


def test_invoke_rest_api_returns_output_and_logs(backend: RestBackend, tmp_path: Path) -> None:
    response = make_client(tmp_path).post(
        "/api/pao/v1/actions/pao:rest-api:invoke",
        json={
            "input": {
                "url": f"{backend.url}/instances",
                "method": "POST",
                "body": '{"name": "a"}',
                "authentication": {"type": "bearer", "credential": "provisioner"},
            },
            "attemptKey": "task-1/step-2",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["output"]["status"] == 201
    assert body["output"]["body"]["name"] == "a"
    assert body["files"] == []
    assert all({"level", "message", "timestamp"} <= set(line) for line in body["logs"])
    assert backend.requests[0].headers["idempotency-key"] == "task-1/step-2"
    assert TOKEN not in response.text


def test_invoke_cookiecutter_returns_the_rendered_workspace_files(tmp_path: Path) -> None:
    response = make_client(tmp_path).post(
        "/api/pao/v1/actions/pao:cookiecutter:invoke",
        json={
            "input": {"template": "service-python", "values": {"name": "remote-svc"}, "output": "svc"},
            "files": [{"path": "keep/me.txt", "base64Content": b64("kept"), "executable": True}],
        },
    )
    assert response.status_code == 200, response.text
    files = {f["path"]: f for f in response.json()["files"]}
    assert base64.b64decode(files["svc/README.md"]["base64Content"]).decode().startswith("# remote-svc")
    assert files["keep/me.txt"]["executable"] is True
    assert list((tmp_path / "workspaces").iterdir()) == []  # the workspace is removed afterwards


def test_invoke_git_commit_commits_files_sent_in_the_workspace(tmp_path: Path) -> None:
    repo = tmp_path / "remote.git"
    response = make_client(tmp_path).post(
        "/api/pao/v1/actions/pao:git-commit:invoke",
        json={
            "input": {
                "repository": str(repo),
                "fromWorkspace": "svc",
                "commitMessage": "from Backstage",
                "createRepository": True,
            },
            "files": [{"path": "svc/app.py", "base64Content": b64("print(1)\n")}],
            "attemptKey": "t/1",
        },
    )
    assert response.status_code == 200, response.text
    output = response.json()["output"]
    assert output["branch"] == "main" and output["files"] == ["app.py"] and len(output["commit"]) == 40


def test_invalid_input_is_400_with_per_field_errors(tmp_path: Path) -> None:
    response = make_client(tmp_path).post(
        "/api/pao/v1/actions/pao:rest-api:invoke", json={"input": {"method": "FETCH", "timeout": -1}}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["name"] == "ActionInputError"
    assert body["response"] == {"statusCode": 400}
    assert body["request"] == {"method": "POST", "url": "/api/pao/v1/actions/pao:rest-api:invoke"}
    assert body["failureClass"] == "invalid_input"
    assert {e["path"] for e in body["errors"]} == {"url", "method", "timeout"}


def test_malformed_invoke_bodies_and_unsafe_files_are_400(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    url = "/api/pao/v1/actions/pao:rest-api:invoke"
    assert (
        client.post(url, content=b"{not json", headers={"content-type": "application/json"}).status_code
        == 400
    )
    wrong = client.post(url, json={"input": {}, "dryrun": True})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["path"] == "dryrun"
    unsafe = client.post(url, json={"files": [{"path": "../x", "base64Content": "eA=="}]})
    assert unsafe.status_code == 400 and unsafe.json()["errors"][0]["path"] == "files.0.path"
    garbage = client.post(url, json={"files": [{"path": "x", "base64Content": "***"}]})
    assert garbage.status_code == 400 and garbage.json()["errors"][0]["path"] == "files.0.base64Content"


def test_unknown_action_is_404_in_backstage_shape(tmp_path: Path) -> None:
    response = make_client(tmp_path).post("/api/pao/v1/actions/pao:nope:invoke", json={"input": {}})
    assert response.status_code == 404
    assert response.json()["error"]["name"] == "NotFoundError"
    assert "pao:rest-api" in response.json()["error"]["message"]


def test_action_failures_carry_failure_class_and_never_secrets(backend: RestBackend, tmp_path: Path) -> None:
    secret = "pw-from-backstage-42"
    backend.script("/x", [Reply(401, {"echo": f"Bearer {TOKEN} {secret}"})])
    response = make_client(tmp_path).post(
        "/api/pao/v1/actions/pao:rest-api:invoke",
        json={
            "input": {
                "url": f"{backend.url}/x",
                "authentication": {"type": "bearer", "credential": "provisioner"},
            },
            "secrets": {"db": secret},
        },
    )
    assert response.status_code == 502
    body = response.json()
    assert body["failureClass"] == "credentials_refused"
    assert body["error"]["name"] == "CredentialsRefusedError"
    assert body["details"]["status"] == 401
    assert TOKEN not in response.text and secret not in response.text


def test_dry_run_sends_nothing(backend: RestBackend, tmp_path: Path) -> None:
    response = make_client(tmp_path).post(
        "/api/pao/v1/actions/pao:rest-api:invoke",
        json={"input": {"url": f"{backend.url}/x", "method": "DELETE"}, "dryRun": True},
    )
    assert response.status_code == 200
    assert response.json()["output"]["request"]["method"] == "DELETE"
    assert backend.requests == []


def test_authorize_can_refuse_and_can_name_the_user(backend: RestBackend, tmp_path: Path) -> None:
    seen: list[Any] = []

    def authorize(request: Request, action_id: str | None) -> dict[str, str]:
        seen.append(action_id)
        if request.headers.get("authorization") != "Bearer ok":
            raise HTTPException(403, "no")
        return {"user": "user:default/jdoe"}

    client = make_client(tmp_path, authorize=authorize)
    assert client.get("/api/pao/v1/actions").status_code == 403
    ok = client.post(
        "/api/pao/v1/actions/pao:rest-api:invoke",
        json={"input": {"url": f"{backend.url}/y"}},
        headers={"authorization": "Bearer ok"},
    )
    assert ok.status_code == 200
    assert seen == [None, "pao:rest-api"]
    assert json.loads(json.dumps(ok.json()))["output"]["status"] == 200
