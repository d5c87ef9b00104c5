"""The one exception tree of the action library.

    ActionError                    failure_class            retryable
    ├── ActionInputError           invalid_input            no
    ├── CredentialsRefusedError    credentials_refused      no
    ├── BackendRejectedError       backend_rejected         no
    ├── BackendUnavailableError    backend_unavailable      yes
    ├── ActionTimeoutError         timeout                  yes
    ├── TicketRejectedError        ticket_rejected          no
    ├── ActionConfigurationError   configuration            no
    │   └── UnknownActionError     configuration            no
    └── ActionCancelledError       cancelled                no

`failure_class` is what a person acts on (the engine turns it into guidance); `retryable` says whether
running the same attempt again may succeed without anybody changing anything. Messages name the thing
and the fix; `details` carries machine-readable context (status, per-field `errors`, ...), never secrets.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

FailureClass = Literal[
    "invalid_input",
    "credentials_refused",
    "backend_rejected",
    "backend_unavailable",
    "timeout",
    "ticket_rejected",
    "configuration",
    "cancelled",
]

FAILURE_CLASSES: tuple[FailureClass, ...] = get_args(FailureClass)


class ActionError(Exception):
    """Base of every error an action raises on purpose."""

    default_failure_class: ClassVar[FailureClass] = "configuration"
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        failure_class: FailureClass | None = None,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.failure_class: FailureClass = failure_class or self.default_failure_class
        self.retryable = self.default_retryable if retryable is None else retryable
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: `{name, message, failureClass, retryable, details}`."""
        return {
            "name": type(self).__name__,
            "message": self.message,
            "failureClass": self.failure_class,
            "retryable": self.retryable,
            "details": self.details,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, failure_class={self.failure_class!r})"


class ActionInputError(ActionError):
    """The action's input is invalid; `details["errors"]` lists `{path, message}` per field."""

    default_failure_class = "invalid_input"


class CredentialsRefusedError(ActionError):
    """The backend refused the credentials (HTTP 401/403, JIRA auth failure, git auth failure)."""

    default_failure_class = "credentials_refused"


class BackendRejectedError(ActionError):
    """The backend understood the request and said no (4xx, a git conflict, a missing file)."""

    default_failure_class = "backend_rejected"


class BackendUnavailableError(ActionError):
    """The backend did not answer usefully, after every retry (5xx, connection refused, 429)."""

    default_failure_class = "backend_unavailable"
    default_retryable = True


class ActionTimeoutError(ActionError):
    """The backend did not answer within the configured timeout."""

    default_failure_class = "timeout"
    default_retryable = True


class TicketRejectedError(ActionError):
    """A ticket was closed with a resolution that is not done (e.g. "Won't Do")."""

    default_failure_class = "ticket_rejected"


class ActionConfigurationError(ActionError):
    """The action or PAO is set up wrongly (unknown credential, missing template, bad factory argument)."""

    default_failure_class = "configuration"


class UnknownActionError(ActionConfigurationError):
    """No action with this id is registered."""


class ActionCancelledError(ActionError):
    """The caller cancelled the run (ctx.cancelled was set)."""

    default_failure_class = "cancelled"
