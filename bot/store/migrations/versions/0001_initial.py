"""Initial schema: run claims, alert incidents, digest figures, markers, counters, facts,
operations.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # bot.store.tables.UTCDateTime is Python-side only; in the database it is this type.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table of the first schema."""
    op.create_table(
        "run_claims",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("claimed_at", _utc(), nullable=False),
        sa.Column("lease_until", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_run_claims"),
    )
    op.create_table(
        "alerts",
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("route_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("message_ts", sa.String(64), nullable=True),
        sa.Column("opened_at", _utc(), nullable=True),
        sa.Column("stale_since", _utc(), nullable=True),
        sa.Column("last_notified_at", _utc(), nullable=True),
        sa.Column("acknowledged_by", sa.String(255), nullable=True),
        sa.Column("acknowledged_at", _utc(), nullable=True),
        sa.Column("snoozed_until", _utc(), nullable=True),
        sa.Column("snoozed_by", sa.String(255), nullable=True),
        sa.Column("resolved_at", _utc(), nullable=True),
        sa.Column("last_state", sa.String(32), nullable=True),
        sa.Column("newest_backup_at", _utc(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "route_key", name="pk_alerts"),
    )
    op.create_index("ix_alerts_route_key_status", "alerts", ["route_key", "status"])
    op.create_table(
        "digest_figures",
        sa.Column("route_key", sa.String(255), nullable=False),
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("newest_backup_id", sa.String(255), nullable=True),
        sa.Column("newest_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("newest_indices_total", sa.BigInteger(), nullable=True),
        sa.Column("backup_count", sa.Integer(), nullable=False),
        sa.Column("taken_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("route_key", "cluster_id", name="pk_digest_figures"),
    )
    op.create_table(
        "markers",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_markers"),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )
    op.create_table(
        "facts",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_facts"),
    )
    op.create_table(
        "operations",
        sa.Column("operation_id", sa.String(255), nullable=False),
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("requested_by", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("thread_ts", sa.String(64), nullable=True),
        sa.Column("requested_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("operation_id", name="pk_operations"),
    )


def downgrade() -> None:
    """Drop every table of the first schema."""
    op.drop_table("operations")
    op.drop_table("facts")
    op.drop_table("counters")
    op.drop_table("markers")
    op.drop_table("digest_figures")
    op.drop_index("ix_alerts_route_key_status", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("run_claims")
