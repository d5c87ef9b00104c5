"""pao:jira-ticket through JiraTicketSystem and the real `jira` client against the loopback JIRA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pao_backend.ticketing.jira_tickets import JiraTicketSystem
from scaffolder_actions import ActionResult, run_action
from scaffolder_actions.actions.jira_ticket import EXAMPLES, action_label, create_jira_ticket_action
from tests.support.jira_server import JiraServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _system(server: JiraServer, sleeps: _Sleeps | None = None, **kwargs: Any) -> JiraTicketSystem:
    return JiraTicketSystem(url=server.url, token="t0k3n", sleep=sleeps or _Sleeps(), **kwargs)


async def _run(
    system: JiraTicketSystem, tmp_path: Path, input: dict[str, Any], **kwargs: Any
) -> ActionResult:
    action = create_jira_ticket_action(tickets=system)
    kwargs.setdefault("attempt_key", "req-1/database/0")
    return await run_action(action, input, workspace=tmp_path, **kwargs)


TASK = {"project": "DBA", "summary": "PostgreSQL orders-db", "description": "h3. Request"}


async def test_examples_run_against_the_loopback_jira(jira_server: JiraServer, tmp_path: Path) -> None:
    system = _system(jira_server)
    for number, example in enumerate(EXAMPLES):
        result = await _run(system, tmp_path, example.input, attempt_key=f"example/{number}")
        assert result.ok, result.error
        assert example.expected is not None
        assert result.outputs.items() >= example.expected.items()
        assert result.outputs["url"] == f"{jira_server.url}/browse/{result.outputs['key']}"
    assert jira_server.links_of("SEC-1") == [("Blocks", "DBA-1", "SEC-1")]


def test_each_example_step_carries_the_input_it_runs_with() -> None:
    for example in EXAMPLES:
        [step] = yaml.safe_load(example.example)["steps"]
        assert step["action"] == "pao:jira-ticket"
        assert step["input"] == example.input


async def test_ticket_carries_request_component_and_action_in_labels_and_properties(
    jira_server: JiraServer, tmp_path: Path
) -> None:
    metadata = {
        "requestId": "req-1",
        "componentId": "database",
        "actionIndex": 0,
        "team": "platform-databases",
    }
    result = await _run(_system(jira_server), tmp_path, TASK, metadata=metadata)
    issue = jira_server.issue_json(result.outputs["key"])
    assert {"pao", "pao-request-req-1", action_label("req-1/database/0")} <= set(issue["fields"]["labels"])
    assert issue["properties"]["pao"]["componentId"] == "database"
    assert issue["properties"]["pao"]["attemptKey"] == "req-1/database/0"
    assert issue["fields"]["priority"]["name"] == "Medium"


async def test_a_retried_create_never_files_a_second_ticket(jira_server: JiraServer, tmp_path: Path) -> None:
    system = _system(jira_server)
    first = await _run(system, tmp_path, TASK)
    # the step crashed after JIRA created the ticket; the engine runs the same attempt again
    second = await _run(system, tmp_path, TASK)
    assert first.outputs == second.outputs
    assert jira_server.find("project = DBA") == [first.outputs["key"]]
    assert [op for op, _ in jira_server.calls].count("createIssue") == 1


async def test_throttling_is_retried_after_the_delay_jira_asks_for(
    jira_server: JiraServer, tmp_path: Path
) -> None:
    sleeps = _Sleeps()
    jira_server.inject("createIssue", 429, retry_after=7)
    result = await _run(_system(jira_server, sleeps), tmp_path, TASK)
    assert result.ok, result.error
    assert sleeps.delays == [7.0]


async def test_refused_credentials_fail_as_credentials_refused(
    jira_server: JiraServer, tmp_path: Path
) -> None:
    system = JiraTicketSystem(url=jira_server.url, token="wrong", sleep=_Sleeps())
    result = await _run(system, tmp_path, TASK)
    assert result.error is not None
    assert result.error.failure_class == "credentials_refused"
    assert "PAO_JIRA_TOKEN" in result.error.message
    assert "wrong" not in result.error.message


async def test_persistent_5xx_fails_as_unavailable_after_every_retry(
    jira_server: JiraServer, tmp_path: Path
) -> None:
    sleeps = _Sleeps()
    jira_server.inject("createIssue", 500, times=10)
    result = await _run(_system(jira_server, sleeps, attempts=2), tmp_path, TASK)
    assert result.error is not None
    assert result.error.failure_class == "backend_unavailable"
    assert result.error.details["attempts"] == 3
    assert len(sleeps.delays) == 2


async def test_a_slow_jira_fails_as_timeout(jira_server: JiraServer, tmp_path: Path) -> None:
    jira_server.inject("search", None, times=2, delay=1.0)
    result = await _run(_system(jira_server, attempts=1, timeout=0.2), tmp_path, TASK)
    assert result.error is not None
    assert result.error.failure_class == "timeout"


async def test_jira_rejecting_the_fields_fails_as_backend_rejected(
    jira_server: JiraServer, tmp_path: Path
) -> None:
    result = await _run(_system(jira_server), tmp_path, {**TASK, "customFields": {"customfield_99999": "x"}})
    assert result.error is not None
    assert result.error.failure_class == "backend_rejected"
    assert "customfield_99999" in result.error.message


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"summary": "x" * 256}, "summary"),
        ({"priority": "Urgent"}, "priority"),
        ({"project": "dba"}, "project"),
        ({"labels": ["has space"]}, "labels"),
    ],
)
async def test_invalid_input_is_refused_before_jira_is_called(
    jira_server: JiraServer, tmp_path: Path, change: dict[str, Any], path: str
) -> None:
    result = await _run(_system(jira_server), tmp_path, {**TASK, **change})
    assert result.error is not None
    assert result.error.failure_class == "invalid_input"
    assert result.error.details["errors"][0]["path"].startswith(path)
    assert jira_server.calls == []


async def test_dry_run_files_nothing(jira_server: JiraServer, tmp_path: Path) -> None:
    result = await _run(_system(jira_server), tmp_path, TASK, dry_run=True)
    assert result.ok
    assert any("would file" in line.message for line in result.logs)
    assert jira_server.calls == []


async def test_ticket_reads_status_category_and_resolution(jira_server: JiraServer, tmp_path: Path) -> None:
    system = _system(jira_server)
    key = (await _run(system, tmp_path, TASK)).outputs["key"]
    assert (await system.get(key)).is_open
    jira_server.resolve(key, "Won't Do")
    ticket = await system.get(key)
    assert (ticket.status_category, ticket.resolution, ticket.is_rejected) == ("done", "Won't Do", True)


async def test_a_create_whose_answer_was_lost_is_not_filed_twice(
    jira_server: JiraServer, tmp_path: Path
) -> None:
    sleeps = _Sleeps()
    jira_server.inject("createIssue", 502, after=True)  # JIRA filed it, the proxy lost the answer
    result = await _run(_system(jira_server, sleeps), tmp_path, TASK)
    assert result.ok, result.error
    assert jira_server.find("project = DBA") == [result.outputs["key"]]
    assert len(sleeps.delays) == 1


async def test_a_failing_property_write_is_retried_without_filing_again(
    jira_server: JiraServer, tmp_path: Path
) -> None:
    jira_server.inject("setProperty", 503, times=2, retry_after=0)
    result = await _run(_system(jira_server), tmp_path, TASK)
    assert result.ok, result.error
    assert len(jira_server.find("project = DBA")) == 1
    assert (
        jira_server.issue_json(result.outputs["key"])["properties"]["pao"]["attemptKey"] == "req-1/database/0"
    )


async def test_secrets_never_reach_the_ticket(jira_server: JiraServer, tmp_path: Path) -> None:
    result = await _run(
        _system(jira_server),
        tmp_path,
        {
            **TASK,
            "description": "initial password: hunter2-secret",
            "customFields": {"customfield_10052": "hunter2-secret"},
        },
        secrets={"dbPassword": "hunter2-secret"},
    )
    assert result.ok, result.error
    issue = jira_server.issue_json(result.outputs["key"])
    assert "hunter2" not in str(issue)
    assert issue["fields"]["description"] == "initial password: ***"
    assert any("secrets never go into tickets" in line.message for line in result.logs)
