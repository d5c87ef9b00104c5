"""The portal's server-rendered pages: cards, filters, offering detail, the generated form."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.persistence.db import Database
from pao_backend.persistence.migrate import migrate
from pao_backend.portal.routes import script_json
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(catalog_dir=SAMPLE_CATALOG, data_dir=tmp_path))
    db = Database(f"sqlite:///{tmp_path / 'pages.db'}")
    migrate(db)
    app.state.db = db
    yield TestClient(app)
    db.dispose()


def _visible_cards(html: str) -> set[str]:
    return set(re.findall(r'<li class="card" data-id="([^"]+)"[^>]*?(?<!hidden)>', html))


def test_catalog_home_lists_every_offering_with_owner_version_and_mode(client: TestClient) -> None:
    html = client.get("/").text
    for offering_id in ("bundle-webapp-standard", "database-postgresql-standard", "messaging-kafka-topic"):
        assert f'data-id="{offering_id}"' in html
    assert "Database Platform" in html and "v1.2.0" in html
    assert 'class="badge badge-manual"' in html and 'class="badge badge-automatic"' in html


def test_catalog_filters_by_mode_and_search_on_the_server_too(client: TestClient) -> None:
    html = client.get("/", params={"mode": "manual"}).text
    assert re.search(r'data-id="messaging-kafka-topic"[^>]*data-mode="manual"\s*>', html)
    assert re.search(r'data-id="database-postgresql-standard".*?\shidden>', html, re.S)
    searched = client.get("/", params={"q": "postgres"}).text
    assert re.search(r'data-id="database-postgresql-standard"[^>]*data-mode="automatic"\s*>', searched)


def test_offering_page_names_owner_contact_steps_and_fields(client: TestClient) -> None:
    html = client.get("/offerings/bundle-webapp-standard").text
    assert "dx@example.com" in html and "PostgreSQL Database" in html
    assert "Calls the provisioner API (POST /databases)" in html
    assert "Container Image" in html
    assert client.get("/offerings/no-such-thing").status_code == 404


def test_request_form_has_a_labelled_input_of_the_right_kind_for_every_field(client: TestClient) -> None:
    html = client.get("/offerings/database-postgresql-standard/request").text
    assert '<label for="f-name"' in html
    assert re.search(r'<select id="f-basic-instanceClass" name="basic.instanceClass"', html)
    assert re.search(r'<input type="number" id="f-basic-storageSize"[^>]*value="20"', html)
    assert re.search(r'<input type="checkbox" id="f-advanced-highAvailability"', html)
    assert re.search(r'<fieldset class="multi" id="f-advanced-extensions"', html)
    assert re.search(r'<input type="email" id="f-advanced-ownerEmail"', html)
    for dom_id in re.findall(r'<(?:input|select|textarea) [^>]*id="(f-[^"]+)"', html):
        assert f'for="{dom_id}"' in html, f"{dom_id} has no label"
    schema = json.loads(re.search(r'id="form-schema">(.*?)</script>', html, re.S).group(1))
    assert schema["properties"]["basic"]["properties"]["storageSize"]["maximum"] == 2000


def test_the_form_buttons_wait_for_the_script_that_handles_them(client: TestClient) -> None:
    # A click before form.js ran was lost (seen in CI: the plan never appeared); form.js enables them.
    html = client.get("/offerings/database-postgresql-standard/request").text
    for button in ("preview-btn", "submit-btn"):
        assert re.search(rf'<button [^>]*id="{button}"[^>]* disabled>', html), button


def test_password_fields_are_never_prefilled(client: TestClient) -> None:
    html = client.get("/offerings/security-secret-standard/request").text
    for tag in re.findall(r'<input type="password"[^>]*>', html):
        assert "value=" not in tag


def test_script_json_cannot_close_the_script_element() -> None:
    text = script_json({"x": "</script><script>alert(1)</script>"})
    assert "</" not in text and json.loads(text)["x"].startswith("</script>")


def test_other_pages_render(client: TestClient) -> None:
    for path in ("/requests", "/requests/abc", "/presets", "/inbox"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<main" in response.text


def test_a_preset_from_an_older_version_opens_with_the_changed_fields_pointed_out(client: TestClient) -> None:
    from datetime import UTC, datetime

    from pao_backend.presets.tables import PresetRow

    db: Database = client.app.state.db  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    with db.transaction() as session:
        session.add(
            PresetRow(
                id="old-preset",
                name="Old big database",
                description="",
                visibility="me",
                team=None,
                owner="user:default/dev",
                offering_id="database-postgresql-standard",
                offering_version="1.0.0",
                values={"name": "old-db", "basic": {"instanceClass": "xlarge", "storageSize": 50}},
                # Saved when the form had only these two fields and `xlarge` was still offered.
                fields={
                    "name": {"type": "string", "required": True},
                    "basic.instanceClass": {"type": "select", "enum": ["small", "xlarge"]},
                    "basic.storageSize": {"type": "number", "min": 20, "max": 2000},
                },
                created_at=now,
                updated_at=now,
            )
        )
    html = client.get("/offerings/database-postgresql-standard/request", params={"preset": "old-preset"}).text
    assert 'id="preset-notice"' in html and "v1.0.0 → v1.2.0" in html
    changes = re.search(r'<ul id="preset-changes">(.*?)</ul>', html, re.S).group(1)
    assert "basic.instanceClass" in changes and "no longer offers xlarge" in changes
    assert "basic.engineVersion" in changes  # a field added since
    meta = json.loads(re.search(r'id="form-meta">(.*?)</script>', html, re.S).group(1))
    assert meta["preset"]["values"]["basic"]["storageSize"] == 50
    assert (
        client.get("/offerings/database-postgresql-standard/request", params={"preset": "nope"}).status_code
        == 404
    )
