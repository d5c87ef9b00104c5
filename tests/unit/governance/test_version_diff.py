"""`pao diff` and version bumps, on real pairs of document versions (tests/fixtures/versions) and in git."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from pao_backend.cli import app
from pao_backend.governance.diff import bump_between, diff_documents
from tests.conftest import FIXTURES, ROOT

VERSIONS = FIXTURES / "versions"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((VERSIONS / name).read_text("utf-8"))
    return data


def kinds(name_old: str, name_new: str) -> dict[str, set[str]]:
    result = diff_documents(load(name_old), load(name_new))
    found: dict[str, set[str]] = {}
    for change in result.changes:
        found.setdefault(change.kind, set()).add(change.where)
    return found


def test_every_kind_of_breaking_change_is_found_and_a_major_bump_is_enough() -> None:
    result = diff_documents(load("postgresql-1.2.0.yaml"), load("postgresql-2.0.0.yaml"))
    breaking = {(c.kind, c.where) for c in result.breaking}
    assert breaking == {
        ("field-removed", "advanced.ownerEmail"),
        ("required-field-added", "basic.costCenter"),
        ("enum-narrowed", "basic.engineVersion"),
        ("range-narrowed", "basic.storageSize"),
        ("output-removed", "outputs.databaseHost"),
    }
    assert result.required_bump == "major"
    assert result.actual_bump == "major"
    assert result.bump_ok
    assert "is enough" in result.verdict


def test_the_same_breaking_changes_with_a_minor_bump_are_not_enough() -> None:
    result = diff_documents(load("postgresql-1.2.0.yaml"), load("postgresql-1.3.0-breaking.yaml"))
    assert result.actual_bump == "minor"
    assert not result.bump_ok
    assert result.verdict.endswith("is NOT enough: major needed (e.g. 2.0.0)")


def test_compatible_changes_need_only_a_minor_bump() -> None:
    result = diff_documents(load("postgresql-1.2.0.yaml"), load("postgresql-1.3.0.yaml"))
    assert result.breaking == []
    assert {(c.kind, c.where) for c in result.changes} >= {
        ("enum-widened", "basic.engineVersion"),
        ("range-widened", "basic.storageSize"),
        ("field-added", "advanced.maintenanceWindow"),
        ("output-added", "outputs.databasePort"),
    }
    assert result.required_bump == "minor" and result.bump_ok


def test_a_text_edit_without_a_bump_is_a_patch_the_version_does_not_show() -> None:
    result = diff_documents(load("postgresql-1.2.0.yaml"), load("postgresql-1.2.0-text-edit.yaml"))
    assert result.breaking == []
    assert result.required_bump == "patch" and result.actual_bump == "none"
    assert not result.bump_ok


def test_a_type_change_is_breaking() -> None:
    found = kinds("container-app-2.0.0.yaml", "container-app-2.1.0.yaml")
    assert found["type-changed"] == {"app.replicas"}
    result = diff_documents(load("container-app-2.0.0.yaml"), load("container-app-2.1.0.yaml"))
    assert not result.bump_ok


def test_bumps_follow_semver_including_zero_major() -> None:
    assert bump_between("1.2.0", "2.0.0") == "major"
    assert bump_between("1.2.0", "1.2.1") == "patch"
    assert bump_between("0.3.1", "0.4.0") == "major"  # before 1.0.0 a minor bump may break
    assert bump_between("1.2.0", "1.1.9") == "downgrade"
    assert bump_between("1.2.0", "one") == "invalid"


def test_pao_diff_compares_two_folders_and_fails_on_an_insufficient_bump(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, document in ((old, "postgresql-1.2.0.yaml"), (new, "postgresql-1.3.0-breaking.yaml")):
        (folder / "databases").mkdir(parents=True)
        shutil.copy(VERSIONS / document, folder / "databases" / "database-postgresql-standard.yaml")
    runner = CliRunner()
    result = runner.invoke(app, ["diff", str(old), str(new)])
    assert result.exit_code == 1, result.output
    assert "BREAKING field-removed" in result.output
    assert "NOT enough: major needed" in result.output
    as_json = runner.invoke(app, ["diff", str(old), str(new), "--format", "json"])
    document = json.loads(as_json.output)["documents"][0]
    assert document["id"] == "database-postgresql-standard"
    assert document["requiredBump"] == "major" and document["bumpOk"] is False
    shutil.copy(VERSIONS / "postgresql-2.0.0.yaml", new / "databases" / "database-postgresql-standard.yaml")
    assert runner.invoke(app, ["diff", str(old), str(new)]).exit_code == 0


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_validate_changed_since_fails_a_breaking_change_without_a_major_bump(tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    shutil.copytree(ROOT / "catalog", repository / "catalog")
    _git(repository, "init", "-q", "-b", "main")
    _git(repository, "add", ".")
    _git(repository, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "catalog")
    target = repository / "catalog" / "databases" / "database-postgresql-standard.yaml"
    header = "# yaml-language-server: $schema=../../schemas/catalog/v1/catalog-item.schema.json\n"
    target.write_text(header + (VERSIONS / "postgresql-1.3.0-breaking.yaml").read_text("utf-8"), "utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(repository / "catalog"), "--changed-since", "HEAD"])
    assert result.exit_code == 1, result.output
    assert "E810" in result.output and "database-postgresql-standard.yaml:10:" in result.output
    assert "field `advanced.ownerEmail` was removed" in result.output

    diff = runner.invoke(app, ["diff", "HEAD", "--catalog", str(repository / "catalog")])
    assert diff.exit_code == 1 and "NOT enough" in diff.output

    target.write_text(header + (VERSIONS / "postgresql-2.0.0.yaml").read_text("utf-8"), "utf-8")
    result = runner.invoke(app, ["validate", str(repository / "catalog"), "--changed-since", "HEAD"])
    assert "E810" not in result.output
