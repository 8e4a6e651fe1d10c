"""Restore drills: one row per drill, written as it goes (bot.store.drills).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the drills table."""
    op.create_table(
        "drills",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("cluster_name", sa.String(255), nullable=False),
        sa.Column("folder_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("time_limit_seconds", sa.Integer(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("backup_id", sa.String(255), nullable=False),
        sa.Column("backup_indices", sa.BigInteger(), nullable=True),
        sa.Column("drill_cluster_id", sa.String(255), nullable=False),
        sa.Column("operation_id", sa.String(255), nullable=False),
        sa.Column("restored_at", _utc(), nullable=True),
        sa.Column("healthy_at", _utc(), nullable=True),
        sa.Column("deleted_at", _utc(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("failed_step", sa.String(32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("hosts", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drills")),
    )
    op.create_index(
        "ix_drills_cluster_id_started_at", "drills", ["cluster_id", "started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_drills_cluster_id_started_at", table_name="drills")
    op.drop_table("drills")
