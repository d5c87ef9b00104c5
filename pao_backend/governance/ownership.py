"""CODEOWNERS in the loop: check that every catalog document, schema and the calendar is owned by the
right team (and nothing is orphaned), and generate CODEOWNERS from teams.yaml and the catalog.

Built on the catalog toolkit's parser (`pao_backend.catalog.codeowners`, GitHub's last-match-wins rules).

    E820 a file is not owned by the team that should review it
    E821 a file nobody owns (an orphan)
    W822 a rule that matches no file (stale)
    E823 no CODEOWNERS file
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pao_backend.catalog.codeowners import CodeOwners, find_codeowners, parse_codeowners
from pao_backend.catalog.loader import LoadResult, load_catalog
from pao_backend.catalog.models import Team
from pao_backend.catalog.problems import Problem
from pao_backend.governance.calendar_file import CALENDAR_FILE, load_calendar_file

__all__ = [
    "OWNERSHIP_CODES",
    "OwnedFile",
    "OwnershipReport",
    "check_ownership",
    "expected_owners",
    "generate_codeowners",
]

OWNERSHIP_CODES = {
    "E820": "file not owned by the team that should review it",
    "E821": "file nobody owns",
    "W822": "CODEOWNERS rule that matches no file",
    "E823": "no CODEOWNERS file",
}


@dataclass(frozen=True)
class OwnedFile:
    """A governed file (repository-relative posix path), the team that must own it and why."""

    path: str
    team: str
    handle: str
    why: str


@dataclass
class OwnershipReport:
    problems: list[Problem] = field(default_factory=list)
    files: list[OwnedFile] = field(default_factory=list)
    # Repository paths each team owns, for readiness (coverage).
    covered: dict[str, list[str]] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.is_error)

    def exit_code(self, *, strict: bool = False) -> int:
        warnings = len(self.problems) - self.errors
        return 1 if self.errors or (strict and warnings) else 0

    def coverage(self, team: str) -> tuple[int, int]:
        """(files owned correctly, files the team should own)."""
        mine = [f for f in self.files if f.team == team]
        return len(self.covered.get(team, [])), len(mine)


def expected_owners(
    repository: Path, catalog_root: Path, loaded: LoadResult, *, architecture_team: str
) -> list[OwnedFile]:
    """Every governed file with the team that must own it: documents → their metadata.owner.team;
    teams.yaml and schemas → the architecture team; calendar.yaml → its metadata.owner.team."""
    teams = loaded.catalog.teams
    prefix = catalog_root.resolve().relative_to(repository.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    files: list[OwnedFile] = []

    def add(path: str, team: str, why: str) -> None:
        handle = teams[team].codeowners if team in teams else f"(team {team} is not in teams.yaml)"
        files.append(OwnedFile(path=path, team=team, handle=handle, why=why))

    for rel, doc in sorted(loaded.documents.items()):
        if rel == "teams.yaml":
            add(prefix + rel, architecture_team, "the team list is the architecture's contract")
            continue
        data = doc.data if isinstance(doc.data, dict) else {}
        owner = ((data.get("metadata") or {}).get("owner") or {}).get("team")
        if isinstance(owner, str):
            add(prefix + rel, owner, f"metadata.owner.team of {rel}")
    if (catalog_root / CALENDAR_FILE).is_file():
        calendar = load_calendar_file(catalog_root).calendar
        owner = calendar.owner_team if calendar is not None and calendar.owner_team else architecture_team
        add(prefix + CALENDAR_FILE, owner, "metadata.owner.team of the change calendar")
    schemas = repository / "schemas"
    if schemas.is_dir():
        for schema in sorted(schemas.rglob("*.json")):
            add(
                schema.relative_to(repository).as_posix(),
                architecture_team,
                "schemas are the architecture's contract",
            )
    return files


def check_ownership(
    repository: Path,
    catalog_root: Path,
    *,
    codeowners: Path | None = None,
    architecture_team: str = "architecture",
    loaded: LoadResult | None = None,
) -> OwnershipReport:
    """Check CODEOWNERS against what each file's owner should be."""
    report = OwnershipReport()
    file = codeowners or find_codeowners(repository)
    loaded = loaded or load_catalog(catalog_root, codeowners=file if file and file.is_file() else None)
    report.files = expected_owners(repository, catalog_root, loaded, architecture_team=architecture_team)
    if file is None or not file.is_file():
        report.problems.append(
            Problem(
                str(repository / "CODEOWNERS"),
                1,
                1,
                "error",
                "E823",
                "no CODEOWNERS file: nobody is asked to review catalog changes",
                "run `pao codeowners generate --write` and commit the file",
            )
        )
        return report
    display = str(file)
    rules = parse_codeowners(file.read_text("utf-8"), display)
    report.problems.extend(rules.problems)
    for owned in report.files:
        rule = rules.rule_for(owned.path)
        if rule is None:
            report.problems.append(
                Problem(
                    display,
                    1,
                    1,
                    "error",
                    "E821",
                    f"`{owned.path}` has no owner in CODEOWNERS (an orphan)",
                    f"add `/{owned.path} {owned.handle}` (or a rule for its folder)",
                )
            )
        elif owned.handle not in rule.owners:
            report.problems.append(
                Problem(
                    display,
                    rule.line,
                    1,
                    "error",
                    "E820",
                    f"`{owned.path}` is owned by {' '.join(rule.owners)} (rule `{rule.pattern}`), "
                    f"but {owned.why} is `{owned.team}` ({owned.handle})",
                    f"add `/{owned.path} {owned.handle}` after line {rule.line}, or fix the rule",
                )
            )
        else:
            report.covered.setdefault(owned.team, []).append(owned.path)
    report.problems.extend(_stale_rules(rules, repository))
    report.problems.sort()
    return report


def _repository_files(repository: Path) -> Iterable[str]:
    for path in repository.rglob("*"):
        parts = path.relative_to(repository).parts
        if any(p.startswith(".") or p in ("node_modules", "__pycache__") for p in parts):
            continue
        if path.is_file():
            yield path.relative_to(repository).as_posix()


def _stale_rules(rules: CodeOwners, repository: Path) -> list[Problem]:
    files = list(_repository_files(repository))
    problems = []
    for rule in rules.rules:
        if not any(rule.matches(f) for f in files):
            problems.append(
                Problem(
                    rules.path,
                    rule.line,
                    1,
                    "warning",
                    "W822",
                    f"rule `{rule.pattern}` matches no file",
                    "remove the rule, or fix the path (CODEOWNERS paths are relative to the repository root)",
                )
            )
    return problems


def generate_codeowners(
    repository: Path,
    catalog_root: Path,
    *,
    default_owner: str = "@acme/pao-maintainers",
    architecture_team: str = "architecture",
    loaded: LoadResult | None = None,
) -> str:
    """CODEOWNERS text: one rule per catalog folder (per file where a folder has several owner teams),
    the contract files to the architecture team, everything else to `default_owner`."""
    loaded = loaded or load_catalog(catalog_root)
    teams = loaded.catalog.teams
    files = expected_owners(repository, catalog_root, loaded, architecture_team=architecture_team)
    lines = [
        "# Generated by `pao codeowners generate` from catalog/teams.yaml and the catalog's owner teams.",
        "# GitHub applies the LAST matching line. Check with `pao codeowners check`.",
        "",
        f"*{' ' * 35}{default_owner}",
        "",
        "# Catalog documents: the platform team that owns and fulfils them.",
    ]
    folders: dict[str, dict[str, list[OwnedFile]]] = {}
    contract: list[OwnedFile] = []
    for owned in files:
        if (
            owned.why.startswith("metadata.owner.team of ")
            and "/" in owned.path
            and not owned.path.endswith(CALENDAR_FILE)
        ):
            folder = owned.path.rsplit("/", 1)[0] + "/"
            folders.setdefault(folder, {}).setdefault(owned.team, []).append(owned)
        else:
            contract.append(owned)
    for folder, by_team in sorted(folders.items()):
        if len(by_team) == 1:
            team = next(iter(by_team))
            lines.append(f"/{folder:<34} {_handle(teams, team)}")
        else:
            for team, owned_files in sorted(by_team.items()):
                for owned in owned_files:
                    lines.append(f"/{owned.path:<34} {_handle(teams, team)}")
    lines += ["", "# The contract every team writes against: schemas, the team list, the change calendar."]
    schema_teams = {o.team for o in contract if o.path.startswith("schemas/")}
    if schema_teams == {architecture_team}:
        lines.append(f"{'/schemas/':<35} {_handle(teams, architecture_team)}")
    for owned in contract:
        if owned.path.startswith("schemas/") and schema_teams == {architecture_team}:
            continue
        lines.append(f"/{owned.path:<34} {_handle(teams, owned.team)}")
    lines.append(f"{'/CODEOWNERS':<35} {_handle(teams, architecture_team)} {default_owner}")
    return "\n".join(lines) + "\n"


def _handle(teams: Mapping[str, Team], team: str) -> str:
    found = teams.get(team)
    return found.codeowners if found is not None else f"@{team}"
