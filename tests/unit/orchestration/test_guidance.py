"""Every failure class has plain-language guidance and names whom to escalate to."""

from __future__ import annotations

import pytest

from pao_backend.catalog.models import Team
from pao_backend.errors import InputError
from pao_backend.orchestration.guidance import (
    classify,
    escalation_for,
    guidance_for,
    guidance_for_error,
)
from scaffolder_actions import FAILURE_CLASSES, BackendUnavailableError, TicketRejectedError

TEAM = Team.model_validate(
    {
        "id": "platform-databases",
        "name": "Platform Databases",
        "contact": "dba@example.com",
        "jiraProject": "DBA",
        "codeowners": "@acme/platform-databases",
        "escalation": {"contact": "dba-oncall@example.com", "chat": "#dba-help"},
    }
)


@pytest.mark.parametrize("failure_class", FAILURE_CLASSES)
def test_each_failure_class_has_a_message_next_steps_and_the_owner_team(failure_class: str) -> None:
    guidance = guidance_for(failure_class, detail="boom", escalation=escalation_for(TEAM), can_escalate=True)
    body = guidance.to_dict()
    assert body["failureClass"] == failure_class
    assert body["title"] and body["message"] and body["nextSteps"]
    assert body["detail"] == "boom"
    assert body["escalation"] == {
        "team": "platform-databases",
        "teamName": "Platform Databases",
        "contact": "dba-oncall@example.com",
        "jiraProject": "DBA",
        "chat": "#dba-help",
        "hours": None,
    }


def test_unavailable_after_retries_says_how_often_it_tried_and_that_retry_is_safe() -> None:
    error = BackendUnavailableError("JIRA down", details={"attempts": 4})
    guidance = guidance_for_error(error, backend="JIRA", escalation=escalation_for(TEAM), can_escalate=True)
    assert guidance.failure_class == "backend_unavailable"
    assert guidance.retryable
    assert "after 4 tries" in guidance.message
    assert any("Escalate" in step and "DBA" in step for step in guidance.next_steps)


def test_ticket_rejected_names_the_ticket_and_the_resolution() -> None:
    error = TicketRejectedError("closed", details={"ticket": "DBA-7", "resolution": "Won't Do"})
    guidance = guidance_for_error(error.to_dict(), escalation=escalation_for(TEAM))
    assert guidance.failure_class == "ticket_rejected"
    assert "DBA-7" in guidance.message and "Won't Do" in guidance.message
    assert not guidance.retryable


def test_errors_are_classified_whatever_their_origin() -> None:
    assert classify(InputError("bad")) == "invalid_input"
    assert classify({"failureClass": "timeout"}) == "timeout"
    assert classify({"failureClass": "made-up"}) == "configuration"
    assert classify(RuntimeError("bug")) == "configuration"


def test_error_details_carry_guidance_and_escalation_for_the_error_body() -> None:
    details = guidance_for("configuration", escalation=escalation_for(None, team_id="x", contact="x@e.com"))
    assert details.error_details()["escalation"] == {
        "team": "x",
        "teamName": None,
        "contact": "x@e.com",
        "jiraProject": None,
        "chat": None,
        "hours": None,
    }
