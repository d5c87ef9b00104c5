"""pao:rest-api against a real HTTP server on loopback, with failures on demand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from scaffolder_actions import (
    ActionResult,
    Credential,
    SharedClients,
    create_rest_api_action,
    run_action,
)
from tests.support.rest_backend import Reply, RestBackend, refused_url

TOKEN = "tok-9f8e7d6c5b4a"
PASSWORD = "pa:ss/wörd+1"
CREDENTIALS = {
    "provisioner": Credential(token=TOKEN),
    "legacy": Credential(username="svc-pao", password=PASSWORD),
    "quota": Credential(api_key="key-1234567890", header="X-Quota-Key"),
}


@pytest.fixture
def backend() -> Iterator[RestBackend]:
    server = RestBackend().start()
    yield server
    server.stop()


def call(
    tmp_path: Path,
    input: dict[str, Any],
    *,
    attempt_key: str = "req-1/database/0",
    dry_run: bool = False,
    cancelled: asyncio.Event | None = None,
    secrets: dict[str, str] | None = None,
) -> ActionResult:
    action = create_rest_api_action(credentials=CREDENTIALS)
    return asyncio.run(
        run_action(
            action,
            input,
            workspace=tmp_path,
            attempt_key=attempt_key,
            dry_run=dry_run,
            cancelled=cancelled,
            secrets=secrets,
        )
    )


FAST_RETRY = {"attempts": 3, "backoff": "linear", "baseDelay": 0.01, "maxDelay": 0.05}


def everything_said(result: ActionResult) -> str:
    said = [line.message for line in result.logs]
    if result.error is not None:
        said.append(json.dumps(result.error.to_dict()))
    said.append(json.dumps(result.outputs))
    return "\n".join(said)


def test_post_sends_body_bearer_token_and_idempotency_key_and_returns_parsed_json(
    backend: RestBackend, tmp_path: Path
) -> None:
    result = call(
        tmp_path,
        {
            "url": f"{backend.url}/instances",
            "method": "post",
            "body": '{"name": "orders-db"}',
            "authentication": {"type": "bearer", "credential": "provisioner"},
        },
    )
    assert result.ok, result.error
    assert result.outputs["status"] == 201
    assert result.outputs["body"] == {"id": "res-1", "name": "orders-db"}
    assert result.outputs["headers"]["content-type"] == "application/json"
    (seen,) = backend.requests
    assert seen.method == "POST"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["idempotency-key"] == "req-1/database/0"
    assert seen.headers["content-type"] == "application/json"
    assert json.loads(seen.body) == {"name": "orders-db"}
    assert TOKEN not in everything_said(result)


def test_500_then_success_is_retried_with_the_same_idempotency_key(
    backend: RestBackend, tmp_path: Path
) -> None:
    backend.script("/instances", [Reply(500, {"error": "boom"}), Reply(502), Reply(201, {"id": "i-7"})])
    result = call(
        tmp_path, {"url": f"{backend.url}/instances", "method": "POST", "body": "{}", "retry": FAST_RETRY}
    )
    assert result.ok, result.error
    assert result.outputs["body"] == {"id": "i-7"}
    seen = backend.seen("/instances")
    assert len(seen) == 3
    assert {s.headers["idempotency-key"] for s in seen} == {"req-1/database/0"}
    assert sum("retrying in" in line.message for line in result.logs) == 2


def test_500_forever_exhausts_retries_as_backend_unavailable(backend: RestBackend, tmp_path: Path) -> None:
    backend.script("/instances", [Reply(503, {"error": "down"})])
    result = call(
        tmp_path, {"url": f"{backend.url}/instances", "method": "POST", "body": "{}", "retry": FAST_RETRY}
    )
    assert result.error is not None
    assert result.error.failure_class == "backend_unavailable"
    assert result.error.retryable
    assert result.error.details["status"] == 503
    assert result.error.details["tries"] == 4
    assert "4 tries" in result.error.message
    assert len(backend.seen("/instances")) == 4


def test_no_retry_configured_means_exactly_one_try(backend: RestBackend, tmp_path: Path) -> None:
    backend.script("/instances", [Reply(500)])
    result = call(tmp_path, {"url": f"{backend.url}/instances", "method": "POST", "body": "{}"})
    assert result.error is not None and result.error.failure_class == "backend_unavailable"
    assert len(backend.seen("/instances")) == 1


def test_429_honours_retry_after_seconds(backend: RestBackend, tmp_path: Path) -> None:
    backend.script("/busy", [Reply(429, headers={"Retry-After": "1"}), Reply(200, {"ok": True})])
    result = call(
        tmp_path, {"url": f"{backend.url}/busy", "retry": {"attempts": 1, "baseDelay": 0, "maxDelay": 5}}
    )
    assert result.ok, result.error
    assert len(backend.seen("/busy")) == 2
    assert any("retrying in 1.00s (Retry-After 1s)" in line.message for line in result.logs)


def test_retry_after_as_http_date_is_capped_by_max_delay(backend: RestBackend, tmp_path: Path) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    backend.script("/busy", [Reply(429, headers={"Retry-After": later}), Reply(200, {"ok": True})])
    result = call(tmp_path, {"url": f"{backend.url}/busy", "retry": {"attempts": 1, "maxDelay": 0.05}})
    assert result.ok, result.error
    assert any(
        "retrying in 0.05s" in m.message and "capped at retry.maxDelay" in m.message for m in result.logs
    )


def test_408_is_retried_like_429(backend: RestBackend, tmp_path: Path) -> None:
    backend.script("/slowpoke", [Reply(408), Reply(200, "fine")])
    result = call(tmp_path, {"url": f"{backend.url}/slowpoke", "retry": FAST_RETRY})
    assert result.ok, result.error
    assert result.outputs["body"] == "fine"


def test_400_fails_at_once_as_backend_rejected_with_the_backends_answer(
    backend: RestBackend, tmp_path: Path
) -> None:
    backend.script("/instances", [Reply(422, {"error": "class must be small|medium"})])
    result = call(
        tmp_path, {"url": f"{backend.url}/instances", "method": "POST", "body": "{}", "retry": FAST_RETRY}
    )
    assert result.error is not None
    assert result.error.failure_class == "backend_rejected"
    assert not result.error.retryable
    assert "class must be small|medium" in result.error.message
    assert len(backend.seen("/instances")) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_credentials_refused_without_retry(
    backend: RestBackend, tmp_path: Path, status: int
) -> None:
    backend.script("/secure", [Reply(status, {"error": "nope"})])
    result = call(
        tmp_path,
        {
            "url": f"{backend.url}/secure",
            "retry": FAST_RETRY,
            "authentication": {"type": "bearer", "credential": "provisioner"},
        },
    )
    assert result.error is not None
    assert result.error.failure_class == "credentials_refused"
    assert "credential 'provisioner'" in result.error.message
    assert len(backend.seen("/secure")) == 1
    assert TOKEN not in everything_said(result)


def test_slow_backend_times_out_and_is_retried_then_classified_timeout(
    backend: RestBackend, tmp_path: Path
) -> None:
    backend.script("/slow", [Reply(200, {"late": True}, delay=1.0)])
    result = call(
        tmp_path,
        {"url": f"{backend.url}/slow", "timeout": 0.2, "retry": {"attempts": 1, "baseDelay": 0.01}},
    )
    assert result.error is not None
    assert result.error.failure_class == "timeout"
    assert "0.2s" in result.error.message
    assert len(backend.seen("/slow")) == 2


def test_slow_then_fast_succeeds_after_the_timeout(backend: RestBackend, tmp_path: Path) -> None:
    backend.script("/slow", [Reply(200, {"late": True}, delay=1.0), Reply(200, {"late": False})])
    result = call(tmp_path, {"url": f"{backend.url}/slow", "timeout": 0.2, "retry": FAST_RETRY})
    assert result.ok, result.error
    assert result.outputs["body"] == {"late": False}


def test_connection_refused_is_retried_then_backend_unavailable(tmp_path: Path) -> None:
    result = call(tmp_path, {"url": f"{refused_url()}/instances", "retry": FAST_RETRY})
    assert result.error is not None
    assert result.error.failure_class == "backend_unavailable"
    assert "could not be reached after 4 tries" in result.error.message
    assert sum("retrying in" in line.message for line in result.logs) == 3


def test_basic_and_api_key_credentials_are_sent_and_never_logged(
    backend: RestBackend, tmp_path: Path
) -> None:
    basic = call(
        tmp_path, {"url": f"{backend.url}/a", "authentication": {"type": "basic", "credential": "legacy"}}
    )
    keyed = call(
        tmp_path, {"url": f"{backend.url}/b", "authentication": {"type": "api-key", "credential": "quota"}}
    )
    assert basic.ok and keyed.ok
    import base64

    expected = base64.b64encode(f"svc-pao:{PASSWORD}".encode()).decode()
    assert backend.seen("/a")[0].headers["authorization"] == f"Basic {expected}"
    assert backend.seen("/b")[0].headers["x-quota-key"] == "key-1234567890"


def test_secret_echoed_by_the_backend_is_masked_in_logs_errors_and_outputs(
    backend: RestBackend, tmp_path: Path
) -> None:
    # A misbehaving backend echoes the Authorization header back in its error and in a later success.
    backend.script(
        "/echo",
        [Reply(400, {"error": f"bad token Bearer {TOKEN}", "pw": PASSWORD})],
    )
    result = call(
        tmp_path,
        {"url": f"{backend.url}/echo", "authentication": {"type": "bearer", "credential": "provisioner"}},
        secrets={"dbPassword": PASSWORD},
    )
    assert result.error is not None
    said = everything_said(result)
    assert TOKEN not in said
    assert PASSWORD not in said
    assert json.dumps(PASSWORD)[1:-1] not in said
    assert "***" in said


def test_unknown_credential_is_a_configuration_error_naming_the_fix(
    backend: RestBackend, tmp_path: Path
) -> None:
    result = call(
        tmp_path, {"url": f"{backend.url}/x", "authentication": {"type": "bearer", "credential": "nope"}}
    )
    assert result.error is not None
    assert result.error.failure_class == "configuration"
    assert "PAO_CREDENTIALS" in result.error.message
    assert backend.requests == []


def test_inline_secrets_in_authentication_are_refused_as_invalid_input(tmp_path: Path) -> None:
    result = call(
        tmp_path,
        {
            "url": "http://127.0.0.1:1/x",
            "authentication": {"type": "bearer", "credential": "x", "token": "inline"},
        },
    )
    assert result.error is not None
    assert result.error.failure_class == "invalid_input"
    assert {
        "path": "authentication.token",
        "message": "Extra inputs are not permitted",
    } in result.error.details["errors"]


def test_dry_run_reports_the_request_without_sending_it(backend: RestBackend, tmp_path: Path) -> None:
    result = call(
        tmp_path,
        {
            "url": f"{backend.url}/instances",
            "method": "POST",
            "body": '{"a": 1}',
            "authentication": {"type": "bearer", "credential": "provisioner"},
        },
        dry_run=True,
    )
    assert result.ok, result.error
    assert backend.requests == []
    request = result.outputs["request"]
    assert request["method"] == "POST"
    assert request["body"] == '{"a": 1}'
    assert request["headers"]["Authorization"] == "***"
    assert request["headers"]["Idempotency-Key"] == "req-1/database/0"


def test_cancel_during_a_slow_call_stops_at_once(backend: RestBackend, tmp_path: Path) -> None:
    backend.script("/slow", [Reply(200, {"late": True}, delay=2.0)])

    async def scenario() -> ActionResult:
        cancelled = asyncio.Event()
        action = create_rest_api_action(credentials=CREDENTIALS)
        run = asyncio.create_task(
            run_action(
                action,
                {"url": f"{backend.url}/slow", "timeout": 10},
                workspace=tmp_path,
                attempt_key="k",
                cancelled=cancelled,
            )
        )
        while not backend.seen("/slow"):
            await asyncio.sleep(0.01)
        cancelled.set()
        return await asyncio.wait_for(run, timeout=1.5)

    result = asyncio.run(scenario())
    assert result.error is not None
    assert result.error.failure_class == "cancelled"


def test_cancel_during_backoff_stops_retrying(backend: RestBackend, tmp_path: Path) -> None:
    backend.script("/down", [Reply(503)])

    async def scenario() -> ActionResult:
        cancelled = asyncio.Event()
        action = create_rest_api_action()
        run = asyncio.create_task(
            run_action(
                action,
                {"url": f"{backend.url}/down", "retry": {"attempts": 5, "baseDelay": 30, "maxDelay": 30}},
                workspace=tmp_path,
                attempt_key="k",
                cancelled=cancelled,
            )
        )
        while not backend.seen("/down"):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        cancelled.set()
        return await asyncio.wait_for(run, timeout=1.5)

    result = asyncio.run(scenario())
    assert result.error is not None and result.error.failure_class == "cancelled"
    assert len(backend.seen("/down")) == 1


def test_expected_status_makes_a_409_a_success_and_a_200_a_rejection(
    backend: RestBackend, tmp_path: Path
) -> None:
    backend.script("/exists", [Reply(409, {"id": "already"})])
    ok = call(tmp_path, {"url": f"{backend.url}/exists", "expectedStatus": [201, 409]})
    assert ok.ok and ok.outputs["status"] == 409
    backend.script("/odd", [Reply(200, {})])
    odd = call(tmp_path, {"url": f"{backend.url}/odd", "expectedStatus": [201]})
    assert odd.error is not None and odd.error.failure_class == "backend_rejected"


def test_null_timeout_and_retry_mean_the_defaults(backend: RestBackend, tmp_path: Path) -> None:
    result = call(tmp_path, {"url": f"{backend.url}/x", "timeout": None, "retry": None, "contentType": None})
    assert result.ok, result.error


def test_a_credential_may_come_as_a_secret_of_the_run(backend: RestBackend, tmp_path: Path) -> None:
    result = call(
        tmp_path,
        {"url": f"{backend.url}/s", "authentication": {"type": "bearer", "credential": "backstageToken"}},
        secrets={"backstageToken": "bs-token-123456"},
    )
    assert result.ok, result.error
    assert backend.seen("/s")[0].headers["authorization"] == "Bearer bs-token-123456"
    assert "bs-token-123456" not in everything_said(result)


def test_same_host_redirects_are_followed_with_credentials(backend: RestBackend, tmp_path: Path) -> None:
    backend.script("/old", [Reply(307, headers={"Location": "/new"})])
    backend.script("/new", [Reply(201, {"moved": True})])
    result = call(
        tmp_path,
        {
            "url": f"{backend.url}/old",
            "method": "POST",
            "body": "{}",
            "authentication": {"type": "bearer", "credential": "provisioner"},
        },
    )
    assert result.ok, result.error
    assert result.outputs["body"] == {"moved": True}
    (moved,) = backend.seen("/new")
    assert moved.method == "POST" and moved.headers["authorization"] == f"Bearer {TOKEN}"


def test_a_redirect_to_another_host_is_refused_and_credentials_never_travel(
    backend: RestBackend, tmp_path: Path
) -> None:
    other = RestBackend().start()
    try:
        backend.script("/old", [Reply(302, headers={"Location": f"{other.url}/steal"})])
        result = call(
            tmp_path,
            {"url": f"{backend.url}/old", "authentication": {"type": "api-key", "credential": "quota"}},
        )
        assert result.error is not None
        assert result.error.failure_class == "backend_rejected"
        assert "another host" in result.error.message
        assert other.requests == []
    finally:
        other.stop()


# ---- shared keep-alive clients -------------------------------------------------------------------


def test_shared_clients_reuse_the_connection_and_keep_no_cookies(
    backend: RestBackend, tmp_path: Path
) -> None:
    backend.script("/login", [Reply(200, {"ok": True}, headers={"Set-Cookie": "session=alice; Path=/"})])
    clients = SharedClients()
    action = create_rest_api_action(clients=clients)

    async def scenario() -> None:
        for path in ("/login", "/next", "/next"):
            result = await run_action(
                action, {"url": f"{backend.url}{path}"}, workspace=tmp_path, attempt_key="k"
            )
            assert result.error is None, result.error
        async with clients.client() as client:
            pass
        await asyncio.to_thread(clients.close)
        assert client.is_closed
        # Closed clients are not handed out again: the next run opens a new connection.
        result = await run_action(
            action, {"url": f"{backend.url}/after"}, workspace=tmp_path, attempt_key="k"
        )
        assert result.error is None
        await asyncio.to_thread(clients.close)

    asyncio.run(scenario())
    first, *others = [seen.client for seen in backend.requests]
    assert others[:2] == [first, first], "runs on one loop share one keep-alive connection"
    assert others[2] != first
    assert all("cookie" not in seen.headers for seen in backend.requests), "one run's cookie reached another"


def test_closing_shared_clients_lets_a_call_in_flight_finish(backend: RestBackend, tmp_path: Path) -> None:
    backend.script("/slow", [Reply(200, {"done": True}, delay=0.5)])
    clients = SharedClients()
    action = create_rest_api_action(clients=clients)

    async def scenario() -> tuple[ActionResult, bool]:
        run = asyncio.create_task(
            run_action(action, {"url": f"{backend.url}/slow"}, workspace=tmp_path, attempt_key="k")
        )
        while not backend.seen("/slow"):
            await asyncio.sleep(0.01)
        async with clients.client() as client:
            pass
        await asyncio.to_thread(clients.close)
        open_while_busy = not client.is_closed
        result = await run
        assert client.is_closed, "the last run closes a retired client"
        return result, open_while_busy

    result, open_while_busy = asyncio.run(scenario())
    assert open_while_busy
    assert result.error is None and result.outputs["body"] == {"done": True}
