"""The PAO actions, one module per type; each module has `create_<type>_action` and `EXAMPLES`."""

from scaffolder_actions.actions.cookiecutter import (
    CookiecutterInput,
    CookiecutterOutput,
    create_cookiecutter_action,
)
from scaffolder_actions.actions.git_commit import GitCommitInput, GitCommitOutput, create_git_commit_action
from scaffolder_actions.actions.http_clients import SharedClients
from scaffolder_actions.actions.jira_ticket import (
    JiraTicketInput,
    JiraTicketOutput,
    create_jira_ticket_action,
)
from scaffolder_actions.actions.rest_api import (
    Credential,
    RestApiInput,
    RestApiOutput,
    create_rest_api_action,
)

__all__ = [
    "CookiecutterInput",
    "CookiecutterOutput",
    "Credential",
    "GitCommitInput",
    "GitCommitOutput",
    "JiraTicketInput",
    "JiraTicketOutput",
    "RestApiInput",
    "RestApiOutput",
    "SharedClients",
    "create_cookiecutter_action",
    "create_git_commit_action",
    "create_jira_ticket_action",
    "create_rest_api_action",
]
