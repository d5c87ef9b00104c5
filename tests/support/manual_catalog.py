"""The sample catalog plus the manual/mixed test documents of tests/fixtures/manual-catalog."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import FIXTURES, SAMPLE_CATALOG


def manual_catalog(root: Path) -> Path:
    """Copy the sample catalog to `root/catalog`, add the test bundles and item; return the folder."""
    catalog = root / "catalog"
    shutil.copytree(SAMPLE_CATALOG, catalog)
    shutil.copytree(FIXTURES / "manual-catalog", catalog, dirs_exist_ok=True)
    return catalog
