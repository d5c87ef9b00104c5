"""Every example of every action runs: its YAML step carries its input, and the input runs against real
backends (a loopback HTTP server, the real templates/, a real bare git repository)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from scaffolder_actions import Action, Credential, Example, run_action
from scaffolder_actions.actions.cookiecutter import create_cookiecutter_action
from scaffolder_actions.actions.git_commit import create_git_commit_action
from scaffolder_actions.actions.rest_api import create_rest_api_action
from tests.support.rest_backend import RestBackend

ROOT = Path(__file__).resolve().parents[3]
CREDENTIALS = {
    "provisioner": Credential(token="example-token-123"),
    "quota-service": Credential(api_key="example-key-456"),
}


def _factories() -> dict[str, Any]:
    return {
        "pao:rest-api": lambda env: create_rest_api_action(credentials=CREDENTIALS),
        "pao:cookiecutter": lambda env: create_cookiecutter_action(templates_root=ROOT / "templates"),
        "pao:git-commit": lambda env: create_git_commit_action(repositories={"services": str(env["repo"])}),
    }


def _examples() -> list[tuple[str, int, Example]]:
    found = []
    for action_id, factory in _factories().items():
        action = factory({"repo": Path("/nonexistent")})
        assert action.examples, f"{action_id} has no examples"
        found += [(action_id, i, example) for i, example in enumerate(action.examples)]
    return found


EXAMPLES = _examples()


@pytest.fixture
def backend() -> Iterator[RestBackend]:
    server = RestBackend().start()
    yield server
    server.stop()


def _seeded_bare_repo(path: Path) -> Path:
    env = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent", "PATH": "/usr/bin:/bin"}

    def git(*args: str, cwd: Path | None = None) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@x", *args],
            cwd=cwd,
            check=True,
            env=env,
            capture_output=True,
        )

    git("init", "--quiet", "--bare", "--initial-branch=main", str(path))
    seed = path.parent / "seed"
    git("clone", "--quiet", str(path), str(seed))
    (seed / "README.md").write_text("# Services\n")
    git("add", "-A", cwd=seed)
    git("commit", "--quiet", "-m", "seed", cwd=seed)
    git("push", "--quiet", "origin", "HEAD:main", cwd=seed)
    return path


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _contains(actual[k], v) for k, v in expected.items()
        )
    return bool(actual == expected)


def _ids() -> list[str]:
    return [f"{action_id}[{i}]" for action_id, i, _ in EXAMPLES]


@pytest.mark.parametrize(("action_id", "index", "example"), EXAMPLES, ids=_ids())
def test_example_yaml_is_a_backstage_step_carrying_the_example_input(
    action_id: str, index: int, example: Example
) -> None:
    document = yaml.safe_load(example.example)
    (step,) = document["steps"]
    assert step["action"] == action_id
    assert {"id", "name", "input"} <= set(step)
    assert step["input"] == example.input


@pytest.mark.parametrize(("action_id", "index", "example"), EXAMPLES, ids=_ids())
def test_example_runs_against_a_real_backend(
    action_id: str, index: int, example: Example, backend: RestBackend, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    input = dict(example.input)
    env = {"repo": _seeded_bare_repo(tmp_path / "services.git")}
    if action_id == "pao:rest-api":
        parts = urlsplit(input["url"])
        input["url"] = backend.url + parts.path + (f"?{parts.query}" if parts.query else "")
    if input.get("fromWorkspace"):
        folder = workspace / input["fromWorkspace"]
        folder.mkdir(parents=True)
        (folder / "README.md").write_text("# rendered\n")
    action: Action[Any] = _factories()[action_id](env)
    result = asyncio.run(run_action(action, input, workspace=workspace, attempt_key=f"example-{index}"))
    assert result.ok, result.error
    if example.expected is not None:
        assert _contains(result.outputs, example.expected), result.outputs
    if action_id == "pao:rest-api":
        (seen,) = backend.requests
        assert seen.headers["idempotency-key"] == f"example-{index}"


@pytest.mark.parametrize(("action_id", "index", "example"), EXAMPLES, ids=_ids())
def test_example_dry_run_sends_and_writes_nothing(
    action_id: str, index: int, example: Example, backend: RestBackend, tmp_path: Path
) -> None:
    input = dict(example.input)
    repo = _seeded_bare_repo(tmp_path / "services.git")
    if action_id == "pao:rest-api":
        input["url"] = backend.url + urlsplit(input["url"]).path
    if input.get("fromWorkspace"):
        (tmp_path / "ws" / input["fromWorkspace"]).mkdir(parents=True)
        (tmp_path / "ws" / input["fromWorkspace"] / "a.txt").write_text("a")
    action: Action[Any] = _factories()[action_id]({"repo": repo})
    assert action.supports_dry_run
    before = sorted(p.name for p in (tmp_path / "ws").rglob("*")) if (tmp_path / "ws").exists() else []
    result = asyncio.run(
        run_action(action, input, workspace=tmp_path / "ws", attempt_key="dry", dry_run=True)
    )
    assert result.ok, result.error
    assert backend.requests == []
    assert sorted(p.name for p in (tmp_path / "ws").rglob("*")) == before
