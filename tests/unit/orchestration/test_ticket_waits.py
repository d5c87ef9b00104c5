"""The ticket wait loop reads, waits for a wake-up or the poll interval, and stops when the ticket closes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from pao_backend.orchestration.tickets import (
    escalation_description,
    rejection_error,
    ticket_outcome,
    ticket_result,
    wait_for_ticket,
)


def _snap(category: str, resolution: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "key": "DBA-1",
        "url": "http://j/browse/DBA-1",
        "id": "1",
        "status": "x",
        "statusCategory": category,
        "resolution": resolution,
        "fields": fields,
    }


def test_outcome_follows_status_category_and_resolution() -> None:
    assert ticket_outcome(_snap("new")) == "open"
    assert ticket_outcome(_snap("indeterminate")) == "open"
    assert ticket_outcome(_snap("done", "Done")) == "done"
    assert ticket_outcome(_snap("done", "Fixed")) == "done"
    assert ticket_outcome(_snap("done", "Won't Do")) == "rejected"
    assert ticket_outcome(_snap("done", "Declined")) == "rejected"


def test_wait_polls_until_done_and_waits_on_the_ticket_topic() -> None:
    states = iter(
        [_snap("new"), _snap("indeterminate"), _snap("done", "Done", customfield_1={"value": "big"})]
    )
    waits: list[tuple[str, float]] = []

    async def read(key: str) -> Mapping[str, Any]:
        return next(states)

    async def recv(topic: str, timeout: float) -> Any:
        waits.append((topic, timeout))

    final = asyncio.run(wait_for_ticket("DBA-1", read=read, recv=recv, poll_seconds=60))
    assert waits == [("ticket:DBA-1", 60), ("ticket:DBA-1", 60)]
    assert ticket_result(final)["fields"] == {"customfield_1": "big"}


def test_unwoken_polls_back_off_to_the_ceiling_and_a_wake_up_starts_again() -> None:
    # None = the wait timed out; a message = the webhook or the inbox woke it (the ticket is still open).
    woken = iter([None, None, None, None, {"op": "wake"}, None, None])
    states = iter([_snap("new")] * 7 + [_snap("done", "Done")])
    timeouts: list[float] = []

    async def read(key: str) -> Mapping[str, Any]:
        return next(states)

    async def recv(topic: str, timeout: float) -> Any:
        timeouts.append(timeout)
        return next(woken)

    asyncio.run(wait_for_ticket("DBA-2", read=read, recv=recv, poll_seconds=60, max_poll_seconds=300))
    assert timeouts == [60, 120, 240, 300, 300, 60, 120]


def test_rejection_error_is_classified_and_names_ticket_and_resolution() -> None:
    error = rejection_error(_snap("done", "Won't Do"), team="platform-databases")
    assert error.failure_class == "ticket_rejected"
    assert "DBA-1" in error.message and "Won't Do" in error.message
    assert error.details["resolution"] == "Won't Do"


def test_escalation_description_attaches_what_was_tried_and_the_error() -> None:
    text = escalation_description(
        description="PostgreSQL orders-db",
        request_id="r-1",
        request_url="http://pao/requests/r-1",
        component_id="database",
        item_id="database-postgresql-standard",
        tried=["rest-api POST https://db/api/v1/instances (3 tries)"],
        error={"failureClass": "backend_unavailable", "message": "503 after 3 tries"},
    )
    assert "[r-1|http://pao/requests/r-1]" in text
    assert "# rest-api POST https://db/api/v1/instances (3 tries)" in text
    assert "backend_unavailable" in text and "503 after 3 tries" in text
    assert text.endswith("PostgreSQL orders-db")
