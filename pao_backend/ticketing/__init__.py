"""Ticketing: where pao:jira-ticket files its tickets — JIRA, or PAO's built-in inbox when no JIRA is set.

    tickets = ticket_system(settings, db=db, catalog=lambda: catalog)   # JiraTicketSystem | InboxTicketSystem
    create_jira_ticket_action(tickets=tickets)

The inbox service (list/resolve/reject) and the JIRA webhook live in `service`; `waits` records which
workflow waits for which ticket and wakes it.
"""

from pao_backend.ticketing.factory import ticket_system
from pao_backend.ticketing.inbox import InboxTicketSystem
from pao_backend.ticketing.jira_tickets import JiraTicketSystem
from pao_backend.ticketing.service import (
    Caller,
    InboxTicket,
    OutputField,
    WebhookRefusedError,
    handle_jira_webhook,
    list_inbox,
    reject_inbox_ticket,
    resolve_inbox_ticket,
    verify_webhook_secret,
)
from pao_backend.ticketing.waits import register_wait, ticket_topic, wake, wake_request

__all__ = [
    "Caller",
    "InboxTicket",
    "InboxTicketSystem",
    "JiraTicketSystem",
    "OutputField",
    "WebhookRefusedError",
    "handle_jira_webhook",
    "list_inbox",
    "register_wait",
    "reject_inbox_ticket",
    "resolve_inbox_ticket",
    "ticket_system",
    "ticket_topic",
    "verify_webhook_secret",
    "wake",
    "wake_request",
]
