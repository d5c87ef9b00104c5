"""api/limits.py: a body over the limit gets 413 in Backstage's error shape, declared or streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from pao_backend.api.errors import install_error_handlers
from pao_backend.api.limits import BodySizeLimit, refuse_unstorable_text

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


@pytest.fixture
def text_client() -> TestClient:
    app = FastAPI(dependencies=[Depends(refuse_unstorable_text)])
    install_error_handlers(app)

    @app.post("/things/{thing_id}")
    def echo(thing_id: str, body: dict[str, Any], q: str = "") -> dict[str, Any]:
        return body

    return TestClient(app)


@pytest.mark.parametrize(
    ("raw", "path", "flaw"),
    [
        ('{"values": {"topic": {"consumers": "a\\u0000b"}}}', "values.topic.consumers", "NUL character"),
        ('{"secrets": {"secret.value": "a\\ud800b"}}', "secrets.secret.value", "surrogate pair"),
        ('{"list": ["ok", "\\udc00"]}', "list.1", "surrogate pair"),
        ('{"k\\u0000": 1}', "k\x00", "(a key)"),
    ],
)
def test_text_pao_cannot_store_or_send_is_a_422_naming_the_place(
    text_client: TestClient, raw: str, path: str, flaw: str
) -> None:
    # (Q) These were 500s: PostgreSQL refuses NUL in text; a lone surrogate cannot be encoded as UTF-8.
    response = text_client.post("/things/1", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["path"] == path and flaw in error["message"]
    assert response.json()["response"] == {"statusCode": 422}


def test_path_and_query_parameters_are_checked_too(text_client: TestClient) -> None:
    assert text_client.post("/things/a%00", json={}).json()["errors"][0]["path"] == "thing_id"
    assert text_client.post("/things/1?q=%00", json={}).json()["errors"][0]["path"] == "q"
    # A surrogate pair that makes one character is fine.
    fine = text_client.post(
        "/things/1", content='{"a": "\\ud83d\\ude00"}', headers={"content-type": "application/json"}
    )
    assert fine.status_code == 200 and fine.json() == {"a": "\U0001f600"}


@pytest.mark.parametrize("raw", [b'{"a": "\xff"}', b"[" * 100_000 + b"]" * 100_000])
def test_a_body_json_cannot_read_says_what_to_send(text_client: TestClient, raw: bytes) -> None:
    # (Q, api/errors.py) FastAPI's own words were "There was an error parsing the body".
    response = text_client.post("/things/1", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert (
        "send JSON as UTF-8 text, not nested hundreds of levels deep" in response.json()["error"]["message"]
    )
