from __future__ import annotations

from typing import Any

from pao_backend.catalog.models import Form
from pao_backend.templating import check, form_paths

FORM = Form.model_validate(
    {
        "name": "Database Name",
        "groups": [
            {
                "id": "basic",
                "name": "Basic",
                "fields": [
                    {"id": "size", "name": "Size", "type": "number"},
                    {"id": "dump", "name": "Dump", "type": "file"},
                ],
            }
        ],
    }
)
METADATA: dict[str, Any] = {
    "database-postgresql-standard": {"owner": {"team": "platform-databases"}, "defaultPort": "5432"}
}


def issues(template: str, **overrides: Any) -> list[str]:
    args: dict[str, Any] = {"form_paths": form_paths(FORM), "metadata": METADATA, "output_keys": {"dbUrl"}}
    args.update(overrides)
    return [issue.code for issue in check(template, **args)]


def test_known_references_pass() -> None:
    template = (
        "{{.current.name}} {{.current.basic.size}} {{.current.basic}} {{.current.basic.dump.filename}}"
        " {{.output.dbUrl}} {{.metadata.database-postgresql-standard.owner.team}}"
        " {{.metadata.database-postgresql-standard.defaultPort}} {{.system.user.email}} {{.system.requestId}}"
        " {{.system.platform.region}} {{.system.secrets.dbToken}}"
    )
    assert issues(template) == []


def test_each_unknown_reference_is_reported_with_a_hint() -> None:
    template = (
        "{{.curent.name}} {{.current.basic.sise}} {{.metadata.nope-x-y.k}}"
        " {{.metadata.database-postgresql-standard.port}} {{.output.dbId}} {{.system.user.mail}}"
    )
    found = check(template, form_paths=form_paths(FORM), metadata=METADATA, output_keys={"dbUrl"})
    assert [i.code for i in found] == [
        "unknown-namespace",
        "unknown-current-path",
        "unknown-metadata-item",
        "unknown-metadata-key",
        "unknown-output",
        "unknown-system-key",
    ]
    assert all(i.hint for i in found)
    assert "did you mean `current`" in found[0].hint
    assert "did you mean `basic.size`" in found[1].hint
    assert template[found[4].start : found[4].end] == "{{.output.dbId}}"


def test_secret_names_are_checked_only_when_given() -> None:
    assert issues("{{.system.secrets.x}}") == []
    assert issues("{{.system.secrets.x}}", secret_names={"y"}) == ["unknown-secret"]


def test_syntax_errors_become_one_issue() -> None:
    (issue,) = check("ok {{ current.name }}", form_paths=set(), metadata={}, output_keys=set())
    assert issue.code == "template-syntax"
    assert issue.start == 6
