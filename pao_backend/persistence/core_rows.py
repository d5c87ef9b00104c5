"""Rows read with Core statements, handed on as ORM objects outside any session.

The action step's transactions run for every action, and the ORM's per-statement work (loading rows
into the identity map, the unit of work at commit) cost as much CPU again as their statements' own
(an action step's closing transaction on SQLite: 0.87 ms through the ORM, 0.39 ms through Core).
Their queries select plain columns; `Shape` turns each result row into the ORM objects the state
machine works on. Such an object is detached: a column that was not read raises
when touched (instead of reading as None), and `db.update_at_commit` writes back what was set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from pao_backend.persistence.db import update_at_commit
from pao_backend.persistence.tables import Base


@dataclass(frozen=True)
class Part:
    """Some columns of one table, as a query selects them (the primary key first)."""

    row: type[Base]
    keys: tuple[str, ...]

    @classmethod
    def of(cls, row: type[Base], *keys: str) -> Part:
        (key,) = inspect(row).primary_key
        first = str(key.key)
        return cls(row, (first, *(k for k in keys if k != first)))

    @classmethod
    def whole(cls, row: type[Base], *, but: Sequence[str] = ()) -> Part:
        return cls.of(row, *(c.key for c in row.__table__.columns if c.key not in but))


class Shape:
    """The columns of several parts, one after the other, at the start of a SELECT's columns."""

    def __init__(self, *parts: Part) -> None:
        self.parts = parts
        self._starts = [sum(len(p.keys) for p in parts[:i]) for i in range(len(parts))]
        self.width = sum(len(p.keys) for p in parts)

    def columns(self) -> list[Any]:
        return [part.row.__table__.c[key] for part in self.parts for key in part.keys]

    def get(self, found: Sequence[Any], index: int, *, session: Session | None = None) -> Any:
        """Part `index` of a result row as a detached ORM object (None where an outer join found no
        row); with `session`, what is set on it is written back when that session commits."""
        part, start = self.parts[index], self._starts[index]
        values = found[start : start + len(part.keys)]
        if values[0] is None:
            return None
        row = part.row(**dict(zip(part.keys, values, strict=True)))
        make_transient_to_detached(row)
        if session is not None:
            update_at_commit(session, row, part.keys[1:])
        return row
