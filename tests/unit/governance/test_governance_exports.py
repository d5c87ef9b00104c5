"""The governance package exports exactly its curated pure core, and that core needs no web, database
or engine library."""

from __future__ import annotations

import subprocess
import sys
import types

import pao_backend.governance as governance


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(governance).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(governance.__all__) == public
    assert governance.__all__ == sorted(governance.__all__)


def test_the_pure_core_imports_no_web_database_or_engine_library() -> None:
    code = (
        "import sys, pao_backend.governance; "
        "bad = [m for m in ('fastapi', 'sqlalchemy', 'dbos', 'httpx', 'jira') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
