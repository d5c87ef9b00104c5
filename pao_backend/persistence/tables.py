"""PAO's tables (one schema, one migration chain). ORM classes are named `XRow`.

These tables are the source of truth for what users see; the engine (DBOS) keeps its own tables.
Secrets never appear here in clear: request secrets live encrypted in `request_secrets` until the
request finishes, and action inputs are stored as their redacted display.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both dialects (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# BIGINT on PostgreSQL, INTEGER (the rowid alias, so autoincrement works) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class RequestRow(Base):
    __tablename__ = "requests"
    __table_args__ = (
        UniqueConstraint("requester", "idempotency_key", name="uq_requests_requester_idempotency_key"),
        Index("ix_requests_state_created", "state", "created_at"),
        Index("ix_requests_requester_created", "requester", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    catalog_id: Mapped[str] = mapped_column(String(200), index=True)
    item_version: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))  # item | bundle
    title: Mapped[str] = mapped_column(String(300), default="")
    # The form values WITHOUT secrets (password fields are moved to request_secrets).
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requester: Mapped[str] = mapped_column(String(300))
    requester_name: Mapped[str] = mapped_column(String(300), default="")
    requester_email: Mapped[str] = mapped_column(String(300), default="")
    requester_teams: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    # The flat, request-wide `.output` namespace, in completion order.
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    guidance: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    correlation_id: Mapped[str] = mapped_column(String(100))
    # `.system` values fixed at submit time (timestamp, uuid, platform, user) so re-renders agree.
    system: Mapped[dict[str, Any]] = mapped_column(default=dict, deferred=True)
    # Completion counter: components and actions that finish take the next number.
    completion_seq: Mapped[int] = mapped_column(Integer, default=0)


class ComponentRow(Base):
    __tablename__ = "request_components"
    __table_args__ = (UniqueConstraint("request_id", "component_id", name="uq_request_components_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    component_id: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(200))
    item_version: Mapped[str] = mapped_column(String(50))
    team: Mapped[str] = mapped_column(String(100), default="")
    mode: Mapped[str] = mapped_column(String(20))  # automatic | manual
    depends_on: Mapped[list[Any]] = mapped_column(default=list)
    # The component's `.current` without secrets, and the actions to run (type, config, outputs) as
    # planned at submit time: a catalog change later does not change a request already under way.
    current: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actions: Mapped[list[Any]] = mapped_column(default=list)
    manual_actions: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    completed_seq: Mapped[int | None] = mapped_column(Integer, default=None)


class ActionRunRow(Base):
    __tablename__ = "action_runs"
    __table_args__ = (
        UniqueConstraint("request_id", "component_id", "index", "attempt", name="uq_action_runs_attempt"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    component_id: Mapped[str] = mapped_column(String(100))
    index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(50))
    attempt: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    attempt_key: Mapped[str] = mapped_column(String(200))
    # The rendered input with every secret shown as ***.
    input_display: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ticket_key: Mapped[str | None] = mapped_column(String(100), default=None)
    ticket_url: Mapped[str | None] = mapped_column(String(500), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    failure_class: Mapped[str | None] = mapped_column(String(50), default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class EventRow(Base):
    """A request event. `id` is global and increases monotonically: SSE `Last-Event-ID` is this id."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    component_id: Mapped[str | None] = mapped_column(String(100), default=None)
    action_index: Mapped[int | None] = mapped_column(Integer, default=None)
    type: Mapped[str] = mapped_column(String(50))
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str] = mapped_column(String(200), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RequestSecretRow(Base):
    """A request's secrets, Fernet-encrypted; deleted when the request finishes."""

    __tablename__ = "request_secrets"

    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExecutorRow(Base):
    """Heartbeats of engine processes, and who took over a dead one's workflows."""

    __tablename__ = "engine_executors"

    executor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    app_version: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    taken_over_by: Mapped[str | None] = mapped_column(String(200), default=None)
    taken_over_at: Mapped[datetime | None] = mapped_column(default=None)
