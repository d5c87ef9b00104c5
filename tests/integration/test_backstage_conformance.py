"""Backstage's own code against a live PAO: entity validation, CatalogClient and ScaffolderClient calls.

The Node scripts live in backstage-plugin/conformance/ and use the npm workspace's locked packages
(@backstage/catalog-model, catalog-client, plugin-scaffolder-common).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pao_backend.app import create_app
from pao_backend.catalog.store import Catalog
from pao_backend.settings import Settings
from tests.conftest import ROOT, SAMPLE_CATALOG, require_service
from tests.support.live_server import serve
from tests.support.provisioner import ProvisionerServer
from tests.unit.backstage.conftest import load_sample

pytestmark = pytest.mark.node

WORKSPACE = ROOT / "backstage-plugin"
CONFORMANCE = WORKSPACE / "conformance"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        require_service("Node.js (node on PATH)")
    modules = WORKSPACE / "node_modules" / "@backstage"
    for package in ("catalog-model", "catalog-client", "plugin-scaffolder-common"):
        if not (modules / package).is_dir():
            require_service(
                f"npm packages in backstage-plugin/ (run `npm ci` there): @backstage/{package} missing"
            )
    assert node is not None
    return node


def _run(node: str, script: str, *args: str) -> tuple[int, Any, str]:
    done = subprocess.run(
        [node, str(CONFORMANCE / script), *args], capture_output=True, text=True, timeout=120, cwd=CONFORMANCE
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        data = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        data = None
    return done.returncode, data, done.stderr + done.stdout


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_sample()


@pytest.fixture(scope="module")
def live_pao(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("pao"), catalog_dir=SAMPLE_CATALOG, base_url="http://pao.example.com"
    )
    with serve(create_app(settings)) as url:
        yield url


def _refs(kind: str, ids: Any) -> list[str]:
    return sorted(f"{kind}:default/{i}" for i in ids)


def test_every_template_and_group_passes_backstage_entity_validation(live_pao: str, catalog: Catalog) -> None:
    code, report, output = _run(_node(), "validate-entities.mjs", live_pao)
    assert report is not None, output
    assert report["failures"] == []
    assert code == 0, output
    assert report["kinds"] == {"Template": len(catalog.offerings()), "Group": len(catalog.teams)}


def test_catalog_client_gets_correct_answers(live_pao: str, catalog: Catalog) -> None:
    code, got, output = _run(_node(), "catalog-client.mjs", live_pao)
    assert code == 0 and got is not None, output
    offerings = [o.id for o in catalog.offerings()]
    assert got["templates"] == _refs("template", offerings)
    assert got["groups"] == _refs("group", catalog.teams)
    databases = [i.id for i in catalog.items.values() if i.metadata.category == "databases"]
    security = [i.id for i in catalog.items.values() if i.metadata.category == "security"]
    assert got["anyOf"] == sorted(_refs("group", catalog.teams) + _refs("template", databases))
    assert got["inValues"] == _refs("template", databases + security)
    assert got["exists"] == _refs("template", catalog.bundles)
    owned = [o.id for o in catalog.offerings() if o.metadata.owner.team == "platform-databases"]
    assert got["ownedBy"] == _refs("template", owned)
    assert got["fields"] == [{"kind": "Group", "metadata": {"name": t}} for t in sorted(catalog.teams)]
    assert got["ordered"] == sorted(offerings, reverse=True)
    assert got["totalItems"] == len(offerings)
    assert [name for page in got["pages"] for name in page] == sorted(offerings)
    assert all(len(page) <= 3 for page in got["pages"])
    assert got["streamed"] == _refs("template", offerings)
    assert got["byRef"] == "template:default/database-postgresql-standard"
    assert got["missing"] is None
    assert got["byRefs"] == [
        {"kind": "Group", "metadata": {"name": "platform-databases"}},
        None,
        {"kind": "Template", "metadata": {"name": "bundle-webapp-standard"}},
    ]
    facets = got["facets"]
    assert facets["kind"] == [{"value": "Template", "count": len(offerings)}]
    types = {f["value"]: f["count"] for f in facets["spec.type"]}
    assert types["bundle"] == len(catalog.bundles)
    owners = {f["value"]: f["count"] for f in facets["relations.ownedBy"]}
    assert sum(owners.values()) == len(offerings)
    assert {f["value"] for f in facets["metadata.tags"]} >= {"automatic", "manual"}


def test_scripts_are_in_the_workspace() -> None:
    for script in ("validate-entities.mjs", "catalog-client.mjs", "scaffolder-client.mjs", "package.json"):
        assert Path(CONFORMANCE / script).is_file()


@pytest.fixture(scope="module")
def live_pao_with_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    provisioner = ProvisionerServer(delay=0.0).start()
    settings = Settings(
        environment="test",
        data_dir=tmp_path_factory.mktemp("pao-engine"),
        catalog_dir=SAMPLE_CATALOG,
        base_url="http://pao.example.com",
        endpoints={"provisioner": provisioner.url},
        engine_poll_seconds=0.01,
        event_poll_seconds=0.05,
    )
    try:
        with serve(create_app(settings), lifespan="on") as url:
            yield url
    finally:
        provisioner.stop()


def test_scaffolder_client_runs_a_pao_request_as_a_task(live_pao_with_engine: str) -> None:
    code, got, output = _run(_node(), "scaffolder-client.mjs", live_pao_with_engine)
    assert code == 0 and got is not None, output
    assert got["parameterSchema"]["title"] == "PostgreSQL Database"
    assert got["parameterSchema"]["steps"][0] == "Name"
    assert got["actions"] == sorted(got["actions"]) and "pao:rest-api" in got["actions"]
    assert got["extensions"] == {"filters": {}, "globals": {"functions": {}, "values": {}}}
    assert got["dryRun"]["steps"] == [{"id": "database-postgresql-standard.1", "action": "pao:rest-api"}]
    streamed = got["streamed"]
    assert [e["id"] for e in streamed] == sorted(e["id"] for e in streamed)
    assert streamed[-1]["type"] == "completion"
    assert {e["type"] for e in streamed[:-1]} == {"log"}
    step = [e.get("status") for e in streamed if e.get("stepId") == "database-postgresql-standard.1"]
    step = [s for s in step if s]
    assert step[0] == "processing" and step[-1] == "completed"
    assert got["completion"]["message"] == "Run completed with status: completed"
    assert got["polled"] == [e["id"] for e in streamed]
    assert got["task"]["status"] == "completed"
    assert got["task"]["steps"][0]["id"] == "database-postgresql-standard.1"
    assert got["taskId"] in got["listed"]["ids"] and got["listed"]["totalTasks"] >= 1
    assert got["secretTask"] == {"completion": "Run completed with status: completed", "leaked": False}
