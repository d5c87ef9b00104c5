"""The one exception tree of PAO.

    PaoError
    ├── InputError           the caller sent something wrong (400/422)
    ├── AuthenticationError  the caller sent no valid credentials (401)
    ├── NotFoundError        the thing named does not exist (404)
    ├── ConflictError        the thing exists but is in the wrong state (409)
    ├── NotAllowedError      the caller may not do this (403)
    └── UnavailableError     a backend PAO depends on is down (503)

Every message names the thing and says how to fix it. `api/errors.py` is the one place that maps
these to HTTP and the Backstage error body.
"""

from __future__ import annotations

from typing import Any


class PaoError(Exception):
    """Base of every error PAO raises on purpose."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InputError(PaoError):
    """The caller's input is invalid; `details["errors"]` may list per-field problems."""


class AuthenticationError(PaoError):
    """The caller sent no credentials, or credentials PAO cannot verify."""


class NotFoundError(PaoError):
    """The named thing does not exist."""


class ConflictError(PaoError):
    """The named thing exists but its state forbids the operation."""


class NotAllowedError(PaoError):
    """The caller's identity or role does not allow the operation."""


class UnavailableError(PaoError):
    """A system PAO depends on did not answer."""
