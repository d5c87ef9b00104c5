"""Redactor: replaces every secret value, and the common encodings of it, with "***"."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from scaffolder_actions._errors import ActionError

MASK = "***"

T = TypeVar("T")


def _encodings(secret: str) -> set[str]:
    """The secret as it may appear in a log line, a URL, a JSON document or an Authorization header."""
    raw = secret.encode()
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    return {form for form in forms if form}


class Redactor:
    """Holds secret values; `redact()` masks them in strings, dicts, lists, tuples and exceptions.

    Values derived from secrets (an `Authorization: Basic ...` header, a URL carrying a token) are added
    with `add()` by whoever derives them, as Backstage does for rendered step inputs.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Mask this value (and its encodings) from now on; empty values are ignored."""
        if not isinstance(secret, str) or not secret:
            return
        new = _encodings(secret) - self._forms
        if new:
            self._forms |= new
            # Longest first, so a secret's encoding is masked whole, not around a shorter secret inside it.
            ordered = sorted(self._forms, key=lambda f: (-len(f), f))
            self._pattern = re.compile("|".join(re.escape(f) for f in ordered))

    def __bool__(self) -> bool:
        return self._pattern is not None

    def redact_text(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def redact(self, value: T) -> T:
        """A copy of `value` with secrets masked in every string inside it (keys included)."""
        return self._redact(value)  # type: ignore[no-any-return]

    def _redact(self, value: Any) -> Any:
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {self._redact(k): self._redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._redact(v) for v in value)
        if isinstance(value, BaseException):
            return self.redact_exception(value)
        return value

    def redact_exception(self, exc: BaseException) -> BaseException:
        """The exception with secrets masked in its message, args and (for ActionError) details."""
        if self._pattern is None:
            return exc
        if isinstance(exc, ActionError):
            clean = type(exc).__new__(type(exc))
            clean.__dict__.update(exc.__dict__)
            clean.args = tuple(self._redact(a) for a in exc.args)
            clean.message = self.redact_text(exc.message)
            clean.details = self._redact(exc.details)
            clean.__cause__ = None
            clean.__context__ = None
            clean.__traceback__ = exc.__traceback__
            return clean
        text = self.redact_text(str(exc))
        try:
            clean_exc = type(exc)(text)
        except Exception:
            clean_exc = RuntimeError(f"{type(exc).__name__}: {text}")
        return clean_exc
