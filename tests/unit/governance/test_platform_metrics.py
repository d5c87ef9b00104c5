"""Metrics on a seeded history with known answers: exact p50/p90 and the exact split of the lead time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pao_backend.governance.metrics import (
    ActionRunFact,
    ComponentFact,
    RequestFact,
    StateChange,
    compute_metrics,
    lead_time_split,
    percentile,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday, ISO week 45
DB = "database-postgresql-standard"
KAFKA = "messaging-kafka-topic"


def request(
    rid: str,
    item: str,
    team: str,
    requester: str,
    start: datetime,
    steps: list[tuple[float, str | None, str]],
    runs: list[tuple[str, str, str | None]],
) -> RequestFact:
    """`steps`: (seconds after start, component id or None for the request, new state)."""
    changes = tuple(StateChange(state, start + timedelta(seconds=s), comp) for s, comp, state in steps)
    request_states = [c for c in changes if c.component_id is None]
    final = request_states[-1]
    component_state = [c for c in changes if c.component_id == "c"][-1].to_state
    return RequestFact(
        id=rid,
        catalog_id=item,
        requester=requester,
        state=final.to_state,
        created_at=start,
        finished_at=final.at if final.to_state in ("completed", "aborted", "cancelled") else None,
        components=(ComponentFact("c", item, team, "automatic", component_state),),
        runs=tuple(ActionRunFact("c", t, s, fc) for t, s, fc in runs),
        changes=changes,
    )


def history() -> list[RequestFact]:
    day = timedelta(days=1)
    return [
        # R1: automation only: 10 s queued, 60 s running.
        request(
            "r1", DB, "platform-databases", "alice", T0,
            [(0, None, "submitted"), (10, None, "running"), (10, "c", "running"), (70, "c", "completed"),
             (70, None, "completed")],
            [("rest-api", "completed", None)],
        ),
        # R2: a ticket: 5 queued, 10+5 running, 3600 waiting on the ticket.
        request(
            "r2", KAFKA, "platform-messaging", "bob", T0 + day,
            [(0, None, "submitted"), (5, None, "running"), (5, "c", "running"), (15, "c", "waiting"),
             (3615, "c", "running"), (3620, "c", "completed"), (3620, None, "completed")],
            [("jira-ticket", "completed", None)],
        ),
        # R3: held by a freeze for two hours.
        request(
            "r3", DB, "platform-databases", "alice", T0 + 2 * day,
            [(0, None, "submitted"), (2, None, "scheduled"), (7202, None, "running"), (7202, "c", "running"),
             (7262, "c", "completed"), (7262, None, "completed")],
            [("rest-api", "completed", None)],
        ),
        # R4: fails, waits 600 s for a person, retried, completes.
        request(
            "r4", DB, "platform-databases", "carol", T0 + 7 * day,
            [(0, None, "submitted"), (1, None, "running"), (1, "c", "running"), (31, "c", "failed"),
             (31, None, "failed"), (631, None, "retrying"), (632, None, "running"), (632, "c", "pending"),
             (633, "c", "running"), (693, "c", "completed"), (693, None, "completed")],
            [("rest-api", "failed", "backend_unavailable"), ("rest-api", "completed", None)],
        ),
        # R5: failed, still waiting for a person (not in the lead time).
        request(
            "r5", DB, "platform-databases", "dave", T0 + 8 * day,
            [(0, None, "submitted"), (1, None, "running"), (1, "c", "running"), (10, "c", "failed"),
             (10, None, "failed")],
            [("rest-api", "failed", "timeout")],
        ),
        # R6: fails, escalated to the team's ticket, done by a person.
        request(
            "r6", DB, "platform-databases", "erin", T0 + 8 * day,
            [(0, None, "submitted"), (1, None, "running"), (1, "c", "running"), (11, "c", "failed"),
             (11, None, "failed"), (111, None, "escalated"), (111, "c", "pending"), (112, "c", "running"),
             (113, "c", "waiting"), (1113, "c", "completed"), (1113, None, "completed")],
            [("rest-api", "failed", "credentials_refused"), ("jira-ticket", "completed", None)],
        ),
    ]  # fmt: skip


def test_nearest_rank_percentiles() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 90) == 4.0
    assert percentile([], 50) is None


def test_lead_time_split_of_single_requests() -> None:
    rows = {r.id: r for r in history()}
    assert lead_time_split(rows["r1"]) == {"queued": 10, "scheduled": 0, "waiting": 0, "running": 60}
    assert lead_time_split(rows["r2"]) == {"queued": 5, "scheduled": 0, "waiting": 3600, "running": 15}
    assert lead_time_split(rows["r3"]) == {"queued": 2, "scheduled": 7200, "waiting": 0, "running": 60}
    assert lead_time_split(rows["r4"]) == {"queued": 3, "scheduled": 0, "waiting": 600, "running": 90}
    assert lead_time_split(rows["r6"]) == {"queued": 2, "scheduled": 0, "waiting": 1100, "running": 11}
    assert lead_time_split(rows["r5"]) == {}


def test_lead_time_p50_p90_and_split_over_the_history() -> None:
    metrics = compute_metrics(history())
    lead = metrics["leadTime"]
    assert lead["seconds"] == {"count": 5, "p50": 1113.0, "p90": 7262.0, "mean": 2551.6}
    split = lead["split"]
    assert (split["queued"]["p50"], split["queued"]["p90"], split["queued"]["totalSeconds"]) == (3, 10, 22)
    assert (split["scheduled"]["p50"], split["scheduled"]["p90"]) == (0, 7200)
    assert (split["waiting"]["p50"], split["waiting"]["p90"], split["waiting"]["totalSeconds"]) == (
        600,
        3600,
        5300,
    )
    assert (split["running"]["p50"], split["running"]["p90"], split["running"]["totalSeconds"]) == (
        60,
        90,
        236,
    )
    assert split["scheduled"]["share"] == round(7200 / 12758, 4)
    assert sum(s["totalSeconds"] for s in split.values()) == 12758  # = the sum of the lead times


def test_adoption_failures_retries_escalations_and_automation() -> None:
    metrics = compute_metrics(history())
    assert metrics["requests"] == 6 and metrics["requesters"] == 5
    assert metrics["adoption"]["byItem"] == [
        {"key": DB, "requests": 5, "requesters": 4},
        {"key": KAFKA, "requests": 1, "requesters": 1},
    ]
    assert metrics["adoption"]["byWeek"] == [
        {"key": "2026-W45", "requests": 3, "requesters": 2},
        {"key": "2026-W46", "requests": 3, "requesters": 3},
    ]
    assert metrics["adoption"]["byTeam"][0] == {"key": "platform-databases", "requests": 5, "requesters": 4}
    assert metrics["failures"] == {
        "requestsFailed": 3,
        "rate": 0.5,
        "classes": {"backend_unavailable": 1, "credentials_refused": 1, "timeout": 1},
    }
    assert metrics["retries"] == {"requestsRetried": 1, "succeeded": 1, "successRate": 1.0}
    assert metrics["escalations"] == {"requests": 1, "byTeam": {"platform-databases": 1}}
    automation = metrics["automation"]
    assert (automation["automated"], automation["completed"], automation["share"]) == (3, 5, 0.6)
    assert automation["byTeam"]["platform-databases"]["share"] == 0.75
    assert automation["byTeam"]["platform-messaging"]["share"] == 0.0
