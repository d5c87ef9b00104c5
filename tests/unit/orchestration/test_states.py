"""The state tables: allowed changes carry a reason, refused ones say why and what is possible."""

from __future__ import annotations

import pytest

from pao_backend.orchestration.states import (
    REQUEST_RULES,
    STEP_RULES,
    RequestState,
    StepState,
    backstage_status,
    check_operation,
    transition,
)


def test_every_state_has_a_rule_row() -> None:
    assert set(REQUEST_RULES) == {s.value for s in RequestState}
    assert set(STEP_RULES) == {s.value for s in StepState}


@pytest.mark.parametrize(
    ("current", "target"),
    [("submitted", "running"), ("running", "failed"), ("failed", "retrying"), ("retrying", "running")],
)
def test_allowed_request_changes_are_accepted_with_a_reason(current: str, target: str) -> None:
    verdict = transition(current, target)
    assert verdict.accepted
    assert verdict.reason


def test_a_finished_request_cannot_change_and_the_reason_says_so() -> None:
    verdict = transition("completed", "running")
    assert not verdict.accepted
    assert "completed request cannot become running" in verdict.reason
    assert "final" in verdict.reason


def test_refusal_lists_what_is_possible() -> None:
    verdict = transition("pending", "completed", kind="component")
    assert not verdict.accepted
    assert "running" in verdict.reason and "skipped" in verdict.reason


def test_retry_is_only_possible_when_failed() -> None:
    assert check_operation("failed", "retry").accepted
    refused = check_operation("running", "retry")
    assert not refused.accepted
    assert refused.reason == "cannot retry a running request: retry is possible when failed"


def test_cancel_is_refused_once_finished() -> None:
    assert check_operation("running", "cancel").accepted
    assert not check_operation("cancelled", "cancel").accepted


def test_backstage_status_mapping() -> None:
    assert [backstage_status(s) for s in ("submitted", "running", "completed", "failed", "aborted")] == [
        "open",
        "processing",
        "completed",
        "failed",
        "cancelled",
    ]
