"""Governance over HTTP on a real app: metrics JSON, Prometheus /metrics, team readiness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.settings import Settings
from tests.conftest import SAMPLE_CATALOG
from tests.support.governance_history import seed_history


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data: Path = tmp_path_factory.mktemp("governance")
    settings = Settings(
        environment="test", data_dir=data, catalog_dir=SAMPLE_CATALOG, engine_poll_seconds=0.01
    )
    app = create_app(settings)
    with TestClient(app) as test_client:
        seed_history(app.state.db, datetime.now(UTC))
        yield test_client


def test_metrics_api_reports_the_seeded_history(client: TestClient) -> None:
    metrics = client.get("/api/pao/v1/metrics").json()
    assert metrics["requests"] == 4 and metrics["requesters"] == 3
    assert metrics["leadTime"]["seconds"]["count"] == 2
    assert metrics["leadTime"]["seconds"]["p50"] == 121.0
    assert metrics["leadTime"]["split"]["waiting"]["p90"] == 2 * 86400
    assert metrics["failures"]["classes"] == {"backend_unavailable": 1}
    assert metrics["automation"]["share"] == 0.5
    assert metrics["catalog"]["items"] >= 7 and "manual" in metrics["catalog"]["byMode"]
    only_kafka = client.get("/api/pao/v1/metrics", params={"item": "messaging-kafka-topic"}).json()
    assert only_kafka["requests"] == 2
    by_team = client.get("/api/pao/v1/metrics", params={"team": "platform-databases"}).json()
    assert by_team["requests"] == 2
    future = client.get("/api/pao/v1/metrics", params={"from": "2999-01-01T00:00:00Z"}).json()
    assert future["requests"] == 0 and future["leadTime"]["seconds"]["p50"] is None


def test_prometheus_exposes_records_catalog_and_http_counters(client: TestClient) -> None:
    client.get("/api/pao/v1/calendar")
    text = client.get("/metrics").text
    assert 'pao_requests{item="messaging-kafka-topic",state="completed"} 1.0' in text
    assert 'pao_requests_submitted_total{item="database-postgresql-standard"} 2.0' in text
    assert 'pao_action_failures_total{failure_class="backend_unavailable"} 1.0' in text
    assert 'pao_catalog_items{mode="manual"}' in text
    assert 'pao_lead_time_seconds{quantile="0.5"} 121.0' in text
    assert 'pao_http_requests_total{method="GET",route="/api/pao/v1/calendar",status="200"}' in text


def test_team_readiness_names_the_level_and_the_reasons(client: TestClient) -> None:
    teams = client.get("/api/pao/v1/teams").json()
    assert teams["totalItems"] == 8
    messaging = client.get("/api/pao/v1/teams/platform-messaging").json()
    assert messaging["levelName"] == "manual"
    assert messaging["tickets"]["open"] == 1
    assert 4 * 3600 < messaging["tickets"]["oldestOpenSeconds"] < 6 * 3600
    assert messaging["tickets"]["medianWaitDays"] == 2.0
    assert messaging["recommendation"] == (
        "manual only, tickets wait 2.0 days on median → candidate for automation support"
    )
    assert messaging["jiraProjectConfigured"] and messaging["contactPresent"]
    assert messaging["codeowners"]["coverage"] == 1.0
    databases = client.get("/api/pao/v1/teams/platform-databases").json()
    assert databases["levelName"] == "hybrid"
    assert databases["modes"] == {"manual": 1, "automatic": 1}
    assert databases["medianLeadTimeSeconds"] == 121.0
    architecture = client.get("/api/pao/v1/teams/architecture").json()
    assert architecture["levelName"] == "onboarding"
    assert client.get("/api/pao/v1/teams/nobody").status_code == 404
