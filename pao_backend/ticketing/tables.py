"""The `inbox_tickets` table (migration 0003): tickets of PAO's built-in inbox, when no JIRA is configured."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pao_backend.persistence.tables import Base, BigId, utcnow


class InboxTicketRow(Base):
    __tablename__ = "inbox_tickets"
    __table_args__ = (
        Index("ix_inbox_tickets_team_status", "team", "status_category"),
        Index("ix_inbox_tickets_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    # The pao-action-… label of the action that filed it: a retried action finds its ticket by it.
    action_label: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    project: Mapped[str] = mapped_column(String(50))
    team: Mapped[str] = mapped_column(String(100), default="")
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    component_id: Mapped[str | None] = mapped_column(String(100), default=None)
    issue_type: Mapped[str] = mapped_column(String(50), default="Task")
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(20), default="Medium")
    labels: Mapped[list[Any]] = mapped_column(default=list)
    components: Mapped[list[Any]] = mapped_column(default=list)
    epic_key: Mapped[str | None] = mapped_column(String(100), default=None)
    # Field id -> value: custom fields from the document, and the values entered when resolving.
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # [{type, key}]: tickets that block this one.
    blocked_by: Mapped[list[Any]] = mapped_column(default=list)
    comments: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="To Do")
    status_category: Mapped[str] = mapped_column(String(20), default="new")
    resolution: Mapped[str | None] = mapped_column(String(50), default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(300), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)


class TicketWaitRow(Base):
    """A workflow waiting for a ticket to close; the webhook and the inbox wake it (DBOS.send) by key."""

    __tablename__ = "ticket_waits"

    ticket_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    component_id: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
