"""The sample scaffolding offering end to end below the engine: catalog document → planner-rendered inputs →
pao:cookiecutter then pao:git-commit (real cookiecutter, real git) → a service in the services repository."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from pao_backend.catalog.loader import load_catalog
from pao_backend.orchestration.engine import default_registry
from pao_backend.orchestration.planner import SystemInfo, plan
from pao_backend.settings import Settings
from scaffolder_actions import run_action

ROOT = Path(__file__).resolve().parents[2]


def test_the_scaffolding_offering_renders_and_commits_a_service(tmp_path: Path) -> None:
    loaded = load_catalog(ROOT / "catalog")
    assert not [p for p in loaded.problems if p.severity == "error"]
    settings = Settings(environment="test", data_dir=tmp_path / "data", templates_dir=ROOT / "templates")
    registry = default_registry(settings)
    values = {
        "name": "orders-api",
        "service": {"description": "Orders", "owner": "payments", "pythonVersion": "3.12"},
    }
    the_plan = plan(
        loaded.catalog,
        "scaffolding-service-python",
        values,
        system=SystemInfo(request_id="req-42", user_id="user:default/amy", user_email="amy@example.com"),
    )
    (component,) = the_plan.components
    assert component.mode == "automatic"
    workspace = tmp_path / "workspace"
    outputs: dict[str, object] = {}
    for index, _ in enumerate(component.actions):
        rendered = the_plan.render(component.id, index, outputs=outputs)
        result = asyncio.run(
            run_action(
                registry.require(rendered.action_id),
                rendered.input,
                workspace=workspace,
                attempt_key=f"req-42/{component.id}/{index}",
            )
        )
        assert result.ok, result.error
        outputs.update(result.outputs)
    repo = tmp_path / "data" / "git" / "services.git"
    tree = subprocess.run(
        ["git", "--git-dir", str(repo), "ls-tree", "-r", "--name-only", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "orders-api/src/orders_api/__init__.py" in tree
    assert "orders-api/catalog-info.yaml" in tree
    message = subprocess.run(
        ["git", "--git-dir", str(repo), "log", "-1", "--format=%B", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Scaffold orders-api from service-python (requested by amy@example.com)" in message
    assert "PAO-Attempt: req-42/" in message
