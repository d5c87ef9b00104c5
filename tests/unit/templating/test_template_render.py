from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pao_backend.templating import (
    Context,
    Placeholder,
    Secret,
    TemplateRenderError,
    render,
)

ATTACKS = [
    '"},"admin":true',
    '", "admin": true, "x": "',
    "}}{{.system.secrets.token}}",
    "{{.system.secrets.token}}",
    "line1\r\nX-Injected: 1",
    "\n\nh1. heading",
    "../../etc/passwd",
    "..",
    "a&b=c#frag?d",
    "'; DROP TABLE x; --",
    "*bold* [link|http://evil] {code}x{code} !img.png! | cell |",
    "\\",
]


def scope(value: Any, **current: Any) -> dict[str, Any]:
    return {
        "current": {"name": "orders-db", "v": value, **current},
        "output": {},
        "metadata": {},
        "system": {"secrets": {"token": Secret("s3cr3t-T0ken")}},
    }


# ---- TEXT ----------------------------------------------------------------------------------------


def test_text_renders_scalars_lists_and_objects() -> None:
    template = "{{.current.a}}|{{.current.b}}|{{.current.c}}|{{.current.d}}|{{.current.e}}|{{.current.f}}"
    values = {"a": 20.0, "b": True, "c": None, "d": ["x", "y"], "e": {"k": 1}, "f": 2.5}
    assert render(template, {"current": values}, Context.TEXT).value == '20|true||x, y|{"k": 1}|2.5'


def test_missing_value_is_an_error_naming_the_variable() -> None:
    with pytest.raises(TemplateRenderError) as info:
        render("x {{.current.basic.size}}", {"current": {}}, Context.TEXT)
    assert "`.current.basic.size` has no value" in str(info.value)
    assert info.value.offset == 2


def test_missing_hook_supplies_placeholders() -> None:
    def missing(var: Any) -> Placeholder:
        return Placeholder(f"<output:{var.path[0]}>")

    result = render('{"u": "{{.output.dbUrl}}"}', {"output": {}}, Context.JSON, missing=missing)
    assert json.loads(result.value) == {"u": "<output:dbUrl>"}
    result = render("https://x/{{.output.id}}", {"output": {}}, Context.URL, missing=missing)
    assert result.value == "https://x/<output:id>"


def test_rendered_output_is_never_parsed_again() -> None:
    result = render("{{.current.v}}", scope("{{.system.secrets.token}}"), Context.TEXT)
    assert result.value == "{{.system.secrets.token}}"
    assert result.secrets == frozenset()


# ---- secrets -------------------------------------------------------------------------------------


def test_secrets_render_in_clear_into_value_and_redacted_into_display() -> None:
    result = render("Bearer {{.system.secrets.token}}", scope(None), Context.HEADER)
    assert result.value == "Bearer s3cr3t-T0ken"
    assert result.display == "Bearer ***"
    assert "s3cr3t-T0ken" in result.secrets


def test_secret_encodings_are_listed_for_redaction() -> None:
    sc = {"current": {"pw": Secret('p"w/d')}}
    url = render("https://h/{{.current.pw}}", sc, Context.URL)
    body = render('{"p": "{{.current.pw}}"}', sc, Context.JSON)
    assert url.value.removeprefix("https://h/") in url.secrets
    assert json.loads(body.value) == {"p": 'p"w/d'}
    assert 'p\\"w/d' in body.secrets
    assert json.loads(body.display) == {"p": "***"}


def test_nested_secrets_are_redacted_in_objects() -> None:
    sc = {"current": {"g": {"user": "u", "pw": Secret("hunter2")}}}
    result = render('{"g": {{.current.g}}}', sc, Context.JSON)
    assert json.loads(result.value) == {"g": {"user": "u", "pw": "hunter2"}}
    assert json.loads(result.display) == {"g": {"user": "u", "pw": "***"}}
    assert "hunter2" not in repr(Secret("hunter2"))


# ---- JSON ----------------------------------------------------------------------------------------

BODY = '{"name": "{{.current.name}}", "note": "v={{.current.v}}", "value": {{.current.v}}}'


@pytest.mark.parametrize("attack", ATTACKS)
def test_json_injection_cannot_change_structure(attack: str) -> None:
    parsed = json.loads(render(BODY, scope(attack), Context.JSON).value)
    assert parsed == {"name": "orders-db", "note": f"v={attack}", "value": attack}


def test_json_types_are_kept_in_bare_positions() -> None:
    template = '{"n": {{.current.n}}, "b": {{.current.b}}, "z": {{.current.z}}, "l": {{.current.l}}}'
    sc = {"current": {"n": 20.0, "b": False, "z": None, "l": [1, "a"]}}
    value = render(template, sc, Context.JSON).value
    assert value == '{"n": 20, "b": false, "z": null, "l": [1, "a"]}'


def test_json_strings_hold_text_forms() -> None:
    template = '{"s": "{{.current.n}} {{.current.b}} [{{.current.z}}] {{.current.l}}"}'
    sc = {"current": {"n": 3, "b": True, "z": None, "l": ["a", "b"]}}
    assert json.loads(render(template, sc, Context.JSON).value) == {"s": "3 true [] a, b"}


def test_invalid_json_result_is_an_error_with_a_hint() -> None:
    with pytest.raises(TemplateRenderError) as info:
        render('{"name": {{.current.name}}', scope(None), Context.JSON)
    assert "not valid JSON" in str(info.value)


def test_non_finite_numbers_are_rejected_in_json() -> None:
    with pytest.raises(TemplateRenderError):
        render('{"n": {{.current.v}}}', scope(float("nan")), Context.JSON)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=8,
)


@given(json_values)
def test_json_bare_values_round_trip(value: Any) -> None:
    parsed = json.loads(render('{"v": {{.current.v}}, "k": 1}', scope(value), Context.JSON).value)
    assert parsed["k"] == 1
    assert parsed["v"] == pytest.approx(value) if isinstance(value, float) else parsed["v"] == value


@given(st.text())
def test_json_string_positions_round_trip(value: str) -> None:
    parsed = json.loads(render(BODY, scope(value), Context.JSON).value)
    assert parsed == {"name": "orders-db", "note": f"v={value}", "value": value}


# ---- URL -----------------------------------------------------------------------------------------

URL = "https://db.internal/api/v1/instances/{{.current.v}}/status?team={{.current.v}}&x=1#{{.current.v}}"


@pytest.mark.parametrize("attack", ATTACKS)
def test_url_injection_cannot_change_structure(attack: str) -> None:
    url = render(URL, scope(attack), Context.URL).value
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "db.internal")
    segments = parts.path.split("/")
    assert segments[:5] == ["", "api", "v1", "instances", segments[4]]
    assert segments[5:] == ["status"]
    assert unquote(segments[4]) == attack
    assert parts.query.split("&")[1] == "x=1"
    assert unquote(parts.fragment) == attack


@given(st.text())
def test_url_values_always_round_trip(value: str) -> None:
    url = render(URL, scope(value), Context.URL).value
    parts = urlsplit(url)
    assert parts.netloc == "db.internal"
    assert len(parts.path.split("/")) == 6
    assert unquote(parts.path.split("/")[4]) == value
    team, x = parts.query.split("&")
    assert unquote(team.removeprefix("team=")) == value
    assert x == "x=1"
    assert not any(ch in url for ch in " \r\n\t")


def test_url_dot_segments_are_encoded() -> None:
    assert render("https://h/a/{{.current.v}}/b", scope(".."), Context.URL).value == "https://h/a/%2E%2E/b"


def test_url_host_values_must_be_host_names() -> None:
    assert render("https://{{.current.v}}.svc:8080/x", scope("orders-db"), Context.URL).value == (
        "https://orders-db.svc:8080/x"
    )
    with pytest.raises(TemplateRenderError):
        render("https://{{.current.v}}.svc/x", scope("evil.com/x?"), Context.URL)


def test_url_may_start_with_an_absolute_url_value() -> None:
    sc = {"output": {"base": "https://svc.internal/api"}, "current": {"v": "a b"}}
    assert render("{{.output.base}}/items/{{.current.v}}", sc, Context.URL).value == (
        "https://svc.internal/api/items/a%20b"
    )
    with pytest.raises(TemplateRenderError):
        render("{{.current.v}}/items", sc, Context.URL)


def test_url_lists_become_comma_separated_encoded_values() -> None:
    result = render("https://h/x?tags={{.current.v}}", scope(["a,b", "c&d"]), Context.URL)
    assert result.value == "https://h/x?tags=a%2Cb,c%26d"


# ---- HEADER --------------------------------------------------------------------------------------


@given(st.text())
def test_header_values_never_contain_line_breaks(value: str) -> None:
    result = render("X-Name: {{.current.v}}", scope(value), Context.HEADER).value
    assert "\r" not in result and "\n" not in result
    assert result.startswith("X-Name: ")
    assert len(result) == len("X-Name: ") + len(value)


def test_header_crlf_injection_is_neutralised() -> None:
    result = render("{{.current.v}}", scope("ok\r\nX-Admin: true"), Context.HEADER).value
    assert result == "ok  X-Admin: true"


# ---- JIRA ----------------------------------------------------------------------------------------


def test_jira_escapes_markup_but_keeps_plain_words_readable() -> None:
    result = render("DB {{.current.v}}", scope("orders-db for jdoe@example.com"), Context.JIRA)
    assert result.value == "DB orders-db for jdoe@example.com"
    result = render("{{.current.v}}", scope("*bold* [x|http://e] {code} !i! -s- |c|"), Context.JIRA)
    assert result.value == "\\*bold\\* \\[x\\|http://e\\] \\{code\\} \\!i\\! \\-s\\- \\|c\\|"


def test_jira_lists_objects_and_null() -> None:
    sc = {"current": {"l": ["a", "b*"], "o": {"k": "{code}"}, "z": None}}
    assert render("{{.current.l}}", sc, Context.JIRA).value == "a, b\\*"
    assert render("[{{.current.z}}]", sc, Context.JIRA).value == "[]"
    block = render("{{.current.o}}", sc, Context.JIRA).value
    assert block.startswith("{code:json}\n") and block.endswith("\n{code}")
    inner = block.removeprefix("{code:json}\n").removesuffix("\n{code}")
    assert "{code" not in inner
    assert json.loads(inner) == {"k": "{code}"}


def test_jira_headings_from_user_input_are_neutralised() -> None:
    result = render("Note: {{.current.v}}", scope("x\nh1. Pwned\nbq. q"), Context.JIRA).value
    assert "\nh1. " not in result and "\nbq. " not in result
