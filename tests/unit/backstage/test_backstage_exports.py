from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

MODULES = [
    "pao_backend.backstage.translate",
    "pao_backend.backstage.entities",
    "pao_backend.backstage.parameters",
    "pao_backend.backstage.dry_run",
    "pao_backend.backstage.tasks",
    "pao_backend.catalog.form_schema",
    "pao_backend.catalog.values",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_existing_names_in_sorted_order(name: str) -> None:
    module = importlib.import_module(name)
    assert all(hasattr(module, n) for n in module.__all__)
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n[0].islower(), n))
    defined_here = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(v) or inspect.isclass(v))
        and getattr(v, "__module__", None) == name
    }
    assert defined_here <= set(module.__all__)


def test_translation_and_form_schema_import_no_web_database_or_engine_library() -> None:
    code = (
        "import sys, json\n"
        "import pao_backend.backstage.translate, pao_backend.backstage.entities\n"
        "import pao_backend.backstage.parameters\n"
        "import pao_backend.catalog.form_schema, pao_backend.catalog.values\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert not loaded & {"fastapi", "starlette", "sqlalchemy", "dbos", "httpx", "jira", "uvicorn"}
