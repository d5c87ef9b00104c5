"""Governance tables: why a request is held by the change calendar, and who approved it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pao_backend.persistence.tables import Base, utcnow

__all__ = ["CalendarHoldRow"]


class CalendarHoldRow(Base):
    """The calendar's last verdict on a request that was held (scheduled or waiting for approval)."""

    __tablename__ = "calendar_holds"

    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    # scheduled | needs_approval | released
    verdict: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(1000), default="")
    windows: Mapped[list[Any]] = mapped_column(default=list)
    until: Mapped[datetime | None] = mapped_column(default=None)
    roles: Mapped[list[Any]] = mapped_column(default=list)
    # Soft windows approved for this request, and by whom: [{window, by, at}].
    approvals: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def approved_windows(self) -> set[str]:
        return {str(a.get("window")) for a in self.approvals or []}
