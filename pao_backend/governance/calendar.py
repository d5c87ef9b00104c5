"""The change calendar: freeze windows and the verdict for a request at a given instant. Pure.

A window is fixed (once), yearly (may cross the year end) or weekly (may cross the week end), written
in wall-clock time of the calendar's business timezone (or its own). It covers [from, to): a `to`
with a time is exclusive, a date alone means "through the end of that day". Hard windows hold a
request (`onFreeze: schedule`, it starts when the freeze ends) or refuse it (with the date it can be
made); soft windows need an approval by a named role. Overlapping windows all apply: a refusal beats
scheduling, scheduling beats an approval, and a request held by one hard window waits until no hard
window covers it any more.

Nothing here reads a clock: every function takes `now`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pao_backend.catalog.models import CatalogBundle, CatalogItem
from pao_backend.catalog.store import Catalog

__all__ = [
    "WEEKDAYS",
    "Calendar",
    "CalendarError",
    "ComponentFacts",
    "Occurrence",
    "RequestFacts",
    "Selector",
    "Verdict",
    "VerdictKind",
    "Window",
    "calendar_from_data",
    "next_open",
    "request_environment",
    "verdict",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
VerdictKind = Literal["allowed", "scheduled", "refused", "needs_approval"]
RecurrenceKind = Literal["fixed", "yearly", "weekly"]
# Bounds the search for the end of chained/overlapping hard windows (a calendar that is frozen for
# longer than this many consecutive occurrences is reported as "no opening found").
_MAX_HOPS = 200


class CalendarError(ValueError):
    """A calendar value that cannot be evaluated (only for data that skipped schema validation)."""


# ---- request facts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentFacts:
    """What a window's scope can match on, for one component of a request."""

    item: str
    category: str
    team: str


@dataclass(frozen=True)
class RequestFacts:
    """The request as the calendar sees it: its components and its target environment."""

    components: tuple[ComponentFacts, ...]
    environment: str = ""

    @classmethod
    def for_offering(cls, catalog: Catalog, offering_id: str, *, environment: str = "") -> RequestFacts:
        """Facts of an item (one component) or a bundle (its components' items)."""
        offering = catalog.get_offering(offering_id)
        items: list[CatalogItem] = []
        if isinstance(offering, CatalogItem):
            items = [offering]
        elif isinstance(offering, CatalogBundle):
            items = [
                catalog.items[c.catalog_item] for c in offering.components if c.catalog_item in catalog.items
            ]
        return cls(
            components=tuple(
                ComponentFacts(item=i.id, category=i.metadata.category or "", team=i.metadata.owner.team)
                for i in items
            ),
            environment=environment,
        )


def request_environment(values: Mapping[str, Any], default: str = "") -> str:
    """The environment a request targets: a form field `environment` (top level or in any group), else
    `default` (the deployment's platform environment)."""
    found = values.get("environment")
    if isinstance(found, str) and found:
        return found
    for group in values.values():
        if isinstance(group, Mapping):
            inner = group.get("environment")
            if isinstance(inner, str) and inner:
                return inner
    return default


# ---- windows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """Matches a component when every given dimension lists its value; `all` matches everything."""

    all: bool = False
    categories: frozenset[str] | None = None
    teams: frozenset[str] | None = None
    items: frozenset[str] | None = None
    environments: frozenset[str] | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Selector:
        if not data:
            return cls(all=True)

        def values(key: str) -> frozenset[str] | None:
            raw = data.get(key)
            return frozenset(str(v) for v in raw) if isinstance(raw, list) else None

        return cls(
            all=bool(data.get("all", False)),
            categories=values("categories"),
            teams=values("teams"),
            items=values("items"),
            environments=values("environments"),
        )

    @property
    def is_empty(self) -> bool:
        return not self.all and all(
            v is None for v in (self.categories, self.teams, self.items, self.environments)
        )

    def matches(self, component: ComponentFacts, environment: str) -> bool:
        if self.all:
            return True
        if self.is_empty:
            return False
        checks = (
            (self.categories, component.category),
            (self.teams, component.team),
            (self.items, component.item),
            (self.environments, environment),
        )
        return all(allowed is None or value in allowed for allowed, value in checks)

    def describe(self) -> str:
        if self.all or self.is_empty:
            return "everything"
        parts = []
        for label, values in (
            ("categories", self.categories),
            ("teams", self.teams),
            ("items", self.items),
            ("environments", self.environments),
        ):
            if values is not None:
                parts.append(f"{label} {', '.join(sorted(values))}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        if self.all:
            return {"all": True}
        return {
            k: sorted(v)
            for k, v in (
                ("categories", self.categories),
                ("teams", self.teams),
                ("items", self.items),
                ("environments", self.environments),
            )
            if v is not None
        }


@dataclass(frozen=True)
class Occurrence:
    """One stretch of time a window covers: [start, end), both aware."""

    start: datetime
    end: datetime

    def covers(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


_TIME = r"(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])"
_FIXED = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?: " + _TIME + r")?$")
_YEARLY = re.compile(r"^(?P<month>\d{2})-(?P<day>\d{2})(?: " + _TIME + r")?$")
_WEEKLY = re.compile(r"^(?P<weekday>[a-z]+) " + _TIME + r"$")


def _clock_time(match: re.Match[str]) -> time | None:
    if match.group("hour") is None:
        return None
    return time(int(match.group("hour")), int(match.group("minute")))


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def _yearly_day(year: int, month: int, day: int) -> date:
    """Feb 29 falls on Feb 28 in other years."""
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, 28)


@dataclass(frozen=True)
class Window:
    """A freeze window (see the module docstring for the rules)."""

    id: str
    name: str
    freeze: Literal["hard", "soft"]
    recurrence: RecurrenceKind
    start_spec: str
    end_spec: str
    zone: ZoneInfo
    on_freeze: Literal["schedule", "refuse"] = "schedule"
    approval_role: str | None = None
    description: str = ""
    scope: Selector = field(default_factory=lambda: Selector(all=True))
    exempt: tuple[Selector, ...] = ()

    # -- when --------------------------------------------------------------------------------------

    def _fixed(self) -> Occurrence:
        start_match, end_match = _FIXED.match(self.start_spec), _FIXED.match(self.end_spec)
        if start_match is None or end_match is None:
            raise CalendarError(f"window {self.id}: fixed from/to must be YYYY-MM-DD[ HH:MM]")
        start_day = date(int(start_match["year"]), int(start_match["month"]), int(start_match["day"]))
        end_day = date(int(end_match["year"]), int(end_match["month"]), int(end_match["day"]))
        end_time = _clock_time(end_match)
        if end_time is None:
            end_day, end_time = end_day + timedelta(days=1), time(0, 0)
        return Occurrence(
            _local(start_day, _clock_time(start_match) or time(0, 0), self.zone),
            _local(end_day, end_time, self.zone),
        )

    def _yearly(self, year: int) -> Occurrence:
        """The occurrence that starts in `year`."""
        start_match, end_match = _YEARLY.match(self.start_spec), _YEARLY.match(self.end_spec)
        if start_match is None or end_match is None:
            raise CalendarError(f"window {self.id}: yearly from/to must be MM-DD[ HH:MM]")
        start_day = _yearly_day(year, int(start_match["month"]), int(start_match["day"]))
        start = _local(start_day, _clock_time(start_match) or time(0, 0), self.zone)

        def end_in(end_year: int) -> datetime:
            day = _yearly_day(end_year, int(end_match["month"]), int(end_match["day"]))
            at = _clock_time(end_match)
            if at is None:  # a date alone: through the end of that day
                return _local(day + timedelta(days=1), time(0, 0), self.zone)
            return _local(day, at, self.zone)

        end = end_in(year)
        if end <= start:  # crosses the year end
            end = end_in(year + 1)
        return Occurrence(start, end)

    def _weekly_parts(self) -> tuple[int, time, int, time]:
        start_match, end_match = _WEEKLY.match(self.start_spec), _WEEKLY.match(self.end_spec)
        if (
            start_match is None
            or end_match is None
            or start_match["weekday"] not in WEEKDAYS
            or end_match["weekday"] not in WEEKDAYS
        ):
            raise CalendarError(f"window {self.id}: weekly from/to must be `<weekday> HH:MM`")
        start_time, end_time = _clock_time(start_match), _clock_time(end_match)
        assert start_time is not None and end_time is not None
        return (
            WEEKDAYS.index(start_match["weekday"]),
            start_time,
            WEEKDAYS.index(end_match["weekday"]),
            end_time,
        )

    def _weekly(self, start_day: date) -> Occurrence:
        """The occurrence starting on `start_day` (which must be the window's start weekday)."""
        _, start_time, end_weekday, end_time = self._weekly_parts()
        days = (end_weekday - start_day.weekday()) % 7
        end_day = start_day + timedelta(days=days)
        start = _local(start_day, start_time, self.zone)
        end = _local(end_day, end_time, self.zone)
        if end <= start:
            end = _local(end_day + timedelta(days=7), end_time, self.zone)
        return Occurrence(start, end)

    def occurrences_around(self, instant: datetime) -> list[Occurrence]:
        """The occurrences that could cover `instant` or follow it soonest, in start order."""
        local = instant.astimezone(self.zone)
        if self.recurrence == "fixed":
            return [self._fixed()]
        if self.recurrence == "yearly":
            return [self._yearly(year) for year in (local.year - 1, local.year, local.year + 1)]
        start_weekday, *_ = self._weekly_parts()
        back = (local.weekday() - start_weekday) % 7
        latest_start = local.date() - timedelta(days=back)
        return [self._weekly(latest_start + timedelta(days=7 * k)) for k in (-1, 0, 1)]

    def occurrence_at(self, instant: datetime) -> Occurrence | None:
        """The occurrence covering `instant`, if any."""
        for occurrence in self.occurrences_around(instant):
            if occurrence.covers(instant):
                return occurrence
        return None

    def next_occurrence(self, instant: datetime) -> Occurrence | None:
        """The occurrence covering `instant`, else the next one to start (None: a fixed window is over)."""
        for occurrence in self.occurrences_around(instant):
            if occurrence.end > instant:
                return occurrence
        return None

    # -- what --------------------------------------------------------------------------------------

    def applies_to(self, facts: RequestFacts) -> bool:
        """Whether the window freezes at least one component of the request (exemptions removed)."""
        return any(self._freezes(component, facts.environment) for component in facts.components)

    def _freezes(self, component: ComponentFacts, environment: str) -> bool:
        if not self.scope.matches(component, environment):
            return False
        return not any(selector.matches(component, environment) for selector in self.exempt)

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "freeze": self.freeze,
            "onFreeze": self.on_freeze if self.freeze == "hard" else None,
            "approvalRole": self.approval_role,
            "recurrence": self.recurrence,
            "from": self.start_spec,
            "to": self.end_spec,
            "timezone": self.zone.key,
            "scope": self.scope.to_dict(),
            "scopeText": self.scope.describe(),
            "exempt": [s.to_dict() for s in self.exempt],
        }
        if now is not None:
            current = self.occurrence_at(now)
            upcoming = self.next_occurrence(now if current is None else current.end)
            document["activeNow"] = current is not None
            document["current"] = _occurrence_dict(current)
            document["next"] = _occurrence_dict(upcoming)
        return document


def _iso(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _occurrence_dict(occurrence: Occurrence | None) -> dict[str, str | None] | None:
    if occurrence is None:
        return None
    return {"start": _iso(occurrence.start), "end": _iso(occurrence.end)}


@dataclass(frozen=True)
class Calendar:
    timezone: ZoneInfo
    windows: tuple[Window, ...] = ()
    owner_team: str | None = None

    def window(self, window_id: str) -> Window | None:
        return next((w for w in self.windows if w.id == window_id), None)

    def frozen_now(self, now: datetime) -> list[Window]:
        """Windows covering `now` (whatever their scope)."""
        return [w for w in self.windows if w.occurrence_at(now) is not None]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown timezone {name!r}; use an IANA name such as Europe/Berlin") from exc


def calendar_from_data(data: Mapping[str, Any]) -> Calendar:
    """A Calendar from a schema-valid calendar document (CalendarError for values the schema cannot
    catch, such as an unknown timezone)."""
    zone = _zone(str(data.get("timezone") or "UTC"))
    windows: list[Window] = []
    for raw in data.get("windows") or []:
        kinds: list[RecurrenceKind] = [k for k in ("fixed", "yearly", "weekly") if k in raw]
        if len(kinds) != 1:
            raise CalendarError(f"window {raw.get('id')}: give exactly one of fixed, yearly, weekly")
        recurrence = kinds[0]
        when = raw[recurrence]
        approval = raw.get("approval") or {}
        windows.append(
            Window(
                id=str(raw["id"]),
                name=str(raw.get("name") or raw["id"]),
                description=str(raw.get("description") or "").strip(),
                freeze="soft" if raw.get("freeze") == "soft" else "hard",
                on_freeze="refuse" if raw.get("onFreeze") == "refuse" else "schedule",
                approval_role=approval.get("role"),
                recurrence=recurrence,
                start_spec=str(when["from"]),
                end_spec=str(when["to"]),
                zone=_zone(str(raw["timezone"])) if raw.get("timezone") else zone,
                scope=Selector.from_data(raw.get("scope")),
                exempt=tuple(Selector.from_data(s) for s in raw.get("exempt") or []),
            )
        )
    metadata = data.get("metadata") or {}
    owner = (metadata.get("owner") or {}).get("team") if isinstance(metadata, Mapping) else None
    return Calendar(timezone=zone, windows=tuple(windows), owner_team=owner)


# ---- verdict --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveWindow:
    """A window that took part in a verdict, with the occurrence that covers the instant."""

    window: Window
    occurrence: Occurrence

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.window.id,
            "name": self.window.name,
            "freeze": self.window.freeze,
            "onFreeze": self.window.on_freeze if self.window.freeze == "hard" else None,
            "approvalRole": self.window.approval_role,
            "start": _iso(self.occurrence.start),
            "end": _iso(self.occurrence.end),
        }


@dataclass(frozen=True)
class Verdict:
    """What the calendar says about a request at one instant.

    allowed: go ahead. scheduled: hold until `until`. refused: come back at `next_possible`.
    needs_approval: a person with one of `roles` must approve first.
    """

    kind: VerdictKind
    message: str
    windows: tuple[ActiveWindow, ...] = ()
    until: datetime | None = None
    next_possible: datetime | None = None
    roles: tuple[str, ...] = ()

    @property
    def role(self) -> str | None:
        return self.roles[0] if self.roles else None

    @property
    def allowed(self) -> bool:
        return self.kind == "allowed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.kind,
            "message": self.message,
            "until": _iso(self.until),
            "nextPossible": _iso(self.next_possible),
            "roles": list(self.roles),
            "windows": [w.to_dict() for w in self.windows],
        }


def _applicable(
    calendar: Calendar, facts: RequestFacts, instant: datetime, freeze: str
) -> list[ActiveWindow]:
    found = []
    for window in calendar.windows:
        if window.freeze != freeze or not window.applies_to(facts):
            continue
        occurrence = window.occurrence_at(instant)
        if occurrence is not None:
            found.append(ActiveWindow(window, occurrence))
    return found


def next_open(calendar: Calendar, facts: RequestFacts, now: datetime) -> datetime | None:
    """The first instant at or after `now` that no hard window covers for this request (None: not
    within the search bound, e.g. windows chained back to back for years)."""
    instant = now
    for _ in range(_MAX_HOPS):
        active = _applicable(calendar, facts, instant, "hard")
        if not active:
            return instant
        instant = max(a.occurrence.end for a in active)
    return None


def _when(instant: datetime | None, zone: ZoneInfo) -> str:
    if instant is None:
        return "an unknown date (the calendar has no opening in sight)"
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _names(windows: Iterable[ActiveWindow]) -> str:
    return ", ".join(f"`{a.window.id}` ({a.window.name})" for a in windows)


def verdict(
    calendar: Calendar | None,
    facts: RequestFacts,
    now: datetime,
    *,
    approved: Collection[str] = (),
) -> Verdict:
    """The calendar's verdict on a request at `now`. `approved` lists soft windows already approved."""
    if now.tzinfo is None:
        raise CalendarError("now must be timezone-aware")
    if calendar is None or not facts.components:
        return Verdict("allowed", "no change calendar applies")
    zone = calendar.timezone
    hard = _applicable(calendar, facts, now, "hard")
    if hard:
        opening = next_open(calendar, facts, now)
        refusing = [a for a in hard if a.window.on_freeze == "refuse"]
        if refusing:
            return Verdict(
                "refused",
                f"change freeze {_names(refusing)} covers this request until "
                f"{_when(max(a.occurrence.end for a in refusing), zone)}; "
                f"submit it again from {_when(opening, zone)}",
                windows=tuple(hard),
                next_possible=opening,
            )
        return Verdict(
            "scheduled",
            f"change freeze {_names(hard)}: the request is held and starts at {_when(opening, zone)}",
            windows=tuple(hard),
            until=opening,
        )
    soft = [a for a in _applicable(calendar, facts, now, "soft") if a.window.id not in approved]
    if soft:
        roles = tuple(dict.fromkeys(a.window.approval_role or "admin" for a in soft))
        return Verdict(
            "needs_approval",
            f"restricted change window {_names(soft)}: a person with the role "
            f"{' or '.join(roles)} must approve before the request starts",
            windows=tuple(soft),
            roles=roles,
        )
    return Verdict("allowed", "no freeze window applies now")
