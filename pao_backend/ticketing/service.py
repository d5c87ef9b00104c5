"""Ticketing service: the built-in inbox (list, resolve, reject) and the JIRA webhook.

Route handlers call one function here. Each change to a ticket wakes the workflow waiting for it, so the
request moves on at once instead of at the next poll.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pao_backend.errors import ConflictError, InputError, NotAllowedError, NotFoundError, PaoError
from pao_backend.persistence.db import Database
from pao_backend.persistence.tables import utcnow
from pao_backend.ticketing.inbox import find_row, inbox_url
from pao_backend.ticketing.tables import InboxTicketRow
from pao_backend.ticketing.waits import Notify, wake
from scaffolder_actions.actions.jira_ticket import PROPERTY_KEY

FIELD_SOURCE = "ticket.fields."


@dataclass(frozen=True)
class Caller:
    """Who acts on the inbox: identity ref, the teams they belong to, and whether they are an admin."""

    ref: str
    teams: Sequence[str] = ()
    admin: bool = False

    def may_work(self, team: str) -> bool:
        return self.admin or team in self.teams


@dataclass(frozen=True)
class OutputField:
    """An output the document declares for the ticket's action, and the ticket field it is read from."""

    key: str
    source: str
    field: str | None  # None: filled by PAO (ticket.key, ticket.url), not entered by a person

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "source": self.source,
            "field": self.field,
            "required": self.field is not None,
        }


@dataclass(frozen=True)
class InboxTicket:
    id: str
    key: str
    url: str
    team: str
    project: str
    summary: str
    description: str
    priority: str
    status: str
    status_category: str
    resolution: str | None
    request_id: str | None
    component_id: str | None
    offering_id: str | None
    item_id: str | None
    requester: str | None
    outputs: tuple[OutputField, ...]
    values: Mapping[str, Any]
    blocked_by: tuple[Mapping[str, Any], ...]
    comments: tuple[Mapping[str, Any], ...]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    reason: str | None

    def to_dict(self, *, now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        return {
            "id": self.id,
            "key": self.key,
            "url": self.url,
            "team": self.team,
            "project": self.project,
            "summary": self.summary,
            "description": self.description,
            "priority": self.priority,
            "status": self.status,
            "statusCategory": self.status_category,
            "resolution": self.resolution,
            "requestId": self.request_id,
            "componentId": self.component_id,
            "offeringId": self.offering_id,
            "itemId": self.item_id,
            "requester": self.requester,
            "outputs": [o.to_dict() for o in self.outputs],
            "values": dict(self.values),
            "blockedBy": [dict(b) for b in self.blocked_by],
            "comments": [dict(c) for c in self.comments],
            "createdAt": self.created_at.isoformat(),
            "ageSeconds": max(0, int((now - self.created_at).total_seconds())),
            "resolvedAt": self.resolved_at.isoformat() if self.resolved_at else None,
            "resolvedBy": self.resolved_by,
            "reason": self.reason,
        }


def declared_outputs(properties: Mapping[str, Any]) -> tuple[OutputField, ...]:
    """The outputs declared for the ticket's action, from the `pao` property the action stored."""
    declared = (properties.get(PROPERTY_KEY) or {}).get("declaredOutputs") or {}
    fields = []
    for key, source in dict(declared).items():
        source = str(source)
        field = source.removeprefix(FIELD_SOURCE) if source.startswith(FIELD_SOURCE) else None
        fields.append(OutputField(key=str(key), source=source, field=field))
    return tuple(fields)


def _read(row: InboxTicketRow, base_url: str) -> InboxTicket:
    pao = (row.properties or {}).get(PROPERTY_KEY) or {}
    outputs = declared_outputs(row.properties or {})
    values = {o.key: (row.fields or {}).get(o.field) for o in outputs if o.field}
    return InboxTicket(
        id=str(row.id),
        key=row.key,
        url=inbox_url(base_url, row.key),
        team=row.team,
        project=row.project,
        summary=row.summary,
        description=row.description,
        priority=row.priority,
        status=row.status,
        status_category=row.status_category,
        resolution=row.resolution,
        request_id=row.request_id,
        component_id=row.component_id,
        offering_id=pao.get("offeringId"),
        item_id=pao.get("itemId"),
        requester=pao.get("requester"),
        outputs=outputs,
        values=values,
        blocked_by=tuple(row.blocked_by or ()),
        comments=tuple(row.comments or ()),
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        reason=row.reason,
    )


def list_inbox(
    db: Database,
    *,
    base_url: str,
    caller: Caller,
    team: str | None = None,
    include_closed: bool = False,
) -> list[InboxTicket]:
    """Open tickets of `team` (or of every team the caller works for), oldest first."""
    if team is not None and not caller.may_work(team):
        raise NotAllowedError(
            f"{caller.ref} is not a member of team {team}: only its members (or admins) see its inbox"
        )
    query = select(InboxTicketRow).order_by(InboxTicketRow.created_at, InboxTicketRow.id)
    if team is not None:
        query = query.where(InboxTicketRow.team == team)
    elif not caller.admin:
        query = query.where(InboxTicketRow.team.in_(list(caller.teams)))
    if not include_closed:
        query = query.where(InboxTicketRow.status_category != "done")
    with db.reading() as session:
        return [_read(row, base_url) for row in session.scalars(query)]


def get_inbox_ticket(db: Database, *, base_url: str, key: str, caller: Caller) -> InboxTicket:
    """One ticket, for its team's members, admins, and the person who made the request."""
    with db.reading() as session:
        row = find_row(session, key)
        if row is None:
            raise NotFoundError(f"inbox ticket {key} does not exist; list open tickets at /api/pao/v1/inbox")
        ticket = _read(row, base_url)
    if not caller.may_work(ticket.team) and caller.ref != ticket.requester:
        raise NotAllowedError(f"{caller.ref} may not see {ticket.key}: it belongs to team {ticket.team}")
    return ticket


def validate_outputs(outputs: Mapping[str, Any], declared: Sequence[OutputField]) -> dict[str, str]:
    """Every declared (person-entered) output present, as a non-empty string; no undeclared keys."""
    wanted = {o.key: o for o in declared if o.field}
    errors = []
    for key in outputs:
        if key not in wanted:
            expected = ", ".join(sorted(wanted)) or "none"
            errors.append(
                {"path": f"outputs.{key}", "message": f"not declared for this ticket (expected: {expected})"}
            )
    for key in wanted:
        value = outputs.get(key)
        if value is None:
            errors.append(
                {"path": f"outputs.{key}", "message": "required: the next steps of the request read it"}
            )
        elif not isinstance(value, str) or not value.strip():
            errors.append({"path": f"outputs.{key}", "message": "must be a non-empty string"})
    if errors:
        summary = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
        raise InputError(f"invalid outputs: {summary}", details={"errors": errors})
    return {wanted[k].field or k: str(outputs[k]).strip() for k in wanted}


def _close(
    db: Database,
    *,
    key: str,
    caller: Caller,
    resolution: str,
    fields: Mapping[str, Any] | None = None,
    reason: str | None = None,
    base_url: str,
    outputs: Mapping[str, Any] | None = None,
) -> InboxTicket:
    with db.transaction() as session:
        row = find_row(session, key)
        if row is None:
            raise NotFoundError(f"inbox ticket {key} does not exist; list open tickets at /api/pao/v1/inbox")
        if not caller.may_work(row.team):
            raise NotAllowedError(
                f"{caller.ref} may not close {row.key}: only members of team {row.team or '(none)'} "
                "or admins may"
            )
        if row.status_category == "done":
            raise ConflictError(f"inbox ticket {row.key} is already closed ({row.resolution}); nothing to do")
        if outputs is not None:
            fields = validate_outputs(outputs, declared_outputs(row.properties or {}))
        now = utcnow()
        row.fields = {**(row.fields or {}), **dict(fields or {})}
        row.status, row.status_category, row.resolution = "Done", "done", resolution
        row.resolved_by, row.resolved_at, row.updated_at = caller.ref, now, now
        if reason is not None:
            row.reason = reason
            row.comments = [
                *(row.comments or []),
                {"author": caller.ref, "body": reason, "created": now.isoformat()},
            ]
        session.flush()
        return _read(row, base_url)


async def resolve_inbox_ticket(
    db: Database,
    *,
    key: str,
    outputs: Mapping[str, Any],
    caller: Caller,
    base_url: str,
    notify: Notify,
) -> InboxTicket:
    """Close the ticket as done with the outputs the document declares; the request moves on at once."""
    ticket = await asyncio.to_thread(
        _close, db, key=key, caller=caller, resolution="Done", outputs=outputs, base_url=base_url
    )
    await wake(db, ticket_key=ticket.key, notify=notify, reason="resolved")
    return ticket


async def reject_inbox_ticket(
    db: Database,
    *,
    key: str,
    reason: str,
    caller: Caller,
    base_url: str,
    notify: Notify,
) -> InboxTicket:
    """Close the ticket as "Won't Do" with a reason; the component fails with ticket_rejected guidance."""
    if not reason.strip():
        raise InputError(
            "a reason is required to reject a ticket: the requester reads it",
            details={"errors": [{"path": "reason", "message": "required"}]},
        )
    ticket = await asyncio.to_thread(
        _close, db, key=key, caller=caller, resolution="Won't Do", reason=reason.strip(), base_url=base_url
    )
    await wake(db, ticket_key=ticket.key, notify=notify, reason="rejected")
    return ticket


class WebhookRefusedError(PaoError):
    """The JIRA webhook did not carry PAO's shared secret (401)."""


def verify_webhook_secret(expected: str | None, *, header: str | None, token: str | None) -> None:
    """Accept the secret from the `X-PAO-Webhook-Secret` header or the `token` query parameter."""
    if not expected:
        raise WebhookRefusedError(
            "JIRA webhooks are off: set PAO_JIRA_WEBHOOK_SECRET and add it to the webhook URL (?token=...)",
            details={"status": 401},
        )
    given = header or token or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRefusedError(
            "the webhook secret is missing or wrong: send it as X-PAO-Webhook-Secret or ?token=",
            details={"status": 401},
        )


async def handle_jira_webhook(db: Database, *, payload: Mapping[str, Any], notify: Notify) -> dict[str, Any]:
    """Wake the workflow waiting for the ticket the event is about; events for other tickets are ignored."""
    issue = payload.get("issue")
    key = issue.get("key") if isinstance(issue, Mapping) else None
    if not isinstance(key, str) or not key:
        raise InputError(
            "the webhook body has no issue.key; configure the JIRA webhook for issue events",
            details={"errors": [{"path": "issue.key", "message": "required"}]},
        )
    woke = await wake(db, ticket_key=key, notify=notify, reason=str(payload.get("webhookEvent") or "webhook"))
    return {"ticket": key, "accepted": woke}
