"""Ticketing: where pao:jira-ticket files its tickets — JIRA, or PAO's built-in inbox when no JIRA is set."""
