"""scaffolder_actions: self-describing scaffolder actions (Backstage-style), usable on their own.

    from scaffolder_actions import ActionRegistry, create_rest_api_action, run_action

    registry = ActionRegistry([create_rest_api_action(credentials={...})])
    result = await run_action(registry.require("pao:rest-api"), {...}, workspace=ws, attempt_key="r1/c/0")

Nothing here imports pao_backend; `scaffolder_actions.http` is the only module that needs FastAPI.
"""

from scaffolder_actions._action import Action, ActionModel, Example
from scaffolder_actions._context import ActionContext, ActionLogger, LogLine
from scaffolder_actions._errors import (
    FAILURE_CLASSES,
    ActionCancelledError,
    ActionConfigurationError,
    ActionError,
    ActionInputError,
    ActionTimeoutError,
    BackendRejectedError,
    BackendUnavailableError,
    CredentialsRefusedError,
    FailureClass,
    TicketRejectedError,
    UnknownActionError,
)
from scaffolder_actions._redact import MASK, Redactor
from scaffolder_actions._registry import ActionRegistry
from scaffolder_actions._run import ActionResult, run_action, validate_input
from scaffolder_actions.actions import (
    Credential,
    SharedClients,
    create_cookiecutter_action,
    create_git_commit_action,
    create_jira_ticket_action,
    create_rest_api_action,
)

__all__ = [
    "FAILURE_CLASSES",
    "MASK",
    "Action",
    "ActionCancelledError",
    "ActionConfigurationError",
    "ActionContext",
    "ActionError",
    "ActionInputError",
    "ActionLogger",
    "ActionModel",
    "ActionRegistry",
    "ActionResult",
    "ActionTimeoutError",
    "BackendRejectedError",
    "BackendUnavailableError",
    "Credential",
    "CredentialsRefusedError",
    "Example",
    "FailureClass",
    "LogLine",
    "Redactor",
    "SharedClients",
    "TicketRejectedError",
    "UnknownActionError",
    "create_cookiecutter_action",
    "create_git_commit_action",
    "create_jira_ticket_action",
    "create_rest_api_action",
    "run_action",
    "validate_input",
]
