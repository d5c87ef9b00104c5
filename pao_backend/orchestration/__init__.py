"""Requests, the workflow engine on DBOS, state rules, events and error guidance."""
