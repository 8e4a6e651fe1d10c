"""Metrics: names, labels and values as Prometheus will scrape them."""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.ops.metrics import ClusterFigures, Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    body, _ = metrics.render()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_cloud_requests_are_counted_and_timed_by_method_and_status() -> None:
    m = Metrics()
    m.observe_cloud_request("Cluster.listBackups", "200", 0.12)
    m.observe_cloud_request("Cluster.listBackups", "200", 0.3)
    m.observe_cloud_request("Cluster.get", "503", 1.5)
    s = _samples(m)
    key = frozenset({("method", "Cluster.listBackups"), ("status", "200")})
    assert s[("backups_bot_cloud_requests_total", key)] == 2
    assert (
        s[
            (
                "backups_bot_cloud_requests_total",
                frozenset({("method", "Cluster.get"), ("status", "503")}),
            )
        ]
        == 1
    )
    by_method = frozenset({("method", "Cluster.listBackups")})
    assert s[("backups_bot_cloud_request_duration_seconds_count", by_method)] == 2
    assert abs(s[("backups_bot_cloud_request_duration_seconds_sum", by_method)] - 0.42) < 1e-9
    le_quarter = by_method | {("le", "0.25")}
    assert s[("backups_bot_cloud_request_duration_seconds_bucket", le_quarter)] == 1


def test_commands_slack_calls_sweeps_and_digests_render_with_their_labels() -> None:
    m = Metrics()
    m.count_command("list", "ok")
    m.count_slack_call("chat.postMessage", "ok")
    m.record_sweep("ok", finished_at=1_700_000_000.0)
    m.record_sweep("failed")
    m.record_digest_posted(1_700_000_100.0)
    m.alerts_firing.set(3)
    s = _samples(m)
    assert (
        s[("backups_bot_commands_total", frozenset({("command", "list"), ("outcome", "ok")}))] == 1
    )
    assert (
        s[
            (
                "backups_bot_slack_calls_total",
                frozenset({("method", "chat.postMessage"), ("outcome", "ok")}),
            )
        ]
        == 1
    )
    assert s[("backups_bot_sweeps_total", frozenset({("outcome", "ok")}))] == 1
    assert s[("backups_bot_sweeps_total", frozenset({("outcome", "failed")}))] == 1
    assert s[("backups_bot_last_successful_sweep_timestamp_seconds", frozenset())] == 1_700_000_000
    assert s[("backups_bot_last_successful_digest_timestamp_seconds", frozenset())] == 1_700_000_100
    assert s[("backups_bot_digests_posted_total", frozenset())] == 1
    assert s[("backups_bot_alerts_firing", frozenset())] == 3


def test_a_failed_sweep_leaves_the_last_success_timestamp_alone() -> None:
    m = Metrics()
    m.record_sweep("ok", finished_at=1_700_000_000.0)
    m.record_sweep("failed")
    assert _samples(m)[("backups_bot_last_successful_sweep_timestamp_seconds", frozenset())] == (
        1_700_000_000
    )


def test_two_instances_do_not_share_counters_or_touch_the_global_registry() -> None:
    a, b = Metrics(), Metrics()
    a.count_command("get", "ok")
    assert (
        "backups_bot_commands_total",
        frozenset({("command", "get"), ("outcome", "ok")}),
    ) not in (_samples(b))
    assert (
        REGISTRY.get_sample_value("backups_bot_commands_total", {"command": "get", "outcome": "ok"})
        is None
    )


def test_render_returns_the_prometheus_text_content_type() -> None:
    body, content_type = Metrics().render()
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"# TYPE backups_bot_alerts_firing gauge" in body


def test_per_cluster_figures_are_one_series_each_and_replace_the_last_sweeps() -> None:
    m = Metrics()
    stale = ClusterFigures("c9qa", "orders-prod", "b1gf", "stale", 30 * 3600.0, 26 * 3600.0)
    never = ClusterFigures("c9qb", "new-cluster", "b1gf", "never", None, 26 * 3600.0)
    m.set_clusters([stale, never])
    s = _samples(m)
    a = frozenset({("cluster_id", "c9qa"), ("cluster", "orders-prod"), ("folder", "b1gf")})
    b = frozenset({("cluster_id", "c9qb"), ("cluster", "new-cluster"), ("folder", "b1gf")})
    assert s[("backups_bot_newest_backup_age_seconds", a)] == 30 * 3600
    assert ("backups_bot_newest_backup_age_seconds", b) not in s  # no backup: no age
    assert s[("backups_bot_max_age_seconds", b)] == 26 * 3600
    assert s[("backups_bot_cluster_freshness", a | {("state", "stale")})] == 1
    # The next sweep: orders-prod is fresh, new-cluster is no longer watched.
    m.set_clusters([ClusterFigures("c9qa", "orders-prod", "b1gf", "fresh", 60.0, 26 * 3600.0)])
    s = _samples(m)
    freshness = [k for k in s if k[0] == "backups_bot_cluster_freshness"]
    assert freshness == [("backups_bot_cluster_freshness", a | {("state", "fresh")})]
    assert ("backups_bot_max_age_seconds", b) not in s
