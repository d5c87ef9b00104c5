"""Rules that need configuration or targeted edits: each edit of a valid catalog yields its code and hint."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pao_backend.catalog.codeowners import parse_codeowners
from pao_backend.catalog.loader import LoadResult, load_catalog
from pao_backend.catalog.problems import Problem
from tests.conftest import FIXTURES

VALID = FIXTURES / "catalog" / "valid"
ITEM = "databases/database-fixture-standard.yaml"
APP = "compute/compute-fixture-app.yaml"
BUNDLE = "bundles/bundle-fixture-standard.yaml"


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(VALID, root)
    return root


def edit(root: Path, relative: str, change: Callable[[str], str]) -> None:
    file = root / relative
    before = file.read_text()
    after = change(before)
    assert after != before, "the edit did not apply"
    file.write_text(after)


def found(result: LoadResult) -> list[tuple[str, str, int]]:
    return [(Path(p.path).name, p.code, p.line) for p in result.problems]


def test_valid_copy_is_clean(catalog: Path) -> None:
    assert load_catalog(catalog).problems == []


@pytest.mark.parametrize(
    ("relative", "old", "new", "code"),
    [
        (ITEM, "name: Fixture Database", "name: DB", "E206"),
        (ITEM, "retry: {attempts: 2", "retry: {attempts: 50", "E207"),
        (ITEM, "timeout: 10", "timeout: 0", "E207"),
        (
            BUNDLE,
            "components:\n  - {id: database, catalogItem: database-fixture-standard}\n  - {id: app, "
            "catalogItem: compute-fixture-app, dependsOn: [database]}",
            "components: []",
            "E208",
        ),
        (ITEM, "tags: [fixture, sql]", "tags: [sql, sql]", "E208"),
        (ITEM, "category: databases", "category: Data_Bases", "E205"),
        (ITEM, "method: PUT", "method: put", "E204"),
        (ITEM, "kind: CatalogItem", "kind: CatalogBundle", "E202"),
        (BUNDLE, "kind: CatalogBundle", "kind: CatalogItem", "E202"),
        (ITEM, "default: [postgis]", "default: [mysql]", "E404"),
        (ITEM, 'default: "2030-01-01"', 'default: "2040-01-01"', "E405"),
        (ITEM, 'min: "2025-01-01"', "min: 5", "E410"),
        (ITEM, "default: main", "default: Main", "E405"),
        (ITEM, "validation: {max: 2}", "validation: {max: -1}", "E410"),
        (ITEM, "{{.current.basic.label}}", "{{.current.basic.lable}}", "E602"),
        (
            ITEM,
            "{{.metadata.database-fixture-standard.defaultPort}}",
            "{{.metadata.database-fixture-standard.port}}",
            "E604",
        ),
        # In an item an unknown output is a warning: a bundle may provide it.
        (ITEM, "target={{.output.databaseId}}", "target={{.output.databaseIdent}}", "W608"),
        (APP, "{{.output.appUrl}}", "{{.output.servicePath}}{{.output.comit}}", "W608"),
        (APP, "servicePath: output.path", "servicePath: output.nothing", "E500"),
        (ITEM, "dnsEtag: response.headers.etag", "dnsEtag: headers.etag", "E500"),
        (BUNDLE, "catalogItem: compute-fixture-app", "catalogItem: compute-fixture-ap", "E701"),
    ],
)
def test_edit_yields_code(catalog: Path, relative: str, old: str, new: str, code: str) -> None:
    edit(catalog, relative, lambda text: text.replace(old, new))
    result = load_catalog(catalog)
    mine = [p for p in result.problems if Path(p.path).name == Path(relative).name]
    assert code in {p.code for p in mine}, found(result)
    assert all(p.hint for p in mine)


def test_first_line_of_a_change_is_where_the_finding_points(catalog: Path) -> None:
    edit(
        catalog,
        ITEM,
        lambda t: t.replace(
            'summaryTemplate: "Database {{.current.name}}', 'summaryTemplate: "Database {{.current.nam}}'
        ),
    )
    problem = next(p for p in load_catalog(catalog).problems if p.code == "E602")
    line = (catalog / ITEM).read_text().splitlines()[problem.line - 1]
    assert line[problem.column - 1 :].startswith("{{.current.nam}}")


def test_unknown_endpoint_base_is_only_a_warning(catalog: Path) -> None:
    result = load_catalog(catalog, endpoints=["provisoner"])
    assert [(p.code, p.severity) for p in result.problems] == [("W503", "warning")]
    assert "did you mean `provisoner`?" in result.problems[0].hint
    assert "database-fixture-standard" in result.catalog.items


def test_unknown_secret_is_reported_when_secret_names_are_known(catalog: Path) -> None:
    result = load_catalog(catalog, secret_names=["other"])
    # The item is rejected, and with it the bundle that uses it.
    assert sorted(p.code for p in result.problems) == ["E609", "E701"]


def test_codeowners_mismatch_and_missing_line(catalog: Path) -> None:
    codeowners = catalog.parent / "CODEOWNERS"
    codeowners.write_text(
        "/catalog/databases/ @fixture/platform-databases\n/catalog/bundles/ @someone/else\n"
    )
    result = load_catalog(catalog)
    assert sorted((Path(p.path).name, p.code) for p in result.problems) == [
        ("bundle-fixture-standard.yaml", "E701"),  # its app component is rejected
        ("bundle-fixture-standard.yaml", "E706"),
        ("compute-fixture-app.yaml", "E706"),  # no line gives compute/ to anyone
    ]
    hint = next(p.hint for p in result.problems if "bundle" in p.path and p.code == "E706")
    assert hint.startswith("add `/catalog/bundles/ @fixture/developer-experience` to ")
    assert hint.endswith("CODEOWNERS")
    assert set(result.catalog.items) == {"database-fixture-standard"}


def test_codeowners_last_match_wins_and_patterns_follow_gitignore() -> None:
    rules = parse_codeowners(
        "* @org/all\n/catalog/ @org/cat\ncatalog/databases/ @org/db\n*.md @org/docs\n"
        "/docs/**/api.* @org/api\n"
        "/build/logs ops@example.com\n# comment\n\n/x/ @bad owner\n!neg @org/a\n"
    )
    assert rules.owners_for("src/app.py") == ("@org/all",)
    assert rules.owners_for("catalog/teams.yaml") == ("@org/cat",)
    assert rules.owners_for("catalog/databases/x.yaml") == ("@org/db",)
    assert rules.owners_for("catalog/databases/README.md") == ("@org/docs",)
    assert rules.owners_for("docs/v1/deep/api.json") == ("@org/api",)
    assert rules.owners_for("build/logs/today.txt") == ("ops@example.com",)
    assert [(p.line, p.code) for p in rules.problems] == [(9, "E706"), (10, "E706")]


def test_teams_schema_problem_does_not_reject_documents(catalog: Path) -> None:
    edit(catalog, "teams.yaml", lambda t: t.replace("jiraProject: DBA", "jiraProject: dba"))
    result = load_catalog(catalog)
    assert [(Path(p.path).name, p.code) for p in result.errors] == [("teams.yaml", "E309")]
    assert "database-fixture-standard" in result.catalog.items


def test_problem_text_is_path_line_col_severity_code_message_and_hint() -> None:
    problem = Problem("catalog/x.yaml", 3, 7, "error", "E602", "`.current.a` is not a field", "add it")
    assert str(problem) == "catalog/x.yaml:3:7: error E602: `.current.a` is not a field\n    hint: add it"


def test_file_fields_expose_their_sub_keys_to_templates(catalog: Path) -> None:
    edit(
        catalog,
        ITEM,
        lambda t: t.replace("HA {{.current.basic.highAvailability}}", "{{.current.extras.seed.size}}"),
    )
    assert load_catalog(catalog).problems == []
    edit(
        catalog, ITEM, lambda t: t.replace("{{.current.extras.seed.size}}", "{{.current.extras.seed.bytes}}")
    )
    codes = [(Path(p.path).name, p.code) for p in load_catalog(catalog).problems]
    assert codes == [("bundle-fixture-standard.yaml", "E701"), ("database-fixture-standard.yaml", "E602")]
