"""InboxTicketSystem: tickets in PAO's own database, worked in the portal or the inbox API (no JIRA)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from pao_backend.persistence.db import Database
from pao_backend.persistence.tables import utcnow
from pao_backend.ticketing.tables import InboxTicketRow
from scaffolder_actions import BackendRejectedError
from scaffolder_actions.actions.jira_ticket import PROPERTY_KEY
from scaffolder_actions.tickets import StatusCategory, Ticket, TicketDraft

T = TypeVar("T")
TeamForProject = Callable[[str], str | None]

_CATEGORIES: dict[str, StatusCategory] = {"new": "new", "indeterminate": "indeterminate", "done": "done"}


def inbox_url(base_url: str, key: str) -> str:
    """Where people open an inbox ticket (the portal's inbox page)."""
    return f"{base_url.rstrip('/')}/inbox?ticket={key}"


def ticket_from_row(row: InboxTicketRow, base_url: str) -> Ticket:
    return Ticket(
        key=row.key,
        url=inbox_url(base_url, row.key),
        id=str(row.id),
        status=row.status,
        status_category=_CATEGORIES.get(row.status_category, "new"),
        resolution=row.resolution,
        fields=dict(row.fields or {}),
        labels=tuple(row.labels or ()),
    )


def find_row(session: Session, key_or_id: str) -> InboxTicketRow | None:
    """The inbox ticket by key (`DBA-12`) or numeric id."""
    row = session.scalars(select(InboxTicketRow).where(InboxTicketRow.key == key_or_id)).first()
    # ASCII digits within SQL BIGINT only: int("²") fails and 10**30 overflows the database (Q).
    if row is None and key_or_id.isascii() and key_or_id.isdigit() and int(key_or_id) < 2**63:
        row = session.get(InboxTicketRow, int(key_or_id))
    return row


class InboxTicketSystem:
    """A TicketSystem whose tickets live in the `inbox_tickets` table."""

    def __init__(
        self, *, db: Database, base_url: str, team_for_project: TeamForProject | None = None
    ) -> None:
        self._db = db
        self._base_url = base_url
        self._team_for_project = team_for_project or (lambda _project: None)

    def __repr__(self) -> str:
        return "InboxTicketSystem()"

    async def find_by_label(self, label: str, *, project: str | None = None) -> Ticket | None:
        def find(session: Session) -> Ticket | None:
            query = select(InboxTicketRow)
            if label.startswith("pao-action-"):
                query = query.where(InboxTicketRow.action_label == label)
            if project:
                query = query.where(InboxTicketRow.project == project)
            for row in session.scalars(query.order_by(InboxTicketRow.id)):
                if label in (row.labels or []):
                    return ticket_from_row(row, self._base_url)
            return None

        return await self._read(find)

    async def create(self, draft: TicketDraft, *, properties: Mapping[str, Any]) -> Ticket:
        pao: Mapping[str, Any] = properties.get(PROPERTY_KEY) or {}
        action_label = next((label for label in draft.labels if label.startswith("pao-action-")), None)
        team = str(pao.get("team") or self._team_for_project(draft.project) or "")

        def create(session: Session) -> Ticket:
            if action_label is not None:
                existing = session.scalars(
                    select(InboxTicketRow).where(InboxTicketRow.action_label == action_label)
                ).first()
                if existing is not None:  # a concurrent try of the same action won the race
                    return ticket_from_row(existing, self._base_url)
            row = InboxTicketRow(
                key=f"pending-{action_label or id(draft)}",
                action_label=action_label,
                project=draft.project,
                team=team,
                request_id=pao.get("requestId"),
                component_id=pao.get("componentId"),
                issue_type=draft.issue_type,
                summary=draft.summary,
                description=draft.description,
                priority=draft.priority,
                labels=list(draft.labels),
                components=list(draft.components),
                epic_key=draft.epic_key,
                fields=dict(draft.custom_fields),
                properties=dict(properties),
                blocked_by=[],
                comments=[],
            )
            session.add(row)
            session.flush()
            row.key = f"{draft.project}-{row.id}"
            session.flush()
            return ticket_from_row(row, self._base_url)

        return await self._write(create)

    async def get(self, key: str) -> Ticket:
        def get(session: Session) -> Ticket:
            return ticket_from_row(self._require(session, key), self._base_url)

        return await self._read(get)

    async def link(self, *, blocked_key: str, blocker_key: str, link_type: str = "blocks") -> None:
        def link(session: Session) -> None:
            blocked = self._require(session, blocked_key)
            self._require(session, blocker_key)
            entry = {"type": link_type, "key": blocker_key}
            if entry not in (blocked.blocked_by or []):
                blocked.blocked_by = [*(blocked.blocked_by or []), entry]
                blocked.updated_at = utcnow()

        await self._write(link)

    async def comment(self, key: str, text: str) -> None:
        def comment(session: Session) -> None:
            row = self._require(session, key)
            row.comments = [
                *(row.comments or []),
                {"author": "pao", "body": text, "created": utcnow().isoformat()},
            ]
            row.updated_at = utcnow()

        await self._write(comment)

    # ------------------------------------------------------------------ plumbing

    @staticmethod
    def _require(session: Session, key: str) -> InboxTicketRow:
        row = find_row(session, key)
        if row is None:
            raise BackendRejectedError(
                f"inbox ticket {key} does not exist; check the ticket key", details={"ticket": key}
            )
        return row

    async def _read(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self._db.reading() as session:
                return work(session)

        return await asyncio.to_thread(run)

    async def _write(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self._db.transaction() as session:
                return work(session)

        return await asyncio.to_thread(run)
