"""The outbox and what rides on it: queued posts, parked channels, grouped alerts, the bot's own
incidents; alert incidents name their message by outbox id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the outbox tables and the alerts' message and group references."""
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("message_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("group_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("cluster_name", sa.String(255), nullable=True))
        batch.add_column(sa.Column("folder_id", sa.String(255), nullable=True))
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("parent_ts", sa.String(64), nullable=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("not_before", _utc(), nullable=False),
        sa.Column("first_sent_at", _utc(), nullable=True),
        sa.Column("in_doubt", sa.Boolean(), nullable=False),
        sa.Column("text_only", sa.Boolean(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("ts", sa.String(64), nullable=True),
        sa.Column("error", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("id", name="uq_outbox_id"),
    )
    op.create_index("ix_outbox_channel_state_seq", "outbox", ["channel", "state", "seq"])
    op.create_index("ix_outbox_state_not_before", "outbox", ["state", "not_before"])
    op.create_table(
        "channel_problems",
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("since", _utc(), nullable=False),
        sa.Column("next_try", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_channel_problems"),
    )
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("route_key", sa.String(255), nullable=False),
        sa.Column("group_key", sa.String(255), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("opened_at", _utc(), nullable=False),
        sa.Column("last_reminded_at", _utc(), nullable=True),
        sa.Column("resolved_at", _utc(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_groups"),
    )
    op.create_index(
        "ix_alert_groups_route_key_group_key", "alert_groups", ["route_key", "group_key"]
    )
    op.create_table(
        "bot_incidents",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("since", _utc(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("messages", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_bot_incidents"),
    )
    # The digest's resumable plans and the self-alert's JSON fact are replaced by the outbox and
    # bot_incidents; a digest half-posted by the old code is not resumed by the new one.
    op.execute(
        "DELETE FROM facts WHERE key LIKE 'digest-plan:%' OR key LIKE 'digest-posted:%' "
        "OR key = 'watch:self_alert'"
    )


def downgrade() -> None:
    """Drop what the upgrade added."""
    op.drop_table("bot_incidents")
    op.drop_index("ix_alert_groups_route_key_group_key", table_name="alert_groups")
    op.drop_table("alert_groups")
    op.drop_table("channel_problems")
    op.drop_index("ix_outbox_state_not_before", table_name="outbox")
    op.drop_index("ix_outbox_channel_state_seq", table_name="outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("folder_id")
        batch.drop_column("cluster_name")
        batch.drop_column("group_id")
        batch.drop_column("message_id")
