"""The freshness ledger: every backup the bot has seen, the maximum age and the state of each
cluster over time, and the spans of time whose backups the bot can vouch for.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the ledger's tables (empty: the ledger starts with what the next sweep lists)."""
    op.create_table(
        "ledger_clusters",
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("folder_id", sa.String(255), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("environment", sa.String(32), nullable=False),
        sa.Column("first_seen_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", name="pk_ledger_clusters"),
    )
    op.create_table(
        "ledger_backups",
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("backup_id", sa.String(255), nullable=False),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("completed_at", _utc(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "backup_id", name="pk_ledger_backups"),
    )
    op.create_index(
        "ix_ledger_backups_cluster_id_completed_at",
        "ledger_backups",
        ["cluster_id", "completed_at"],
    )
    op.create_table(
        "ledger_spans",
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("span_start", _utc(), nullable=False),
        sa.Column("span_end", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "span_start", name="pk_ledger_spans"),
    )
    op.create_table(
        "ledger_max_ages",
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("since", _utc(), nullable=False),
        sa.Column("max_age_seconds", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "since", name="pk_ledger_max_ages"),
    )
    op.create_table(
        "ledger_states",
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("since", _utc(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "since", name="pk_ledger_states"),
    )


def downgrade() -> None:
    for table in (
        "ledger_states",
        "ledger_max_ages",
        "ledger_spans",
        "ledger_backups",
        "ledger_clusters",
    ):
        op.drop_table(table)
