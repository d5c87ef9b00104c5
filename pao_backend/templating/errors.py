"""Errors of the template language.

InputError (pao_backend.errors)
└── TemplateError
    ├── TemplateSyntaxError   the template text is malformed (offset + hint)
    └── TemplateRenderError   a value is missing or cannot land in the target context
"""

from __future__ import annotations

from pao_backend.errors import InputError


class TemplateError(InputError):
    """Base of template errors; `offset` is the 0-based position in the template, when known."""

    def __init__(self, message: str, *, template: str, offset: int | None = None, hint: str = "") -> None:
        self.reason = message
        self.template = template
        self.offset = offset
        self.hint = hint
        text = message
        if offset is not None:
            text = f"{self.line}:{self.column}: {message}"
        if hint:
            text = f"{text} — {hint}"
        super().__init__(text, details={"offset": offset, "hint": hint} if offset is not None else None)

    @property
    def line(self) -> int:
        """1-based line of `offset` within the template (1 when unknown)."""
        if self.offset is None:
            return 1
        return self.template.count("\n", 0, self.offset) + 1

    @property
    def column(self) -> int:
        """1-based column of `offset` within its line (1 when unknown)."""
        if self.offset is None:
            return 1
        return self.offset - (self.template.rfind("\n", 0, self.offset) + 1) + 1


class TemplateSyntaxError(TemplateError):
    """The template is not valid `{{.namespace.path}}` text."""


class TemplateRenderError(TemplateError):
    """Rendering failed: a value is missing, or the result is invalid in its context."""
