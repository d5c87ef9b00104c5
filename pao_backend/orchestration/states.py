"""Request and component/action states as FROM→TO tables of rules with reasons.

`transition()` accepts a change or rejects it with a reason a person can read; the engine turns a
rejection into a request event and the API into a 409. Pure: no I/O, no framework imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RequestState(StrEnum):
    SUBMITTED = "submitted"
    SCHEDULED = "scheduled"  # waiting for a freeze window to end or an approval
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"  # waiting for a person: retry, abort, escalate or cancel
    RETRYING = "retrying"
    ABORTED = "aborted"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


class StepState(StrEnum):
    """The states of a component and of an action run."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"  # a ticket is open, or another durable wait
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


R = RequestState
S = StepState

REQUEST_TERMINAL = frozenset({R.COMPLETED, R.ABORTED, R.CANCELLED})
STEP_TERMINAL = frozenset({S.COMPLETED, S.SKIPPED, S.CANCELLED})

REQUEST_RULES: dict[str, dict[str, str]] = {
    R.SUBMITTED: {
        R.SCHEDULED: "waits for a change window or an approval",
        R.RUNNING: "fulfilment started",
        R.FAILED: "could not start",
        R.CANCELLED: "cancelled before it started",
    },
    R.SCHEDULED: {R.RUNNING: "the wait is over", R.CANCELLED: "cancelled while scheduled"},
    R.RUNNING: {
        R.COMPLETED: "every component completed",
        R.FAILED: "a component failed and waits for a person",
        R.CANCELLED: "cancelled while running",
        R.SCHEDULED: "waits for a change window or an approval",
    },
    R.FAILED: {
        R.RETRYING: "retry requested",
        R.ABORTED: "aborted by a person",
        R.ESCALATED: "escalated to the owning team",
        R.CANCELLED: "cancelled while failed",
    },
    R.RETRYING: {
        R.RUNNING: "retrying from the failed action",
        R.FAILED: "the retry could not start",
        R.CANCELLED: "cancelled while retrying",
    },
    R.ESCALATED: {
        R.RUNNING: "the owning team's ticket path is running",
        R.COMPLETED: "the owning team fulfilled it",
        R.FAILED: "the escalation failed",
        R.CANCELLED: "cancelled while escalated",
    },
    R.COMPLETED: {},
    R.ABORTED: {},
    R.CANCELLED: {},
}

STEP_RULES: dict[str, dict[str, str]] = {
    S.PENDING: {
        S.RUNNING: "started",
        S.SKIPPED: "not needed",
        S.CANCELLED: "cancelled before it started",
        S.FAILED: "could not start",
    },
    S.RUNNING: {
        S.WAITING: "waiting for someone else",
        S.COMPLETED: "done",
        S.FAILED: "failed",
        S.CANCELLED: "cancelled while running",
    },
    S.WAITING: {
        S.RUNNING: "the wait is over",
        S.COMPLETED: "done",
        S.FAILED: "failed while waiting",
        S.CANCELLED: "cancelled while waiting",
    },
    S.FAILED: {
        S.PENDING: "retry requested",
        S.RUNNING: "retrying",
        S.SKIPPED: "the request was aborted",
        S.CANCELLED: "the request was cancelled",
    },
    S.COMPLETED: {},
    S.SKIPPED: {},
    S.CANCELLED: {},
}


@dataclass(frozen=True)
class Transition:
    accepted: bool
    reason: str


def transition(current: str, target: str, *, kind: str = "request") -> Transition:
    """Accept or reject `current → target` for a request (kind="request") or a component/action."""
    rules = REQUEST_RULES if kind == "request" else STEP_RULES
    if current == target:
        return Transition(False, f"the {kind} is already {current}")
    allowed = rules.get(current)
    if allowed is None:
        return Transition(False, f"unknown {kind} state {current!r}")
    reason = allowed.get(target)
    if reason is None:
        options = ", ".join(sorted(allowed)) or "nothing: it is final"
        return Transition(False, f"a {current} {kind} cannot become {target} (it can become: {options})")
    return Transition(True, reason)


# What a person may ask for, by request state, with the reason shown when it is refused.
OPERATIONS: dict[str, dict[str, str]] = {
    "retry": {R.FAILED: "retry resumes from the failed action"},
    "abort": {R.FAILED: "abort stops the request and keeps what is done"},
    # escalation (J): a failed automatic component runs its manual (ticket) path
    "escalate": {R.FAILED: "escalate files the owning team's ticket with the failure attached"},
    "cancel": {
        R.SUBMITTED: "cancel stops the request",
        R.SCHEDULED: "cancel stops the request",
        R.RUNNING: "cancel stops the running actions",
        R.FAILED: "cancel stops the request",
        R.RETRYING: "cancel stops the request",
        R.ESCALATED: "cancel stops the request",
    },
}


def check_operation(state: str, operation: str) -> Transition:
    """May a person `retry`/`abort`/`cancel` a request in `state`? The reason says why not."""
    allowed = OPERATIONS.get(operation, {})
    if state in allowed:
        return Transition(True, allowed[state])
    possible = ", ".join(sorted(str(s) for s in allowed)) or "no state"
    return Transition(False, f"cannot {operation} a {state} request: {operation} is possible when {possible}")


def backstage_status(state: str) -> str:
    """The Backstage scaffolder task status for a request state."""
    mapping: dict[str, str] = {
        R.SUBMITTED: "open",
        R.SCHEDULED: "open",
        R.RUNNING: "processing",
        R.RETRYING: "processing",
        R.ESCALATED: "processing",
        R.COMPLETED: "completed",
        R.FAILED: "failed",
        R.CANCELLED: "cancelled",
        R.ABORTED: "cancelled",
    }
    return mapping.get(state, "open")
