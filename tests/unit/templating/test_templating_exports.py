from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pao_backend.templating as templating
from tests.conftest import ROOT


def test_all_is_sorted_and_matches_the_public_names() -> None:
    public = {
        name
        for name, value in vars(templating).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(templating.__all__) == public
    assert templating.__all__ == sorted(
        templating.__all__, key=lambda n: (not n.isupper(), n[0].islower(), n)
    )


def test_the_pure_core_imports_no_web_database_engine_or_client_library() -> None:
    code = (
        "import sys, json\n"
        "import pao_backend.templating, pao_backend.orchestration.planner\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = set(json.loads(result.stdout))
    assert loaded.isdisjoint({"fastapi", "starlette", "sqlalchemy", "dbos", "httpx", "jira"})
