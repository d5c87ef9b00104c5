import shutil

import yaml
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from tests.conftest import SAMPLE_CATALOG
from tests.unit.backstage.conftest import sample_settings


def _ids(page):
    return [item["id"] for item in page["items"]]


def test_list_filters_by_category_owner_mode_tags_and_searches(client, sample_catalog):
    everything = client.get("/api/pao/v1/catalog").json()
    assert everything["totalItems"] == len(sample_catalog.offerings())
    assert everything["etag"] == sample_catalog.etag
    databases = client.get("/api/pao/v1/catalog", params={"category": "databases"}).json()
    assert _ids(databases) == sorted(
        i.id for i in sample_catalog.items.values() if i.metadata.category == "databases"
    )
    owned = client.get("/api/pao/v1/catalog", params={"owner": "developer-experience"}).json()
    assert set(_ids(owned)) == {
        o.id for o in sample_catalog.offerings() if o.metadata.owner.team == "developer-experience"
    }
    manual = client.get("/api/pao/v1/catalog", params={"mode": "manual", "kind": "CatalogItem"}).json()
    assert set(_ids(manual)) == {i.id for i in sample_catalog.items.values() if i.mode == "manual"}
    tagged = client.get("/api/pao/v1/catalog", params={"tags": "postgres,sql"}).json()
    assert _ids(tagged) == ["database-postgresql-standard"]
    found = client.get("/api/pao/v1/catalog", params={"q": "postgresql database"}).json()
    assert "database-postgresql-standard" in _ids(found)
    bundles = client.get("/api/pao/v1/catalog", params={"category": "bundle"}).json()
    assert all(item["components"] for item in bundles["items"]) and bundles["items"]


def test_one_document_its_form_template_source_and_findings(client, sample_catalog):
    item = sample_catalog.items["security-secret-standard"]
    document = client.get("/api/pao/v1/catalog/security-secret-standard").json()
    assert document["version"] == item.metadata.version
    assert document["owner"]["teamName"] == sample_catalog.teams[item.metadata.owner.team].name
    assert document["document"]["kind"] == "CatalogItem"
    form = client.get("/api/pao/v1/catalog/security-secret-standard/form").json()
    assert form["schema"]["properties"]["secret"]["properties"]["value"]["type"] == "string"
    assert form["uiSchema"]["secret"]["value"]["ui:field"] == "Secret"
    assert form["secretKeys"] == ["secret.value"]
    template = client.get("/api/pao/v1/catalog/security-secret-standard/template")
    assert template.headers["content-type"].startswith("application/yaml")
    entity = yaml.safe_load(template.text)
    assert (
        entity == client.get("/api/catalog/entities/by-name/template/default/security-secret-standard").json()
    )
    source = yaml.safe_load(client.get("/api/pao/v1/catalog/security-secret-standard/source").text)
    assert source["metadata"]["id"] == "security-secret-standard"
    findings = client.get("/api/pao/v1/catalog/security-secret-standard/findings").json()
    assert findings["errors"] == 0
    assert all("security-secret-standard.yaml" in f["path"] for f in findings["findings"])
    missing = client.get("/api/pao/v1/catalog/nope")
    assert missing.status_code == 404 and missing.json()["error"]["name"] == "NotFoundError"


def test_etag_endpoint_sends_the_etag_as_header_too(client):
    response = client.get("/api/pao/v1/catalog/etag")
    assert response.headers["etag"] == f'"{response.json()["etag"]}"'


def test_teams_are_listed(client, sample_catalog):
    assert [t["id"] for t in client.get("/api/pao/v1/catalog/teams").json()] == sorted(sample_catalog.teams)


def test_refresh_keeps_serving_the_last_good_document_and_reports_findings(tmp_path):
    root = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, root)
    client = TestClient(create_app(sample_settings(tmp_path, catalog_dir=root)))
    before = client.get("/api/pao/v1/catalog/etag").json()["etag"]
    path = root / "databases" / "database-postgresql-standard.yaml"
    good = path.read_text()
    path.write_text(
        good.replace("version: 1.2.0", "version: 1.3.0").replace("type: select", "type: dropdown", 1)
    )
    refreshed = client.post("/api/pao/v1/catalog/refresh").json()
    assert refreshed["errors"] >= 1
    assert any(
        "database-postgresql-standard" in f["path"] for f in refreshed["findings"] if f["severity"] == "error"
    )
    served = client.get("/api/pao/v1/catalog/database-postgresql-standard").json()
    assert served["version"] == "1.2.0"
    template = client.get(
        "/api/catalog/entities/by-name/template/default/database-postgresql-standard"
    ).json()
    assert template["metadata"]["annotations"]["pao.dev/version"] == "1.2.0"

    path.write_text(good.replace("version: 1.2.0", "version: 1.3.0"))
    fixed = client.post("/api/pao/v1/catalog/refresh").json()
    assert fixed["changed"] is True and fixed["errors"] == 0
    assert fixed["etag"] != before
    template = client.get(
        "/api/catalog/entities/by-name/template/default/database-postgresql-standard"
    ).json()
    assert template["metadata"]["annotations"]["pao.dev/version"] == "1.3.0"


def test_openapi_documents_every_catalog_route_with_a_summary(client):
    paths = client.get("/openapi.json").json()["paths"]
    mine = {
        p: ops
        for p, ops in paths.items()
        if p.startswith(("/api/catalog", "/api/scaffolder", "/api/pao/v1/catalog"))
    }
    assert "/api/pao/v1/plan" in paths
    assert len(mine) >= 18
    assert all(op.get("summary") for ops in mine.values() for op in ops.values())
