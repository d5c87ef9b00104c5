"""Which ticket system this deployment files into: JIRA when PAO_JIRA_URL is set, else the built-in inbox."""

from __future__ import annotations

from collections.abc import Callable

from pao_backend.catalog.store import Catalog
from pao_backend.persistence.db import Database
from pao_backend.settings import Settings
from pao_backend.ticketing.inbox import InboxTicketSystem
from pao_backend.ticketing.jira_tickets import JiraTicketSystem
from scaffolder_actions.tickets import TicketSystem


def ticket_system(
    settings: Settings, *, db: Database, catalog: Callable[[], Catalog | None] = lambda: None
) -> TicketSystem:
    """The TicketSystem for `settings`; the inbox maps a JIRA project key to its team via teams.yaml."""
    if settings.jira_url:
        if settings.jira_token is None or not settings.jira_token.get_secret_value():
            raise ValueError("PAO_JIRA_URL is set but PAO_JIRA_TOKEN is not: PAO cannot file JIRA tickets")
        return JiraTicketSystem(
            url=settings.jira_url, token=settings.jira_token.get_secret_value(), user=settings.jira_user
        )

    def team_for_project(project: str) -> str | None:
        current = catalog()
        if current is None:
            return None
        return next((t.id for t in current.teams.values() if t.jira_project == project), None)

    return InboxTicketSystem(db=db, base_url=settings.base_url, team_for_project=team_for_project)
