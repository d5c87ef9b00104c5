"""pao:git-commit with the real git CLI against local bare repositories."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scaffolder_actions import ActionResult, run_action
from scaffolder_actions.actions.git_commit import attempt_branch, create_git_commit_action

ENV = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent", "PATH": "/usr/bin:/bin", "LC_ALL": "C"}


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@x", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
    ).stdout


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A bare repository whose main branch has README.md and docs/old.txt."""
    repo = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(repo))
    seed = tmp_path / "seed"
    git("clone", "--quiet", str(repo), str(seed))
    (seed / "README.md").write_text("# Services\n")
    (seed / "docs").mkdir()
    (seed / "docs" / "old.txt").write_text("old\n")
    git("add", "-A", cwd=seed)
    git("commit", "--quiet", "-m", "seed", cwd=seed)
    git("push", "--quiet", "origin", "HEAD:main", cwd=seed)
    return repo


def read(repo: Path, ref: str, path: str) -> str:
    return git("--git-dir", str(repo), "show", f"{ref}:{path}")


def commit(
    tmp_path: Path,
    input: dict[str, Any],
    *,
    attempt_key: str = "req-1/app/0",
    dry_run: bool = False,
    **factory: Any,
) -> ActionResult:
    action = create_git_commit_action(**factory)
    return asyncio.run(
        run_action(action, input, workspace=tmp_path / "ws", attempt_key=attempt_key, dry_run=dry_run)
    )


def test_create_update_delete_land_in_one_commit_with_the_attempt_trailer(bare: Path, tmp_path: Path) -> None:
    result = commit(
        tmp_path,
        {
            "repository": str(bare),
            "commitMessage": "Add orders-db",
            "author": {"name": "Ada", "email": "ada@example.com"},
            "files": [
                {"path": "databases/orders.yaml", "operation": "create", "content": "name: orders\n"},
                {"path": "README.md", "operation": "update", "content": "# Services\n- orders\n"},
                {"path": "docs/old.txt", "operation": "delete"},
            ],
        },
    )
    assert result.ok, result.error
    sha = result.outputs["commit"]
    assert git("--git-dir", str(bare), "rev-parse", "main").strip() == sha
    assert result.outputs["branch"] == "main"
    assert result.outputs["repository"] == str(bare)
    assert result.outputs["files"] == ["README.md", "databases/orders.yaml", "docs/old.txt"]
    assert read(bare, "main", "databases/orders.yaml") == "name: orders\n"
    assert read(bare, "main", "README.md") == "# Services\n- orders\n"
    assert "docs/old.txt" not in git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "main")
    message = git("--git-dir", str(bare), "log", "-1", "--format=%an <%ae>%n%B", "main")
    assert message.startswith("Ada <ada@example.com>\nAdd orders-db")
    assert "PAO-Attempt: req-1/app/0" in message
    assert git("--git-dir", str(bare), "rev-list", "--count", "main").strip() == "2"


def test_a_retried_attempt_returns_its_commit_instead_of_committing_again(bare: Path, tmp_path: Path) -> None:
    input = {
        "repository": str(bare),
        "commitMessage": "Add x",
        "files": [{"path": "x.txt", "operation": "create", "content": "x"}],
    }
    first = commit(tmp_path, input)
    second = commit(tmp_path, input)
    assert first.ok and second.ok, (first.error, second.error)
    assert second.outputs["commit"] == first.outputs["commit"]
    assert second.outputs["files"] == ["x.txt"]
    assert any("already has commit" in line.message for line in second.logs)
    assert git("--git-dir", str(bare), "rev-list", "--count", "main").strip() == "2"
    # A different attempt is a different commit; its `create` now meets the existing file.
    other = commit(tmp_path, input, attempt_key="req-2/app/0")
    assert other.error is not None and other.error.failure_class == "backend_rejected"
    assert "already exists" in other.error.message


def test_update_of_a_missing_file_is_backend_rejected_with_a_clear_message(
    bare: Path, tmp_path: Path
) -> None:
    result = commit(
        tmp_path,
        {
            "repository": str(bare),
            "commitMessage": "m",
            "files": [{"path": "nope.txt", "operation": "update", "content": "x"}],
        },
    )
    assert result.error is not None
    assert result.error.failure_class == "backend_rejected"
    assert "files[0] (update 'nope.txt'): no such file on branch 'main'" in result.error.message
    assert git("--git-dir", str(bare), "rev-list", "--count", "main").strip() == "1"


def test_from_workspace_commits_a_whole_folder_into_a_new_repository(tmp_path: Path) -> None:
    service = tmp_path / "ws" / "service"
    (service / "src").mkdir(parents=True)
    (service / "src" / "app.py").write_text("print('hi')\n")
    (service / "run.sh").write_text("#!/bin/sh\n")
    (service / "run.sh").chmod(0o755)
    repo = tmp_path / "git" / "services.git"
    result = commit(
        tmp_path,
        {
            "repository": str(repo),
            "source": "service",
            "targetPath": "orders-api",
            "commitMessage": "Scaffold",
            "createRepository": True,
        },
    )
    assert result.ok, result.error
    assert result.outputs["files"] == ["orders-api/run.sh", "orders-api/src/app.py"]
    assert read(repo, "main", "orders-api/src/app.py") == "print('hi')\n"
    assert "100755" in git("--git-dir", str(repo), "ls-tree", "main", "orders-api/run.sh")


def test_a_missing_repository_without_create_is_a_configuration_error(tmp_path: Path) -> None:
    result = commit(
        tmp_path,
        {
            "repository": str(tmp_path / "none.git"),
            "commitMessage": "m",
            "files": [{"path": "a", "operation": "create", "content": ""}],
        },
    )
    assert result.error is not None
    assert result.error.failure_class == "configuration"
    assert "createRepository" in result.error.message


def test_create_pull_request_pushes_a_review_branch_and_says_there_is_no_pr_server(
    bare: Path, tmp_path: Path
) -> None:
    result = commit(
        tmp_path,
        {
            "repository": "services",
            "createPullRequest": True,
            "commitMessage": "Review me",
            "files": [{"path": "new.txt", "operation": "create", "content": "n"}],
        },
        repositories={"services": str(bare)},
    )
    assert result.ok, result.error
    branch = attempt_branch("req-1/app/0")
    assert result.outputs["branch"] == branch
    assert branch.startswith("pao/req-1-app-0-")
    assert result.outputs["pullRequestUrl"] is None
    assert result.outputs["pullRequest"]["created"] is False
    assert "no pull-request server" in result.outputs["pullRequest"]["note"]
    assert read(bare, branch, "new.txt") == "n"
    assert git("--git-dir", str(bare), "rev-list", "--count", "main").strip() == "1"
    again = commit(
        tmp_path,
        {
            "repository": "services",
            "createPullRequest": True,
            "commitMessage": "Review me",
            "files": [{"path": "new.txt", "operation": "create", "content": "n"}],
        },
        repositories={"services": str(bare)},
    )
    assert again.ok and again.outputs["commit"] == result.outputs["commit"]


def test_dry_run_lists_changes_and_pushes_nothing(bare: Path, tmp_path: Path) -> None:
    result = commit(
        tmp_path,
        {
            "repository": str(bare),
            "commitMessage": "m",
            "files": [{"path": "a.txt", "operation": "create", "content": "a"}],
        },
        dry_run=True,
    )
    assert result.ok, result.error
    assert result.outputs["commit"] is None
    assert result.outputs["files"] == ["a.txt"]
    assert git("--git-dir", str(bare), "rev-list", "--count", "main").strip() == "1"


@pytest.mark.parametrize(
    "files",
    [
        [{"path": "../escape.txt", "operation": "create", "content": "x"}],
        [{"path": "/etc/passwd", "operation": "update", "content": "x"}],
        [{"path": ".git/config", "operation": "update", "content": "x"}],
        [{"path": "a.txt", "operation": "create"}],
    ],
)
def test_unsafe_paths_and_missing_content_are_invalid_input(bare: Path, tmp_path: Path, files: Any) -> None:
    result = commit(tmp_path, {"repository": str(bare), "commitMessage": "m", "files": files})
    assert result.error is not None
    assert result.error.failure_class == "invalid_input"
    assert result.error.details["errors"][0]["path"].startswith("files.0")


def test_nothing_to_commit_returns_the_branch_head(bare: Path, tmp_path: Path) -> None:
    result = commit(
        tmp_path,
        {
            "repository": str(bare),
            "commitMessage": "m",
            "files": [{"path": "README.md", "operation": "update", "content": "# Services\n"}],
        },
    )
    assert result.ok, result.error
    assert result.outputs["commit"] == git("--git-dir", str(bare), "rev-parse", "main").strip()
    assert result.outputs["files"] == []


def test_credentials_in_a_repository_url_never_show(tmp_path: Path) -> None:
    result = commit(
        tmp_path,
        {
            "repository": "http://pao:sup3r-s3cret@127.0.0.1:9/nothing.git",
            "commitMessage": "m",
            "files": [{"path": "a", "operation": "create", "content": ""}],
        },
    )
    assert result.error is not None
    assert result.error.failure_class == "backend_unavailable"
    said = result.error.message + str(result.error.details) + "".join(line.message for line in result.logs)
    assert "sup3r-s3cret" not in said


def test_url_credentials_go_in_a_header_not_argv_and_a_refusal_is_credentials_refused(tmp_path: Path) -> None:
    import base64

    from tests.support.rest_backend import Reply, RestBackend

    server = RestBackend().start()
    try:
        server.script(
            "/acme/services.git/info/refs", [Reply(401, "denied", headers={"WWW-Authenticate": "Basic"})]
        )
        host = server.url.removeprefix("http://")
        result = commit(
            tmp_path,
            {
                "repository": f"http://x-access-token:tok%2Fen-77@{host}/acme/services.git",
                "commitMessage": "m",
                "files": [{"path": "a", "operation": "create", "content": ""}],
            },
        )
        assert result.error is not None
        assert result.error.failure_class == "credentials_refused"
        seen = server.seen("/acme/services.git/info/refs")
        assert seen, "git never reached the server"
        expected = base64.b64encode(b"x-access-token:tok/en-77").decode()
        assert seen[0].headers["authorization"] == f"Basic {expected}"
        said = (
            result.error.message + str(result.error.details) + "".join(line.message for line in result.logs)
        )
        assert "tok/en-77" not in said and "tok%2Fen-77" not in said and expected not in said
        assert f"http://***@{host}/acme/services.git" in result.error.message
    finally:
        server.stop()
