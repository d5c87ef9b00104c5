"""catalog/calendar.yaml: read, validate (positions, codes, hints) and keep the last good calendar.

Validation goes through the catalog toolkit (YAML with positions, the JSON Schema
schemas/catalog/v1/calendar.schema.json with its hints) plus the rules a schema cannot say, with
codes E8xx / W8xx:

    E800 a window needs exactly one of fixed, yearly, weekly
    E801 a soft window needs `approval.role`
    W802 a key that does nothing for this kind of window (approval on hard, onFreeze on soft)
    E803 unknown timezone
    E804 two windows with the same id
    E805 a window that ends before (or when) it starts
    W806 scope or exemption names an unknown team, item or category
    W807 a fixed window that is already over
    E809 the calendar's owner team is not in teams.yaml
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pao_backend.catalog.loader import ParsedDocument, read_document
from pao_backend.catalog.models import SCHEMA_VERSIONS
from pao_backend.catalog.problems import Problem
from pao_backend.catalog.schema import schema_problems
from pao_backend.catalog.store import Catalog
from pao_backend.governance.calendar import Calendar, CalendarError, Window, calendar_from_data

__all__ = [
    "CALENDAR_CODES",
    "CALENDAR_FILE",
    "CALENDAR_SCHEMA",
    "CalendarLoad",
    "CalendarStore",
    "KnownNames",
    "calendar_problems",
    "load_calendar_file",
]

CALENDAR_FILE = "calendar.yaml"
CALENDAR_SCHEMA = "calendar.schema.json"
CALENDAR_CODES = {
    "E800": "a window needs exactly one of fixed, yearly, weekly",
    "E801": "a soft window needs approval.role",
    "W802": "a key that does nothing for this kind of window",
    "E803": "unknown timezone",
    "E804": "duplicate window id",
    "E805": "a window that ends before it starts",
    "W806": "scope or exemption names an unknown team, item or category",
    "W807": "a fixed window that is already over",
    "E809": "the calendar's owner team is not in teams.yaml",
}


@dataclass(frozen=True)
class KnownNames:
    """Names the calendar may refer to (None: not checked)."""

    teams: Collection[str] | None = None
    items: Collection[str] | None = None
    categories: Collection[str] | None = None


@dataclass
class CalendarLoad:
    """The calendar (None when absent or invalid) and every finding."""

    calendar: Calendar | None
    problems: list[Problem] = field(default_factory=list)
    present: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def load_calendar_file(
    root: Path,
    *,
    known: KnownNames | None = None,
    now: datetime | None = None,
    display: str | None = None,
) -> CalendarLoad:
    """Read and validate `<root>/calendar.yaml`; no file means no calendar and no finding."""
    path = root / CALENDAR_FILE
    if not path.is_file():
        return CalendarLoad(calendar=None)
    doc = read_document(path, display or str(path))
    if doc.data is None:
        return CalendarLoad(calendar=None, problems=sorted(doc.problems), present=True)
    version = doc.data.get("schemaVersion")
    doc.problems.extend(
        schema_problems(doc, CALENDAR_SCHEMA, version if version in SCHEMA_VERSIONS else SCHEMA_VERSIONS[0])
    )
    if not doc.has_errors:
        _check_rules(doc, known or KnownNames(), now or datetime.now(UTC))
    calendar: Calendar | None = None
    if not doc.has_errors:
        try:
            calendar = calendar_from_data(doc.data)
        except CalendarError as exc:  # rules above catch these; never crash on a bad document
            doc.add((), "E803", str(exc), "fix the calendar value named")
    return CalendarLoad(calendar=calendar, problems=sorted(doc.problems), present=True)


def _check_rules(doc: ParsedDocument, known: KnownNames, now: datetime) -> None:
    data: Mapping[str, Any] = doc.data
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    def zone_ok(path: tuple[str | int, ...], name: str) -> bool:
        try:
            ZoneInfo(name)
            return True
        except (ZoneInfoNotFoundError, ValueError):
            doc.add(
                path,
                "E803",
                f"unknown timezone {name!r}",
                "use an IANA timezone name, e.g. `Europe/Berlin`, `America/New_York` or `UTC`",
            )
            return False

    zones_ok = zone_ok(("timezone",), str(data["timezone"]))
    owner = ((data.get("metadata") or {}).get("owner") or {}).get("team")
    if owner is not None and known.teams is not None and owner not in known.teams:
        doc.add(
            ("metadata", "owner", "team"),
            "E809",
            f"owner team `{owner}` is not in teams.yaml",
            f"use one of: {', '.join(sorted(known.teams))}",
        )
    seen: dict[str, int] = {}
    for index, raw in enumerate(data["windows"]):
        where: tuple[str | int, ...] = ("windows", index)
        window_id = raw["id"]
        if window_id in seen:
            doc.add(
                (*where, "id"),
                "E804",
                f"window id `{window_id}` is also used by windows[{seen[window_id]}]",
                "give every window its own id",
            )
        seen.setdefault(window_id, index)
        kinds = [k for k in ("fixed", "yearly", "weekly") if k in raw]
        if len(kinds) != 1:
            doc.add(
                where,
                "E800",
                f"window `{window_id}` "
                + ("says nowhere when it is" if not kinds else f"has {' and '.join(kinds)}; pick one"),
                "give exactly one of `fixed: {from, to}` (once), `yearly: {from: MM-DD, to: MM-DD}` or "
                '`weekly: {from: "friday 16:00", to: "monday 08:00"}`',
            )
        if raw["freeze"] == "soft" and "approval" not in raw:
            doc.add(
                where,
                "E801",
                f"soft window `{window_id}` does not say who approves",
                "add `approval: {role: <group or role>}`, e.g. `{role: change-managers}`",
            )
        if raw["freeze"] == "hard" and "approval" in raw:
            doc.add(
                (*where, "approval"),
                "W802",
                f"hard window `{window_id}` ignores `approval`",
                "a hard window holds or refuses; use `freeze: soft` if an approval should let requests pass",
                severity="warning",
                key=True,
            )
        if raw["freeze"] == "soft" and "onFreeze" in raw:
            doc.add(
                (*where, "onFreeze"),
                "W802",
                f"soft window `{window_id}` ignores `onFreeze`",
                "onFreeze is for hard windows; remove it",
                severity="warning",
                key=True,
            )
        if "timezone" in raw and not zone_ok((*where, "timezone"), str(raw["timezone"])):
            continue
        if len(kinds) == 1 and zones_ok:
            _check_when(doc, where, raw, kinds[0], now)
        for label, selector_path, selector in _selectors(where, raw):
            _check_names(doc, selector_path, selector, known, window_id, label)


def _selectors(
    where: tuple[str | int, ...], raw: Mapping[str, Any]
) -> list[tuple[str, tuple[str | int, ...], Mapping[str, Any]]]:
    found: list[tuple[str, tuple[str | int, ...], Mapping[str, Any]]] = []
    if isinstance(raw.get("scope"), Mapping):
        found.append(("scope", (*where, "scope"), raw["scope"]))
    for index, selector in enumerate(raw.get("exempt") or []):
        found.append(("exemption", (*where, "exempt", index), selector))
    return found


_SINGULAR = {"teams": "team", "items": "item", "categories": "category"}


def _check_names(
    doc: ParsedDocument,
    path: tuple[str | int, ...],
    selector: Mapping[str, Any],
    known: KnownNames,
    window_id: str,
    label: str,
) -> None:
    for key, names in (("teams", known.teams), ("items", known.items), ("categories", known.categories)):
        if names is None:
            continue
        for index, value in enumerate(selector.get(key) or []):
            if value not in names:
                doc.add(
                    (*path, key, index),
                    "W806",
                    f"window `{window_id}` {label} names unknown {_SINGULAR[key]} `{value}`",
                    f"known {key}: {', '.join(sorted(names)) or 'none'}",
                    severity="warning",
                )


def _check_when(
    doc: ParsedDocument, where: tuple[str | int, ...], raw: Mapping[str, Any], kind: str, now: datetime
) -> None:
    try:
        calendar = calendar_from_data({"timezone": doc.data["timezone"], "windows": [raw]})
    except CalendarError as exc:
        doc.add((*where, kind), "E805", str(exc), "fix the from/to values")
        return
    window: Window = calendar.windows[0]
    if kind == "fixed":
        occurrence = window.occurrences_around(now)[0]
        if occurrence.end <= occurrence.start:
            doc.add(
                (*where, kind, "to"),
                "E805",
                f"window `{window.id}` ends ({window.end_spec}) before it starts ({window.start_spec})",
                "swap from and to, or fix the dates",
            )
        elif occurrence.end <= now:
            doc.add(
                (*where, kind),
                "W807",
                f"fixed window `{window.id}` ended on {window.end_spec}",
                "remove the window from the calendar (git history keeps it)",
                severity="warning",
            )
    elif window.start_spec == window.end_spec:
        doc.add(
            (*where, kind, "to"),
            "E805",
            f"window `{window.id}` starts and ends at {window.start_spec}",
            "a window needs a length: make `to` differ from `from`",
        )


class CalendarStore:
    """The served calendar of a catalog folder: re-read when the file changes; an invalid edit keeps the
    last good calendar (and its findings are reported)."""

    def __init__(self, root: Path, *, known: KnownNames | None = None) -> None:
        self.root = root
        self.known = known
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._calendar: Calendar | None = None
        self._problems: list[Problem] = []

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = (self.root / CALENDAR_FILE).stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def current(self) -> Calendar | None:
        stamp = self._file_stamp()
        with self._lock:
            if stamp != self._stamp:
                loaded = load_calendar_file(self.root, known=self.known)
                self._problems = loaded.problems
                if loaded.calendar is not None or stamp is None:
                    self._calendar = loaded.calendar
                self._stamp = stamp
            return self._calendar

    @property
    def problems(self) -> list[Problem]:
        self.current()
        return list(self._problems)


def calendar_problems(root: Path, catalog: Catalog | None = None) -> list[Problem]:
    """Findings of `<root>/calendar.yaml` (for `pao validate`), names checked against `catalog`."""
    known = None
    if catalog is not None:
        known = KnownNames(
            teams=set(catalog.teams),
            items=set(catalog.items),
            categories={i.metadata.category for i in catalog.items.values() if i.metadata.category},
        )
    return load_calendar_file(root, known=known, display=str(root / CALENDAR_FILE)).problems
