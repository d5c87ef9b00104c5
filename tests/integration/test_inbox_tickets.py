"""The built-in inbox: pao:jira-ticket files into PAO's database; teams list, resolve, reject; waking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pao_backend.errors import ConflictError, InputError, NotAllowedError
from pao_backend.persistence.db import Database
from pao_backend.persistence.migrate import migrate
from pao_backend.ticketing.inbox import InboxTicketSystem
from pao_backend.ticketing.service import (
    Caller,
    WebhookRefusedError,
    handle_jira_webhook,
    list_inbox,
    reject_inbox_ticket,
    resolve_inbox_ticket,
    verify_webhook_secret,
)
from pao_backend.ticketing.waits import register_wait, ticket_topic, wake_request
from scaffolder_actions import ActionResult, run_action
from scaffolder_actions.actions.jira_ticket import create_jira_ticket_action

pytestmark = pytest.mark.anyio
BASE = "http://pao.test"
DBA = Caller(ref="user:default/dana", teams=("platform-databases",))
OUTSIDER = Caller(ref="user:default/olaf", teams=("developer-experience",))
ADMIN = Caller(ref="user:default/ada", admin=True)
METADATA = {
    "requestId": "req-1",
    "componentId": "database",
    "actionIndex": 0,
    "offeringId": "bundle-webapp-standard",
    "itemId": "database-postgresql-standard",
    "team": "platform-databases",
    "requester": "user:default/dev",
    "declaredOutputs": {"databaseUrl": "ticket.fields.customfield_10050", "ticketKey": "ticket.key"},
}
TASK = {"project": "DBA", "summary": "PostgreSQL orders-db"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'pao.db'}")
    migrate(database)
    yield database
    database.dispose()


class _Notes:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def __call__(self, workflow_id: str, topic: str, message: dict[str, Any]) -> None:
        self.sent.append((workflow_id, topic, message))


async def _file(db: Database, tmp_path: Path, input: dict[str, Any] = TASK, **kwargs: Any) -> ActionResult:
    action = create_jira_ticket_action(tickets=InboxTicketSystem(db=db, base_url=BASE))
    kwargs.setdefault("attempt_key", "req-1/database/0")
    kwargs.setdefault("metadata", METADATA)
    return await run_action(action, input, workspace=tmp_path, **kwargs)


async def test_the_action_files_into_the_inbox_once_per_action(db: Database, tmp_path: Path) -> None:
    first = await _file(db, tmp_path)
    again = await _file(db, tmp_path)
    assert first.ok, first.error
    assert first.outputs == again.outputs
    assert first.outputs["url"] == f"{BASE}/inbox?ticket={first.outputs['key']}"
    [ticket] = list_inbox(db, base_url=BASE, caller=DBA)
    assert ticket.key == first.outputs["key"]
    body = ticket.to_dict()
    assert body["requestId"] == "req-1" and body["requester"] == "user:default/dev"
    assert body["outputs"] == [
        {
            "key": "databaseUrl",
            "source": "ticket.fields.customfield_10050",
            "field": "customfield_10050",
            "required": True,
        },
        {"key": "ticketKey", "source": "ticket.key", "field": None, "required": False},
    ]


async def test_dependent_tickets_are_linked_as_blocked_by(db: Database, tmp_path: Path) -> None:
    blocker = (await _file(db, tmp_path)).outputs["key"]
    meta = {**METADATA, "componentId": "secrets", "team": "platform-security"}
    result = await _file(
        db,
        tmp_path,
        {"project": "SEC", "summary": "secrets", "links": [{"type": "blocks", "key": blocker}]},
        attempt_key="req-1/secrets/0",
        metadata=meta,
    )
    [ticket] = list_inbox(db, base_url=BASE, caller=ADMIN, team="platform-security")
    assert ticket.key == result.outputs["key"]
    assert ticket.blocked_by == ({"type": "blocks", "key": blocker},)


async def test_only_the_owning_team_or_an_admin_sees_and_works_a_ticket(db: Database, tmp_path: Path) -> None:
    key = (await _file(db, tmp_path)).outputs["key"]
    assert list_inbox(db, base_url=BASE, caller=OUTSIDER) == []
    with pytest.raises(NotAllowedError):
        list_inbox(db, base_url=BASE, caller=OUTSIDER, team="platform-databases")
    with pytest.raises(NotAllowedError, match="platform-databases"):
        await resolve_inbox_ticket(
            db, key=key, outputs={"databaseUrl": "x"}, caller=OUTSIDER, base_url=BASE, notify=_Notes()
        )
    assert [t.key for t in list_inbox(db, base_url=BASE, caller=ADMIN)] == [key]


async def test_resolving_validates_declared_outputs_and_wakes_the_waiting_request(
    db: Database, tmp_path: Path
) -> None:
    key = (await _file(db, tmp_path)).outputs["key"]
    register_wait(
        db, ticket_key=key, workflow_id="req-1:database", request_id="req-1", component_id="database"
    )
    notes = _Notes()
    for outputs, path in [
        ({}, "outputs.databaseUrl"),
        ({"databaseUrl": 5}, "outputs.databaseUrl"),
        ({"databaseUrl": "x", "extra": "y"}, "outputs.extra"),
    ]:
        with pytest.raises(InputError) as caught:
            await resolve_inbox_ticket(db, key=key, outputs=outputs, caller=DBA, base_url=BASE, notify=notes)
        assert path in [e["path"] for e in caught.value.details["errors"]]
    assert notes.sent == []

    ticket = await resolve_inbox_ticket(
        db,
        key=key,
        outputs={"databaseUrl": "postgresql://db/orders"},
        caller=DBA,
        base_url=BASE,
        notify=notes,
    )
    assert (ticket.status_category, ticket.resolution, ticket.resolved_by) == ("done", "Done", DBA.ref)
    assert notes.sent == [("req-1:database", ticket_topic(key), {"ticket": key, "reason": "resolved"})]
    system_view = await InboxTicketSystem(db=db, base_url=BASE).get(key)
    assert system_view.is_done and system_view.fields["customfield_10050"] == "postgresql://db/orders"
    assert list_inbox(db, base_url=BASE, caller=DBA) == []
    with pytest.raises(ConflictError):
        await resolve_inbox_ticket(
            db, key=key, outputs={"databaseUrl": "again"}, caller=DBA, base_url=BASE, notify=notes
        )


async def test_rejecting_needs_a_reason_and_closes_as_wont_do(db: Database, tmp_path: Path) -> None:
    key = (await _file(db, tmp_path)).outputs["key"]
    with pytest.raises(InputError, match="reason"):
        await reject_inbox_ticket(db, key=key, reason=" ", caller=DBA, base_url=BASE, notify=_Notes())
    ticket = await reject_inbox_ticket(
        db,
        key=key,
        reason="we do not host PostgreSQL 12 any more",
        caller=DBA,
        base_url=BASE,
        notify=_Notes(),
    )
    assert ticket.resolution == "Won't Do"
    assert (await InboxTicketSystem(db=db, base_url=BASE).get(key)).is_rejected


def test_webhook_secret_is_required_from_header_or_query() -> None:
    verify_webhook_secret("s3cret", header="s3cret", token=None)
    verify_webhook_secret("s3cret", header=None, token="s3cret")
    for header, token in [(None, None), ("wrong", None), (None, "wrong")]:
        with pytest.raises(WebhookRefusedError) as caught:
            verify_webhook_secret("s3cret", header=header, token=token)
        assert caught.value.details["status"] == 401
    with pytest.raises(WebhookRefusedError, match="PAO_JIRA_WEBHOOK_SECRET"):
        verify_webhook_secret(None, header="anything", token=None)


async def test_a_jira_webhook_wakes_only_a_waiting_workflow(db: Database) -> None:
    notes = _Notes()
    register_wait(db, ticket_key="DBA-7", workflow_id="wf-1")
    assert await handle_jira_webhook(db, payload={"issue": {"key": "DBA-7"}}, notify=notes) == {
        "ticket": "DBA-7",
        "accepted": True,
    }
    assert (await handle_jira_webhook(db, payload={"issue": {"key": "OPS-1"}}, notify=notes))[
        "accepted"
    ] is False
    assert [n[0] for n in notes.sent] == ["wf-1"]
    with pytest.raises(InputError):
        await handle_jira_webhook(db, payload={"webhookEvent": "jira:issue_updated"}, notify=notes)


async def test_cancelling_a_request_wakes_every_ticket_wait_of_it(db: Database) -> None:
    notes = _Notes()
    register_wait(db, ticket_key="DBA-1", workflow_id="wf-a", request_id="req-1")
    register_wait(db, ticket_key="MSG-2", workflow_id="wf-b", request_id="req-1")
    register_wait(db, ticket_key="DBA-3", workflow_id="wf-c", request_id="req-2")
    assert await wake_request(db, request_id="req-1", notify=notes) == 2
    assert sorted(n[0] for n in notes.sent) == ["wf-a", "wf-b"]
