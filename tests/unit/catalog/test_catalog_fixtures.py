"""Each invalid fixture yields the codes its first line declares, at those lines; valid ones are clean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pao_backend.catalog.codes import CODES
from pao_backend.catalog.loader import LoadResult, load_catalog
from tests.conftest import FIXTURES

VALID = FIXTURES / "catalog" / "valid"
INVALID = FIXTURES / "catalog" / "invalid"
_EXPECT = re.compile(rb"^# expect: (.+)$", re.MULTILINE)


def _expectations(file: Path) -> list[tuple[str, int]]:
    match = _EXPECT.match(file.read_bytes())
    if match is None:
        return []
    pairs = []
    for token in match.group(1).decode().split():
        code, _, line = token.partition("@")
        pairs.append((code, int(line)))
    return pairs


INVALID_FILES = sorted(p for p in INVALID.rglob("*.yaml") if _expectations(p))


@pytest.fixture(scope="module")
def invalid_result() -> LoadResult:
    return load_catalog(INVALID)


def test_valid_fixture_catalog_is_clean_and_fully_indexed() -> None:
    result = load_catalog(VALID)
    assert result.problems == []
    assert sorted(result.catalog.items) == ["compute-fixture-app", "database-fixture-standard"]
    assert sorted(result.catalog.bundles) == ["bundle-fixture-standard"]
    assert sorted(result.catalog.teams) == ["developer-experience", "platform-compute", "platform-databases"]
    assert result.catalog.sources["database-fixture-standard"] == "databases/database-fixture-standard.yaml"


def test_sample_catalog_has_no_errors() -> None:
    from tests.conftest import SAMPLE_CATALOG

    result = load_catalog(SAMPLE_CATALOG)
    assert [str(p) for p in result.errors] == []
    assert len(result.catalog.items) >= 7 and len(result.catalog.bundles) >= 2


@pytest.mark.parametrize("file", INVALID_FILES, ids=lambda p: str(p.relative_to(INVALID)))
def test_invalid_fixture_yields_its_declared_codes_at_their_lines(
    file: Path, invalid_result: LoadResult
) -> None:
    found = {(p.code, p.line) for p in invalid_result.problems if Path(p.path) == file}
    missing = [pair for pair in _expectations(file) if pair not in found]
    assert not missing, f"{file.name}: expected {missing}, found {sorted(found)}"


def test_invalid_documents_are_left_out_and_supporting_ones_served(invalid_result: LoadResult) -> None:
    catalog = invalid_result.catalog
    assert sorted(catalog.items) == ["database-support-standard", "storage-support-standard"]
    assert catalog.bundles == {}
    assert "databases/database-form-standard.yaml" in invalid_result.rejected
    assert "databases/database-support-standard.yaml" not in invalid_result.rejected


def test_every_finding_has_a_known_code_a_position_and_a_hint(invalid_result: LoadResult) -> None:
    for problem in invalid_result.problems:
        assert problem.code in CODES, problem
        assert problem.line >= 1 and problem.column >= 1, problem
        assert problem.hint, problem


def test_fixtures_cover_most_codes(invalid_result: LoadResult) -> None:
    covered = {p.code for p in invalid_result.problems}
    # Codes that need generated input or configuration are covered by the loader/service/rules tests.
    elsewhere = {
        "E101",
        "E107",
        "E109",
        "E200",
        "E205",
        "E206",
        "E207",
        "E208",
        "E609",
        "E707",
        "E708",
        "W503",
        "W709",
    }
    assert set(CODES) - covered - elsewhere == set()


def test_platform_teams_guide_lists_every_code_and_its_meaning() -> None:
    from tests.conftest import ROOT

    guide = (ROOT / "docs" / "platform-teams.md").read_text()
    for code, meaning in CODES.items():
        assert f"| `{code}` | {meaning.replace('|', '/')} |" in guide, code


def test_the_guides_item_example_validates_clean(tmp_path: Path) -> None:
    from tests.conftest import ROOT, SAMPLE_CATALOG

    guide = (ROOT / "docs" / "platform-teams.md").read_text()
    section = guide.split("## Anatomy of an item", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    root = tmp_path / "catalog"
    (root / "databases").mkdir(parents=True)
    (root / "teams.yaml").write_bytes((SAMPLE_CATALOG / "teams.yaml").read_bytes())
    (root / "databases" / "database-postgresql-standard.yaml").write_text(example)
    result = load_catalog(root)
    assert [str(p) for p in result.problems] == []
