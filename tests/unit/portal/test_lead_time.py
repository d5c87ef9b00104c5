"""Typical lead time: the median of completed requests, in words."""

from __future__ import annotations

from pao_backend.portal.lead_time import humanize, median_seconds


def test_median_is_taken_per_offering() -> None:
    assert median_seconds({"a": [10.0, 20.0, 400.0], "b": [60.0, 120.0], "c": []}) == {"a": 20.0, "b": 90.0}


def test_durations_read_as_people_say_them() -> None:
    assert humanize(3) == "~3 s"
    assert humanize(240) == "~4 min"
    assert humanize(3 * 3600) == "~3 h"
    assert humanize(5 * 86400) == "~5 days"
