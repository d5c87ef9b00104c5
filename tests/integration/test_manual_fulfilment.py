"""Manual fulfilment end to end with JIRA: the real app and engine served by uvicorn, the real `jira` client
talking to the loopback JIRA, which calls PAO's webhook like a real JIRA would."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from pao_backend.app import create_app
from pao_backend.settings import Settings
from tests.support.databases import postgres_database
from tests.support.jira_server import JiraServer
from tests.support.live_server import serve
from tests.support.manual_catalog import manual_catalog
from tests.support.provisioner import ProvisionerServer

API = "/api/pao/v1/requests"
HOOK_SECRET = "hook-s3cret"


class Pao:
    def __init__(
        self, client: httpx.Client, settings: Settings, jira: JiraServer, provisioner: ProvisionerServer
    ):
        self.client, self.settings, self.jira, self.provisioner = client, settings, jira, provisioner

    def submit(self, catalog_id: str, values: dict[str, Any]) -> str:
        response = self.client.post(API, json={"catalogId": catalog_id, "values": values})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def detail(self, request_id: str) -> dict[str, Any]:
        response = self.client.get(f"{API}/{request_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_for(
        self, request_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            detail = self.detail(request_id)
            if predicate(detail):
                return detail
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not reached: {json.dumps(detail)[:3000]}")
            time.sleep(0.05)

    def wait_state(self, request_id: str, *states: str, timeout: float = 30) -> dict[str, Any]:
        return self.wait_for(request_id, lambda d: d["state"] in states, timeout)

    def ticket_of(self, request_id: str, component_id: str) -> str:
        def waiting(detail: dict[str, Any]) -> bool:
            component = _component(detail, component_id)
            return component["state"] == "waiting" and bool(component["actions"][-1].get("ticket"))

        detail = self.wait_for(request_id, waiting)
        return str(_component(detail, component_id)["actions"][-1]["ticket"]["key"])


def _component(detail: dict[str, Any], component_id: str) -> dict[str, Any]:
    return next(c for c in detail["components"] if c["id"] == component_id)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pao(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pao]:
    root = tmp_path_factory.mktemp(f"pao-jira-{request.param}")
    if request.param == "postgres":
        with postgres_database(request.getfixturevalue("postgres_url")) as url:
            yield from _running(root, url)
    else:
        yield from _running(root, "")


def _running(root: Path, database_url: str) -> Iterator[Pao]:
    provisioner = ProvisionerServer(delay=0.0).start()
    with JiraServer().running() as jira:
        settings = Settings(
            environment="test",
            data_dir=root / "data",
            database_url=database_url,
            catalog_dir=manual_catalog(root),
            endpoints={"provisioner": provisioner.url},
            engine_poll_seconds=0.01,
            event_poll_seconds=0.05,
            jira_url=jira.url,
            jira_token=SecretStr("t0k3n"),
            jira_webhook_secret=SecretStr(HOOK_SECRET),
            jira_poll_seconds=3600.0,
        )
        try:
            with (
                serve(create_app(settings), lifespan="on") as base_url,
                httpx.Client(base_url=base_url) as client,
            ):
                jira.webhooks.append(f"{base_url}/api/pao/v1/webhooks/jira?token={HOOK_SECRET}")
                yield Pao(client, settings, jira, provisioner)
        finally:
            provisioner.stop()


@pytest.fixture
def polling(pao: Pao) -> Iterator[None]:
    """No webhooks, a short poll: the request notices the closed ticket by polling."""
    hooks = list(pao.jira.webhooks)
    pao.jira.webhooks.clear()
    pao.settings.jira_poll_seconds = 0.1
    try:
        yield
    finally:
        pao.jira.webhooks.extend(hooks)
        pao.settings.jira_poll_seconds = 3600.0


def test_manual_bundle_files_linked_tickets_in_dependency_order_and_completes_by_webhook(pao: Pao) -> None:
    request_id = pao.submit("bundle-cachepipeline-manual", {"name": "orders-pipe"})
    cache_key = pao.ticket_of(request_id, "cache")
    assert cache_key.startswith("DBA-")
    assert _component(pao.detail(request_id), "topic")["state"] == "pending"
    assert pao.jira.find("project = MSG") == []  # the topic waits for the cache

    issue = pao.jira.issue_json(cache_key)
    assert "orders-pipe" in issue["fields"]["summary"]
    assert issue["properties"]["pao"]["requestId"] == request_id

    # The poll interval is an hour: only the webhook can wake the request this quickly.
    pao.jira.resolve(cache_key, "Done", fields={"customfield_10060": "redis://orders-pipe.cache:6379"})
    topic_key = pao.ticket_of(request_id, "topic")
    assert pao.jira.links_of(topic_key) == [("Blocks", cache_key, topic_key)]

    pao.jira.resolve(
        topic_key, "Done", fields={"customfield_10070": "orders-pipe", "customfield_10071": "kafka-1:9092"}
    )
    detail = pao.wait_state(request_id, "completed")
    assert detail["outputs"] == {
        "redisUrl": "redis://orders-pipe.cache:6379",
        "topicName": "orders-pipe",
        "bootstrapServers": "kafka-1:9092",
    }
    assert {status for _, status in pao.jira.webhook_deliveries} == {202}


def test_a_closed_ticket_is_noticed_by_polling_without_webhooks(pao: Pao, polling: None) -> None:
    delivered = len(pao.jira.webhook_deliveries)
    request_id = pao.submit("database-redis-standard", {"name": "polled-cache"})
    key = pao.ticket_of(request_id, "database-redis-standard")
    pao.jira.resolve(key, "Done", fields={"customfield_10060": "redis://polled"})
    detail = pao.wait_state(request_id, "completed")
    assert detail["outputs"]["redisUrl"] == "redis://polled"
    assert len(pao.jira.webhook_deliveries) == delivered


def test_wont_do_fails_the_component_with_ticket_rejected_guidance(pao: Pao) -> None:
    request_id = pao.submit("database-redis-standard", {"name": "rejected-cache"})
    key = pao.ticket_of(request_id, "database-redis-standard")
    pao.jira.resolve(key, "Won't Do")
    detail = pao.wait_state(request_id, "failed")
    assert detail["error"]["failureClass"] == "ticket_rejected"
    guidance = detail["guidance"]
    assert guidance["failureClass"] == "ticket_rejected"
    assert key in guidance["message"] and "Won't Do" in guidance["message"]
    assert guidance["escalation"]["team"] == "platform-databases"
    assert guidance["escalation"]["jiraProject"] == "DBA"
    # A manual component has no ticket path to escalate to: the error body says what to do instead.
    refused = pao.client.post(f"{API}/{request_id}/escalate", json={})
    assert refused.status_code == 409
    assert refused.json()["guidance"]["failureClass"] == "ticket_rejected"
    assert refused.json()["escalation"]["contact"] == "dba-oncall@example.com"


def test_a_retried_request_never_files_a_second_ticket(pao: Pao) -> None:
    before = set(pao.jira.find("project = DBA"))
    # JIRA files the ticket, then refuses to store PAO's property until the retries run out.
    pao.jira.inject("setProperty", 503, times=4, retry_after=0)
    request_id = pao.submit("database-redis-standard", {"name": "retry-cache"})
    failed = pao.wait_state(request_id, "failed")
    assert failed["guidance"]["failureClass"] == "backend_unavailable"
    assert failed["guidance"]["retryable"] is True
    [filed] = set(pao.jira.find("project = DBA")) - before

    assert pao.client.post(f"{API}/{request_id}/retry").status_code == 200
    assert pao.ticket_of(request_id, "database-redis-standard") == filed
    assert set(pao.jira.find("project = DBA")) - before == {filed}
    pao.jira.resolve(filed, "Done", fields={"customfield_10060": "redis://retry"})
    assert pao.wait_state(request_id, "completed")["outputs"]["redisUrl"] == "redis://retry"


def test_refused_jira_credentials_show_their_guidance(pao: Pao) -> None:
    tokens = dict(pao.jira.tokens)
    pao.jira.tokens.clear()
    try:
        request_id = pao.submit("database-redis-standard", {"name": "denied-cache"})
        detail = pao.wait_state(request_id, "failed")
    finally:
        pao.jira.tokens.update(tokens)
    guidance = detail["guidance"]
    assert guidance["failureClass"] == "credentials_refused"
    assert any("PAO_JIRA_TOKEN" in step for step in guidance["nextSteps"])
    assert "t0k3n" not in json.dumps(detail)


def test_escalation_files_the_manual_ticket_with_the_failure_and_follows_it(pao: Pao) -> None:
    pao.provisioner.fail_next("/apps", 503, times=2)  # the first try and its one retry
    request_id = pao.submit("compute-consumer-test", {"name": "escalated-app"})
    failed = pao.wait_state(request_id, "failed")
    assert failed["guidance"]["failureClass"] == "backend_unavailable"
    assert any("Escalate" in step for step in failed["guidance"]["nextSteps"])
    assert failed["guidance"]["escalation"]["jiraProject"] == "CMP"

    outsider = {"X-PAO-On-Behalf-Of": "user:default/olaf", "X-PAO-On-Behalf-Of-Teams": "platform-storage"}
    refused = pao.client.post(f"{API}/{request_id}/escalate", json={}, headers=outsider)
    assert refused.status_code == 403
    escalated = pao.client.post(f"{API}/{request_id}/escalate", json={"componentId": "compute-consumer-test"})
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["state"] == "escalated"
    again = pao.client.post(f"{API}/{request_id}/escalate", json={})
    assert again.status_code == 409

    key = pao.ticket_of(request_id, "compute-consumer-test")
    assert key.startswith("CMP-")
    description = pao.jira.issue_json(key)["fields"]["description"]
    assert "Escalated by PAO" in description
    assert "backend_unavailable" in description and "/apps" in description
    assert f"/requests/{request_id}" in description

    pao.jira.resolve(key, "Done", fields={"customfield_10080": "https://escalated-app.apps.example.com"})
    detail = pao.wait_state(request_id, "completed")
    assert detail["outputs"]["appUrl"] == "https://escalated-app.apps.example.com"


def test_only_a_failed_request_can_be_escalated(pao: Pao) -> None:
    request_id = pao.submit("database-redis-standard", {"name": "not-failed"})
    pao.ticket_of(request_id, "database-redis-standard")
    refused = pao.client.post(f"{API}/{request_id}/escalate", json={})
    assert refused.status_code == 409
    assert "escalate" in refused.json()["error"]["message"]


def test_jira_refusing_the_ticket_shows_backend_rejected_guidance(pao: Pao) -> None:
    pao.jira.inject("createIssue", 400, message="Field 'components' cannot be set.")
    request_id = pao.submit("database-redis-standard", {"name": "refused-cache"})
    guidance = pao.wait_state(request_id, "failed")["guidance"]
    assert guidance["failureClass"] == "backend_rejected"
    assert "cannot be set" in guidance["detail"]


def test_a_ticket_closed_without_its_output_field_shows_configuration_guidance(pao: Pao) -> None:
    request_id = pao.submit("database-redis-standard", {"name": "empty-field"})
    key = pao.ticket_of(request_id, "database-redis-standard")
    pao.jira.resolve(key, "Done")  # nobody entered the Redis URL
    guidance = pao.wait_state(request_id, "failed")["guidance"]
    assert guidance["failureClass"] == "configuration"
    assert "customfield_10060" in guidance["detail"] and "before closing" in guidance["detail"]


def test_a_deleted_ticket_fails_the_component_instead_of_waiting_forever(pao: Pao, polling: None) -> None:
    request_id = pao.submit("database-redis-standard", {"name": "deleted-cache"})
    key = pao.ticket_of(request_id, "database-redis-standard")
    pao.jira.delete(key)
    detail = pao.wait_state(request_id, "failed")
    assert detail["guidance"]["failureClass"] == "ticket_rejected"
    assert "Deleted" in detail["guidance"]["message"]


def test_cancelling_a_request_ends_its_ticket_wait_at_once(pao: Pao) -> None:
    # The poll interval is an hour: only the cancel's wake-up can end the wait this quickly.
    request_id = pao.submit("database-redis-standard", {"name": "cancelled-cache"})
    pao.ticket_of(request_id, "database-redis-standard")
    assert pao.client.post(f"{API}/{request_id}/cancel").status_code == 200
    detail = pao.wait_state(request_id, "cancelled")
    component = _component(detail, "database-redis-standard")
    assert component["state"] == "cancelled"
    assert component["actions"][-1]["state"] == "cancelled"
