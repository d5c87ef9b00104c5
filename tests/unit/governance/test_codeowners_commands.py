"""`pao codeowners check` on this repository and on broken files; `generate` round-trips to a clean check."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from pao_backend.cli import app
from pao_backend.governance.ownership import check_ownership
from tests.conftest import ROOT


def _repository(tmp_path: Path, codeowners: str | None) -> Path:
    repository = tmp_path / "repo"
    shutil.copytree(ROOT / "catalog", repository / "catalog")
    shutil.copytree(ROOT / "schemas", repository / "schemas")
    if codeowners is not None:
        (repository / "CODEOWNERS").write_text(codeowners, "utf-8")
    return repository


def test_this_repository_is_owned_correctly() -> None:
    report = check_ownership(ROOT, ROOT / "catalog")
    assert [p for p in report.problems if p.is_error] == []
    assert report.coverage("platform-databases") == (2, 2)


def test_a_broken_codeowners_names_the_wrong_owner_the_orphans_and_stale_rules(tmp_path: Path) -> None:
    repository = _repository(
        tmp_path,
        """# broken on purpose
/catalog/databases/      @acme/platform-compute
/catalog/compute/        @acme/platform-compute
/catalog/old-folder/     @acme/platform-storage
/schemas/                @acme/architecture
""",
    )
    report = check_ownership(repository, repository / "catalog")
    codes = [(p.code, p.line) for p in report.problems]
    assert ("E820", 2) in codes  # databases given to compute
    orphans = [p.message for p in report.problems if p.code == "E821"]
    assert any("catalog/security/security-secret-standard.yaml" in m for m in orphans)
    assert any("catalog/calendar.yaml" in m for m in orphans)
    assert ("W822", 4) in codes
    wrong = next(p for p in report.problems if p.code == "E820")
    assert "@acme/platform-databases" in wrong.message and "/catalog/databases/" in wrong.hint
    result = CliRunner().invoke(app, ["codeowners", "check", "--catalog", str(repository / "catalog")])
    assert result.exit_code == 1
    assert "E821" in result.output


def test_generate_writes_a_file_that_checks_clean(tmp_path: Path) -> None:
    repository = _repository(tmp_path, None)
    runner = CliRunner()
    missing = runner.invoke(app, ["codeowners", "check", "--catalog", str(repository / "catalog")])
    assert missing.exit_code == 1 and "E823" in missing.output
    written = runner.invoke(
        app, ["codeowners", "generate", "--catalog", str(repository / "catalog"), "--write"]
    )
    assert written.exit_code == 0, written.output
    text = (repository / "CODEOWNERS").read_text("utf-8")
    assert "/catalog/databases/                 @acme/platform-databases" in text
    assert "/catalog/calendar.yaml              @acme/architecture" in text
    clean = runner.invoke(app, ["codeowners", "check", "--catalog", str(repository / "catalog")])
    assert clean.exit_code == 0, clean.output
