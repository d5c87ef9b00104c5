"""Action: a self-describing scaffolder action — id, description, schemas, examples, dry-run, handler."""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from scaffolder_actions._context import ActionContext, InputT

_ID = re.compile(r"^[a-z][a-zA-Z0-9]*(:[a-z][a-zA-Z0-9-]*)+$")


class ActionModel(BaseModel):
    """Base of action inputs and outputs: camelCase on the wire (Backstage style), unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


@dataclass(frozen=True)
class Example:
    """One example: a Backstage step (YAML) for people, and the same input for the example tests.

    `expected` is a subset of the outputs the example must produce when run against a test backend.
    """

    description: str
    example: str
    input: dict[str, Any]
    expected: dict[str, Any] | None = None
    notes: str | None = None

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"description": self.description, "example": self.example}
        if self.notes:
            described["notes"] = self.notes
        return described


Handler = Callable[[ActionContext[InputT]], Awaitable[None]]


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline pydantic's `$defs` so the schema reads like Backstage's (flat, no `$ref`)."""
    defs: dict[str, Any] = schema.pop("$defs", {})

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name in seen:  # recursive model: keep the reference
                    return node
                merged = {**copy.deepcopy(defs[name]), **{k: v for k, v in node.items() if k != "$ref"}}
                return walk(merged, (*seen, name))
            return {k: walk(v, seen) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, seen) for v in node]
        return node

    inlined: dict[str, Any] = walk(schema, ())
    return inlined


@dataclass(frozen=True)
class Action(Generic[InputT]):
    """A scaffolder action. Create one per type with `create_<type>_action(...)`."""

    id: str
    description: str
    input_model: type[InputT]
    output_model: type[BaseModel] | None
    handler: Handler[InputT]
    examples: Sequence[Example] = field(default_factory=tuple)
    supports_dry_run: bool = False
    # Whether the run gets its workspace folder created; actions that only call out (HTTP, JIRA) skip
    # the folder and its removal.
    needs_workspace: bool = True

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"action id {self.id!r} must look like `provider:name` (e.g. `pao:rest-api`)")

    def input_schema(self) -> dict[str, Any]:
        """The input as JSON Schema (camelCase property names)."""
        return _inline_refs(self.input_model.model_json_schema(by_alias=True, mode="validation"))

    def output_schema(self) -> dict[str, Any]:
        """The outputs as JSON Schema; `{"type": "object", "properties": {}}` when undeclared."""
        if self.output_model is None:
            return {"type": "object", "properties": {}}
        return _inline_refs(self.output_model.model_json_schema(by_alias=True, mode="serialization"))

    def describe(self) -> dict[str, Any]:
        """This action in Backstage's `GET /v2/actions` shape."""
        return {
            "id": self.id,
            "description": self.description,
            "examples": [example.describe() for example in self.examples],
            "schema": {"input": self.input_schema(), "output": self.output_schema()},
        }
