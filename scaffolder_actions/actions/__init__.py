"""The PAO actions, one module per type; each module has `create_<type>_action` and `EXAMPLES`."""

from scaffolder_actions.actions.rest_api import (
    Credential,
    RestApiInput,
    RestApiOutput,
    create_rest_api_action,
)

__all__ = ["Credential", "RestApiInput", "RestApiOutput", "create_rest_api_action"]
