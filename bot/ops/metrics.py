"""Prometheus metrics of one bot process, on a registry of its own.

A dedicated :class:`~prometheus_client.CollectorRegistry` (not the global default) lets tests and
several app instances in one process each have their own counters without name collisions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from bot.cloud.models import SkippedItem

PREFIX = "backups_bot_"

#: Cloud calls are mostly small JSON reads; the tail up to the request timeout (10 s) matters.
CLOUD_DURATION_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True, slots=True)
class ClusterFigures:
    """What the per-cluster metrics say of one watched cluster."""

    cluster_id: str
    name: str
    folder: str
    state: str
    newest_age_seconds: float | None
    max_age_seconds: float


class Metrics:
    """Every metric the bot exports. Build one per app and pass it down."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.commands_total = Counter(
            PREFIX + "commands_total",
            "Slash commands handled, by command and outcome (ok, usage_error, denied, error).",
            ["command", "outcome"],
            registry=r,
        )
        self.cloud_requests_total = Counter(
            PREFIX + "cloud_requests_total",
            "Requests to the Yandex Cloud API, by method and HTTP status (or error kind).",
            ["method", "status"],
            registry=r,
        )
        self.cloud_request_duration_seconds = Histogram(
            PREFIX + "cloud_request_duration_seconds",
            "Duration of requests to the Yandex Cloud API, by method.",
            ["method"],
            buckets=CLOUD_DURATION_BUCKETS,
            registry=r,
        )
        self.cloud_items_skipped_total = Counter(
            PREFIX + "cloud_items_skipped_total",
            "Items of a cloud listing that could not be read and were left out, by method and "
            "kind (backup, cluster).",
            ["method", "kind"],
            registry=r,
        )
        self.slack_calls_total = Counter(
            PREFIX + "slack_calls_total",
            "Slack Web API calls, by method (chat.postMessage, ...) and outcome.",
            ["method", "outcome"],
            registry=r,
        )
        self.objective_ratio = Gauge(
            PREFIX + "objective_ratio",
            "Share of the month to date each watched cluster was within its maximum age (of "
            "the time observed, stopped time excluded); from the freshness ledger.",
            ["cluster_id", "cluster", "folder"],
            registry=r,
        )
        self.error_budget_remaining_seconds = Gauge(
            PREFIX + "error_budget_remaining_seconds",
            "Error budget left this month against slo.target, in seconds (negative: overspent).",
            ["cluster_id", "cluster", "folder"],
            registry=r,
        )
        self.alerts_firing = Gauge(
            PREFIX + "alerts_firing",
            "Staleness alerts currently open (firing, acknowledged or snoozed).",
            registry=r,
        )
        # Per watched cluster, so that a team can alert on its own clusters in its Alertmanager:
        # one series of each per cluster (the state is a label of the one series it has now).
        cluster_labels = ["cluster_id", "cluster", "folder"]
        self.newest_backup_age_seconds = Gauge(
            PREFIX + "newest_backup_age_seconds",
            "Age of each watched cluster's newest backup at the last sweep (absent when it has "
            "none or it could not be read).",
            cluster_labels,
            registry=r,
        )
        self.max_age_seconds = Gauge(
            PREFIX + "max_age_seconds",
            "The maximum age each watched cluster's newest backup may have.",
            cluster_labels,
            registry=r,
        )
        self.cluster_freshness = Gauge(
            PREFIX + "cluster_freshness",
            "Each watched cluster's freshness state at the last sweep, as the label state "
            "(fresh, stale, never, unknown, stopped, unscheduled); the value is 1.",
            [*cluster_labels, "state"],
            registry=r,
        )
        self.last_successful_sweep_timestamp_seconds = Gauge(
            PREFIX + "last_successful_sweep_timestamp_seconds",
            "Unix time of the end of the last staleness sweep that read every watched cluster.",
            registry=r,
        )
        self.last_successful_digest_timestamp_seconds = Gauge(
            PREFIX + "last_successful_digest_timestamp_seconds",
            "Unix time of the last digest posted.",
            registry=r,
        )
        self.sweeps_total = Counter(
            PREFIX + "sweeps_total",
            "Staleness sweeps run, by outcome (ok, failed, skipped when another replica ran it).",
            ["outcome"],
            registry=r,
        )
        self.digests_posted_total = Counter(
            PREFIX + "digests_posted_total",
            "Digests posted to channels.",
            registry=r,
        )
        self.deliveries_total = Counter(
            PREFIX + "deliveries_total",
            "Outbox posts handled by the delivery executor, by kind (alert, digest, ...) and "
            "outcome (sent, found: an attempt in doubt was found in the channel, retried, "
            "in_doubt, text_only, parked, failed, superseded).",
            ["kind", "outcome"],
            registry=r,
        )
        self.outbox_waiting = Gauge(
            PREFIX + "outbox_waiting",
            "Posts in the outbox not yet delivered (all replicas), as of this process's last look.",
            registry=r,
        )
        self.channels_parked = Gauge(
            PREFIX + "channels_parked",
            "Channels that refuse the bot (not in channel, archived, ...; '*' counts the token): "
            "their posts wait and are retried hourly.",
            registry=r,
        )

        self.dependency_failures_total = Counter(
            PREFIX + "dependency_failures_total",
            "Scheduled runs (sweeps, digests, clean-ups) that failed on a dependency, by "
            "dependency (database, cloud); an outage is logged once, these count its runs.",
            ["dependency"],
            registry=r,
        )
        self.dependency_down = Gauge(
            PREFIX + "dependency_down",
            "1 while the scheduled runs find a dependency (database, cloud) failing, else 0.",
            ["dependency"],
            registry=r,
        )
        self.http_refusals_total = Counter(
            PREFIX + "http_refusals_total",
            "Inbound HTTP requests and connections refused or cut off, by reason (too_large, "
            "wrong_signature, slow_headers, slow_body, too_many_connections, disconnected, ...); "
            "the log says each reason at most once a minute.",
            ["reason"],
            registry=r,
        )
        self.http_connections_open = Gauge(
            PREFIX + "http_connections_open",
            "Inbound HTTP connections open now (Slack, probes, scrapes).",
            registry=r,
        )

    def observe_cloud_request(self, method: str, status: str, seconds: float) -> None:
        """Count one cloud request and its duration (the cloud client's ``on_request`` hook)."""
        self.cloud_requests_total.labels(method=method, status=status).inc()
        self.cloud_request_duration_seconds.labels(method=method).observe(max(seconds, 0.0))

    def count_skipped_item(self, method: str, item: SkippedItem) -> None:
        """Count one list item left out (the cloud client's ``on_skipped`` hook)."""
        self.cloud_items_skipped_total.labels(method=method, kind=item.kind).inc()

    def set_ledger(self, figures: Iterable[tuple[str, str, str, float | None, float]]) -> None:
        """Replace the freshness ledger's figures: (cluster id, name, folder, share of the month
        to date within the objective or None when nothing was observed, error budget left in
        seconds) per watched cluster. A cluster no longer given loses its series."""
        self.objective_ratio.clear()
        self.error_budget_remaining_seconds.clear()
        for cluster_id, name, folder, share, remaining in figures:
            labels = {"cluster_id": cluster_id, "cluster": name, "folder": folder}
            if share is not None:
                self.objective_ratio.labels(**labels).set(share)
            self.error_budget_remaining_seconds.labels(**labels).set(remaining)

    def count_command(self, command: str, outcome: str) -> None:
        """Count one slash command (or ``exec``) by its verb and how it ended."""
        self.commands_total.labels(command=command, outcome=outcome).inc()

    def count_slack_call(self, method: str, outcome: str) -> None:
        """Count one Slack Web API call (``chat.postMessage``, ...) by how it ended."""
        self.slack_calls_total.labels(method=method, outcome=outcome).inc()

    def record_sweep(self, outcome: str, finished_at: float | None = None) -> None:
        """Count a sweep; a successful one (``finished_at`` given) also sets its timestamp."""
        self.sweeps_total.labels(outcome=outcome).inc()
        if finished_at is not None:
            self.last_successful_sweep_timestamp_seconds.set(finished_at)

    def set_clusters(self, clusters: Iterable[ClusterFigures]) -> None:
        """The per-cluster figures of the last sweep, replacing the previous ones (a cluster no
        longer watched, or a state it left, loses its series)."""
        for gauge in (self.newest_backup_age_seconds, self.max_age_seconds, self.cluster_freshness):
            gauge.clear()
        for c in clusters:
            labels = (c.cluster_id, c.name, c.folder)
            if c.newest_age_seconds is not None:
                self.newest_backup_age_seconds.labels(*labels).set(c.newest_age_seconds)
            self.max_age_seconds.labels(*labels).set(c.max_age_seconds)
            self.cluster_freshness.labels(*labels, c.state).set(1)

    def record_digest_posted(self, posted_at: float) -> None:
        """Count a posted digest and remember when it went out (Unix seconds)."""
        self.digests_posted_total.inc()
        self.last_successful_digest_timestamp_seconds.set(posted_at)

    def count_delivery(self, kind: str, outcome: str) -> None:
        """Count one outbox post's attempt by its kind and what came of it."""
        self.deliveries_total.labels(kind=kind, outcome=outcome).inc()

    def count_dependency_failure(self, dependency: str) -> None:
        """Count one scheduled run that failed on ``dependency``."""
        self.dependency_failures_total.labels(dependency=dependency).inc()

    def set_dependency_down(self, dependency: str, *, down: bool) -> None:
        """Mark ``dependency`` as failing (or answering again)."""
        self.dependency_down.labels(dependency=dependency).set(1 if down else 0)

    def count_http_refusal(self, reason: str) -> None:
        """Count one inbound request or connection refused or cut off, by its reason."""
        self.http_refusals_total.labels(reason=reason).inc()

    def render(self) -> tuple[bytes, str]:
        """The registry in the Prometheus text format, and its content type.

        The 0.0.4 text format is the one every Prometheus version and agent understands.
        """
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4
