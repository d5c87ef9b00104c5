"""The sample catalog as a Catalog snapshot, and a PAO app serving it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.catalog.models import CatalogBundle, CatalogItem, Team
from pao_backend.catalog.store import Catalog
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG

BASE_URL = "http://pao.test"


def load_sample(root: Path = SAMPLE_CATALOG) -> Catalog:
    try:
        from pao_backend.catalog.loader import load_catalog

        return load_catalog(root).catalog
    except ImportError:  # the toolkit's loader is not complete yet: read the YAML directly
        pass
    items: dict[str, CatalogItem] = {}
    bundles: dict[str, CatalogBundle] = {}
    teams: dict[str, Team] = {}
    sources: dict[str, str] = {}
    raw: dict[str, dict[str, object]] = {}
    for path in sorted(root.rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if path.name == "teams.yaml":
            teams = {t["id"]: Team.model_validate(t) for t in doc["teams"]}
            continue
        if doc["kind"] == "CatalogItem":
            item = CatalogItem.model_validate(doc)
            items[item.id] = item
        else:
            bundle = CatalogBundle.model_validate(doc)
            bundles[bundle.id] = bundle
        sources[doc["metadata"]["id"]] = str(path.relative_to(root))
        raw[doc["metadata"]["id"]] = doc
    return Catalog(items=items, bundles=bundles, teams=teams, sources=sources, raw=raw)


@pytest.fixture(scope="session")
def sample_catalog() -> Catalog:
    return load_sample()


@pytest.fixture
def client(sample_catalog: Catalog, tmp_path: Path) -> TestClient:
    app = create_app(Settings(data_dir=tmp_path, base_url=BASE_URL))
    if getattr(app.state, "catalog", None) is None:
        app.state.catalog = SimpleNamespace(current=sample_catalog, findings=[])
    return TestClient(app)
