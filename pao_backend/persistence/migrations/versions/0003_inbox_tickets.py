"""inbox_tickets, ticket_waits: the built-in inbox, and which workflow waits for which ticket

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 17:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_tickets",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("action_label", sa.String(length=100), nullable=True),
        sa.Column("project", sa.String(length=50), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("component_id", sa.String(length=100), nullable=True),
        sa.Column("issue_type", sa.String(length=50), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("epic_key", sa.String(length=100), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("blocked_by", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_category", sa.String(length=20), nullable=False),
        sa.Column("resolution", sa.String(length=50), nullable=True),
        sa.Column("resolved_by", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_tickets")),
        sa.UniqueConstraint("key", name=op.f("uq_inbox_tickets_key")),
        sa.UniqueConstraint("action_label", name=op.f("uq_inbox_tickets_action_label")),
    )
    with op.batch_alter_table("inbox_tickets", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_tickets_team_status", ["team", "status_category"], unique=False)
        batch_op.create_index("ix_inbox_tickets_request", ["request_id"], unique=False)
    op.create_table(
        "ticket_waits",
        sa.Column("ticket_key", sa.String(length=100), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("component_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_key", name=op.f("pk_ticket_waits")),
    )


def downgrade() -> None:
    op.drop_table("ticket_waits")
    with op.batch_alter_table("inbox_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_tickets_request")
        batch_op.drop_index("ix_inbox_tickets_team_status")
    op.drop_table("inbox_tickets")
