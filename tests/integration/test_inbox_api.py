"""HTTP: /api/pao/v1/inbox (list, resolve, reject, team permission) and /api/pao/v1/webhooks/jira (secret)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from pao_backend.app import create_app
from pao_backend.persistence.db import Database
from pao_backend.persistence.migrate import migrate
from pao_backend.settings import Settings
from pao_backend.ticketing.inbox import InboxTicketSystem
from pao_backend.ticketing.waits import register_wait
from scaffolder_actions import run_action
from scaffolder_actions.actions.jira_ticket import create_jira_ticket_action
from tests.conftest import SAMPLE_CATALOG

DBA = {"X-PAO-On-Behalf-Of": "user:default/dana", "X-PAO-On-Behalf-Of-Teams": "platform-databases"}
DEV = {"X-PAO-On-Behalf-Of": "user:default/dev", "X-PAO-On-Behalf-Of-Teams": "developer-experience"}


class _Notes:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def __call__(self, workflow_id: str, topic: str, message: dict[str, Any]) -> None:
        self.sent.append((workflow_id, topic, message))


@pytest.fixture
def app_parts(tmp_path: Path) -> Iterator[tuple[TestClient, Database, _Notes]]:
    settings = Settings(
        data_dir=tmp_path,
        catalog_dir=SAMPLE_CATALOG,
        base_url="http://pao.test",
        jira_webhook_secret=SecretStr("hook-s3cret"),
    )
    db = Database(f"sqlite:///{tmp_path / 'pao.db'}")
    migrate(db)
    app = create_app(settings)
    app.state.db = db
    notes = _Notes()
    app.state.ticket_notify = notes
    # No lifespan (no `with`): these routes need the database, not the engine.
    yield TestClient(app), db, notes
    db.dispose()


def _file_ticket(db: Database, tmp_path: Path) -> str:
    action = create_jira_ticket_action(tickets=InboxTicketSystem(db=db, base_url="http://pao.test"))
    metadata = {
        "requestId": "req-9",
        "componentId": "database",
        "team": "platform-databases",
        "requester": "user:default/dev",
        "declaredOutputs": {"databaseUrl": "ticket.fields.customfield_10050"},
    }
    result = asyncio.run(
        run_action(
            action,
            {"project": "DBA", "summary": "PostgreSQL orders-db"},
            workspace=tmp_path,
            attempt_key="req-9/database/0",
            metadata=metadata,
        )
    )
    assert result.ok, result.error
    key: str = result.outputs["key"]
    register_wait(db, ticket_key=key, workflow_id="wf-req-9", request_id="req-9", component_id="database")
    return key


def test_team_lists_resolves_and_the_request_is_woken(
    app_parts: tuple[TestClient, Database, _Notes], tmp_path: Path
) -> None:
    client, db, notes = app_parts
    key = _file_ticket(db, tmp_path)
    listed = client.get("/api/pao/v1/inbox", params={"team": "platform-databases"}, headers=DBA).json()
    assert listed["totalItems"] == 1
    item = listed["items"][0]
    assert (item["key"], item["requestId"], item["requester"]) == (key, "req-9", "user:default/dev")
    assert item["outputs"][0]["key"] == "databaseUrl"

    bad = client.post(f"/api/pao/v1/inbox/{key}/resolve", json={"outputs": {}}, headers=DBA)
    assert bad.status_code == 400
    assert bad.json()["errors"] == [
        {"path": "outputs.databaseUrl", "message": "required: the next steps of the request read it"}
    ]
    done = client.post(
        f"/api/pao/v1/inbox/{key}/resolve",
        json={"outputs": {"databaseUrl": "postgresql://db/o"}},
        headers=DBA,
    )
    assert done.status_code == 200, done.text
    assert done.json()["values"] == {"databaseUrl": "postgresql://db/o"}
    assert [n[0] for n in notes.sent] == ["wf-req-9"]
    assert client.get("/api/pao/v1/inbox", headers=DBA).json()["totalItems"] == 0


def test_other_teams_may_not_resolve_or_list_but_the_requester_may_look(
    app_parts: tuple[TestClient, Database, _Notes], tmp_path: Path
) -> None:
    client, db, _ = app_parts
    key = _file_ticket(db, tmp_path)
    refused = client.post(f"/api/pao/v1/inbox/{key}/reject", json={"reason": "no"}, headers=DEV)
    assert refused.status_code == 403
    assert refused.json()["error"]["name"] == "NotAllowedError"
    assert (
        client.get("/api/pao/v1/inbox", params={"team": "platform-databases"}, headers=DEV).status_code == 403
    )
    assert client.get(f"/api/pao/v1/inbox/{key}", headers=DEV).json()["key"] == key
    rejected = client.post(
        f"/api/pao/v1/inbox/{key}/reject", json={"reason": "not in this region"}, headers=DBA
    )
    assert rejected.json()["resolution"] == "Won't Do"


def test_jira_webhook_needs_the_shared_secret(app_parts: tuple[TestClient, Database, _Notes]) -> None:
    client, db, notes = app_parts
    register_wait(db, ticket_key="DBA-77", workflow_id="wf-77")
    event = {"webhookEvent": "jira:issue_updated", "issue": {"key": "DBA-77"}}
    assert client.post("/api/pao/v1/webhooks/jira", json=event).status_code == 401
    wrong = client.post("/api/pao/v1/webhooks/jira", json=event, params={"token": "guess"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["name"] == "AuthenticationError"
    by_query = client.post("/api/pao/v1/webhooks/jira", json=event, params={"token": "hook-s3cret"})
    by_header = client.post(
        "/api/pao/v1/webhooks/jira", json=event, headers={"X-PAO-Webhook-Secret": "hook-s3cret"}
    )
    assert by_query.status_code == by_header.status_code == 202
    assert by_query.json() == {"ticket": "DBA-77", "accepted": True}
    assert [n[0] for n in notes.sent] == ["wf-77", "wf-77"]
