"""The loopback JIRA behaves like JIRA for the real `jira` client (what PAO's ticket tests rely on)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import jira
import pytest

from tests.support.jira_server import JiraServer


def _client(server: JiraServer) -> jira.JIRA:
    return jira.JIRA(server=server.url, token_auth="t0k3n", max_retries=0)


def _task(client: jira.JIRA, summary: str, **fields: object) -> jira.Issue:
    return client.create_issue(
        fields={"project": {"key": "DBA"}, "issuetype": {"name": "Task"}, "summary": summary, **fields}
    )


def test_real_client_creates_and_reads_an_issue_with_status_category(jira_server: JiraServer) -> None:
    client = _client(jira_server)
    issue = _task(client, "PostgreSQL orders-db", labels=["pao"], priority={"name": "High"})
    assert issue.key == "DBA-1"
    assert issue.fields.status.name == "To Do"
    assert issue.fields.status.statusCategory.key == "new"
    assert issue.fields.priority.name == "High"
    assert issue.fields.resolution is None


def test_search_understands_labels_and_issue_properties(jira_server: JiraServer) -> None:
    client = _client(jira_server)
    first, second = _task(client, "one", labels=["pao-a1"]), _task(client, "two", labels=["pao-a2"])
    client.add_issue_property(second.key, "pao", {"actionId": "a2"})
    assert [i.key for i in client.search_issues('project = DBA AND labels = "pao-a1"')] == [first.key]
    assert [i.key for i in client.search_issues('issue.property[pao].actionId = "a2"')] == [second.key]
    assert client.search_issues('labels in ("nothing")') == []


def test_links_read_is_blocked_by_from_the_dependent_ticket(jira_server: JiraServer) -> None:
    client = _client(jira_server)
    blocker, blocked = _task(client, "database"), _task(client, "app")
    client.create_issue_link("blocks", inwardIssue=blocker.key, outwardIssue=blocked.key)
    [link] = client.issue(blocked.key).fields.issuelinks
    assert link.type.inward == "is blocked by"
    assert link.inwardIssue.key == blocker.key


def test_transitions_and_admin_resolution_set_category_and_resolution(jira_server: JiraServer) -> None:
    client = _client(jira_server)
    rejected, done = _task(client, "rejected"), _task(client, "done")
    assert {t["name"] for t in client.transitions(rejected.key)} == {"Start Progress", "Done", "Won't Do"}
    client.transition_issue(rejected.key, "Won't Do")
    jira_server.resolve(done.key, "Done", fields={"customfield_10050": "postgresql://db/orders"})
    rejected, done = client.issue(rejected.key), client.issue(done.key)
    assert (rejected.fields.status.statusCategory.key, rejected.fields.resolution.name) == (
        "done",
        "Won't Do",
    )
    assert done.fields.customfield_10050 == "postgresql://db/orders"
    client.add_comment(done.key, "thanks")
    assert [c.body for c in client.comments(done.key)] == ["thanks"]


def test_wrong_credentials_are_refused_with_401(jira_server: JiraServer) -> None:
    with pytest.raises(jira.JIRAError) as caught:
        jira.JIRA(server=jira_server.url, basic_auth=("pao-bot", "wrong"), max_retries=0)
    assert caught.value.status_code == 401


def test_injected_429_carries_retry_after_and_then_clears(jira_server: JiraServer) -> None:
    client = _client(jira_server)
    jira_server.inject("createIssue", 429, retry_after=7)
    with pytest.raises(jira.JIRAError) as caught:
        _task(client, "throttled")
    assert caught.value.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert _task(client, "fine").key == "DBA-1"


def test_invalid_fields_answer_400_with_field_errors(jira_server: JiraServer) -> None:
    client = _client(jira_server)
    with pytest.raises(jira.JIRAError) as caught:
        _task(client, "x" * 256, customfield_99999="nope")
    assert caught.value.status_code == 400
    assert "255 characters" in caught.value.text and "customfield_99999" in caught.value.text


class _Sink(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_admin_api_resolves_over_http_and_a_webhook_reports_the_status_change() -> None:
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        with JiraServer(webhooks=[f"http://127.0.0.1:{sink.server_port}/hook"]).running() as server:
            key = _task(_client(server), "hooked").key
            response = httpx.post(
                f"{server.url}/_admin/issues/{key}/resolve", json={"resolution": "Won't Do"}
            )
            assert response.status_code == 200
            assert response.json()["fields"]["resolution"]["name"] == "Won't Do"
            for _ in range(500):
                if server.webhook_deliveries:
                    break
                time.sleep(0.01)
    finally:
        sink.shutdown()
    [event] = _Sink.received
    assert event["webhookEvent"] == "jira:issue_updated"
    assert event["issue"]["key"] == key
    assert event["changelog"]["items"][0]["toString"] == "Done"
