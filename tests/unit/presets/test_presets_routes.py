"""/api/pao/v1/presets over HTTP: shapes, validation errors per field, visibility by identity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.persistence.db import Database
from pao_backend.persistence.migrate import migrate
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG

OFFERING = "database-postgresql-standard"
GOOD = {"name": "orders-db", "basic": {"instanceClass": "medium", "storageSize": 100}}
JANE = {"X-PAO-On-Behalf-Of": "user:default/jane", "X-PAO-On-Behalf-Of-Teams": "team-a"}
BOB = {"X-PAO-On-Behalf-Of": "user:default/bob", "X-PAO-On-Behalf-Of-Teams": "team-a"}
EVE = {"X-PAO-On-Behalf-Of": "user:default/eve", "X-PAO-On-Behalf-Of-Teams": "team-b"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(catalog_dir=SAMPLE_CATALOG, data_dir=tmp_path, environment="development")
    app = create_app(settings)
    db = Database(f"sqlite:///{tmp_path / 'presets.db'}")
    migrate(db)
    app.state.db = db
    yield TestClient(app)
    db.dispose()


def test_create_list_get_update_delete_round_trip(client: TestClient) -> None:
    body = {"name": "Medium orders", "offeringId": OFFERING, "values": GOOD, "visibility": "team"}
    created = client.post("/api/pao/v1/presets", json=body, headers=JANE)
    assert created.status_code == 201, created.text
    preset = created.json()
    assert preset["offeringVersion"] == "1.2.0" and preset["team"] == "team-a" and preset["changes"] == []
    listed = client.get("/api/pao/v1/presets", params={"offeringId": OFFERING}, headers=BOB).json()
    assert [p["id"] for p in listed["items"]] == [preset["id"]] and listed["totalItems"] == 1
    assert client.get("/api/pao/v1/presets", headers=EVE).json()["items"] == []
    patched = client.patch(
        f"/api/pao/v1/presets/{preset['id']}", json={"description": "for reports"}, headers=JANE
    )
    assert patched.json()["description"] == "for reports"
    assert (
        client.patch(f"/api/pao/v1/presets/{preset['id']}", json={"name": "x"}, headers=BOB).status_code
        == 403
    )
    assert client.delete(f"/api/pao/v1/presets/{preset['id']}", headers=JANE).status_code == 204
    assert client.get(f"/api/pao/v1/presets/{preset['id']}", headers=JANE).status_code == 404


def test_invalid_values_come_back_as_422_with_dotted_field_paths(client: TestClient) -> None:
    bad = {"name": "Bad Name", "basic": {"instanceClass": "huge", "storageSize": 1}}
    response = client.post(
        "/api/pao/v1/presets", json={"name": "x", "offeringId": OFFERING, "values": bad}, headers=JANE
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["name"] == "InputError"
    assert {e["path"] for e in body["errors"]} == {"name", "basic.instanceClass", "basic.storageSize"}


def test_unknown_offering_is_404_and_missing_source_is_422(client: TestClient) -> None:
    missing = client.post(
        "/api/pao/v1/presets", json={"name": "x", "offeringId": "nope-nope-nope", "values": {}}, headers=JANE
    )
    assert missing.status_code == 404
    assert client.post("/api/pao/v1/presets", json={"name": "x"}, headers=JANE).status_code == 422
