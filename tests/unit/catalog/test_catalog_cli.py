"""`pao validate|render|new|schema`: exit codes, formats, git selection, starters that validate clean."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pao_backend.cli import app
from tests.conftest import FIXTURES, SAMPLE_CATALOG

VALID = FIXTURES / "catalog" / "valid"
INVALID = FIXTURES / "catalog" / "invalid"
runner = CliRunner()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(VALID, target)
    return target


def test_validate_clean_catalog_exits_0() -> None:
    result = runner.invoke(app, ["validate", str(VALID)])
    assert result.exit_code == 0, result.output
    assert "4 documents checked: clean" in result.output


def test_validate_sample_catalog_exits_0_warnings_allowed_unless_strict() -> None:
    assert runner.invoke(app, ["validate", str(SAMPLE_CATALOG)]).exit_code == 0
    strict = runner.invoke(app, ["validate", "--strict", str(SAMPLE_CATALOG)])
    assert strict.exit_code == (1 if "warning" in strict.output else 0)


def test_validate_findings_exit_1_with_path_line_col_and_hint() -> None:
    target = INVALID / "databases" / "database-form-standard.yaml"
    result = runner.invoke(app, ["validate", str(target)])
    assert result.exit_code == 1
    assert f"{target}:19:18: error E402:" in result.output
    assert "    hint: rename the field" in result.output
    # Only the asked-for document is reported, although the whole catalog was validated.
    assert "database-vars-standard" not in result.output


def test_validate_json_format_is_machine_readable() -> None:
    result = runner.invoke(app, ["validate", "--format", "json", str(INVALID / "bundles")])
    data = json.loads(result.output)
    assert result.exit_code == 1
    assert data["errors"] > 0 and data["documents"] == 4
    assert {"path", "line", "column", "severity", "code", "message", "hint"} <= set(data["problems"][0])


def test_validate_github_format_prints_workflow_annotations() -> None:
    result = runner.invoke(app, ["validate", "-f", "github", str(INVALID / "databases" / "db.yaml")])
    first = result.output.splitlines()[0]
    assert first.startswith(f"::error file={INVALID / 'databases' / 'db.yaml'},line=5,col=7,title=E301::")
    assert "%0Ahint: " in first


def test_validate_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["validate", str(tmp_path / "nope")]).exit_code == 2
    assert runner.invoke(app, ["validate", "--format", "xml", str(VALID)]).exit_code == 2
    assert runner.invoke(app, ["validate", "--changed-since", "HEAD", str(tmp_path)]).exit_code == 2


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_validate_changed_since_picks_changed_documents_and_bundles_using_them(root: Path) -> None:
    repo = root.parent
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    _git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "start")
    unchanged = runner.invoke(app, ["validate", "--changed-since", "HEAD", str(root)])
    assert unchanged.exit_code == 0 and "0 documents checked" in unchanged.output
    item = root / "databases" / "database-fixture-standard.yaml"
    item.write_text(item.read_text().replace("type: number, default: 20", "type: number, default: x"))
    result = runner.invoke(app, ["validate", "--format", "json", "--changed-since", "HEAD", str(root)])
    data = json.loads(result.output)
    assert result.exit_code == 1
    assert data["documents"] == 2  # the changed item and the bundle that uses it
    assert {Path(p["path"]).name for p in data["problems"]} == {
        "database-fixture-standard.yaml",
        "bundle-fixture-standard.yaml",
    }


def test_render_prints_what_each_action_would_send_with_example_values() -> None:
    result = runner.invoke(app, ["render", "database-fixture-standard", "--catalog", str(VALID)])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    component = shown["components"][0]
    rest = component["actions"][0]
    assert rest["action"] == "pao:rest-api" and rest["method"] == "PUT"
    assert rest["url"].endswith("/databases/example-app")
    assert "example-secret" not in result.output and "***" in result.output
    assert component["escalation"][0]["action"] == "pao:jira-ticket"
    assert component["escalation"][0]["summary"].startswith("Database example-app (small) for ")


def test_render_bundle_with_values_file_shows_outputs_not_known_yet(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("name: shop-stack\nbasic: {ownerEmail: owner@example.com, size: large}\n")
    result = runner.invoke(
        app,
        ["render", "bundle-fixture-standard", "--catalog", str(VALID), "--values", str(values), "-f", "json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [c["component"] for c in data["components"]] == ["database", "app"]
    commit = data["components"][1]["actions"][2]
    assert commit["action"] == "pao:git-commit" and "<output:appUrl>" in commit["commitMessage"]


def test_render_refuses_unknown_ids_and_invalid_values(tmp_path: Path) -> None:
    assert runner.invoke(app, ["render", "nothing-here-x", "--catalog", str(VALID)]).exit_code == 2
    values = tmp_path / "values.yaml"
    values.write_text("name: X!\n")
    result = runner.invoke(
        app, ["render", "compute-fixture-app", "--catalog", str(VALID), "--values", str(values)]
    )
    assert result.exit_code == 1


@pytest.mark.parametrize("mode", ["manual", "automatic"])
def test_new_item_generates_a_starter_that_validates_clean(root: Path, mode: str) -> None:
    args = [
        "new",
        "item",
        "--catalog",
        str(root),
        "--category",
        "databases",
        "--service",
        "mysql",
        "--team",
        "platform-databases",
        "--mode",
        mode,
        "--no-interactive",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    target = root / "databases" / "database-mysql-standard.yaml"
    text = target.read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../../schemas/catalog/v1/catalog-item.schema.json"
    )
    assert ("automatic:" in text) == (mode == "automatic")
    assert "1 document checked: clean" in result.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.output


def test_new_item_asks_for_what_is_missing(root: Path) -> None:
    result = runner.invoke(
        app,
        ["new", "item", "--catalog", str(root), "--interactive"],
        input="compute\nworker-pool\nplatform-compute\nautomatic\n",
    )
    assert result.exit_code == 0, result.output
    assert (root / "compute" / "compute-worker-pool-standard.yaml").is_file()


def test_new_item_without_answers_is_a_usage_error(root: Path) -> None:
    result = runner.invoke(app, ["new", "item", "--catalog", str(root), "--no-interactive"])
    assert result.exit_code == 2 and "--category is required" in result.output
    bad_team = [
        "new",
        "item",
        "--catalog",
        str(root),
        "--category",
        "x",
        "--service",
        "y",
        "--team",
        "nobody",
    ]
    assert runner.invoke(app, bad_team).exit_code == 2


def test_new_bundle_copies_required_fields_and_validates_clean(root: Path) -> None:
    result = runner.invoke(
        app,
        [
            "new",
            "bundle",
            "--catalog",
            str(root),
            "--name",
            "shop",
            "--item",
            "database-fixture-standard",
            "--item",
            "compute-fixture-app",
            "--no-interactive",
        ],
    )
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((root / "bundles" / "bundle-shop-standard.yaml").read_text())
    assert [c["dependsOn"] for c in data["components"]] == [[], ["database"]]
    assert data["input"]["form"]["groups"][0]["fields"][0]["id"] == "ownerEmail"


def test_schema_export_writes_every_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "export", str(tmp_path)])
    assert result.exit_code == 0
    written = sorted(p.name for p in (tmp_path / "catalog" / "v1").iterdir())
    assert set(written) >= {
        "catalog-bundle.schema.json",
        "catalog-item.schema.json",
        "common-types.schema.json",
        "teams.schema.json",
    }


@pytest.mark.parametrize(
    "command", [["validate"], ["render"], ["new"], ["new", "item"], ["new", "bundle"], ["schema", "export"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert len(result.output.splitlines()) > 5


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    from tests.conftest import ROOT

    shutil.copytree(SAMPLE_CATALOG, tmp_path / "catalog")
    shutil.copy(ROOT / "CODEOWNERS", tmp_path / "CODEOWNERS")
    return tmp_path


def test_breaking_a_sample_document_by_hand_gives_file_line_col_and_hint(sample_repo: Path) -> None:
    target = sample_repo / "catalog" / "databases" / "database-postgresql-standard.yaml"
    text = target.read_text()
    target.write_text(
        text.replace('"class": "{{.current.basic.instanceClass}}"', '"class": "{{.current.basic.size}}"')
    )
    result = runner.invoke(app, ["validate", str(target)])
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    line_no = next(
        i for i, line in enumerate(target.read_text().splitlines(), 1) if ".current.basic.size" in line
    )
    column = target.read_text().splitlines()[line_no - 1].index("{{.current.basic.size}}") + 1
    assert (
        first == f"{target}:{line_no}:{column}: error E602: `.current.basic.size` is not a field of the form"
    )
    assert result.output.splitlines()[1].startswith("    hint: ")


def test_root_codeowners_really_encodes_ownership(sample_repo: Path) -> None:
    assert runner.invoke(app, ["validate", str(sample_repo / "catalog")]).exit_code == 0
    codeowners = sample_repo / "CODEOWNERS"
    codeowners.write_text(codeowners.read_text().replace("@acme/platform-security", "@acme/platform-compute"))
    result = runner.invoke(app, ["validate", "-f", "json", str(sample_repo / "catalog")])
    data = json.loads(result.output)
    assert result.exit_code == 1
    assert {(Path(p["path"]).name, p["code"]) for p in data["problems"] if p["severity"] == "error"} >= {
        ("security-secret-standard.yaml", "E706")
    }
