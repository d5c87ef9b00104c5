"""Shared fixtures. Services the tests need are real; when one is missing the test fails under CI
(PAO_TEST_REQUIRE_ALL=1) instead of skipping."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.jira_server import JiraServer

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CATALOG = ROOT / "catalog"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def require_service(what: str) -> None:
    """Skip locally, fail in CI: a green run that skipped the hard tests is a red run."""
    if os.environ.get("PAO_TEST_REQUIRE_ALL") == "1":
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("PAO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            pass
    except Exception as exc:
        require_service(f"PostgreSQL at {url} ({exc})")
    return url


@pytest.fixture
def jira_server() -> Iterator[JiraServer]:
    """A JIRA-REST-compatible server on loopback (tests/support/jira_server.py); token `t0k3n`."""
    from tests.support.jira_server import JiraServer

    with JiraServer().running() as server:
        yield server
