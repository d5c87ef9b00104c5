"""Governance: the change calendar, catalog version diffs, CODEOWNERS, metrics and team readiness."""
