"""pao:jira-ticket — file a ticket (JIRA or another TicketSystem) once per action, linked to its blockers.

Idempotent: the ticket carries a label derived from the run's `attempt_key` (stable across retries of the
same action), and the handler looks for that label before creating, so a retried step never files a
duplicate. Waiting for the ticket to be done is the engine's business, not this action's: the action ends
once the ticket exists.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import Field, field_validator

from scaffolder_actions._action import Action, ActionModel, Example
from scaffolder_actions._context import ActionContext
from scaffolder_actions.tickets import Ticket, TicketDraft, TicketSystem

ACTION_ID = "pao:jira-ticket"
PROPERTY_KEY = "pao"
# ctx.metadata keys copied into the ticket's `pao` property (what the inbox and the webhook read back).
PROPERTY_METADATA = (
    "requestId",
    "componentId",
    "actionIndex",
    "offeringId",
    "itemId",
    "team",
    "requester",
    "declaredOutputs",
    "escalation",
)
_LABEL = re.compile(r"^[^\s]{1,255}$")


def action_label(attempt_key: str) -> str:
    """The label that identifies the ticket of one action run (same key → same label)."""
    return "pao-action-" + hashlib.sha256(attempt_key.encode()).hexdigest()[:16]


class TicketLink(ActionModel):
    """`key` blocks the new ticket: the new ticket "is blocked by" `key`."""

    type: str = Field("blocks", min_length=1, description="Link type name or its outward description")
    key: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*-\d+$", description="Key of the blocking ticket")


class JiraTicketInput(ActionModel):
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]+$", description="JIRA project key, e.g. DBA")
    issue_type: str = Field("Task", min_length=1, description="Issue type name, e.g. Task")
    summary: str = Field(min_length=1, max_length=255, description="One line, at most 255 characters")
    description: str = Field("", description="Body in JIRA markup (already rendered and escaped)")
    priority: Literal["Critical", "High", "Medium", "Low"] = "Medium"
    labels: list[str] = Field(default_factory=list, description="Extra labels (no spaces)")
    components: list[str] = Field(default_factory=list, description="Project component names")
    epic_key: str | None = Field(None, description="Epic to file the ticket under")
    custom_fields: dict[str, Any] = Field(
        default_factory=dict, description="Field id → value, e.g. {customfield_10050: ...}"
    )
    links: list[TicketLink] = Field(default_factory=list, description="Tickets that block this one")

    @field_validator("labels")
    @classmethod
    def _labels_have_no_spaces(cls, labels: list[str]) -> list[str]:
        for label in labels:
            if not _LABEL.match(label):
                raise ValueError(f"label {label!r} must be 1–255 characters without spaces")
        return labels

    @field_validator("summary")
    @classmethod
    def _summary_is_one_line(cls, summary: str) -> str:
        summary = " ".join(summary.split())
        if not summary:
            raise ValueError("summary must not be blank")
        return summary


class JiraTicketOutput(ActionModel):
    key: str = Field(description="Ticket key, e.g. DBA-42")
    url: str = Field(description="Where people open the ticket")
    id: str = Field(description="The ticket system's id")


EXAMPLES = [
    Example(
        description="File a task for the database team",
        example="""\
steps:
  - id: ticket
    action: pao:jira-ticket
    input:
      project: DBA
      issueType: Task
      summary: PostgreSQL orders-db for dev@example.com
      description: "h3. Request\\nInstance class: *small*"
      priority: High
      labels: [postgres]
""",
        input={
            "project": "DBA",
            "issueType": "Task",
            "summary": "PostgreSQL orders-db for dev@example.com",
            "description": "h3. Request\nInstance class: *small*",
            "priority": "High",
            "labels": ["postgres"],
        },
        expected={"key": "DBA-1"},
    ),
    Example(
        description="File a ticket that is blocked by an earlier one, with a custom field",
        example="""\
steps:
  - id: ticket
    action: pao:jira-ticket
    input:
      project: SEC
      summary: Secrets for orders-db
      customFields: {customfield_10052: "rotate every 90 days"}
      links: [{type: blocks, key: DBA-1}]
""",
        input={
            "project": "SEC",
            "summary": "Secrets for orders-db",
            "customFields": {"customfield_10052": "rotate every 90 days"},
            "links": [{"type": "blocks", "key": "DBA-1"}],
        },
        expected={"key": "SEC-1"},
        notes="`links[].key` must exist; the new ticket is linked as 'is blocked by' it.",
    ),
]


def _properties(ctx: ActionContext[JiraTicketInput], label: str) -> dict[str, Any]:
    carried = {k: ctx.metadata[k] for k in PROPERTY_METADATA if ctx.metadata.get(k) is not None}
    return {PROPERTY_KEY: {**carried, "attemptKey": ctx.attempt_key, "label": label}}


def _labels(ctx: ActionContext[JiraTicketInput], label: str) -> tuple[str, ...]:
    labels = ["pao", label]
    request_id = ctx.metadata.get("requestId")
    if request_id:
        labels.append(f"pao-request-{request_id}")
    labels.extend(ctx.input.labels)
    return tuple(dict.fromkeys(labels))


def create_jira_ticket_action(*, tickets: TicketSystem) -> Action[JiraTicketInput]:
    """`pao:jira-ticket`, filing through `tickets` (JIRA, the built-in inbox, or a test double)."""

    async def handler(ctx: ActionContext[JiraTicketInput]) -> None:
        inp = ctx.input
        label = action_label(ctx.attempt_key)
        # Tickets are read by many people and kept for years: a secret never goes into one.
        summary, description = (
            ctx.redactor.redact_text(inp.summary),
            ctx.redactor.redact_text(inp.description),
        )
        custom_fields = ctx.redactor.redact(dict(inp.custom_fields))
        if (summary, description, custom_fields) != (inp.summary, inp.description, inp.custom_fields):
            ctx.logger.warning(
                "a secret value in the ticket's text was replaced by *** (secrets never go into tickets)"
            )
        draft = TicketDraft(
            project=inp.project,
            issue_type=inp.issue_type,
            summary=summary,
            description=description,
            priority=inp.priority,
            labels=_labels(ctx, label),
            components=tuple(inp.components),
            epic_key=inp.epic_key,
            custom_fields=custom_fields,
        )
        if ctx.dry_run:
            blockers = ", ".join(link.key for link in inp.links) or "none"
            ctx.logger.info(
                f"dry-run: would file a {inp.issue_type} in {inp.project} ({inp.priority}): "
                f"{inp.summary!r}; labels {list(draft.labels)}; blocked by {blockers}"
            )
            ctx.output("key", f"{inp.project}-0")
            ctx.output("url", "")
            ctx.output("id", "")
            return

        ctx.raise_if_cancelled()
        ticket: Ticket | None = await ctx.until_cancelled(tickets.find_by_label(label, project=inp.project))
        if ticket is not None:
            ctx.logger.info(f"ticket {ticket.key} already filed by an earlier try of this action; reusing it")
        else:
            ticket = await ctx.until_cancelled(tickets.create(draft, properties=_properties(ctx, label)))
            ctx.logger.info(f"filed {ticket.key} in {inp.project}: {ticket.url}")
        for link in inp.links:
            await ctx.until_cancelled(
                tickets.link(blocked_key=ticket.key, blocker_key=link.key, link_type=link.type)
            )
            ctx.logger.info(f"{ticket.key} is blocked by {link.key} ({link.type})")
        ctx.output("key", ticket.key)
        ctx.output("url", ticket.url)
        ctx.output("id", ticket.id)

    return Action(
        id=ACTION_ID,
        description=(
            "File a ticket in JIRA (or PAO's built-in inbox) for a platform team, labelled with the request, "
            "component and action, linked 'is blocked by' the tickets it depends on. Retried runs reuse the "
            "ticket they filed before. Outputs the ticket key, URL and id."
        ),
        input_model=JiraTicketInput,
        output_model=JiraTicketOutput,
        handler=handler,
        examples=EXAMPLES,
        supports_dry_run=True,
        needs_workspace=False,
    )
