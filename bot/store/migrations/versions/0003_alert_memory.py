"""Alert incidents remember what was last read of their cluster's freshness (its maximum age,
its state, its last backup attempt), so a grouped alert's rows read the same after a click as
after a sweep, without reading a storm's clusters again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the alerts' memory of their cluster (JSON; empty until a sweep reads it)."""
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("seen", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("seen")
