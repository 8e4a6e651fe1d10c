"""Silences: clusters, written as a match, that are not paged for a while; and which silence
held each incident at the last sweep, so that its end is said once; and when an incident was
escalated, so that it is escalated once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # bot.store.tables.UTCDateTime is Python-side only; in the database it is this type.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("match", sa.String(255), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("ends_at", _utc(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lifted_by", sa.String(255), nullable=True),
        sa.Column("lifted_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("silence_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("silenced_until", _utc(), nullable=True))
        batch.add_column(sa.Column("escalated_at", _utc(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("silenced_until")
        batch.drop_column("silence_id")
    op.drop_index("ix_silences_ends_at", table_name="silences")
    op.drop_table("silences")
