from pathlib import Path

from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG


def _app(tmp_path: Path, catalog_dir: Path = SAMPLE_CATALOG):
    return create_app(Settings(data_dir=tmp_path, catalog_dir=catalog_dir, heartbeat_seconds=0.2))


def test_readyz_reports_database_engine_and_catalog_when_ready(tmp_path):
    with TestClient(_app(tmp_path)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["engine"]["executorId"] == "pao-local"
    assert body["checks"]["catalog"]["offerings"] >= 9


def test_readyz_answers_503_naming_an_empty_catalog(tmp_path):
    empty = tmp_path / "catalog"
    empty.mkdir()
    with TestClient(_app(tmp_path / "data", empty)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    catalog = response.json()["checks"]["catalog"]
    assert catalog["ok"] is False
    assert "pao validate" in catalog["message"]
