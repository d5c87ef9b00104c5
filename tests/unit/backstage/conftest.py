"""The sample catalog as a Catalog snapshot, and a PAO app serving it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.catalog.loader import load_catalog
from pao_backend.catalog.store import Catalog
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG

BASE_URL = "http://pao.test"


def load_sample(root: Path = SAMPLE_CATALOG) -> Catalog:
    result = load_catalog(root)
    assert not result.errors, "\n".join(map(str, result.errors))
    return result.catalog


def sample_settings(data_dir: Path, **overrides: object) -> Settings:
    options: dict[str, object] = {
        "catalog_dir": SAMPLE_CATALOG,
        "base_url": BASE_URL,
        "demo_provisioner": True,
    }
    options.update(overrides)
    return Settings(data_dir=data_dir, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sample_catalog() -> Catalog:
    return load_sample()


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(sample_settings(tmp_path)))
