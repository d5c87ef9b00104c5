"""Workflows: they only orchestrate; steps do the I/O (style.md habit 8).

* `request_workflow` (id = request id) starts each component when every component it depends on has
  completed — independent ones at once — as a child workflow on the component queue, so any worker
  may run it. Children report their final state by message, so the order in which they finished is
  recorded and replays the same after a crash.
* `component_workflow` (id = `<request>:<component>:<round>`) runs the component's actions in order;
  each action attempt is a step. The first action that does not complete stops the component.
* When nothing can run any more the request settles: completed, cancelled, or failed — then it waits
  durably for a person: retry (the failed components run again from the failed action; completed
  actions are reused), abort, or cancel.

Actions that wait (a JIRA ticket, an approval) register an executor for their type with
`register_action_executor`: it runs inside the component workflow and may use DBOS.recv/sleep between
steps. The default executor runs the action as one step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dbos import DBOS, SetWorkflowID

from pao_backend.governance import gate as calendar_gate
from pao_backend.orchestration import steps
from pao_backend.orchestration.engine import current_engine

COMPONENT_TOPIC = "pao.component"
CONTROL_TOPIC = "pao.control"
# A request waiting for a person re-arms its wait this often (each wait is one recorded step).
PERSON_WAIT_SECONDS = 24 * 3600.0
COMPONENT_WAIT_SECONDS = 3600.0


@dataclass(frozen=True)
class ActionCall:
    """One action attempt, as an executor sees it."""

    request_id: str
    component_id: str
    index: int
    round: int
    type: str


# Runs inside the component workflow; returns the action's final state (completed/failed/cancelled).
ActionExecutor = Callable[[ActionCall], Awaitable[str]]


async def run_as_step(call: ActionCall) -> str:
    """The default executor: the whole action is one step."""
    outcome = await steps.run_action_step(call.request_id, call.component_id, call.index, call.round)
    return outcome["state"]


_EXECUTORS: dict[str, ActionExecutor] = {}


def register_action_executor(action_type: str, executor: ActionExecutor) -> None:
    """Run actions of `action_type` with `executor` (e.g. a jira-ticket that waits for its ticket)."""
    _EXECUTORS[action_type] = executor


def executor_for(action_type: str) -> ActionExecutor:
    return _EXECUTORS.get(action_type, run_as_step)


def component_workflow_id(request_id: str, component_id: str, round: int) -> str:
    return f"{request_id}:{component_id}:{round}"


@DBOS.workflow(name="pao.component")
async def component_workflow(
    request_id: str, component_id: str, round: int, actions: list[str] | None = None
) -> str:
    types = actions
    begun = ended = False
    state = "running"
    request_state = None  # set when this component's last step also completed the request
    if types is None or not types or executor_for(types[0]) is not run_as_step:
        start = await steps.begin_component(request_id, component_id, round)
        state, types, begun = start["state"], start["actions"], True
    if state == "running":
        for index, action_type in enumerate(types):
            executor = executor_for(action_type)
            last = index == len(types) - 1
            if executor is run_as_step:
                # The step starts and ends the component itself (one step instead of three).
                outcome = await steps.run_action_step(
                    request_id, component_id, index, round, fused=True, last=last
                )
                state, request_state = outcome["state"], outcome.get("request")
                ended = last or state != "completed"
            else:
                if not begun:
                    start = await steps.begin_component(request_id, component_id, round)
                    begun = True
                state = await executor(ActionCall(request_id, component_id, index, round, action_type))
                ended = False
            if state != "completed":
                break
        else:
            state = "completed"
        if not ended:
            state = await steps.end_component(request_id, component_id, state)
    message = {"id": component_id, "state": state}
    if request_state:
        message["request"] = request_state
    await DBOS.send_async(request_id, message, topic=COMPONENT_TOPIC)
    return state


async def _start(request_id: str, component: dict[str, Any]) -> None:
    queue = current_engine().component_queue
    assert queue is not None
    with SetWorkflowID(component_workflow_id(request_id, component["id"], component["round"])):
        await queue.enqueue_async(
            component_workflow, request_id, component["id"], component["round"], component.get("actions")
        )


@DBOS.workflow(name="pao.request")
async def request_workflow(request_id: str) -> str:
    # calendar (G): a freeze window or a missing approval holds the request (durably) before it starts;
    # when nothing holds it, the same step marks it running.
    begun = await calendar_gate.admit(request_id)
    if begun is None:
        return await steps.settle_request(request_id)
    components: dict[str, dict[str, Any]] = {c["id"]: c for c in begun["components"]}
    settled = None  # the last component's step completed the request: no settle step needed
    while True:
        for component in components.values():
            if component["state"] == "pending" and all(
                components[d]["state"] == "completed" for d in component["dependsOn"]
            ):
                await _start(request_id, component)
                component["state"] = "running"
        if any(c["state"] == "running" for c in components.values()):
            message = await DBOS.recv_async(COMPONENT_TOPIC, timeout_seconds=COMPONENT_WAIT_SECONDS)
            if message is not None:
                components[message["id"]]["state"] = message["state"]
                settled = message.get("request")
            continue
        if settled == "completed":
            return "completed"
        state = await steps.settle_request(request_id)
        if state != "failed":
            return state
        control = None
        while control is None:
            control = await DBOS.recv_async(CONTROL_TOPIC, timeout_seconds=PERSON_WAIT_SECONDS)
        result = await steps.apply_control(request_id, control["op"])
        if result["state"] in ("aborted", "cancelled"):
            return str(result["state"])
        # calendar (G): a retry during a freeze waits for the window (or approval) like a new request.
        if control["op"] == "retry" and await calendar_gate.hold(request_id, resuming=True) == "cancelled":
            return await steps.settle_request(request_id)
        components = {c["id"]: c for c in result["components"]}
        settled = None
