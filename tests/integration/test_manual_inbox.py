"""Manual fulfilment without JIRA: tickets land in PAO's built-in inbox; the owning team resolves them with
the outputs the document declares, and the request moves on at once (no polling)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.settings import Settings
from tests.support.manual_catalog import manual_catalog
from tests.support.provisioner import ProvisionerServer

API = "/api/pao/v1"
MESSAGING = {"X-PAO-On-Behalf-Of": "user:default/mia", "X-PAO-On-Behalf-Of-Teams": "platform-messaging"}
DEVELOPER = {"X-PAO-On-Behalf-Of": "user:default/dev", "X-PAO-On-Behalf-Of-Teams": "developer-experience"}


class Pao:
    def __init__(self, client: TestClient, provisioner: ProvisionerServer) -> None:
        self.client, self.provisioner = client, provisioner

    def submit(self, catalog_id: str, values: dict[str, Any]) -> str:
        response = self.client.post(
            f"{API}/requests", json={"catalogId": catalog_id, "values": values}, headers=DEVELOPER
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def wait_for(
        self, request_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            detail: dict[str, Any] = self.client.get(f"{API}/requests/{request_id}", headers=DEVELOPER).json()
            if predicate(detail):
                return detail
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not reached: {json.dumps(detail)[:3000]}")
            time.sleep(0.05)

    def inbox_item(self, request_id: str, team: str, headers: dict[str, str]) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            listed = self.client.get(f"{API}/inbox", params={"team": team}, headers=headers)
            assert listed.status_code == 200, listed.text
            mine = [i for i in listed.json()["items"] if i["requestId"] == request_id]
            if mine:
                return mine[0]
            time.sleep(0.05)
        raise AssertionError(f"no inbox ticket for {request_id} in {team}")


@pytest.fixture(scope="module")
def pao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pao]:
    root = tmp_path_factory.mktemp("pao-inbox")
    provisioner = ProvisionerServer(delay=0.0).start()
    settings = Settings(
        environment="test",
        data_dir=root / "data",
        catalog_dir=manual_catalog(root),
        endpoints={"provisioner": provisioner.url},
        engine_poll_seconds=0.01,
        event_poll_seconds=0.05,
        jira_poll_seconds=3600.0,  # only the inbox's wake-up can move a request this quickly
    )
    try:
        with TestClient(create_app(settings)) as client:
            yield Pao(client, provisioner)
    finally:
        provisioner.stop()


def test_outputs_entered_in_the_inbox_flow_to_the_automatic_component(pao: Pao) -> None:
    request_id = pao.submit("bundle-topicconsumer-mixed", {"name": "billing"})
    item = pao.inbox_item(request_id, "platform-messaging", MESSAGING)
    assert item["componentId"] == "topic" and item["requester"] == "user:default/dev"
    assert {o["key"] for o in item["outputs"] if o["required"]} == {"topicName", "bootstrapServers"}
    assert item["ageSeconds"] >= 0

    refused = pao.client.post(f"{API}/inbox/{item['key']}/resolve", json={"outputs": {}}, headers=DEVELOPER)
    assert refused.status_code == 403
    incomplete = pao.client.post(
        f"{API}/inbox/{item['key']}/resolve", json={"outputs": {"topicName": "billing"}}, headers=MESSAGING
    )
    assert incomplete.status_code == 400
    assert [e["path"] for e in incomplete.json()["errors"]] == ["outputs.bootstrapServers"]

    resolved = pao.client.post(
        f"{API}/inbox/{item['key']}/resolve",
        json={"outputs": {"topicName": "billing.events", "bootstrapServers": "kafka-1:9092"}},
        headers=MESSAGING,
    )
    assert resolved.status_code == 200, resolved.text
    detail = pao.wait_for(request_id, lambda d: d["state"] == "completed")
    assert detail["outputs"]["topicName"] == "billing.events"
    [body] = [json.loads(b) for b in pao.provisioner.bodies["/apps"] if "billing" in b]
    assert body["env"] == {"TOPIC": "billing.events", "BOOTSTRAP": "kafka-1:9092"}


def test_a_rejected_inbox_ticket_fails_the_request_with_the_reason(pao: Pao) -> None:
    request_id = pao.submit("messaging-kafka-topic", {"name": "unwanted"})
    item = pao.inbox_item(request_id, "platform-messaging", MESSAGING)
    rejected = pao.client.post(
        f"{API}/inbox/{item['key']}/reject", json={"reason": "use the shared events topic"}, headers=MESSAGING
    )
    assert rejected.status_code == 200
    detail = pao.wait_for(request_id, lambda d: d["state"] == "failed")
    assert detail["guidance"]["failureClass"] == "ticket_rejected"
    assert detail["guidance"]["escalation"]["team"] == "platform-messaging"
    assert pao.client.get(f"{API}/inbox/{item['key']}", headers=DEVELOPER).json()["reason"] == (
        "use the shared events topic"
    )
