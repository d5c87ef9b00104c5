"""The action core: public surface, description shape, input validation, redaction, registry, run."""

from __future__ import annotations

import ast
import asyncio
import base64
import inspect
import json
import types
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import Field

import scaffolder_actions
from scaffolder_actions import (
    Action,
    ActionCancelledError,
    ActionContext,
    ActionError,
    ActionLogger,
    ActionModel,
    ActionRegistry,
    ActionResult,
    BackendRejectedError,
    Example,
    Redactor,
    UnknownActionError,
    run_action,
)

SECRET = "s3cr3t-v@lue/with+chars"


def test_all_lists_exactly_the_public_members_sorted() -> None:
    public = {
        name
        for name, value in vars(scaffolder_actions).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(scaffolder_actions.__all__) == public

    # isort-style order (what ruff RUF022 keeps): CONSTANTS, then Classes, then functions.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert scaffolder_actions.__all__ == sorted(scaffolder_actions.__all__, key=kind)


def test_package_imports_nothing_from_pao_backend_and_only_http_imports_fastapi() -> None:
    root = Path(scaffolder_actions.__file__).parent
    for source in root.rglob("*.py"):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert "pao_backend" not in imported, source
        if source.name != "http.py":
            assert not imported & {"fastapi", "starlette"}, source


class GreetInput(ActionModel):
    who: str = Field(min_length=1, description="Whom to greet")
    times: int = Field(1, ge=1, le=3)
    shout_loudly: bool = False


class GreetOutput(ActionModel):
    greeting: str


async def greet(ctx: ActionContext[GreetInput]) -> None:
    text = ", ".join([f"hello {ctx.input.who}"] * ctx.input.times)
    ctx.logger.info(f"greeting {ctx.input.who} with secret {ctx.secrets.get('token', '-')}")
    if ctx.input.who == "boom":
        raise BackendRejectedError(
            f"cannot greet {ctx.secrets['token']}", details={"echo": ctx.secrets["token"]}
        )
    if ctx.input.who == "bug":
        raise RuntimeError(f"unexpected {ctx.secrets['token']}")
    ctx.output("greeting", text)


def greet_action(**overrides: Any) -> Action[GreetInput]:
    return Action(
        id=overrides.pop("id", "test:greet"),
        description="Greets someone",
        input_model=GreetInput,
        output_model=GreetOutput,
        handler=greet,
        examples=[Example(description="basic", example="steps: []", input={"who": "ada"}, notes="n")],
        **overrides,
    )


def run(action: Action[Any], input: dict[str, Any], tmp_path: Path, **kwargs: Any) -> ActionResult:
    return asyncio.run(run_action(action, input, workspace=tmp_path / "ws", attempt_key="a-1", **kwargs))


def test_describe_has_backstage_v2_actions_shape_with_camel_case_schema() -> None:
    described = greet_action().describe()
    assert set(described) == {"id", "description", "examples", "schema"}
    assert described["examples"] == [{"description": "basic", "example": "steps: []", "notes": "n"}]
    schema = described["schema"]["input"]
    assert schema["type"] == "object"
    assert schema["required"] == ["who"]
    assert set(schema["properties"]) == {"who", "times", "shoutLoudly"}
    assert described["schema"]["output"]["properties"]["greeting"]["type"] == "string"
    assert "$ref" not in json.dumps(described)


def test_action_ids_must_look_like_provider_and_name() -> None:
    with pytest.raises(ValueError, match="provider:name"):
        greet_action(id="greet")


def test_invalid_input_fails_with_one_message_per_field(tmp_path: Path) -> None:
    result = run(greet_action(), {"who": "", "times": 9, "extra": 1}, tmp_path)
    assert result.error is not None
    assert result.error.failure_class == "invalid_input"
    paths = {e["path"] for e in result.error.details["errors"]}
    assert paths == {"who", "times", "extra"}
    assert "test:greet" in result.error.message


def test_input_accepts_camel_case_and_snake_case_names(tmp_path: Path) -> None:
    assert run(greet_action(), {"who": "a", "shoutLoudly": True}, tmp_path).ok
    assert run(greet_action(), {"who": "a", "shout_loudly": True}, tmp_path).ok


def test_outputs_and_logs_are_collected(tmp_path: Path) -> None:
    result = run(greet_action(), {"who": "ada", "times": 2}, tmp_path)
    assert result.ok
    assert result.outputs == {"greeting": "hello ada, hello ada"}
    assert [(line.level, line.message) for line in result.logs] == [("info", "greeting ada with secret -")]


def test_secrets_are_redacted_from_logs_errors_and_details(tmp_path: Path) -> None:
    seen: list[str] = []
    result = run(
        greet_action(),
        {"who": "boom"},
        tmp_path,
        secrets={"token": SECRET},
        on_log=lambda line: seen.append(line.message),
    )
    assert result.error is not None
    assert result.error.failure_class == "backend_rejected"
    text = json.dumps(result.error.to_dict()) + str(result.error) + "".join(seen)
    text += "".join(line.message for line in result.logs)
    assert SECRET not in text
    assert "***" in result.error.message
    assert result.error.details == {"echo": "***"}


def test_unexpected_exceptions_become_classified_redacted_errors(tmp_path: Path) -> None:
    result = run(greet_action(), {"who": "bug"}, tmp_path, secrets={"token": SECRET})
    assert result.error is not None
    assert result.error.failure_class == "configuration"
    assert "RuntimeError" in result.error.message
    assert SECRET not in result.error.message


def test_dry_run_of_an_action_without_dry_run_support_does_nothing(tmp_path: Path) -> None:
    result = run(greet_action(), {"who": "ada"}, tmp_path, dry_run=True)
    assert result.ok and result.outputs == {}
    assert "does not support dry-run" in result.logs[0].message


def test_context_carries_attempt_key_metadata_and_workspace(tmp_path: Path) -> None:
    captured: dict[str, Any] = {}

    async def handler(ctx: ActionContext[GreetInput]) -> None:
        captured.update(key=ctx.attempt_key, meta=ctx.metadata, ws=ctx.workspace, dry=ctx.dry_run)

    action = Action(
        id="test:ctx", description="d", input_model=GreetInput, output_model=None, handler=handler
    )
    run(action, {"who": "x"}, tmp_path, metadata={"requestId": "r-1", "user": "user:default/ada"})
    assert captured["key"] == "a-1"
    assert captured["meta"] == {"actionId": "test:ctx", "requestId": "r-1", "user": "user:default/ada"}
    assert captured["ws"] == tmp_path / "ws" and captured["ws"].is_dir()
    assert captured["dry"] is False


def test_an_action_that_needs_no_workspace_gets_no_folder(tmp_path: Path) -> None:
    async def handler(ctx: ActionContext[GreetInput]) -> None:
        ctx.output("exists", ctx.workspace.exists())

    action = Action(
        id="test:no-files",
        description="d",
        input_model=GreetInput,
        output_model=None,
        handler=handler,
        needs_workspace=False,
    )
    result = run(action, {"who": "x"}, tmp_path)
    assert result.ok and result.outputs == {"exists": False}
    assert not (tmp_path / "ws").exists()


def test_redactor_masks_the_secret_and_its_common_encodings() -> None:
    redactor = Redactor([SECRET, ""])
    encodings = [
        SECRET,
        quote(SECRET, safe=""),
        json.dumps(SECRET)[1:-1],
        base64.b64encode(SECRET.encode()).decode(),
        base64.urlsafe_b64encode(SECRET.encode()).decode(),
    ]
    for encoded in encodings:
        assert redactor.redact_text(f"x {encoded} y") == "x *** y"
    nested = {"a": [SECRET, (1, f"k={SECRET}")], SECRET: {"b": None}}
    assert redactor.redact(nested) == {"a": ["***", (1, "k=***")], "***": {"b": None}}
    error = redactor.redact(ValueError(f"bad {SECRET}"))
    assert isinstance(error, ValueError) and str(error) == "bad ***"


def test_redactor_masks_the_longest_secret_first() -> None:
    redactor = Redactor(["abc", "abcdef"])
    assert redactor.redact_text("abcdef abc") == "*** ***"


def test_redactor_without_secrets_returns_values_unchanged() -> None:
    redactor = Redactor()
    assert not redactor
    assert redactor.redact({"a": "b"}) == {"a": "b"}


def test_action_error_keeps_class_retryable_and_details() -> None:
    error = ActionError("x", failure_class="timeout", retryable=True, details={"a": 1})
    assert error.to_dict() == {
        "name": "ActionError",
        "message": "x",
        "failureClass": "timeout",
        "retryable": True,
        "details": {"a": 1},
    }
    assert BackendRejectedError("y").failure_class == "backend_rejected"
    assert not BackendRejectedError("y").retryable


def test_registry_lists_sorted_and_refuses_duplicates() -> None:
    registry = ActionRegistry([greet_action(id="test:zeta"), greet_action(id="test:alpha")])
    assert [a.id for a in registry.list()] == ["test:alpha", "test:zeta"]
    assert [d["id"] for d in registry.describe()] == ["test:alpha", "test:zeta"]
    assert "test:alpha" in registry and len(registry) == 2
    assert registry.get("test:nope") is None
    with pytest.raises(UnknownActionError, match="test:nope"):
        registry.require("test:nope")
    with pytest.raises(ValueError, match="already registered"):
        registry.register(greet_action(id="test:alpha"))
    registry.register(greet_action(id="test:alpha"), replace=True)


def _context(tmp_path: Path) -> ActionContext[GreetInput]:
    redactor = Redactor()
    return ActionContext(
        input=GreetInput(who="x"),
        secrets={},
        workspace=tmp_path,
        logger=ActionLogger(redactor),
        redactor=redactor,
        attempt_key="k",
    )


def test_a_run_stopped_before_its_work_started_leaves_no_coroutine_unawaited(tmp_path: Path) -> None:
    # A process shutting down stops its loop, then cancels what is pending: the work of a run may
    # never have started. Left un-awaited, its coroutine is reported when collected (an error here).
    loop = asyncio.new_event_loop()
    try:
        work = asyncio.sleep(10)
        run = loop.create_task(_context(tmp_path).until_cancelled(work, timeout=5))
        loop.call_soon(loop.stop)
        loop.run_forever()  # the run starts its work task, which never gets to run
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

        assert run.cancelled()
        assert inspect.getcoroutinestate(work) == inspect.CORO_CLOSED
    finally:
        loop.close()


def test_a_run_cancelled_before_it_waits_closes_its_work(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    ctx.cancelled.set()
    work = asyncio.sleep(10)

    with pytest.raises(ActionCancelledError):
        asyncio.run(ctx.until_cancelled(work))
    assert inspect.getcoroutinestate(work) == inspect.CORO_CLOSED


def test_until_cancelled_times_out_as_wait_for_does(tmp_path: Path) -> None:
    with pytest.raises(TimeoutError):
        asyncio.run(_context(tmp_path).until_cancelled(asyncio.sleep(10), timeout=0.01))
