"""presets: saved request values per offering (never secrets)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "presets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("offering_id", sa.String(length=200), nullable=False),
        sa.Column("offering_version", sa.String(length=50), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("source_request", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presets")),
    )
    with op.batch_alter_table("presets", schema=None) as batch_op:
        batch_op.create_index("ix_presets_owner_offering", ["owner", "offering_id"], unique=False)
        batch_op.create_index("ix_presets_team_offering", ["team", "offering_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("presets", schema=None) as batch_op:
        batch_op.drop_index("ix_presets_team_offering")
        batch_op.drop_index("ix_presets_owner_offering")
    op.drop_table("presets")
