"""The YAML loader: data plus positions, and bad input turned into positioned findings, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pao_backend.catalog.loader import (
    MAX_DOCUMENT_BYTES,
    discover,
    load_catalog,
    parse_document,
    read_document,
)
from tests.conftest import FIXTURES, SAMPLE_CATALOG


def codes(content: bytes) -> list[tuple[str, int, int]]:
    return [(p.code, p.line, p.column) for p in parse_document(content, "doc.yaml").problems]


def test_data_is_plain_json_shaped_and_positions_are_one_based() -> None:
    doc = parse_document(b"a: 1\nb:\n  - x: on\n    when: 2025-01-31\n  - [1.5, null, true]\n", "d.yaml")
    assert doc.problems == []
    assert doc.data == {"a": 1, "b": [{"x": True, "when": "2025-01-31"}, [1.5, None, True]]}
    assert doc.position(("a",)) == (1, 4)
    assert doc.position(("b", 0, "when")) == (4, 11)
    assert doc.position(("b", 0, "when"), key=True) == (4, 5)
    assert doc.position(("b", 1, 2)) == (5, 17)


def test_missing_path_resolves_to_nearest_existing_ancestor() -> None:
    doc = parse_document(b"metadata:\n  owner: {team: x}\n", "d.yaml")
    assert doc.position(("metadata", "owner", "contact")) == (2, 10)
    assert doc.position(("nothing", "here")) == (1, 1)


def test_keys_stay_text_even_when_yaml_would_read_them_as_booleans_or_numbers() -> None:
    doc = parse_document(b"on: 1\n5432: port\nyes: no\n", "d.yaml")
    assert doc.data == {"on": 1, "5432": "port", "yes": False}


def test_merge_keys_are_honoured() -> None:
    doc = parse_document(b"base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n", "d.yaml")
    assert doc.data["thing"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("content", "code", "line"),
    [
        (b"a: [1, 2\nb: 3\n", "E100", 2),
        (b"a:\n\t- tab\n", "E100", 2),
        (b"a: 1\n---\nb: 2\n", "E100", 2),
        (b"a: *nowhere\n", "E100", 1),
        (b"a: 1\na: 2\n", "E104", 2),
        (b"", "E103", 1),
        (b"# only a comment\n", "E103", 1),
        (b"- a\n- b\n", "E103", 1),
        (b"42\n", "E103", 1),
        (b"'text'\n", "E103", 1),
        (b"a: !!binary aGVsbG8=\n", "E106", 1),
        (b"a: !!python/object:os.system x\n", "E106", 1),
        (b"? [complex, key]\n: v\n", "E106", 1),
        (b"a: &x [1]\nb:\n  <<: *x\n", "E106", 3),
        (b"ok: 1\nbad: \xff\xfe\n", "E102", 2),
        (b"a: \x00\n", "E102", 1),
        (b"a: &a [*a]\n", "E107", 1),
    ],
)
def test_bad_input_becomes_a_positioned_finding(content: bytes, code: str, line: int) -> None:
    doc = parse_document(content, "doc.yaml")
    assert doc.data is None or code == "E104"
    found = [(p.code, p.line) for p in doc.problems]
    assert (code, line) in found, found
    assert all(p.hint for p in doc.problems)


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ["a: &a [" + ",".join(['"lol"'] * 10) + "]"]
    for index, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[index]
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    doc = parse_document("\n".join(levels).encode(), "bomb.yaml")
    assert [p.code for p in doc.problems] == ["E105"]


def test_deep_nesting_is_refused() -> None:
    content = "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "leaf\n"
    assert codes(content.encode())[0][0] in ("E107", "E100")


def test_five_megabyte_document_is_refused_without_parsing(tmp_path: Path) -> None:
    big = b"a: " + b"x" * (5 * 1024 * 1024) + b"\n"
    assert codes(big) == [("E101", 1, 1)]
    file = tmp_path / "big.yaml"
    file.write_bytes(big)
    assert [p.code for p in read_document(file, "big.yaml").problems] == ["E101"]
    assert len(big) > MAX_DOCUMENT_BYTES


def test_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    doc = read_document(tmp_path / "missing.yaml", "missing.yaml")
    assert [p.code for p in doc.problems] == ["E109"]


def test_random_binary_garbage_never_raises() -> None:
    import random

    rng = random.Random(7)
    for _ in range(200):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        doc = parse_document(blob, "garbage.yaml")
        assert doc.data is None or isinstance(doc.data, dict)


def test_discover_indexes_teams_items_bundles_and_skips_reserved_files(tmp_path: Path) -> None:
    (tmp_path / "teams.yaml").write_text("teams: []\n")
    (tmp_path / "calendar.yaml").write_text("freezes: []\n")
    (tmp_path / "stray.yaml").write_text("a: 1\n")
    (tmp_path / "databases" / "deep").mkdir(parents=True)
    (tmp_path / "databases" / "database-a-b.yaml").write_text("a: 1\n")
    (tmp_path / "databases" / "README.md").write_text("docs\n")
    (tmp_path / "databases" / "deep" / "x.yaml").write_text("a: 1\n")
    (tmp_path / "bundles").mkdir()
    (tmp_path / "bundles" / "bundle-a-b.yaml").write_text("a: 1\n")
    files = discover(tmp_path)
    assert files.teams == "teams.yaml"
    assert files.items == ["databases/database-a-b.yaml"]
    assert files.bundles == ["bundles/bundle-a-b.yaml"]
    assert sorted(m[0] for m in files.misplaced) == ["databases/deep/x.yaml", "stray.yaml"]


def test_missing_teams_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "databases").mkdir()
    source = FIXTURES / "catalog" / "invalid" / "databases" / "database-support-standard.yaml"
    (tmp_path / "databases" / "database-support-standard.yaml").write_bytes(source.read_bytes())
    result = load_catalog(tmp_path)
    assert [p.code for p in result.errors] == ["E707"]
    assert list(result.catalog.items) == ["database-support-standard"]


def test_invalid_teams_yaml_and_duplicate_team_ids_are_reported(tmp_path: Path) -> None:
    (tmp_path / "teams.yaml").write_text(
        "teams:\n  - {id: a-team, name: A, contact: a@x.io, codeowners: '@o/a'}\n"
        "  - {id: a-team, name: A2, contact: a@x.io, codeowners: '@o/a'}\n"
    )
    assert [(p.code, p.line) for p in load_catalog(tmp_path).problems] == [("E708", 3)]
    (tmp_path / "teams.yaml").write_text("teams:\n  - {id: Bad_Team, name: A, contact: a@x.io}\n")
    found = {p.code for p in load_catalog(tmp_path).problems}
    assert {"E202", "E205"} <= found


def test_not_a_folder_is_reported(tmp_path: Path) -> None:
    assert [p.code for p in load_catalog(tmp_path / "nope").problems] == ["E109"]


def test_sample_catalog_loads_every_document() -> None:
    result = load_catalog(SAMPLE_CATALOG)
    assert set(result.documents) >= {"teams.yaml", "bundles/bundle-webapp-standard.yaml"}
    assert result.rejected == set()
