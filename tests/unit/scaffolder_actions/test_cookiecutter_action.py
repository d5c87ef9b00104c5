"""pao:cookiecutter with the real cookiecutter library and the templates/ folder of the repository."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from scaffolder_actions import ActionResult, run_action
from scaffolder_actions.actions.cookiecutter import create_cookiecutter_action

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "templates"


def render(workspace: Path, input: dict[str, Any], **factory: Any) -> ActionResult:
    action = create_cookiecutter_action(templates_root=factory.pop("templates_root", TEMPLATES), **factory)
    return asyncio.run(
        run_action(action, input, workspace=workspace, attempt_key="k", dry_run=factory.get("dry_run", False))
    )


def test_renders_the_service_skeleton_into_a_workspace_folder(tmp_path: Path) -> None:
    result = render(
        tmp_path,
        {
            "template": "service-python",
            "values": {"name": "orders-api", "owner": "payments"},
            "output": "svc",
        },
    )
    assert result.ok, result.error
    assert result.outputs["path"] == "svc"
    assert "src/orders_api/__init__.py" in result.outputs["files"]
    assert result.outputs["files"] == sorted(result.outputs["files"])
    readme = (tmp_path / "svc" / "README.md").read_text()
    assert "# orders-api" in readme and "Owner: payments" in readme


def test_default_output_is_the_workspace_root(tmp_path: Path) -> None:
    result = render(tmp_path, {"template": "service-python", "values": {"name": "billing"}})
    assert result.ok, result.error
    assert result.outputs["path"] == "."
    assert (tmp_path / "pyproject.toml").is_file()


def test_values_that_are_not_template_variables_are_reported_and_ignored(tmp_path: Path) -> None:
    result = render(tmp_path, {"template": "service-python", "values": {"name": "x-svc", "colour": "red"}})
    assert result.ok
    assert any("colour" in line.message and line.level == "warn" for line in result.logs)


def test_a_value_outside_a_choice_list_is_invalid_input(tmp_path: Path) -> None:
    result = render(tmp_path, {"template": "service-python", "values": {"pythonVersion": "2.7"}})
    assert result.error is not None
    assert result.error.failure_class == "invalid_input"
    assert "2.7" in result.error.message


@pytest.mark.parametrize("template", ["../scaffolder_actions", "service-python/../..", "/etc"])
def test_template_paths_that_escape_the_templates_root_are_refused(tmp_path: Path, template: str) -> None:
    result = render(tmp_path, {"template": template})
    assert result.error is not None
    assert result.error.failure_class == "invalid_input"
    assert result.error.details["errors"][0]["path"] == "template"


@pytest.mark.parametrize("output", ["../elsewhere", "/tmp/abs", "a/../../b"])
def test_outputs_that_escape_the_workspace_are_refused(tmp_path: Path, output: str) -> None:
    result = render(tmp_path / "ws", {"template": "service-python", "output": output})
    assert result.error is not None
    assert result.error.failure_class == "invalid_input"
    assert not (tmp_path / "elsewhere").exists()


def test_an_unknown_template_is_a_configuration_error_listing_the_available_ones(tmp_path: Path) -> None:
    result = render(tmp_path, {"template": "nope"})
    assert result.error is not None
    assert result.error.failure_class == "configuration"
    assert "service-python" in result.error.message


def test_an_allowed_absolute_location_may_be_used(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "tiny"
    (other / "{{cookiecutter.slug}}").mkdir(parents=True)
    (other / "cookiecutter.json").write_text(json.dumps({"slug": "t"}))
    (other / "{{cookiecutter.slug}}" / "hello.txt").write_text("hi {{ cookiecutter.slug }}")
    result = render(
        tmp_path / "ws",
        {"template": str(other), "values": {"slug": "demo"}},
        allowed_locations=[str(tmp_path / "elsewhere")],
    )
    assert result.ok, result.error
    assert (tmp_path / "ws" / "hello.txt").read_text() == "hi demo"


def test_dry_run_reports_files_without_writing_them(tmp_path: Path) -> None:
    action = create_cookiecutter_action(templates_root=TEMPLATES)
    result = asyncio.run(
        run_action(
            action,
            {"template": "service-python", "values": {"name": "dry-svc"}, "output": "svc"},
            workspace=tmp_path,
            attempt_key="k",
            dry_run=True,
        )
    )
    assert result.ok, result.error
    assert "README.md" in result.outputs["files"]
    assert not (tmp_path / "svc").exists()
