"""What `pao validate` does, without the command line: pick documents, validate, format findings.

Validation always loads the whole catalog a document belongs to (cross-document rules need it) and then
reports the findings of the documents asked for.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pao_backend.catalog.loader import LoadResult, load_catalog
from pao_backend.catalog.problems import Problem
from pao_backend.governance.calendar_file import CALENDAR_FILE, calendar_problems

__all__ = [
    "Format",
    "SelectionError",
    "ValidationReport",
    "catalog_root_of",
    "changed_documents",
    "format_report",
    "validate_paths",
]

Format = Literal["text", "json", "github"]


class SelectionError(Exception):
    """The paths or revision given cannot be validated (usage or system error, exit 2)."""


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    documents: int = 0
    results: list[LoadResult] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.is_error)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    def exit_code(self, *, strict: bool = False) -> int:
        return 1 if self.errors or (strict and self.warnings) else 0


def catalog_root_of(path: Path) -> Path:
    """The catalog folder a file or folder belongs to: the nearest folder with teams.yaml, else a guess."""
    start = path if path.is_dir() else path.parent
    for candidate in (start, *start.parents[:2]):
        if (candidate / "teams.yaml").is_file():
            return candidate
    if path.is_dir():
        return path
    # catalog/<category>/<id>.yaml without teams.yaml: the grandparent is the catalog.
    return path.parent.parent if path.parent.parent != path.parent else path.parent


def _wanted(target: Path, wanted: set[Path] | None) -> bool:
    return wanted is None or any(target == w or w in target.parents for w in wanted)


def validate_paths(paths: Sequence[Path], *, only: dict[Path, set[Path]] | None = None) -> ValidationReport:
    """Validate the catalogs holding `paths`; report findings of those paths (all of a catalog folder).

    `only` maps catalog roots to the documents to report (used by --changed-since).
    """
    groups: dict[Path, tuple[Path, set[Path] | None]] = {}
    if only is not None:
        groups = {root.resolve(): (root, {p.resolve() for p in chosen}) for root, chosen in only.items()}
    for path in paths if only is None else []:
        if not path.exists():
            raise SelectionError(f"{path}: no such file or folder")
        root = catalog_root_of(path)
        key, resolved = root.resolve(), path.resolve()
        _, wanted = groups.get(key, (root, set()))
        if resolved == key:
            groups[key] = (root, None)
        elif wanted is not None:
            groups[key] = (root, {*wanted, resolved})
    report = ValidationReport()
    for root, wanted in groups.values():
        result = load_catalog(root)
        report.results.append(result)
        report.documents += sum(1 for rel in result.documents if _wanted((root / rel).resolve(), wanted))
        report.problems.extend(p for p in result.problems if _wanted(Path(p.path).resolve(), wanted))
        # calendar.yaml (governance, G): same finding format, codes E8xx/W8xx.
        calendar = root / CALENDAR_FILE
        if calendar.is_file() and _wanted(calendar.resolve(), wanted):
            report.documents += 1
            report.problems.extend(calendar_problems(root, result.catalog))
    report.problems.sort()
    return report


def _git(args: list[str], cwd: Path) -> str:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SelectionError(f"cannot run git: {exc}") from exc
    if completed.returncode != 0:
        raise SelectionError(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout


def changed_documents(root: Path, revision: str) -> set[Path]:
    """Documents of a catalog changed since `revision` (committed, staged, unstaged or new), plus every
    bundle that uses a changed item; all documents when teams.yaml or CODEOWNERS changed."""
    root = root.resolve()
    top = Path(_git(["rev-parse", "--show-toplevel"], root).strip())
    names = _git(["diff", "--name-only", revision, "--"], top).splitlines()
    names += _git(["ls-files", "--others", "--exclude-standard"], top).splitlines()
    changed = {(top / name).resolve() for name in names if name}
    in_catalog = {p for p in changed if root in p.parents and p.suffix in (".yaml", ".yml")}
    if (root / "teams.yaml").resolve() in changed or any(p.name == "CODEOWNERS" for p in changed):
        return {root}
    if not in_catalog:
        return set()
    result = load_catalog(root)
    item_ids = set()
    for rel, doc in result.documents.items():
        if (root / rel).resolve() in in_catalog and isinstance(doc.data, dict):
            metadata = doc.data.get("metadata")
            if isinstance(metadata, dict) and isinstance(metadata.get("id"), str):
                item_ids.add(metadata["id"])
    selected = {p for p in in_catalog if p.exists()}
    for rel, doc in result.documents.items():
        if not rel.startswith("bundles/") or not isinstance(doc.data, dict):
            continue
        components = doc.data.get("components")
        if isinstance(components, list) and any(
            isinstance(c, dict) and c.get("catalogItem") in item_ids for c in components
        ):
            selected.add((root / rel).resolve())
    return selected


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_report(report: ValidationReport, fmt: Format) -> str:
    """The report as text (one finding per line plus hint), JSON, or GitHub Actions annotations."""
    if fmt == "json":
        return json.dumps(
            {
                "problems": [p.to_dict() for p in report.problems],
                "documents": report.documents,
                "errors": report.errors,
                "warnings": report.warnings,
            },
            indent=2,
        )
    lines: list[str] = []
    if fmt == "github":
        for p in report.problems:
            level = "error" if p.is_error else "warning"
            props = (
                f"file={_escape_property(p.path)},line={p.line},col={p.column},"
                f"title={_escape_property(p.code)}"
            )
            body = p.message + (f"\nhint: {p.hint}" if p.hint else "")
            lines.append(f"::{level} {props}::{_escape_data(body)}")
    else:
        lines.extend(str(p) for p in report.problems)
    lines.append(_summary(report))
    return "\n".join(lines)


def _summary(report: ValidationReport) -> str:
    documents = f"{report.documents} document{'s' if report.documents != 1 else ''}"
    if not report.problems:
        return f"{documents} checked: clean"
    return f"{documents} checked: {report.errors} error(s), {report.warnings} warning(s)"
