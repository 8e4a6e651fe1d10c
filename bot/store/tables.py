"""The store's tables, as SQLAlchemy Core metadata.

The migrations in ``bot/store/migrations/versions`` create exactly these; a test compares the two
so that a change here without a migration fails. Datetimes are ``UTCDateTime``: timezone-aware on
the way in, UTC on the way out, on every dialect.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

# Explicit constraint names, so that later migrations can refer to them on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

KEY_LENGTH = 255


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC.

    SQLite has no time zone type: SQLAlchemy writes the wall-clock fields and drops ``tzinfo``, so
    values are converted to UTC before they are written (an aware ``+03:00`` value would otherwise
    come back three hours off) and naive values read back are marked UTC. Naive values are refused
    on the way in: they are always a bug in the caller.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the store; use UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: One row per scheduled run ("digest:C0TEAM:2024-05-01"): who holds it, until when, and whether
#: it is done. A done run is never claimed again; an unfinished one whose lease has passed is.
run_claims = Table(
    "run_claims",
    metadata,
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("owner", String(KEY_LENGTH), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
)

#: One row per (cluster, alert route) incident: bot.alerts.model.AlertEntry.
alerts = Table(
    "alerts",
    metadata,
    Column("cluster_id", String(KEY_LENGTH), primary_key=True),
    Column("route_key", String(KEY_LENGTH), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("channel", String(KEY_LENGTH), nullable=False),
    Column("message_ts", String(64), nullable=True),
    Column("opened_at", UTCDateTime(), nullable=True),
    Column("stale_since", UTCDateTime(), nullable=True),
    Column("last_notified_at", UTCDateTime(), nullable=True),
    Column("acknowledged_by", String(KEY_LENGTH), nullable=True),
    Column("acknowledged_at", UTCDateTime(), nullable=True),
    Column("snoozed_until", UTCDateTime(), nullable=True),
    Column("snoozed_by", String(KEY_LENGTH), nullable=True),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("last_state", String(32), nullable=True),
    Column("newest_backup_at", UTCDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    #: The outbox id of the alert message; its ts is the outbox row's once it is posted.
    Column("message_id", String(64), nullable=True),
    #: The grouped alert the incident belongs to, if it was opened in a storm.
    Column("group_id", String(64), nullable=True),
    #: The cluster's name and folder as last read, so its row can be shown without a cloud read.
    Column("cluster_name", String(KEY_LENGTH), nullable=True),
    Column("folder_id", String(KEY_LENGTH), nullable=True),
    #: What was last read of the cluster's freshness (JSON, see bot.alerts.model.Seen).
    Column("seen", Text, nullable=True),
    #: The silence that held the incident at the last sweep, and until when (bot.silences).
    Column("silence_id", Integer, nullable=True),
    Column("silenced_until", UTCDateTime(), nullable=True),
    #: When the incident was escalated to its route's ``escalate_to`` (once).
    Column("escalated_at", UTCDateTime(), nullable=True),
    Index(None, "route_key", "status"),
)

#: Every message the watcher sends, queued in the transaction of the state that calls for it,
#: then delivered (in ``seq`` order per channel) by the delivery executor. See bot.outbox.posts.
outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("channel", String(KEY_LENGTH), nullable=False),
    Column("method", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    Column("parent_id", String(64), nullable=True),
    Column("parent_ts", String(64), nullable=True),
    Column("subject", String(KEY_LENGTH), nullable=False),
    #: pending, sending (an attempt started: it may be in Slack), sent, failed, superseded.
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("not_before", UTCDateTime(), nullable=False),
    Column("first_sent_at", UTCDateTime(), nullable=True),  # the first attempt
    #: An attempt's outcome is unknown (5xx, timeout): look for the post before posting again.
    Column("in_doubt", Boolean, nullable=False),
    #: Slack refused the blocks: the post goes as its text only.
    Column("text_only", Boolean, nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("ts", String(64), nullable=True),
    Column("error", String(KEY_LENGTH), nullable=True),
    Index(None, "channel", "state", "seq"),
    Index(None, "state", "not_before"),
)

#: Channels (or "*", the whole token) that refused the bot: their posts wait, tried again hourly.
channel_problems = Table(
    "channel_problems",
    metadata,
    Column("channel", String(KEY_LENGTH), primary_key=True),
    Column("code", String(KEY_LENGTH), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
    Column("next_try", UTCDateTime(), nullable=False),
)

#: Grouped alerts: one post for a storm of incidents of one route and group (bot.alerts.model).
alert_groups = Table(
    "alert_groups",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("route_key", String(KEY_LENGTH), nullable=False),
    Column("group_key", String(KEY_LENGTH), nullable=False),
    Column("label", String(KEY_LENGTH), nullable=False),
    Column("channel", String(KEY_LENGTH), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("last_reminded_at", UTCDateTime(), nullable=True),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("version", Integer, nullable=False),
    Index(None, "route_key", "group_key"),
)

#: The bot's own incidents (blind, a channel it cannot post to): bot.alerts.model.BotIncident.
bot_incidents = Table(
    "bot_incidents",
    metadata,
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("since", UTCDateTime(), nullable=True),
    Column("detail", Text, nullable=False),
    Column("messages", Text, nullable=False),  # JSON [[channel, outbox id], ...]
    Column("version", Integer, nullable=False),
)

#: What the last digest of a route showed of each cluster: bot.digest.model.ClusterFigures.
digest_figures = Table(
    "digest_figures",
    metadata,
    Column("route_key", String(KEY_LENGTH), primary_key=True),
    Column("cluster_id", String(KEY_LENGTH), primary_key=True),
    Column("newest_backup_id", String(KEY_LENGTH), nullable=True),
    Column("newest_size_bytes", BigInteger, nullable=True),
    Column("newest_indices_total", BigInteger, nullable=True),
    Column("backup_count", Integer, nullable=False),
    Column("taken_at", UTCDateTime(), nullable=False),
)

#: Named points in time: "last_sweep", "last_sweep_ok", "last_digest".
markers = Table(
    "markers",
    metadata,
    Column("name", String(KEY_LENGTH), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
)

#: Named integers: consecutive sweep failures.
counters = Table(
    "counters",
    metadata,
    Column("name", String(KEY_LENGTH), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

#: Small facts the watcher remembers between runs ("cluster X had a snapshot schedule").
facts = Table(
    "facts",
    metadata,
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("value", Text, nullable=False),
)

#: Backups started from Slack, followed until their cloud operation is done.
operations = Table(
    "operations",
    metadata,
    Column("operation_id", String(KEY_LENGTH), primary_key=True),
    Column("cluster_id", String(KEY_LENGTH), nullable=False),
    Column("requested_by", String(KEY_LENGTH), nullable=False),
    Column("channel", String(KEY_LENGTH), nullable=False),
    Column("thread_ts", String(64), nullable=True),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("outcome", Text, nullable=True),
)

# --- the freshness ledger (bot.ledger.model); kept for ``ledger.retention``, then pruned --------

#: Every watched cluster the ledger has seen: its name and folder as last read.
ledger_clusters = Table(
    "ledger_clusters",
    metadata,
    Column("cluster_id", String(KEY_LENGTH), primary_key=True),
    Column("name", String(KEY_LENGTH), nullable=False),
    Column("folder_id", String(KEY_LENGTH), nullable=False),
    #: Its labels (JSON) and environment as last read: what a match in a command is checked on.
    Column("labels", Text, nullable=False),
    Column("environment", String(32), nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
)

#: Every completed backup the bot has seen listed (bot.ledger.model.SeenBackup).
ledger_backups = Table(
    "ledger_backups",
    metadata,
    Column("cluster_id", String(KEY_LENGTH), primary_key=True),
    Column("backup_id", String(KEY_LENGTH), primary_key=True),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Index(None, "cluster_id", "completed_at"),
)

#: Time whose backups the bot can vouch for (bot.ledger.model.Span), per cluster.
ledger_spans = Table(
    "ledger_spans",
    metadata,
    Column("cluster_id", String(KEY_LENGTH), primary_key=True),
    Column("span_start", UTCDateTime(), primary_key=True),
    Column("span_end", UTCDateTime(), nullable=False),
)

#: The maximum age in force from ``since`` on, and where it came from (a row per change).
ledger_max_ages = Table(
    "ledger_max_ages",
    metadata,
    Column("cluster_id", String(KEY_LENGTH), primary_key=True),
    Column("since", UTCDateTime(), primary_key=True),
    Column("max_age_seconds", BigInteger, nullable=False),
    Column("source", String(32), nullable=False),
)

#: The cluster's state (running, stopped, dead) from ``since`` on (a row per change).
ledger_states = Table(
    "ledger_states",
    metadata,
    Column("cluster_id", String(KEY_LENGTH), primary_key=True),
    Column("since", UTCDateTime(), primary_key=True),
    Column("state", String(16), nullable=False),
)

#: Restore drills: one row per drill (bot.drills.model.DrillRecord), written as it goes, so a
#: drill claimed by a replica that died is taken over where it was, and its cluster found.
drills = Table(
    "drills",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("cluster_id", String(KEY_LENGTH), nullable=False),
    Column("cluster_name", String(KEY_LENGTH), nullable=False),
    Column("folder_id", String(KEY_LENGTH), nullable=False),
    Column("channel", String(KEY_LENGTH), nullable=False),
    Column("time_limit_seconds", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("step", String(32), nullable=False),
    Column("requested_by", String(KEY_LENGTH), nullable=False),
    Column("backup_id", String(KEY_LENGTH), nullable=False),
    Column("backup_indices", BigInteger, nullable=True),
    Column("drill_cluster_id", String(KEY_LENGTH), nullable=False),
    Column("operation_id", String(KEY_LENGTH), nullable=False),
    Column("restored_at", UTCDateTime(), nullable=True),
    Column("healthy_at", UTCDateTime(), nullable=True),
    Column("deleted_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("failed_step", String(32), nullable=False),
    Column("error", Text, nullable=False),
    Column("hosts", Integer, nullable=True),
    Index("ix_drills_cluster_id_started_at", "cluster_id", "started_at"),
)


#: Silences (bot.silences.model.Silence): clusters, written as a match, that are not paged until
#: ``ends_at`` (or until lifted). The id is what people type to lift one.
silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("match", String(KEY_LENGTH), nullable=False),
    Column("created_by", String(KEY_LENGTH), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
    Column("lifted_by", String(KEY_LENGTH), nullable=True),
    Column("lifted_at", UTCDateTime(), nullable=True),
    Index("ix_silences_ends_at", "ends_at"),
)


#: The clusters the bot watches or watched (bot.alerts.model.CoverageEntry): a cluster seen for
#: the first time, or no longer, is said once from here.
coverage = Table(
    "coverage",
    metadata,
    Column("cluster_id", String(KEY_LENGTH), primary_key=True),
    Column("folder_id", String(KEY_LENGTH), nullable=False),
    Column("name", String(KEY_LENGTH), nullable=False),
    Column("watching", Boolean, nullable=False),
    Column("first_seen", UTCDateTime(), nullable=True),
    Column("last_seen", UTCDateTime(), nullable=True),
    Column("environment", String(KEY_LENGTH), nullable=False),
    Column("labels", Text, nullable=False),  # JSON object
)
