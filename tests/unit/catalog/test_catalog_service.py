"""CatalogService: reloads swap snapshots; a broken edit never replaces the last good version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pao_backend.api.deps import CatalogDep
from pao_backend.catalog.service import CatalogService
from tests.conftest import FIXTURES

VALID = FIXTURES / "catalog" / "valid"
ITEM = "databases/database-fixture-standard.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(VALID, target)
    return target


def test_loads_at_start_and_reload_without_changes_reports_unchanged(root: Path) -> None:
    service = CatalogService(root)
    assert set(service.current.items) == {"database-fixture-standard", "compute-fixture-app"}
    result = service.reload()
    assert result.changed is False
    assert result.etag == service.etag == service.current.etag
    assert result.problems == []


def test_a_valid_edit_is_served_after_reload(root: Path) -> None:
    service = CatalogService(root)
    before = service.etag
    file = root / ITEM
    file.write_text(file.read_text().replace("version: 2.1.0-rc.1", "version: 2.2.0"))
    result = service.reload()
    assert result.changed and result.etag != before
    assert service.current.items["database-fixture-standard"].metadata.version == "2.2.0"


def test_a_broken_edit_keeps_the_last_good_version_and_reports_why(root: Path) -> None:
    service = CatalogService(root)
    old = service.current
    file = root / ITEM
    file.write_text(file.read_text().replace("type: number, default: 20", "type: number, default: twenty"))
    result = service.reload()
    assert result.changed is False
    assert service.current.items["database-fixture-standard"] is old.items["database-fixture-standard"]
    assert "bundle-fixture-standard" in service.current.bundles
    codes = {p.code for p in result.problems}
    assert {"E403", "W709"} <= codes
    assert any(p.code == "W709" and "2.1.0-rc.1" in p.message for p in service.findings)
    assert service.current.sources["database-fixture-standard"] == ITEM


def test_a_new_broken_document_is_simply_not_served(root: Path) -> None:
    service = CatalogService(root)
    (root / "databases" / "database-new-standard.yaml").write_text("schemaVersion: catalog/v1\nkind: [\n")
    result = service.reload()
    assert [p.code for p in result.errors] == ["E100"]
    assert "database-new-standard" not in service.current.items


def test_a_deleted_document_disappears(root: Path) -> None:
    service = CatalogService(root)
    (root / "bundles" / "bundle-fixture-standard.yaml").unlink()
    assert service.reload().changed
    assert service.current.bundles == {}


def test_broken_teams_yaml_keeps_the_last_good_teams(root: Path) -> None:
    service = CatalogService(root)
    (root / "teams.yaml").write_text("teams: {}\n")
    result = service.reload()
    assert set(service.current.teams) == {"developer-experience", "platform-compute", "platform-databases"}
    assert "W709" in {p.code for p in result.problems}


def test_catalog_dep_gives_routes_the_current_snapshot(root: Path) -> None:
    app = FastAPI()
    app.state.catalog = CatalogService(root)

    @app.get("/ids")
    def ids(catalog: CatalogDep) -> list[str]:
        return sorted(catalog.items)

    with TestClient(app) as client:
        assert client.get("/ids").json() == ["compute-fixture-app", "database-fixture-standard"]


def test_create_app_loads_the_configured_catalog(root: Path, tmp_path: Path) -> None:
    from pao_backend.app import create_app
    from pao_backend.settings import Settings

    app = create_app(Settings(catalog_dir=root, data_dir=tmp_path / "data"))
    service = app.state.catalog
    assert isinstance(service, CatalogService)
    assert "bundle-fixture-standard" in service.current.bundles
