"""Catalog versions on disk and in git: read the documents of a folder or of a git revision, diff two of
them, and turn insufficient version bumps into validation findings.

    E810 a breaking change without a major version bump
    W811 a document was removed (requests for it can no longer be made)
    W812 a compatible change without the minor/patch bump it calls for
    E813 the version went down, or is not semver
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pao_backend.catalog.loader import ParsedDocument, discover, parse_document, read_document
from pao_backend.catalog.problems import Problem
from pao_backend.governance.diff import DocumentDiff, diff_catalogs

__all__ = [
    "VERSION_CODES",
    "CatalogSnapshot",
    "VersionSourceError",
    "diff_sources",
    "format_diffs",
    "read_folder",
    "read_revision",
    "version_problems",
]

VERSION_CODES = {
    "E810": "breaking change without a major version bump",
    "W811": "document removed",
    "W812": "changed without the version bump the change calls for",
    "E813": "version went down or is not semver",
}
_YAML = (".yaml", ".yml")


class VersionSourceError(Exception):
    """A folder or git revision that cannot be read (usage error, exit 2)."""


@dataclass
class CatalogSnapshot:
    """The item and bundle documents of one catalog version, by path relative to the catalog folder."""

    label: str
    documents: dict[str, ParsedDocument]

    @property
    def data(self) -> dict[str, Mapping[str, Any]]:
        return {rel: doc.data for rel, doc in self.documents.items() if isinstance(doc.data, dict)}


def read_folder(root: Path) -> CatalogSnapshot:
    """The documents of a catalog folder (items and bundles; teams.yaml and calendar.yaml are not versioned
    documents)."""
    if not root.is_dir():
        raise VersionSourceError(f"{root}: not a folder")
    files = discover(root)
    documents = {rel: read_document(root / rel, str(root / rel)) for rel in [*files.items, *files.bundles]}
    return CatalogSnapshot(label=str(root), documents=documents)


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        completed = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VersionSourceError(f"cannot run git: {exc}") from exc
    if completed.returncode != 0:
        raise VersionSourceError(
            f"git {' '.join(args)} failed: {completed.stderr.decode(errors='replace').strip()}"
        )
    return completed.stdout


def read_revision(root: Path, revision: str) -> CatalogSnapshot:
    """The documents of the catalog folder `root` as they were at git `revision`."""
    if not root.is_dir():
        raise VersionSourceError(f"{root}: not a folder inside a git repository")
    top = Path(_git(["rev-parse", "--show-toplevel"], root).decode().strip())
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    listing = _git(["ls-tree", "-r", "--name-only", revision, "--", prefix or "."], top).decode()
    documents: dict[str, ParsedDocument] = {}
    for name in listing.splitlines():
        relative = name[len(prefix) :] if prefix else name
        parts = relative.split("/")
        if len(parts) != 2 or not parts[1].endswith(_YAML) or parts[1].startswith("."):
            continue
        content = _git(["show", f"{revision}:{name}"], top)
        documents[relative] = parse_document(content, f"{revision}:{name}")
    return CatalogSnapshot(label=revision, documents=documents)


def _snapshot(spec: str, catalog: Path) -> CatalogSnapshot:
    """A folder when `spec` names one, else a git revision of `catalog`."""
    candidate = Path(spec)
    if candidate.is_dir():
        return read_folder(candidate)
    return read_revision(catalog, spec)


def diff_sources(old: str, new: str | None, *, catalog: Path) -> list[DocumentDiff]:
    """Diff two catalog versions: folders or git revisions (`new` None: the working tree `catalog`)."""
    before = _snapshot(old, catalog)
    after = read_folder(catalog) if new is None else _snapshot(new, catalog)
    return diff_catalogs(before.data, after.data)


def format_diffs(diffs: list[DocumentDiff]) -> str:
    if not diffs:
        return "no document changed"
    lines: list[str] = []
    for diff in diffs:
        lines.append(f"{diff.path}  {diff.id}  {diff.old_version or '-'} → {diff.new_version or '-'}")
        for change in diff.changes:
            label = "BREAKING" if change.breaking else change.level
            lines.append(f"  {label:<8} {change.kind}: {change.message}")
        marker = "ok" if diff.bump_ok else "FAIL"
        lines.append(f"  => {marker}: {diff.verdict}")
    failing = sum(1 for d in diffs if not d.bump_ok)
    breaking = sum(1 for d in diffs if d.breaking)
    lines.append(
        f"{len(diffs)} document(s) changed, {breaking} with breaking changes, {failing} need another bump"
    )
    return "\n".join(lines)


def version_problems(root: Path, revision: str) -> list[Problem]:
    """Findings for documents of `root` whose version bump since `revision` is not enough."""
    before = read_revision(root, revision)
    after = read_folder(root)
    problems: list[Problem] = []
    for diff in diff_catalogs(before.data, after.data):
        doc = after.documents.get(diff.path)
        display = str(root / diff.path)
        if diff.removed:
            problems.append(
                Problem(
                    display,
                    1,
                    1,
                    "warning",
                    "W811",
                    f"{diff.id} was removed since {revision}: requests for it can no longer be made",
                    "tell its requesters; consider keeping it, deprecated, for a while",
                )
            )
            continue
        if doc is None or diff.bump_ok or diff.added:
            continue
        actual = diff.actual_bump
        breaking = "; ".join(c.message for c in diff.breaking)
        if actual in ("downgrade", "invalid"):
            code, message = "E813", f"{diff.id}: {diff.verdict}"
            hint = f"versions only go up: use a version above {diff.old_version}"
        elif diff.breaking:
            code = "E810"
            message = f"{diff.id}: breaking change since {revision} without a major bump: {breaking}"
            hint = diff.verdict
        else:
            code = "W812"
            message = f"{diff.id}: changed since {revision} but {diff.verdict}"
            hint = "bump metadata.version so requesters can tell the versions apart"
        problems.append(
            doc.problem(
                ("metadata", "version"),
                code,
                message,
                hint,
                severity="warning" if code[0] == "W" else "error",
            )
        )
    return sorted(problems)
