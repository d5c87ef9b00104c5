"""The `{{.namespace.path}}` variable language: parse, check, render context-aware with secret taint."""

from pao_backend.templating.checker import TemplateIssue, check
from pao_backend.templating.errors import TemplateError, TemplateRenderError, TemplateSyntaxError
from pao_backend.templating.parser import Variable, parse, variables
from pao_backend.templating.render import REDACTED, Context, Placeholder, Rendered, render, text_of
from pao_backend.templating.scope import (
    NAMESPACES,
    SYSTEM_KEYS,
    SYSTEM_PLATFORM_KEYS,
    SYSTEM_USER_KEYS,
    Secret,
    form_paths,
    item_metadata,
    metadata_scope,
)

__all__ = [
    "NAMESPACES",
    "REDACTED",
    "SYSTEM_KEYS",
    "SYSTEM_PLATFORM_KEYS",
    "SYSTEM_USER_KEYS",
    "Context",
    "Placeholder",
    "Rendered",
    "Secret",
    "TemplateError",
    "TemplateIssue",
    "TemplateRenderError",
    "TemplateSyntaxError",
    "Variable",
    "check",
    "form_paths",
    "item_metadata",
    "metadata_scope",
    "parse",
    "render",
    "text_of",
    "variables",
]
