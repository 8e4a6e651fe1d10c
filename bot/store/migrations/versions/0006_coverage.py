"""The clusters the bot watches or watched, so that a cluster seen for the first time, or no
longer, is said once (whichever replica sweeps, across restarts).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    # bot.store.tables.UTCDateTime is Python-side only; in the database it is this type.
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "coverage",
        sa.Column("cluster_id", sa.String(255), nullable=False),
        sa.Column("folder_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("watching", sa.Boolean(), nullable=False),
        sa.Column("first_seen", _utc(), nullable=True),
        sa.Column("last_seen", _utc(), nullable=True),
        sa.Column("environment", sa.String(255), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", name="pk_coverage"),
    )


def downgrade() -> None:
    op.drop_table("coverage")
