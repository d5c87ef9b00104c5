"""Governance: the change calendar, catalog version diffs, CODEOWNERS, metrics and team readiness.

The package root exports the pure core (no database, no engine); the engine side of the calendar lives in
`governance.gate`, reading PAO's records in `governance.records` / `governance.service`.
"""

from pao_backend.governance.calendar import (
    Calendar,
    ComponentFacts,
    RequestFacts,
    Verdict,
    Window,
    calendar_from_data,
    next_open,
    verdict,
)
from pao_backend.governance.diff import Change, DocumentDiff, diff_catalogs, diff_documents
from pao_backend.governance.metrics import compute_metrics, lead_time_split, percentile
from pao_backend.governance.readiness import readiness

__all__ = [
    "Calendar",
    "Change",
    "ComponentFacts",
    "DocumentDiff",
    "RequestFacts",
    "Verdict",
    "Window",
    "calendar_from_data",
    "compute_metrics",
    "diff_catalogs",
    "diff_documents",
    "lead_time_split",
    "next_open",
    "percentile",
    "readiness",
    "verdict",
]
