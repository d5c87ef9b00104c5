from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from pao_backend.catalog.loader import load_catalog
from pao_backend.catalog.models import Action, CatalogBundle, CatalogItem
from pao_backend.catalog.store import Catalog
from pao_backend.errors import InputError, NotFoundError
from pao_backend.orchestration.planner import (
    ActionInputError,
    OutputError,
    SystemInfo,
    extract_outputs,
    plan,
    render_action,
    system_scope,
)
from pao_backend.templating import Secret
from scaffolder_actions.actions.cookiecutter import CookiecutterInput
from scaffolder_actions.actions.git_commit import GitCommitInput
from scaffolder_actions.actions.jira_ticket import JiraTicketInput
from scaffolder_actions.actions.rest_api import RestApiInput
from tests.conftest import SAMPLE_CATALOG

SYSTEM = SystemInfo(
    request_id="req-123",
    user_id="user:default/jdoe",
    user_name="Jane Doe",
    user_email="jdoe@example.com",
    user_teams=("group:default/payments",),
    platform={"account": "acct-1", "region": "eu-west-1", "environment": "test"},
    secrets={"dbToken": "t0ken-secret", "dns": {"key": "dns-key"}},
    now=datetime(2026, 11, 26, 16, 30, 5, tzinfo=UTC),
    uuid="0b5c2f9e-1111-2222-3333-444455556666",
)
ENDPOINTS = {"provisioner": "http://127.0.0.1:9/demo/provisioner/"}


def item(
    item_id: str, *, mode: str = "automatic", groups: Any = None, automatic: Any = None, manual: Any = None
) -> CatalogItem:
    return CatalogItem.model_validate(
        {
            "schemaVersion": "catalog/v1",
            "kind": "CatalogItem",
            "metadata": {
                "id": item_id,
                "name": item_id,
                "description": "d",
                "version": "1.0.0",
                "category": item_id.split("-")[0],
                "owner": {"team": "team-" + item_id.split("-")[0], "contact": "x@example.com"},
                "port": "5432",
            },
            "input": {"form": {"name": "Name", "groups": groups or []}},
            "fulfillment": {
                "strategy": {"mode": mode},
                "manual": {
                    "actions": manual
                    or [
                        {
                            "type": "jira-ticket",
                            "config": {
                                "ticket": {
                                    "project": "OPS",
                                    "issueType": "Task",
                                    "summaryTemplate": "{{.current.name}}",
                                }
                            },
                        }
                    ]
                },
                **({"automatic": {"actions": automatic}} if automatic else {}),
            },
        }
    )


def rest(
    url: str, body: str | None = None, outputs: dict[str, str] | None = None, base: str | None = None
) -> dict[str, Any]:
    endpoint = {"url": url, "method": "post", **({"base": base} if base else {})}
    config: dict[str, Any] = {"endpoint": endpoint}
    if body is not None:
        config["body"] = {"type": "json", "contentTemplate": body}
    return {"type": "rest-api", "config": config, "outputs": outputs or {}}


DB = item(
    "database-pg-small",
    groups=[
        {
            "id": "basic",
            "name": "Basic",
            "fields": [
                {"id": "size", "name": "Size", "type": "number", "default": 20},
                {"id": "class", "name": "Class", "type": "select", "enum": ["s", "m"], "default": "s"},
                {"id": "password", "name": "Password", "type": "password"},
            ],
        }
    ],
    automatic=[
        rest(
            "https://db.internal/instances",
            '{"name": "{{.current.name}}", "size": {{.current.basic.size}},'
            ' "class": "{{.current.basic.class}}", "pw": "{{.current.basic.password}}"}',
            {"dbUrl": "response.body.connection.url", "dbId": "response.body.id"},
        )
    ],
)
SECRET = item(
    "security-secret-std",
    automatic=[
        rest(
            "/secrets/{{.current.name}}",
            '{"db": "{{.output.dbUrl}}"}',
            {"ref": "response.body.ref"},
            base="provisioner",
        )
    ],
)
APP = item(
    "compute-app-std",
    groups=[
        {
            "id": "app",
            "name": "App",
            "fields": [{"id": "replicas", "name": "R", "type": "number", "default": 2}],
        }
    ],
    automatic=[
        rest("https://apps.internal/apps", '{"n": {{.current.app.replicas}}, "s": "{{.output.ref}}"}')
    ],
)
DNS = item("networking-dns-std", mode="manual")


def bundle(components: list[dict[str, Any]], groups: Any = None) -> CatalogBundle:
    return CatalogBundle.model_validate(
        {
            "schemaVersion": "catalog/v1",
            "kind": "CatalogBundle",
            "metadata": {
                "id": "bundle-stack-std",
                "name": "Stack",
                "description": "d",
                "version": "2.0.0",
                "owner": {"team": "dx", "contact": "dx@example.com"},
            },
            "components": components,
            "input": {"form": {"name": "Stack", "groups": groups or []}},
        }
    )


STACK = bundle(
    [
        {"id": "app", "catalogItem": "compute-app-std", "dependsOn": ["db", "secret"]},
        {"id": "db", "catalogItem": "database-pg-small"},
        {"id": "dns", "catalogItem": "networking-dns-std"},
        {"id": "secret", "catalogItem": "security-secret-std", "dependsOn": ["db"]},
    ],
    groups=[
        {
            "id": "basic",
            "name": "Basic",
            "fields": [{"id": "size", "name": "Size", "type": "number", "default": 50}],
        },
        {"id": "app", "name": "App", "fields": [{"id": "replicas", "name": "R", "type": "number"}]},
    ],
)


def catalog(*docs: CatalogItem | CatalogBundle) -> Catalog:
    items = {d.id: d for d in docs if isinstance(d, CatalogItem)}
    bundles = {d.id: d for d in docs if isinstance(d, CatalogBundle)}
    return Catalog(items=items, bundles=bundles)


CATALOG = catalog(DB, SECRET, APP, DNS, STACK)


# ---- items ---------------------------------------------------------------------------------------


def test_an_item_is_one_component_with_its_modes_actions_and_the_manual_list_kept() -> None:
    result = plan(CATALOG, "database-pg-small", {"name": "orders", "basic": {"size": 100}}, system=SYSTEM)
    assert result.kind == "item"
    (component,) = result.components
    assert (component.id, component.item_id, component.mode, component.depends_on) == (
        "database-pg-small",
        "database-pg-small",
        "automatic",
        (),
    )
    assert component.team == "team-database"
    assert [a.type for a in component.actions] == ["rest-api"]
    assert [a.type for a in component.manual_actions] == ["jira-ticket"]
    body = json.loads(component.actions[0].preview.input["body"])
    assert body == {"name": "orders", "size": 100, "class": "s", "pw": ""}


def test_a_manual_item_runs_its_manual_actions() -> None:
    (component,) = plan(CATALOG, "networking-dns-std", {"name": "www"}, system=SYSTEM).components
    assert component.mode == "manual"
    assert component.actions == component.manual_actions
    assert component.actions[0].preview.input["summary"] == "www"


def test_unknown_offering_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        plan(CATALOG, "nope-nope-nope", {"name": "x"}, system=SYSTEM)


def test_password_values_are_secret_in_input_and_redacted_in_display() -> None:
    values = {"name": "orders", "basic": {"password": 'p@ss"word'}}
    (component,) = plan(CATALOG, "database-pg-small", values, system=SYSTEM).components
    preview = component.actions[0].preview
    assert json.loads(preview.input["body"])["pw"] == 'p@ss"word'
    assert json.loads(preview.display["body"])["pw"] == "***"
    assert 'p@ss"word' in preview.secrets
    assert isinstance(component.current["basic"]["password"], Secret)


# ---- bundles -------------------------------------------------------------------------------------


def test_bundle_components_come_in_stable_dependency_order() -> None:
    result = plan(CATALOG, "bundle-stack-std", {"name": "shop"}, system=SYSTEM, endpoints=ENDPOINTS)
    assert result.kind == "bundle"
    assert result.version == "2.0.0"
    assert [c.id for c in result.components] == ["db", "dns", "secret", "app"]
    assert result.depends_on == {"db": (), "dns": (), "secret": ("db",), "app": ("db", "secret")}


def test_ready_lists_components_whose_dependencies_completed() -> None:
    result = plan(CATALOG, "bundle-stack-std", {"name": "shop"}, system=SYSTEM, endpoints=ENDPOINTS)
    assert [c.id for c in result.ready([])] == ["db", "dns"]
    assert [c.id for c in result.ready([], started_ids=["db"])] == ["dns"]
    assert [c.id for c in result.ready(["db"])] == ["dns", "secret"]
    assert [c.id for c in result.ready(["db", "dns", "secret"])] == ["app"]
    assert result.ready(["db", "dns", "secret", "app"]) == []


def test_bundle_values_deep_merge_over_item_defaults_and_name_is_shared() -> None:
    result = plan(
        CATALOG,
        "bundle-stack-std",
        {"name": "shop", "app": {"replicas": 5}},
        system=SYSTEM,
        endpoints=ENDPOINTS,
    )
    db = result.component("db")
    # Bundle default (50) wins over the item default (20); the item's own `class` default stays.
    assert db.current["basic"] == {"size": 50, "class": "s", "password": None}
    assert db.current["name"] == "shop"
    assert json.loads(result.component("app").actions[0].preview.input["body"])["n"] == 5


def test_outputs_show_as_placeholders_at_plan_time_and_null_at_run_time() -> None:
    result = plan(CATALOG, "bundle-stack-std", {"name": "shop"}, system=SYSTEM, endpoints=ENDPOINTS)
    secret = result.component("secret")
    assert json.loads(secret.actions[0].preview.display["body"]) == {"db": "<output:dbUrl>"}
    assert secret.actions[0].preview.input["url"] == "http://127.0.0.1:9/demo/provisioner/secrets/shop"
    assert json.loads(result.render("secret", 0, outputs={}).input["body"]) == {"db": ""}
    run = result.render("secret", 0, outputs={"dbUrl": 'pg://h/"x"'})
    assert json.loads(run.input["body"]) == {"db": 'pg://h/"x"'}


def test_bundle_cycles_and_unknown_dependencies_are_input_errors() -> None:
    cyclic = bundle(
        [
            {"id": "a", "catalogItem": "database-pg-small", "dependsOn": ["b"]},
            {"id": "b", "catalogItem": "database-pg-small", "dependsOn": ["a"]},
        ]
    )
    with pytest.raises(InputError, match="cycle"):
        plan(catalog(DB, cyclic), cyclic.id, {"name": "x"}, system=SYSTEM)
    dangling = bundle([{"id": "a", "catalogItem": "database-pg-small", "dependsOn": ["zzz"]}])
    with pytest.raises(InputError, match="unknown zzz"):
        plan(catalog(DB, dangling), dangling.id, {"name": "x"}, system=SYSTEM)


# ---- .system -------------------------------------------------------------------------------------


def test_system_scope_holds_request_time_user_platform_and_secrets() -> None:
    scope = system_scope(SYSTEM)
    assert scope["requestId"] == scope["correlationId"] == "req-123"
    assert (scope["timestamp"], scope["date"], scope["time"]) == (
        "2026-11-26T16:30:05Z",
        "2026-11-26",
        "16:30:05",
    )
    assert scope["shortId"] == "0b5c2f9e"
    assert scope["user"] == {
        "id": "user:default/jdoe",
        "name": "Jane Doe",
        "email": "jdoe@example.com",
        "teams": ["group:default/payments"],
    }
    assert scope["platform"] == {"account": "acct-1", "region": "eu-west-1", "environment": "test"}
    assert scope["secrets"]["dbToken"] == Secret("t0ken-secret")
    assert scope["secrets"]["dns"]["key"] == Secret("dns-key")


# ---- render_action per type ----------------------------------------------------------------------


def scope(**current: Any) -> dict[str, Any]:
    return {
        "current": {"name": "orders", **current},
        "output": {},
        "metadata": {},
        "system": system_scope(SYSTEM),
    }


def test_rest_api_input_has_every_part_rendered_in_its_context() -> None:
    action = Action.model_validate(
        {
            "type": "rest-api",
            "config": {
                "endpoint": {
                    "base": "provisioner",
                    "url": "/dbs/{{.current.name}}?q={{.current.q}}",
                    "method": "put",
                },
                "headers": {
                    "Authorization": "Bearer {{.system.secrets.dbToken}}",
                    "X-Note": "{{.current.q}}",
                },
                "body": {"type": "json", "contentTemplate": '{"q": "{{.current.q}}"}'},
                "retry": {"attempts": 3},
                "timeout": 30,
                "authentication": {"type": "bearer", "credential": "prov"},
            },
        }
    )
    rendered = render_action(action, scope(q="a&b\r\nX: 1"), for_display=False, endpoints=ENDPOINTS)
    assert rendered.action_id == "pao:rest-api"
    assert rendered.input == {
        "url": "http://127.0.0.1:9/demo/provisioner/dbs/orders?q=a%26b%0D%0AX%3A%201",
        "method": "PUT",
        "headers": {"Authorization": "Bearer t0ken-secret", "X-Note": "a&b  X: 1"},
        "body": '{"q": "a&b\\r\\nX: 1"}',
        "contentType": "application/json",
        "timeout": 30,
        "retry": {"attempts": 3, "backoff": "exponential"},
        "authentication": {"type": "bearer", "credential": "prov"},
        "expectedStatus": None,
    }
    assert rendered.display["headers"]["Authorization"] == "Bearer ***"
    assert "t0ken-secret" in rendered.secrets
    assert "t0ken-secret" not in json.dumps(rendered.display)


def test_rest_api_input_validates_against_the_action_input_model() -> None:
    result = plan(CATALOG, "bundle-stack-std", {"name": "shop"}, system=SYSTEM, endpoints=ENDPOINTS)
    for component in result.components:
        for action in component.actions:
            if action.type == "rest-api":
                RestApiInput.model_validate(action.preview.input)


def test_rest_api_form_data_and_text_bodies() -> None:
    form = Action.model_validate(
        {
            "type": "rest-api",
            "config": {
                "endpoint": {"url": "https://h/x", "method": "POST"},
                "body": {"type": "form-data", "contentTemplate": "name={{.current.name}}&q={{.current.q}}"},
            },
        }
    )
    rendered = render_action(form, scope(q="a&admin=1"), for_display=False)
    assert rendered.input["body"] == "name=orders&q=a%26admin%3D1"
    assert rendered.input["contentType"] == "application/x-www-form-urlencoded"


def test_rest_api_needs_an_absolute_url_or_a_configured_base() -> None:
    relative = Action.model_validate(
        {"type": "rest-api", "config": {"endpoint": {"url": "/x", "method": "GET"}}}
    )
    with pytest.raises(ActionInputError, match="absolute"):
        render_action(relative, scope(), for_display=False)
    based = Action.model_validate(
        {"type": "rest-api", "config": {"endpoint": {"base": "nowhere", "url": "/x", "method": "GET"}}}
    )
    with pytest.raises(ActionInputError, match="PAO_ENDPOINTS"):
        render_action(based, scope(), for_display=False, endpoints=ENDPOINTS)


def test_jira_ticket_input_escapes_markup_and_defaults_priority() -> None:
    action = Action.model_validate(
        {
            "type": "jira-ticket",
            "config": {
                "ticket": {
                    "project": "DBA",
                    "issueType": "Task",
                    "summaryTemplate": "DB {{.current.name}} for {{.system.user.email}}",
                    "descriptionTemplate": "Notes: {{.current.notes}}\nTags: {{.current.tags}}",
                    "labels": ["pao"],
                    "customFields": {"customfield_1": "{{.current.name}}", "customfield_2": 5},
                }
            },
        }
    )
    rendered = render_action(action, scope(notes="[x|http://evil] {code}", tags=["a", "b"]), for_display=True)
    assert rendered.input == {
        "project": "DBA",
        "issueType": "Task",
        "priority": "Medium",
        "labels": ["pao"],
        "components": [],
        "summary": "DB orders for jdoe@example.com",
        "description": "Notes: \\[x\\|http://evil\\] \\{code\\}\nTags: a, b",
        "epicKey": None,
        "customFields": {"customfield_1": "orders", "customfield_2": 5},
    }
    JiraTicketInput.model_validate(rendered.input)


def test_jira_summary_longer_than_255_characters_is_an_error() -> None:
    action = Action.model_validate(
        {
            "type": "jira-ticket",
            "config": {
                "ticket": {"project": "DBA", "issueType": "Task", "summaryTemplate": "{{.current.n}}"}
            },
        }
    )
    with pytest.raises(ActionInputError, match="255"):
        render_action(action, scope(n="x" * 256), for_display=False)
    assert render_action(action, scope(n="a\nb"), for_display=False).input["summary"] == "a b"


def test_cookiecutter_values_render_as_text() -> None:
    action = Action.model_validate(
        {
            "type": "cookiecutter",
            "config": {
                "template": "service-python",
                "values": {"service": "{{.current.name}}", "port": 8080},
                "output": "svc",
            },
        }
    )
    rendered = render_action(action, scope(), for_display=False)
    assert rendered.input == {
        "template": "service-python",
        "values": {"service": "orders", "port": 8080},
        "output": "svc",
    }


def git_action(path: str, branch: str = "main") -> Action:
    return Action.model_validate(
        {
            "type": "git-commit",
            "config": {
                "repository": "services",
                "branch": branch,
                "files": [
                    {"path": path, "operation": "create", "contentTemplate": "name: {{.current.name}}\n"}
                ],
                "commitMessage": "Add {{.current.name}}",
            },
        }
    )


def test_git_commit_input_renders_paths_contents_and_message() -> None:
    rendered = render_action(git_action("dns/{{.current.name}}.yaml"), scope(), for_display=False)
    assert rendered.input == {
        "repository": "services",
        "branch": "main",
        "files": [{"path": "dns/orders.yaml", "operation": "create", "content": "name: orders\n"}],
        "commitMessage": "Add orders",
        "createPullRequest": False,
        "createRepository": False,
        "fromWorkspace": None,
    }
    GitCommitInput.model_validate(rendered.input)


@pytest.mark.parametrize("name", ["../../etc", "..", "a/../../b"])
def test_git_commit_paths_cannot_leave_the_repository(name: str) -> None:
    with pytest.raises(ActionInputError, match="relative path"):
        render_action(git_action("{{.current.name}}/x.yaml"), scope(name=name), for_display=False)


@pytest.mark.parametrize("path", ["/etc/passwd", "C:/x", "\\\\server\\x"])
def test_git_commit_absolute_paths_are_rejected(path: str) -> None:
    with pytest.raises(ActionInputError):
        render_action(git_action(path), scope(), for_display=False)


def test_git_commit_branch_names_are_checked() -> None:
    with pytest.raises(ActionInputError, match="branch"):
        render_action(git_action("a.txt", branch="{{.current.name}}"), scope(name="x..y"), for_display=False)


def test_unknown_current_values_are_errors_naming_the_action_and_key() -> None:
    action = Action.model_validate(
        {"type": "cookiecutter", "config": {"template": "t", "values": {"v": "{{.current.nope.x}}"}}}
    )
    with pytest.raises(ActionInputError, match=r"cookiecutter action, `values.v`: .*\.current\.nope\.x"):
        render_action(action, scope(), for_display=True)


# ---- outputs -------------------------------------------------------------------------------------


def test_outputs_are_read_from_declared_sources() -> None:
    action = Action.model_validate(
        {
            "type": "rest-api",
            "config": {},
            "outputs": {
                "status": "response.status",
                "loc": "response.headers.Location",
                "url": "response.body.connection.url",
                "first": "response.body.items.0.id",
            },
        }
    )
    result = {
        "status": 201,
        "headers": {"location": "/x/1"},
        "body": {"connection": {"url": "pg://h"}, "items": [{"id": "i1"}]},
    }
    assert extract_outputs(action, result) == {"status": 201, "loc": "/x/1", "url": "pg://h", "first": "i1"}


def test_whole_headers_and_bodies_and_action_outputs_can_be_declared() -> None:
    action = Action.model_validate(
        {
            "type": "git-commit",
            "config": {},
            "outputs": {"h": "response.headers", "b": "response.body", "sha": "output.commit"},
        }
    )
    result = {"headers": {"X-A": "1"}, "body": [1, 2], "commit": "abc123"}
    assert extract_outputs(action, result) == {"h": {"x-a": "1"}, "b": [1, 2], "sha": "abc123"}


def test_ticket_outputs_read_key_url_and_fields() -> None:
    action = Action.model_validate(
        {
            "type": "jira-ticket",
            "config": {},
            "outputs": {
                "k": "ticket.key",
                "u": "ticket.url",
                "i": "ticket.id",
                "f": "ticket.fields.customfield_1",
            },
        }
    )
    result = {"key": "DBA-1", "url": "https://j/DBA-1", "id": "1", "fields": {"customfield_1": "pg://h"}}
    assert extract_outputs(action, result) == {"k": "DBA-1", "u": "https://j/DBA-1", "i": "1", "f": "pg://h"}


@pytest.mark.parametrize(
    ("source", "result", "message"),
    [
        ("response.body.connection.url", {"body": {"connection": {}}}, "no `url` at `connection`"),
        ("response.body.id", {"body": "plain text"}, "no `id`"),
        ("response.headers.X-Id", {"headers": {}}, "no `x-id`"),
        ("ticket.fields.customfield_9", {"key": "A-1", "fields": {"customfield_9": None}}, "is empty"),
        ("ticket.fields.customfield_9", {"key": "A-1"}, "fields were not read"),
        ("nowhere.x", {}, "unknown source"),
    ],
)
def test_missing_output_sources_raise_clear_errors(source: str, result: dict[str, Any], message: str) -> None:
    action = Action.model_validate({"type": "rest-api", "config": {}, "outputs": {"k": source}})
    with pytest.raises(OutputError, match=message):
        extract_outputs(action, result)


# ---- the sample catalog --------------------------------------------------------------------------


INPUT_MODELS: dict[str, type[BaseModel]] = {
    "rest-api": RestApiInput,
    "jira-ticket": JiraTicketInput,
    "cookiecutter": CookiecutterInput,
    "git-commit": GitCommitInput,
}


def sample_catalog() -> Catalog:
    loaded = load_catalog(SAMPLE_CATALOG)
    assert [p for p in loaded.problems if p.severity == "error"] == []
    return loaded.catalog


def test_every_sample_offering_plans_with_previews() -> None:
    sample = sample_catalog()
    assert sample.items and sample.bundles
    for offering in sample.offerings():
        result = plan(sample, offering.id, {"name": "orders-db"}, system=SYSTEM, endpoints=ENDPOINTS)
        assert result.components
        for component in result.components:
            for action in (*component.actions, *component.manual_actions):
                assert action.preview.input and action.preview.display
                INPUT_MODELS[action.type].model_validate(action.preview.input)


def test_sample_webapp_bundle_flows_the_database_url_into_the_secret() -> None:
    sample = sample_catalog()
    result = plan(sample, "bundle-webapp-standard", {"name": "shop"}, system=SYSTEM, endpoints=ENDPOINTS)
    assert [c.id for c in result.components] == ["database", "secrets", "app"]
    assert [c.id for c in result.ready(["database"])] == ["secrets"]
    run = result.render("secrets", 0, outputs={"databaseUrl": "postgres://shop"})
    assert json.loads(run.input["body"])["databaseUrl"] == "postgres://shop"
