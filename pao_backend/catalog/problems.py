"""Findings of the validator: `path:line:col: severity CODE: message` plus a hint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    column: int
    severity: Severity = field(compare=False)
    code: str
    message: str = field(compare=False)
    hint: str = field(default="", compare=False)

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: {self.severity} {self.code}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a finding (CLI `--format json`, the catalog and calendar APIs)."""
        return asdict(self)
