from __future__ import annotations

import pytest

from pao_backend.errors import InputError
from pao_backend.templating import TemplateSyntaxError, Variable, parse, variables


def test_text_without_variables_is_one_literal() -> None:
    assert parse("plain text } { }}") == ["plain text } { }}"]
    assert parse("") == []


def test_variables_are_split_out_with_positions() -> None:
    template = "db {{.current.name}} of {{ .system.user.email }}!"
    parts = parse(template)
    assert parts[0] == "db "
    name = parts[1]
    assert isinstance(name, Variable)
    assert (name.namespace, name.path) == ("current", ("name",))
    assert template[name.start : name.end] == name.raw == "{{.current.name}}"
    email = parts[3]
    assert isinstance(email, Variable)
    assert email.raw == "{{ .system.user.email }}"
    assert email.dotted == ".system.user.email"
    assert parts[-1] == "!"


def test_path_segments_may_contain_dashes() -> None:
    (var,) = variables("{{.metadata.database-postgresql-standard.owner.team}}")
    assert var.path == ("database-postgresql-standard", "owner", "team")


def test_unclosed_braces_report_offset_and_hint() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse("name: {{.current.name")
    assert info.value.offset == 6
    assert "unclosed" in str(info.value)
    assert "}}" in info.value.hint


def test_missing_leading_dot_suggests_the_fix() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse("x\n  {{ current.name }}")
    assert info.value.hint.startswith("write `{{.current.name}}`")
    assert (info.value.line, info.value.column) == (2, 6)
    assert str(info.value).startswith("2:6:")


@pytest.mark.parametrize(
    "template",
    [
        "{{}}",
        "{{ }}",
        "{{.}}",
        "{{.current}}",
        "{{.current..name}}",
        "{{.current.name.}}",
        "{{.current.name | upper}}",
        "{{ .current.name .current.x }}",
        "{{ if .current.x }}",
        "{{.current.na{{me}}",
        "{{.9x.y}}",
    ],
)
def test_malformed_variables_are_syntax_errors(template: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse(template)
    assert info.value.hint


def test_syntax_errors_are_input_errors() -> None:
    assert issubclass(TemplateSyntaxError, InputError)
