"""The ticket-system interface pao:jira-ticket files its tickets through (JIRA, PAO's built-in inbox, ...).

A `TicketSystem` is injected into `create_jira_ticket_action(tickets=...)`; implementations live with their
backend (pao_backend/ticketing: JIRA via the `jira` library, the built-in inbox in PAO's database). They raise
the action library's errors: CredentialsRefusedError, BackendRejectedError, BackendUnavailableError (after
their own retries), ActionTimeoutError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

StatusCategory = Literal["new", "indeterminate", "done"]

# Resolutions that close a ticket without doing the work: the component fails (failure class ticket_rejected).
REJECTING_RESOLUTIONS = frozenset(
    {
        "won't do",
        "won't fix",
        "wont do",
        "wont fix",
        "declined",
        "rejected",
        "duplicate",
        "cannot reproduce",
        "incomplete",
        "obsolete",
        "deleted",
    }
)


@dataclass(frozen=True)
class TicketDraft:
    """What to file. `custom_fields` are backend field ids (`customfield_10050`) to values."""

    project: str
    issue_type: str
    summary: str
    description: str = ""
    priority: str = "Medium"
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    epic_key: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ticket:
    """A ticket as PAO sees it; `status_category` is JIRA's: new (To Do), indeterminate, done."""

    key: str
    url: str
    id: str
    status: str
    status_category: StatusCategory
    resolution: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] = ()

    @property
    def is_rejected(self) -> bool:
        """Closed with a "Won't Do"-like resolution."""
        return (
            self.status_category == "done"
            and (self.resolution or "").strip().lower() in REJECTING_RESOLUTIONS
        )

    @property
    def is_done(self) -> bool:
        """Closed as done (status category Done, resolution not a rejection)."""
        return self.status_category == "done" and not self.is_rejected

    @property
    def is_open(self) -> bool:
        return self.status_category != "done"


class TicketSystem(Protocol):
    """Where tickets are filed. Every method may be retried: `create` is only called after `find_by_label`."""

    async def find_by_label(self, label: str, *, project: str | None = None) -> Ticket | None:
        """The ticket carrying `label` (in `project`, when given), or None."""
        ...

    async def create(self, draft: TicketDraft, *, properties: Mapping[str, Any]) -> Ticket:
        """File a ticket; `properties` (JSON) are stored with it under the key `pao`."""
        ...

    async def get(self, key: str) -> Ticket:
        """The ticket as it is now; raises BackendRejectedError when it does not exist."""
        ...

    async def link(self, *, blocked_key: str, blocker_key: str, link_type: str = "blocks") -> None:
        """Record that `blocker_key` blocks `blocked_key` (`blocked_key` "is blocked by" `blocker_key`)."""
        ...

    async def comment(self, key: str, text: str) -> None:
        """Add a comment to the ticket."""
        ...
