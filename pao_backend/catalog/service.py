"""The catalog the service serves: loaded at start, reloaded on demand, never made worse by a bad edit.

An invalid document never replaces the last good version of that document: the service keeps serving
the old one and reports the new findings (plus a W709 note saying what is still served).
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

from pao_backend.catalog.loader import LoadResult, load_catalog
from pao_backend.catalog.problems import Problem
from pao_backend.catalog.store import Catalog

__all__ = ["CatalogService", "ReloadResult"]


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: whether the served catalog changed, every finding, the served version."""

    changed: bool
    problems: list[Problem] = field(default_factory=list)
    etag: str = ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


class CatalogService:
    """Holds the served `Catalog` snapshot; `reload()` swaps in a new one atomically."""

    def __init__(
        self,
        root: Path,
        *,
        codeowners: Path | None = None,
        endpoints: Collection[str] | None = None,
        secret_names: Collection[str] | None = None,
        load: bool = True,
    ) -> None:
        self.root = root
        self._codeowners = codeowners
        self._endpoints = endpoints
        self._secret_names = secret_names
        self._lock = threading.Lock()
        self._current = Catalog()
        self._etag = self._current.etag
        self._findings: list[Problem] = []
        if load:
            self.reload()

    @property
    def current(self) -> Catalog:
        """The catalog being served (an immutable snapshot; hold on to it for one request)."""
        return self._current

    @property
    def findings(self) -> list[Problem]:
        """Findings of the last reload, including those of documents still served in an older version."""
        return list(self._findings)

    @property
    def etag(self) -> str:
        return self._etag

    def reload(self) -> ReloadResult:
        """Re-read the folder; keep the last good version of every document that became invalid."""
        with self._lock:
            result = load_catalog(
                self.root,
                codeowners=self._codeowners,
                endpoints=self._endpoints,
                secret_names=self._secret_names,
            )
            catalog, kept = _keep_last_good(self._current, result, self.root)
            etag = catalog.etag
            changed = etag != self._etag
            self._current = catalog
            self._etag = etag
            self._findings = sorted([*result.problems, *kept])
            return ReloadResult(changed=changed, problems=list(self._findings), etag=etag)


def _keep_last_good(previous: Catalog, result: LoadResult, root: Path) -> tuple[Catalog, list[Problem]]:
    new = result.catalog
    items = dict(new.items)
    bundles = dict(new.bundles)
    sources = dict(new.sources)
    raw = dict(new.raw)
    teams = new.teams
    notes: list[Problem] = []
    for doc_id, relative in previous.sources.items():
        if relative not in result.rejected or doc_id in sources:
            continue
        if doc_id in previous.items:
            items[doc_id] = previous.items[doc_id]
            version = previous.items[doc_id].metadata.version
        elif doc_id in previous.bundles:
            bundles[doc_id] = previous.bundles[doc_id]
            version = previous.bundles[doc_id].metadata.version
        else:
            continue
        sources[doc_id] = relative
        raw[doc_id] = previous.raw[doc_id]
        notes.append(
            Problem(
                str(root / relative),
                1,
                1,
                "warning",
                "W709",
                f"this version has errors; PAO keeps serving the last good version {version} of `{doc_id}`",
                "fix the errors above and reload; requests use the old version until then",
            )
        )
    if "teams.yaml" in result.rejected and previous.teams:
        teams = previous.teams
        notes.append(
            Problem(
                str(root / "teams.yaml"),
                1,
                1,
                "warning",
                "W709",
                "teams.yaml has errors; PAO keeps serving the last good list of teams",
                "fix the errors above and reload",
            )
        )
    return replace(new, items=items, bundles=bundles, sources=sources, raw=raw, teams=teams), notes
