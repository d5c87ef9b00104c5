import json

import pytest

SECRET = "zz-very-secret-value"


def _template(client, name):
    return client.get(f"/api/catalog/entities/by-name/template/default/{name}").json()


def test_parameter_schema_path_is_namespace_first_and_lists_one_step_per_page(client, sample_catalog):
    schema = client.get(
        "/api/scaffolder/v2/templates/default/template/database-postgresql-standard/parameter-schema"
    )
    assert schema.status_code == 200
    body = schema.json()
    item = sample_catalog.items["database-postgresql-standard"]
    assert body["title"] == item.metadata.name
    assert [s["title"] for s in body["steps"]] == ["Name", *(g.name for g in item.form.groups)]
    assert (
        body["steps"][1]["schema"]["properties"]["basic"]["properties"]["instanceClass"]["ui:widget"]
        == "select"
    )


def test_parameter_schema_of_a_non_template_kind_is_400_and_of_a_missing_one_404(client):
    wrong = client.get("/api/scaffolder/v2/templates/default/group/platform-databases/parameter-schema")
    assert wrong.status_code == 400
    missing = client.get("/api/scaffolder/v2/templates/default/template/nope/parameter-schema")
    assert missing.status_code == 404
    assert missing.json()["error"]["name"] == "NotFoundError"


def test_dry_run_renders_every_action_with_secrets_masked(client):
    template = _template(client, "security-secret-standard")
    response = client.post(
        "/api/scaffolder/v2/dry-run",
        json={
            "template": template,
            "values": {"name": "orders-db-url", "secret": {"value": "*" * len(SECRET), "rotationDays": 30}},
            "secrets": {"value": SECRET},  # Backstage's Secret widget keys by the bare field id
            "directoryContents": [],
        },
    )
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    body = response.json()
    step = body["steps"][0]
    assert step["id"] == "security-secret-standard.1"
    assert step["action"] == "pao:rest-api"
    assert step["input"]["url"].endswith("/secrets/orders-db-url")
    assert json.loads(step["input"]["body"])["value"] == "***"
    assert json.loads(step["input"]["body"])["rotationDays"] == 30
    statuses = [e["body"].get("status") for e in body["log"] if e["body"].get("stepId") == step["id"]]
    assert statuses == ["processing", None, "completed"]
    assert body["directoryContents"] == []


def test_dry_run_resolves_a_bundle_into_components_in_dependency_order(client, sample_catalog):
    template = _template(client, "bundle-webapp-standard")
    body = client.post(
        "/api/scaffolder/v2/dry-run",
        json={"template": template, "values": {"name": "shop", "app": {"image": "ghcr.io/acme/shop:1"}}},
    ).json()
    components = [s["id"].split(".")[0] for s in body["steps"]]
    assert components == [c.id for c in sample_catalog.bundles["bundle-webapp-standard"].components]


def test_dry_run_rejects_invalid_values_with_npm_jsonschema_errors(client):
    template = _template(client, "database-postgresql-standard")
    response = client.post(
        "/api/scaffolder/v2/dry-run",
        json={"template": template, "values": {"name": "Bad Name", "basic": {"storageSize": 5000}}},
    )
    assert response.status_code == 400
    errors = {e["property"]: e for e in response.json()["errors"]}
    assert errors["instance.basic.storageSize"]["name"] == "maximum"
    assert errors["instance.basic.storageSize"]["message"] == "must be less than or equal to 2000"
    assert errors["instance.basic.storageSize"]["path"] == ["basic", "storageSize"]
    assert errors["instance.name"]["name"] == "pattern"
    assert set(errors["instance.name"]) == {
        "path",
        "property",
        "message",
        "schema",
        "instance",
        "name",
        "argument",
        "stack",
    }


def test_invalid_values_also_carry_backstages_error_body_naming_the_fields(client):
    # (Q) `{errors}` alone made ResponseError.fromResponse show "Request failed with 400 Bad Request".
    template = _template(client, "database-postgresql-standard")
    response = client.post(
        "/api/scaffolder/v2/dry-run",
        json={"template": template, "values": {"name": "orders-db", "basic": {"storageSize": 5000}}},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["name"] == "InputError"
    assert "basic.storageSize must be less than or equal to 2000" in body["error"]["message"]
    assert body["request"] == {"method": "POST", "url": "/api/scaffolder/v2/dry-run"}
    assert body["response"] == {"statusCode": 400}
    assert [e["property"] for e in body["errors"]] == ["instance.basic.storageSize"]


def test_dry_run_of_something_that_is_not_a_template_is_400(client):
    response = client.post(
        "/api/scaffolder/v2/dry-run", json={"template": {"kind": "Component"}, "values": {}}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Input template is not a template"


def test_native_plan_is_the_same_plan(client):
    values = {"name": "orders-db-url", "secret": {"value": SECRET}}
    response = client.post(
        "/api/pao/v1/plan", json={"catalogId": "security-secret-standard", "values": values}
    )
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    plan = response.json()
    assert plan["kind"] == "item"
    action = plan["components"][0]["actions"][0]
    assert action["stepId"] == "security-secret-standard.1"
    assert json.loads(action["input"]["body"])["value"] == "***"
    assert plan["components"][0]["manualActions"][0]["action"] == "pao:jira-ticket"


@pytest.mark.parametrize("secrets", [None, {"secret.value": "x" * 5000}])
def test_native_plan_rejects_invalid_values_with_422_field_errors(client, secrets):
    response = client.post(
        "/api/pao/v1/plan",
        json={
            "catalogId": "security-secret-standard",
            "values": {"name": "x", "secret": {}},
            "secrets": secrets,
        },
    )
    assert response.status_code == 422
    paths = {e["path"] for e in response.json()["errors"]}
    assert "name" in paths
    assert ("secret.value" in paths) == (secrets is not None)
    assert "xxxxx" not in response.text


def test_templating_extensions_lists_none(client):
    assert client.get("/api/scaffolder/v2/templating-extensions").json() == {
        "filters": {},
        "globals": {"functions": {}, "values": {}},
    }


def test_native_plan_fills_defaults_before_validating(client):
    response = client.post(
        "/api/pao/v1/plan", json={"catalogId": "bundle-webapp-standard", "values": {"name": "orders"}}
    )
    assert response.status_code == 200, response.text
    app = next(c for c in response.json()["components"] if c["id"] == "app")
    assert "ghcr.io/example/hello:1.0.0" in json.dumps(app["actions"][0]["input"])
