"""The catalog package is pure core: it can be imported and used without a web, database or engine stack."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

CATALOG_MODULES = [
    "bundle_rules",
    "codeowners",
    "codes",
    "examples",
    "form_rules",
    "fulfillment_rules",
    "documents",
    "loader",
    "models",
    "problems",
    "report",
    "rules",
    "schema",
    "service",
    "starters",
    "store",
]


def test_catalog_toolkit_imports_no_web_database_engine_or_jira_library() -> None:
    imports = "; ".join(f"import pao_backend.catalog.{name}" for name in CATALOG_MODULES)
    script = (
        f"import sys; {imports}; "
        "forbidden = {'fastapi', 'sqlalchemy', 'dbos', 'httpx', 'jira'}; "
        "bad = sorted({m.split('.')[0] for m in sys.modules} & forbidden); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
