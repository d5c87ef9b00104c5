"""pao:rest-api's pure policies: Retry-After parsing and backoff with jitter; one respx case for headers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import respx

from scaffolder_actions import run_action
from scaffolder_actions.actions.rest_api import (
    Credential,
    RetryPolicy,
    _backoff_delay,
    _retry_after_seconds,
    create_rest_api_action,
)


def test_retry_after_reads_seconds_and_http_dates_and_ignores_garbage() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert _retry_after_seconds("7") == 7.0
    assert _retry_after_seconds(" 0 ") == 0.0
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert _retry_after_seconds(later, now=now.timestamp()) == 90.0
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert _retry_after_seconds(earlier, now=now.timestamp()) == 0.0
    assert _retry_after_seconds("soon") is None
    assert _retry_after_seconds(None) is None


def test_exponential_backoff_doubles_with_at_most_a_quarter_of_jitter_and_respects_the_cap() -> None:
    policy = RetryPolicy(attempts=5, backoff="exponential", base_delay=1, max_delay=10)
    for failed, base in [(1, 1), (2, 2), (3, 4), (4, 8)]:
        for _ in range(50):
            assert base <= _backoff_delay(policy, failed) <= min(base * 1.25, 10)
    assert _backoff_delay(policy, 9) == 10


def test_linear_backoff_grows_by_the_base_delay() -> None:
    policy = RetryPolicy(attempts=5, backoff="linear", base_delay=0.5, max_delay=30)
    for failed in (1, 2, 3):
        assert 0.5 * failed <= _backoff_delay(policy, failed) <= 0.5 * failed * 1.25


@respx.mock
def test_user_headers_cannot_override_auth_or_the_idempotency_key(tmp_path: Path) -> None:
    route = respx.put("https://api.example.com/x").mock(return_value=httpx.Response(204))
    action = create_rest_api_action(credentials={"c": Credential(token="t-123456")})
    result = asyncio.run(
        run_action(
            action,
            {
                "url": "https://api.example.com/x",
                "method": "PUT",
                "headers": {
                    "authorization": "Bearer forged",
                    "idempotency-key": "mine",
                    "X-Trace": "1",
                    "content-type": "text/plain",
                },
                "body": "hello",
                "authentication": {"type": "bearer", "credential": "c"},
            },
            workspace=tmp_path,
            attempt_key="attempt-9",
        )
    )
    assert result.ok, result.error
    assert result.outputs == {"status": 204, "headers": {}, "body": None}
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer t-123456"
    assert sent.headers.get_list("idempotency-key") == ["attempt-9"]
    assert sent.headers["x-trace"] == "1"
    assert (
        sent.headers["content-type"] == "text/plain"
    )  # an explicit header is kept when contentType is unset
