"""Failure guidance: each failure gets a class, a plain-language message, next steps, and whom to escalate to.

Pure (no I/O): the engine calls `guidance_for(...)` when an action fails and stores `Guidance.to_dict()` with
the component, in the failure event, and in error bodies (`guidance`, `escalation`).

    failure class          what happened                                       who acts
    invalid_input          the values were refused as invalid                  the requester
    credentials_refused    the backend refused PAO's credentials               PAO operators / owner team
    backend_rejected       the backend understood and said no                  requester or owner team
    backend_unavailable    the backend did not answer after every retry        wait and retry, then owner team
    timeout                the backend did not answer in time                  wait and retry, then owner team
    ticket_rejected        the team closed the ticket without doing it         talk to the owner team
    configuration          PAO or the offering document is set up wrongly      owner team / PAO operators
    cancelled              somebody cancelled the request                      nobody
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pao_backend.catalog.models import Team
from pao_backend.errors import (
    ConflictError,
    InputError,
    NotAllowedError,
    NotFoundError,
    PaoError,
    UnavailableError,
)
from scaffolder_actions import FAILURE_CLASSES, ActionError, FailureClass


@dataclass(frozen=True)
class Escalation:
    """Whom to reach when a person has to step in: the owner team's contact and JIRA project."""

    team: str
    team_name: str | None = None
    contact: str | None = None
    jira_project: str | None = None
    chat: str | None = None
    hours: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "teamName": self.team_name,
            "contact": self.contact,
            "jiraProject": self.jira_project,
            "chat": self.chat,
            "hours": self.hours,
        }

    def describe(self) -> str:
        ways = [
            w for w in (self.contact, f"JIRA project {self.jira_project}" if self.jira_project else None) if w
        ]
        if self.chat:
            ways.append(self.chat)
        reach = f" ({', '.join(ways)})" if ways else ""
        return f"{self.team_name or self.team}{reach}"


@dataclass(frozen=True)
class Guidance:
    """What went wrong, in words a requester understands, and what to do next."""

    failure_class: FailureClass
    title: str
    message: str
    next_steps: tuple[str, ...]
    retryable: bool
    escalation: Escalation | None = None
    detail: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "failureClass": self.failure_class,
            "title": self.title,
            "message": self.message,
            "nextSteps": list(self.next_steps),
            "retryable": self.retryable,
            "detail": self.detail,
            "escalation": self.escalation.to_dict() if self.escalation else None,
            **dict(self.extra),
        }

    def error_details(self) -> dict[str, Any]:
        """`guidance` and `escalation` for a PaoError's details (the Backstage error body carries both)."""
        return {
            "guidance": self.to_dict(),
            "escalation": self.escalation.to_dict() if self.escalation else None,
        }


def escalation_for(
    team: Team | None, *, team_id: str | None = None, contact: str | None = None
) -> Escalation | None:
    """The escalation path of `team` (its `escalation` block, else its contact and JIRA project).

    Without a Team (not in teams.yaml), falls back to `team_id` and the document's owner `contact`.
    """
    if team is None:
        return Escalation(team=team_id, contact=contact) if team_id else None
    esc = team.escalation
    return Escalation(
        team=team.id,
        team_name=team.name,
        contact=(esc.contact if esc else None) or team.contact,
        jira_project=(esc.jira_project if esc else None) or team.jira_project,
        chat=esc.chat if esc else None,
        hours=esc.hours if esc else None,
    )


def classify(error: BaseException | Mapping[str, Any] | None) -> FailureClass:
    """The failure class of an ActionError, a PaoError, an ActionError.to_dict(), or anything else."""
    if isinstance(error, ActionError):
        return error.failure_class
    if isinstance(error, Mapping):
        value = error.get("failureClass") or error.get("failure_class")
        return value if value in FAILURE_CLASSES else "configuration"
    if isinstance(error, InputError):
        return "invalid_input"
    if isinstance(error, NotAllowedError):
        return "credentials_refused"
    if isinstance(error, NotFoundError | ConflictError):
        return "backend_rejected"
    if isinstance(error, UnavailableError):
        return "backend_unavailable"
    if isinstance(error, TimeoutError):
        return "timeout"
    return "configuration"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _escalate_step(escalation: Escalation | None, can_escalate: bool) -> str:
    who = escalation.describe() if escalation else "the team that owns this offering"
    if can_escalate:
        return f"Escalate: PAO files a ticket for {who} with this failure attached, and follows it."
    return f"Contact {who}."


def guidance_for(
    failure_class: FailureClass | str,
    *,
    detail: str | None = None,
    backend: str | None = None,
    attempts: int | None = None,
    resolution: str | None = None,
    ticket_key: str | None = None,
    escalation: Escalation | None = None,
    can_escalate: bool = False,
) -> Guidance:
    """Guidance for one failure. `detail` is the (already redacted) error message shown under the advice."""
    klass: FailureClass = failure_class if failure_class in FAILURE_CLASSES else "configuration"
    where = backend or "the service that fulfils this offering"
    escalate = _escalate_step(escalation, can_escalate)
    tries = f" after {attempts} tries" if attempts else ""
    title: str
    message: str
    steps: list[str]
    retryable = False
    if klass == "invalid_input":
        title = "The request's values were refused"
        message = f"{_cap(where)} refused the values of this request as invalid."
        steps = [
            "Check the values named below, correct them, and submit a new request.",
            "If the form accepted a value that the service refuses, tell the owner team so they fix the "
            f"offering's form. {escalate}",
        ]
    elif klass == "credentials_refused":
        title = "PAO's credentials were refused"
        message = (
            f"{_cap(where)} refused the credentials PAO uses. Nothing in your request is wrong, and "
            "you cannot fix this yourself."
        )
        steps = [
            "Tell the owner team or PAO's operators: the credential configured for this backend is wrong, "
            "expired, or lacks permissions (PAO_CREDENTIALS, PAO_JIRA_TOKEN).",
            "Retry the request once they have fixed it; nothing that succeeded runs again.",
            escalate,
        ]
    elif klass == "backend_rejected":
        title = "The request was refused"
        message = f"{_cap(where)} understood the request and refused it."
        steps = [
            "Read the reason below. If it is about your values (a name already taken, a quota), submit a new "
            "request with different values.",
            f"Otherwise the offering or the service needs a fix. {escalate}",
        ]
    elif klass == "backend_unavailable":
        title = "The service did not answer"
        message = f"{_cap(where)} was unavailable{tries}."
        steps = [
            "Retry later: PAO resumes from the failed step and nothing that succeeded runs again.",
            f"If it keeps failing, the service may be down. {escalate}",
        ]
        retryable = True
    elif klass == "timeout":
        title = "The service took too long"
        message = f"{_cap(where)} did not answer in time{tries}."
        steps = [
            "Retry later: PAO resumes from the failed step and nothing that succeeded runs again.",
            f"If it keeps timing out, the service may be overloaded. {escalate}",
        ]
        retryable = True
    elif klass == "ticket_rejected":
        title = "The team closed the ticket without doing it"
        closed = f" as “{resolution}”" if resolution else ""
        ticket = f"ticket {ticket_key}" if ticket_key else "the ticket"
        message = (
            f"The owner team closed {ticket}{closed}, so this part of the request will not be fulfilled."
        )
        steps = [
            f"Read the comments on {ticket} for the reason.",
            f"Talk to {escalation.describe() if escalation else 'the owner team'} before you submit a new "
            "request.",
        ]
    elif klass == "cancelled":
        title = "The request was cancelled"
        message = "Somebody cancelled this request; the steps that had not run yet were skipped."
        steps = ["Submit a new request if it is still needed."]
    else:
        title = "PAO or the offering is set up wrongly"
        message = (
            "PAO could not run this step because of its own configuration or the offering's document, "
            "not because of your values."
        )
        steps = [
            "Tell the owner team: the offering's fulfilment or PAO's settings need a fix (see the detail "
            "below).",
            "Retry the request once it is fixed.",
            escalate,
        ]
    return Guidance(
        failure_class=klass,
        title=title,
        message=message,
        next_steps=tuple(steps),
        retryable=retryable,
        escalation=escalation,
        detail=detail,
    )


def guidance_for_error(
    error: BaseException | Mapping[str, Any],
    *,
    backend: str | None = None,
    escalation: Escalation | None = None,
    can_escalate: bool = False,
) -> Guidance:
    """Guidance for an ActionError / PaoError (or an ActionError.to_dict() read back from the database)."""
    if isinstance(error, Mapping):
        detail = str(error.get("message") or "") or None
        details = error.get("details") or {}
    elif isinstance(error, ActionError | PaoError):
        detail, details = error.message, error.details
    else:
        detail, details = f"{type(error).__name__}: {error}", {}
    return guidance_for(
        classify(error),
        detail=detail,
        backend=backend,
        attempts=details.get("attempts") if isinstance(details.get("attempts"), int) else None,
        resolution=details.get("resolution") if isinstance(details.get("resolution"), str) else None,
        ticket_key=details.get("ticket") if isinstance(details.get("ticket"), str) else None,
        escalation=escalation,
        can_escalate=can_escalate,
    )
