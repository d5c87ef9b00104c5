"""The change calendar's verdicts at window boundaries, across a year end, with overlaps and exemptions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pao_backend.governance.calendar import (
    Calendar,
    ComponentFacts,
    RequestFacts,
    calendar_from_data,
    next_open,
    request_environment,
    verdict,
)
from pao_backend.governance.calendar_file import KnownNames, load_calendar_file
from tests.conftest import ROOT

BERLIN = ZoneInfo("Europe/Berlin")
DB = ComponentFacts(item="database-postgresql-standard", category="databases", team="platform-databases")
SECRET = ComponentFacts(item="security-secret-standard", category="security", team="platform-security")
APP = ComponentFacts(item="compute-container-app", category="compute", team="platform-compute")


def facts(*components: ComponentFacts, environment: str = "production") -> RequestFacts:
    return RequestFacts(components=components, environment=environment)


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture(scope="module")
def sample() -> Calendar:
    loaded = load_calendar_file(ROOT / "catalog")
    assert loaded.problems == []
    assert loaded.calendar is not None
    return loaded.calendar


# ---- yearly, across the year end, in the business timezone and in UTC -----------------------------


def test_holiday_freeze_starts_at_local_midnight_which_is_2200_utc_the_day_before(sample: Calendar) -> None:
    # 2026-09-24 is a Thursday: no weekend window either.
    assert verdict(sample, facts(DB), utc(2026, 9, 24, 21, 59, 59)).kind == "allowed"
    held = verdict(sample, facts(DB), utc(2026, 9, 24, 22, 0, 0))
    assert held.kind == "scheduled"
    assert [w.window.id for w in held.windows] == ["holiday-season"]
    # "to: 01-15" (a date alone) means through the 15th: open at 16 January 00:00 Berlin (23:00 UTC).
    assert held.until == berlin(2027, 1, 16, 0, 0)
    assert held.until == utc(2027, 1, 15, 23, 0)


def test_holiday_freeze_crosses_the_year_end(sample: Calendar) -> None:
    for instant in (berlin(2026, 12, 31, 23, 59), berlin(2027, 1, 1, 0, 0), berlin(2027, 1, 15, 12, 0)):
        result = verdict(sample, facts(APP), instant)
        assert result.kind == "scheduled", instant
        assert result.until == berlin(2027, 1, 16, 0, 0)
    # 16 January 2027 is a Saturday: the hard freeze is over, the weekend window (soft) applies.
    after = verdict(sample, facts(APP), berlin(2027, 1, 16, 0, 0))
    assert after.kind == "needs_approval"
    assert verdict(sample, facts(APP), berlin(2027, 1, 18, 8, 0)).kind == "allowed"


def test_a_request_on_the_last_frozen_minute_of_the_year_before_is_held_until_the_new_opening() -> None:
    calendar = calendar_from_data(
        {
            "timezone": "UTC",
            "windows": [
                {
                    "id": "eoy",
                    "name": "EOY",
                    "freeze": "hard",
                    "yearly": {"from": "12-20 18:00", "to": "01-05 06:00"},
                }
            ],
        }
    )
    assert verdict(calendar, facts(DB), utc(2026, 12, 20, 17, 59)).kind == "allowed"
    assert verdict(calendar, facts(DB), utc(2026, 12, 20, 18, 0)).until == utc(2027, 1, 5, 6, 0)
    assert verdict(calendar, facts(DB), utc(2027, 1, 5, 5, 59)).until == utc(2027, 1, 5, 6, 0)
    assert verdict(calendar, facts(DB), utc(2027, 1, 5, 6, 0)).kind == "allowed"


# ---- weekly soft window: approval by a named role ---------------------------------------------------


def test_weekend_window_needs_the_change_managers_between_friday_1600_and_monday_0800(
    sample: Calendar,
) -> None:
    # The week of 2027-02-15 (Monday) is outside the holiday freeze.
    assert verdict(sample, facts(APP), berlin(2027, 2, 19, 15, 59)).kind == "allowed"
    friday = verdict(sample, facts(APP), berlin(2027, 2, 19, 16, 0))
    assert friday.kind == "needs_approval"
    assert friday.roles == ("change-managers",)
    assert friday.windows[0].occurrence.end == berlin(2027, 2, 22, 8, 0)
    assert verdict(sample, facts(APP), berlin(2027, 2, 22, 7, 59)).kind == "needs_approval"
    assert verdict(sample, facts(APP), berlin(2027, 2, 22, 8, 0)).kind == "allowed"


def test_weekend_window_follows_the_business_timezone_across_daylight_saving(sample: Calendar) -> None:
    # Summer time: Friday 16:00 Berlin is 14:00 UTC (winter: 15:00 UTC).
    assert verdict(sample, facts(APP), utc(2027, 6, 4, 13, 59)).kind == "allowed"
    assert verdict(sample, facts(APP), utc(2027, 6, 4, 14, 0)).kind == "needs_approval"
    assert verdict(sample, facts(APP), utc(2027, 2, 19, 14, 30)).kind == "allowed"
    assert verdict(sample, facts(APP), utc(2027, 2, 19, 15, 0)).kind == "needs_approval"


def test_an_approved_soft_window_no_longer_holds_the_request(sample: Calendar) -> None:
    instant = berlin(2027, 2, 20, 10, 0)
    assert verdict(sample, facts(APP), instant, approved={"weekend"}).kind == "allowed"


# ---- exemptions and scope ------------------------------------------------------------------------


def test_development_is_exempt_from_the_holiday_freeze_and_the_weekend_window(sample: Calendar) -> None:
    assert (
        verdict(sample, facts(APP, environment="development"), berlin(2026, 12, 19, 11, 0)).kind == "allowed"
    )


def test_an_exempt_item_passes_the_hard_freeze_but_still_needs_weekend_approval(sample: Calendar) -> None:
    assert verdict(sample, facts(SECRET), berlin(2026, 12, 16, 11, 0)).kind == "allowed"  # a Wednesday
    assert verdict(sample, facts(SECRET), berlin(2026, 12, 19, 11, 0)).kind == "needs_approval"  # Saturday


def test_staging_is_outside_the_production_only_holiday_freeze(sample: Calendar) -> None:
    assert verdict(sample, facts(APP, environment="staging"), berlin(2026, 12, 16, 11, 0)).kind == "allowed"


def test_a_bundle_is_held_when_any_of_its_components_is_frozen(sample: Calendar) -> None:
    during_migration = berlin(2027, 3, 3, 12, 0)  # Wednesday before the migration: nothing applies
    assert verdict(sample, facts(APP, SECRET), during_migration).kind == "allowed"
    refused = verdict(sample, facts(APP, DB), berlin(2027, 3, 5, 18, 0))
    assert refused.kind == "refused"


# ---- fixed refuse window, overlaps -------------------------------------------------------------------


def test_fixed_migration_freeze_refuses_databases_with_the_date_they_can_be_made(sample: Calendar) -> None:
    # 2027-03-05 is a Friday; in development the weekend window does not apply, the migration does.
    assert verdict(sample, facts(DB, environment="development"), berlin(2027, 3, 5, 17, 59)).kind == "allowed"
    assert verdict(sample, facts(DB, environment="development"), berlin(2027, 3, 5, 18, 0)).kind == "refused"
    refused = verdict(sample, facts(DB, environment="development"), berlin(2027, 3, 6, 9, 0))
    assert refused.kind == "refused"
    assert refused.next_possible == berlin(2027, 3, 8, 6, 0)
    assert "dc-migration-2027" in refused.message
    assert "2027-03-08 06:00 CET" in refused.message
    # Compute is not in the migration's scope: only the weekend window applies (it is Saturday).
    assert verdict(sample, facts(APP), berlin(2027, 3, 6, 9, 0)).kind == "needs_approval"


def test_overlapping_hard_windows_hold_until_the_last_one_ends_and_refusal_wins() -> None:
    calendar = calendar_from_data(
        {
            "timezone": "UTC",
            "windows": [
                {
                    "id": "a",
                    "name": "A",
                    "freeze": "hard",
                    "fixed": {"from": "2027-05-01 00:00", "to": "2027-05-03 00:00"},
                },
                {
                    "id": "b",
                    "name": "B",
                    "freeze": "hard",
                    "fixed": {"from": "2027-05-02 00:00", "to": "2027-05-04 12:00"},
                },
                {
                    "id": "c",
                    "name": "C",
                    "freeze": "hard",
                    "onFreeze": "refuse",
                    "fixed": {"from": "2027-05-04 12:00", "to": "2027-05-05 00:00"},
                    "scope": {"categories": ["databases"]},
                },
            ],
        }
    )
    held = verdict(calendar, facts(APP), utc(2027, 5, 1, 10, 0))
    assert held.kind == "scheduled"
    assert held.until == utc(2027, 5, 4, 12, 0)  # A ends inside B: held to B's end
    # For a database the chain continues into C (refuse) — the opening is after C.
    assert next_open(calendar, facts(DB), utc(2027, 5, 1, 10, 0)) == utc(2027, 5, 5, 0, 0)
    refused = verdict(calendar, facts(DB), utc(2027, 5, 4, 13, 0))
    assert refused.kind == "refused"
    assert refused.next_possible == utc(2027, 5, 5, 0, 0)


def test_a_window_with_its_own_timezone_uses_it() -> None:
    calendar = calendar_from_data(
        {
            "timezone": "Europe/Berlin",
            "windows": [
                {
                    "id": "us-close",
                    "name": "US quarter close",
                    "freeze": "hard",
                    "timezone": "America/New_York",
                    "fixed": {"from": "2027-03-31 17:00", "to": "2027-04-01"},
                }
            ],
        }
    )
    assert verdict(calendar, facts(APP), utc(2027, 3, 31, 20, 59)).kind == "allowed"  # 16:59 EDT
    held = verdict(calendar, facts(APP), utc(2027, 3, 31, 21, 0))
    assert held.until == datetime(2027, 4, 2, 0, 0, tzinfo=ZoneInfo("America/New_York"))


def test_no_calendar_allows_everything() -> None:
    assert verdict(None, facts(DB), utc(2026, 12, 24, 12, 0)).kind == "allowed"


def test_environment_comes_from_the_form_or_the_deployment() -> None:
    assert (
        request_environment({"name": "x", "rollout": {"environment": "staging"}}, "production") == "staging"
    )
    assert request_environment({"name": "x"}, "production") == "production"


# ---- validation of the file ----------------------------------------------------------------------


def test_a_broken_calendar_is_reported_with_positions_codes_and_hints(tmp_path: Path) -> None:
    (tmp_path / "calendar.yaml").write_text(
        """schemaVersion: catalog/v1
kind: ChangeCalendar
timezone: Europe/Berlin
windows:
  - id: weekend
    name: Weekend
    freeze: soft
    weekly: {from: "friday 16:00", to: "monday 08:00"}
  - id: weekend
    name: Twice
    freeze: hard
    approval: {role: cab}
    yearly: {from: "09-25", to: "01-15"}
    fixed: {from: "2027-01-01", to: "2027-01-02"}
  - id: backwards
    name: Backwards
    freeze: hard
    fixed: {from: "2027-03-08", to: "2027-03-05"}
    scope: {teams: [nobody]}
  - id: typo
    name: Typo
    freeze: hard
    weekly: {from: "fri 16:00", to: "monday 08:00"}
    timezone: Mars/Olympus
""",
        "utf-8",
    )
    loaded = load_calendar_file(tmp_path, known=KnownNames(teams=["platform-databases"]))
    assert loaded.calendar is None
    found = {(p.code, p.line) for p in loaded.problems}
    assert ("E205", 23) in found  # weekly.from pattern, on its line
    codes = {p.code for p in loaded.problems}
    assert codes == {"E205"}  # schema errors first: the rules wait until the shape is right
    (tmp_path / "calendar.yaml").write_text(
        (tmp_path / "calendar.yaml").read_text("utf-8").replace("fri 16:00", "friday 16:00"), "utf-8"
    )
    loaded = load_calendar_file(tmp_path, known=KnownNames(teams=["platform-databases"]))
    by_code = {p.code: p for p in loaded.problems}
    assert set(by_code) == {"E803", "E801", "E804", "E800", "W802", "E805", "W806"}
    assert by_code["E803"].line == 24 and "IANA" in by_code["E803"].hint
    assert by_code["E801"].line == 5 and "approval" in by_code["E801"].hint
    assert by_code["E804"].line == 9
    assert by_code["E805"].line == 18 and "swap" in by_code["E805"].hint
    assert by_code["W806"].severity == "warning"


def test_pao_validate_covers_the_calendar(tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from pao_backend.cli import app

    catalog = tmp_path / "catalog"
    shutil.copytree(ROOT / "catalog", catalog)
    runner = CliRunner()
    clean = runner.invoke(app, ["validate", str(catalog)])
    assert clean.exit_code == 0, clean.output
    text = (catalog / "calendar.yaml").read_text("utf-8")
    (catalog / "calendar.yaml").write_text(text.replace("{role: change-managers}", "{}"), "utf-8")
    broken = runner.invoke(app, ["validate", str(catalog)])
    assert broken.exit_code == 1
    assert "calendar.yaml:" in broken.output and "E202" in broken.output


def test_the_store_keeps_the_last_good_calendar_when_an_edit_breaks_it(tmp_path: Path) -> None:
    import os

    from pao_backend.governance.calendar_file import CalendarStore

    good = (ROOT / "catalog" / "calendar.yaml").read_text("utf-8")
    target = tmp_path / "calendar.yaml"
    target.write_text(good, "utf-8")
    store = CalendarStore(tmp_path)
    first = store.current()
    assert first is not None and len(first.windows) == 3 and store.problems == []
    target.write_text(good.replace("freeze: hard", "freeze: frozen", 1), "utf-8")
    os.utime(target, ns=(1, 2))  # a different stamp even within the same clock tick
    assert store.current() is first
    assert [p.code for p in store.problems] == ["E204"]
    target.unlink()
    assert store.current() is None
