"""run_action: validate the input, run the handler, and hand back redacted outputs, logs and error."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scaffolder_actions._action import Action
from scaffolder_actions._context import ActionContext, ActionLogger, LogLine
from scaffolder_actions._errors import ActionConfigurationError, ActionError, ActionInputError
from scaffolder_actions._redact import Redactor


@dataclass
class ActionResult:
    """What one run produced. `error` is None on success; everything in here is already redacted."""

    outputs: dict[str, Any] = field(default_factory=dict)
    logs: list[LogLine] = field(default_factory=list)
    error: ActionError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def raise_for_error(self) -> ActionResult:
        if self.error is not None:
            raise self.error
        return self


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "input"


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as `[{path, message}]`, without echoing the offending values."""
    return [{"path": _field_path(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]


def validate_input(action: Action[Any], input: Mapping[str, Any]) -> Any:
    """The action's input model built from `input`, or ActionInputError with one entry per bad field."""
    try:
        return action.input_model.model_validate(dict(input))
    except ValidationError as exc:
        errors = validation_errors(exc)
        summary = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
        raise ActionInputError(
            f"invalid input for action {action.id}: {summary}", details={"errors": errors}
        ) from None


async def run_action(
    action: Action[Any],
    input: Mapping[str, Any],
    *,
    workspace: Path,
    attempt_key: str,
    secrets: Mapping[str, str] | None = None,
    dry_run: bool = False,
    cancelled: asyncio.Event | None = None,
    metadata: Mapping[str, Any] | None = None,
    on_log: Callable[[LogLine], None] | None = None,
    redactor: Redactor | None = None,
) -> ActionResult:
    """Run `action` once. Never raises ActionError: failures come back in `ActionResult.error`.

    `attempt_key` must be the same every time the same attempt is re-run (after a crash, on retry of the
    step), so that backends can deduplicate. asyncio cancellation of the caller propagates unchanged.
    """
    secrets = dict(secrets or {})
    redactor = redactor or Redactor()
    for value in secrets.values():
        redactor.add(value)
    logger = ActionLogger(redactor, on_log=on_log, name=action.id)
    result = ActionResult(logs=logger.lines)

    try:
        validated = validate_input(action, input)
    except ActionInputError as exc:
        result.error = redactor.redact(exc)
        logger.error(result.error.message)
        return result

    if dry_run and not action.supports_dry_run:
        logger.info(f"{action.id} does not support dry-run; skipped")
        result.outputs = {}
        return result

    if action.needs_workspace:
        workspace.mkdir(parents=True, exist_ok=True)
    ctx: ActionContext[Any] = ActionContext(
        input=validated,
        secrets=secrets,
        workspace=workspace,
        logger=logger,
        redactor=redactor,
        attempt_key=attempt_key,
        dry_run=dry_run,
        cancelled=cancelled if cancelled is not None else asyncio.Event(),
        metadata={"actionId": action.id, **dict(metadata or {})},
    )
    try:
        await action.handler(ctx)
    except ActionError as exc:
        result.error = redactor.redact(exc)
    except Exception as exc:  # a bug or an unexpected library error: still a classified failure
        result.error = ActionConfigurationError(
            redactor.redact_text(f"action {action.id} failed unexpectedly: {type(exc).__name__}: {exc}"),
            details={"exception": type(exc).__name__},
        )
    result.outputs = redactor.redact(ctx.outputs)
    if result.error is not None:
        logger.error(result.error.message)
    return result
