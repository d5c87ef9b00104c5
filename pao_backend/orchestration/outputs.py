"""Action outputs (pure): the values an action declares in `outputs`, read from what it returned."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pao_backend.catalog.models import Action
from pao_backend.errors import PaoError

__all__ = ["OutputError", "extract_outputs"]


class OutputError(PaoError):
    """A declared output's source is missing from what the action returned."""

    def __init__(self, message: str) -> None:
        super().__init__(message, details={"status": 502})


def _walk(node: Any, path: list[str], source: str, what: str) -> Any:
    for depth, key in enumerate(path):
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            at = ".".join(path[:depth]) or "(top)"
            keys = ", ".join(sorted(map(str, node))) if isinstance(node, Mapping) else type(node).__name__
            raise OutputError(
                f"output source {source!r}: the {what} has no `{key}` at `{at}` (found: {keys}); "
                "fix the source in the action's `outputs` or the service's response"
            )
    return node


def extract_outputs(action: Action, result: Mapping[str, Any]) -> dict[str, Any]:
    """Read an action's declared outputs from its result; raise OutputError naming a missing source.

    Sources: rest-api `response.status`, `response.headers[.<name>]`, `response.body[.<path>]` from
    {status, headers, body}; jira-ticket `ticket.key|url|id`, `ticket.fields.<id>` from
    {key, url, id, fields}; cookiecutter / git-commit `output.<name>` from the action's output
    (e.g. `output.path`, `output.commit`).
    """
    outputs: dict[str, Any] = {}
    for key, source in action.outputs.items():
        kind, _, rest = source.partition(".")
        path = rest.split(".") if rest else []
        head = path[0] if path else ""
        if kind == "response" and path == ["status"]:
            outputs[key] = _walk(result, ["status"], source, "response")
        elif kind == "response" and head == "headers" and len(path) <= 2:
            headers = {str(k).lower(): v for k, v in (result.get("headers") or {}).items()}
            outputs[key] = _walk(headers, [p.lower() for p in path[1:]], source, "response headers")
        elif kind == "response" and head == "body":
            if "body" not in result:
                raise OutputError(f"output source {source!r}: the action returned no response body")
            outputs[key] = _walk(result["body"], path[1:], source, "response body")
        elif kind == "ticket" and path in (["key"], ["url"], ["id"]):
            outputs[key] = _walk(result, path, source, "ticket")
        elif kind == "ticket" and head == "fields" and len(path) >= 2:
            fields = result.get("fields")
            if not isinstance(fields, Mapping):
                raise OutputError(f"output source {source!r}: the ticket's fields were not read")
            outputs[key] = _walk(fields, path[1:], source, "ticket")
            if outputs[key] is None:
                raise OutputError(
                    f"output source {source!r}: the ticket's field `{path[1]}` is empty; "
                    "fill it in before closing the ticket"
                )
        elif kind == "output" and path:
            outputs[key] = _walk(result, path, source, "action output")
        else:
            raise OutputError(
                f"output {key!r} has the unknown source {source!r}; use response.status, "
                "response.headers.<name>, response.body.<path>, ticket.key, ticket.url, ticket.id, "
                "ticket.fields.<id> or output.<name>"
            )
    return outputs
