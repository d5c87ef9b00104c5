"""api/limits.py: a body over the limit gets 413 in Backstage's error shape, declared or streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pao_backend.api.errors import install_error_handlers
from pao_backend.api.limits import BodySizeLimit

LIMIT = 1024


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limit=LIMIT)

    @app.post("/echo")
    def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    return TestClient(app)


def _refused(response: Any) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error"]["name"] == "PayloadTooLargeError"
    assert f"larger than {LIMIT} bytes" in body["error"]["message"]
    assert "PAO_MAX_REQUEST_BYTES" in body["error"]["message"]
    assert body["request"] == {"method": "POST", "url": "/echo"}
    assert body["response"] == {"statusCode": 413}


def test_a_body_at_the_limit_is_read(client: TestClient) -> None:
    payload = '{"a": "' + "x" * (LIMIT - 10) + '"}'
    assert len(payload) == LIMIT - 1
    assert (
        client.post("/echo", content=payload, headers={"content-type": "application/json"}).status_code == 200
    )


def test_a_declared_content_length_over_the_limit_is_refused_unread(client: TestClient) -> None:
    _refused(client.post("/echo", json={"a": "x" * LIMIT}))


def test_a_streamed_body_is_refused_at_the_first_byte_over(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"a": "'
        for _ in range(10):
            yield b"x" * 512
        yield b'"}'

    _refused(client.post("/echo", content=chunks(), headers={"content-type": "application/json"}))
