"""Rows for tests that write PAO's tables directly."""

from __future__ import annotations

from pao_backend.persistence.tables import RequestRow


def bare_request(request_id: str, *, state: str = "submitted") -> RequestRow:
    """A request with only the columns that must be set (no components, values or secrets)."""
    return RequestRow(
        id=request_id,
        catalog_id="x-y-z",
        item_version="1.0.0",
        kind="item",
        requester="user:default/a",
        state=state,
        correlation_id=request_id,
    )
