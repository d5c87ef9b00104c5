"""ActionRegistry: the actions a process offers, by id."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from scaffolder_actions._action import Action
from scaffolder_actions._errors import UnknownActionError


class ActionRegistry:
    """Actions by id. `get` returns None for an unknown id, `require` raises UnknownActionError."""

    def __init__(self, actions: Iterable[Action[Any]] = ()) -> None:
        self._actions: dict[str, Action[Any]] = {}
        self._closers: list[Callable[[], None]] = []
        for action in actions:
            self.register(action)

    def register(self, action: Action[Any], *, replace: bool = False) -> Action[Any]:
        if action.id in self._actions and not replace:
            raise ValueError(f"action {action.id!r} is already registered; pass replace=True to override it")
        self._actions[action.id] = action
        return action

    def get(self, action_id: str) -> Action[Any] | None:
        return self._actions.get(action_id)

    def require(self, action_id: str) -> Action[Any]:
        action = self._actions.get(action_id)
        if action is None:
            known = ", ".join(sorted(self._actions)) or "none"
            raise UnknownActionError(
                f"no action {action_id!r} is registered (known: {known}); fix the action type or register it",
                details={"actionId": action_id},
            )
        return action

    def on_close(self, closer: Callable[[], None]) -> None:
        """Call `closer` on `close()`: for what the actions share (e.g. their HTTP connections)."""
        self._closers.append(closer)

    def close(self) -> None:
        """Release what the actions share; call it when the process stops running actions."""
        for closer in self._closers:
            closer()

    def list(self) -> list[Action[Any]]:
        """Every action, sorted by id (as Backstage lists them)."""
        return [self._actions[key] for key in sorted(self._actions)]

    def describe(self) -> builtins.list[dict[str, Any]]:
        """Every action in Backstage's `GET /v2/actions` shape, sorted by id."""
        return [action.describe() for action in self.list()]

    def __contains__(self, action_id: object) -> bool:
        return action_id in self._actions

    def __iter__(self) -> Iterator[Action[Any]]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self._actions)
