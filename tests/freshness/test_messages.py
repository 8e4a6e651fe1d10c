"""The lines that say why: attempts, state, maintenance, policies, restore readiness, trend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.alerts.group_messages import GroupMember, _row
from bot.alerts.messages import render_alert, render_reminder
from bot.alerts.policy import evaluate
from bot.cloud.models import Backup, Cluster, CronTab, RetentionPolicy
from bot.config import AlertRoute
from bot.digest.messages import render_digest
from bot.digest.model import DigestInput, build_digest
from bot.freshness.attempts import AttemptHistory, AttemptOutcome, BackupAttempt
from bot.freshness.explain import Condition, Explanation, Maintenance, TrendPoint
from bot.freshness.messages import (
    attempt_line,
    blocking_clause,
    condition_line,
    console_backups_url,
    detail_lines,
    maintenance_line,
    policies_line,
    restore_line,
    trend_line,
)
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.freshness.restore import RestoreReadiness
from bot.queries.messages import ClusterRow, render_clusters
from bot.slack.blocks import SLACK
from tests.slack.payload import slack

NOW = datetime(2026, 11, 23, 21, 20, tzinfo=UTC)
GIB = 1024**3
TS = int((NOW - timedelta(hours=3)).timestamp())


def attempt(outcome: AttemptOutcome, error: str = "") -> BackupAttempt:
    return BackupAttempt("op1", NOW - timedelta(hours=3), NOW, outcome, error, 13 if error else 0)


def test_a_failed_attempt_says_when_and_the_clouds_message_escaped() -> None:
    history = AttemptHistory(attempt(AttemptOutcome.FAILED, "<!here> disk & more"), 3, 5)
    line = attempt_line(Explanation(attempts=history), NOW)
    assert line == (
        f":x: The last backup attempt, <!date^{TS}^{{date_short_pretty}} {{time}}|"
        "2026-11-23 18:20 UTC>, failed: &lt;!here&gt; disk &amp; more "
        "(3 attempts in a row have failed)"
    )


def test_a_running_attempt_says_for_how_long_and_what_failed_before_it() -> None:
    history = AttemptHistory(attempt(AttemptOutcome.RUNNING), 2, 3)
    line = attempt_line(Explanation(attempts=history), NOW)
    assert line.startswith(":hourglass: A backup has been running for 3h (since <!date^")
    assert line.endswith("; the 2 attempts before it failed.")


def test_a_fresh_row_says_nothing_of_attempts_unless_one_failed_or_runs_past_a_slot() -> None:
    fresh = FreshnessState.FRESH
    done = Explanation(attempts=AttemptHistory(attempt(AttemptOutcome.DONE)))
    assert attempt_line(done, NOW, state=fresh) == ""
    assert attempt_line(Explanation(attempts=AttemptHistory(None)), NOW, state=fresh) == ""
    running = Explanation(attempts=AttemptHistory(attempt(AttemptOutcome.RUNNING)))
    assert attempt_line(running, NOW, state=fresh) == ""
    late = Explanation(attempts=running.attempts, missed_slot=NOW - timedelta(hours=1))
    assert attempt_line(late, NOW, state=fresh).startswith(":hourglass:")
    failed = Explanation(attempts=AttemptHistory(attempt(AttemptOutcome.FAILED, "disk full")))
    assert attempt_line(failed, NOW, state=fresh).startswith(":x: The last backup attempt")
    # A stale cluster's success with nothing since is still worth saying.
    stale = attempt_line(done, NOW, state=FreshnessState.STALE)
    assert stale.endswith("succeeded; none was made since.")


def test_no_attempt_a_success_and_unreadable_operations_each_say_so() -> None:
    assert "No backup attempt" in attempt_line(Explanation(attempts=AttemptHistory(None)), NOW)
    done = attempt_line(Explanation(attempts=AttemptHistory(attempt(AttemptOutcome.DONE))), NOW)
    assert done.endswith("succeeded.")
    unread = attempt_line(Explanation(operations_error="Permission <denied>"), NOW)
    assert unread.endswith("could not be read: Permission &lt;denied&gt;")
    assert attempt_line(Explanation(), NOW) == ""
    assert attempt_line(None, NOW) == ""


def test_a_blocking_state_is_said_first_only_while_backups_are_missing() -> None:
    dead = Condition("DEAD", ("status ERROR",))
    assert blocking_clause(dead, FreshnessState.STALE) == "cluster is DEAD: backups cannot run"
    assert blocking_clause(Condition("ERROR"), FreshnessState.NEVER) == (
        "cluster is in ERROR: backups cannot run"
    )
    assert blocking_clause(dead, FreshnessState.FRESH) == ""
    assert condition_line(dead) == ":warning: Cluster is DEAD: backups cannot run (status ERROR)"
    assert condition_line(dead, with_blocking=False) == ":warning: Cluster status ERROR"


def test_maintenance_policies_restore_and_trend_lines() -> None:
    maintenance = Maintenance(NOW, "Upgrade <x>", NOW.replace(minute=0), delayed=True)
    line = maintenance_line(maintenance, "daily at 21:00 UTC")
    assert "delayed until <!date^" in line
    assert line.endswith(
        "overlaps the 21:00 UTC backup slot (daily at 21:00 UTC): Upgrade &lt;x&gt;"
    )
    policy = RetentionPolicy(
        policy_name="a<b", cron=CronTab(minute="0", hour="3"), retain_for_days=1
    )
    assert policies_line(Explanation(policies=(policy,))) == (
        "Backup retention policies: *a&lt;b* `0 3 * * *` UTC, kept 1 day"
    )
    assert policies_line(Explanation(policies_offered=False)).endswith(
        "not offered for this cluster"
    )
    # The API has dropped the minute and hour: the service picks the time of a day's backup.
    mondays = RetentionPolicy(policy_name="mondays", cron=CronTab(day_of_week="1"))
    assert policies_line(Explanation(policies=(mondays,))) == (
        "Backup retention policies: *mondays* `? ? * * 1` UTC"
    )
    too_big = RestoreReadiness("b", 3 * GIB, 2 * GIB, "2.8", "2.12")
    assert restore_line(too_big) == (
        ":warning: A restore of the newest backup would not fit a cluster of this shape: it "
        "needs 3 GiB free, the data nodes have 2 GiB. :warning: Its OpenSearch 2.8 is older "
        "than any version the cloud restores to (the oldest is 2.12)."
    )
    points = [TrendPoint(NOW, s * GIB, d) for s, d in ((10, 60), (12, None), (2, 600))]
    assert trend_line(points) == (
        "Last 3 backups, oldest first: size `▇█▁` 2 GiB–12 GiB · took `▁ █` 1m–10m"
    )


def test_a_digest_row_carries_only_the_warning_of_a_restore_that_would_not_fit() -> None:
    cluster = Cluster(id="c9q1", name="orders", folder_id="b1g1")
    newest = Backup(id="b", created_at=NOW - timedelta(hours=1), size_bytes=GIB)
    report = FreshnessReport(
        cluster_id="c9q1",
        state=FreshnessState.FRESH,
        max_age=MaxAge(timedelta(hours=26), MaxAgeSource.DEFAULT, "default"),
        newest_backup_id="b",
        newest_backup_at=newest.created_at,
        age=timedelta(hours=1),
        explanation=Explanation(
            restore=RestoreReadiness("b", 3 * GIB, 2 * GIB),
            policies=(),
            trend=(TrendPoint(NOW, 1, 1.0), TrendPoint(NOW, 2, 1.0)),
        ),
    )
    digest = build_digest([DigestInput(cluster, report, [newest], 1)], {}, now=NOW)
    assert digest.rows[0].notable  # fresh, but in the top post for its warning
    rendered = render_digest(digest, title="t", console_url="https://c", limits=SLACK.limits)
    top = str(slack(rendered.top).blocks)
    assert "would not fit" in top
    assert "retention policies" not in top  # the full lines are for one cluster's status
    assert "Last 2 backups" not in top
    lines = detail_lines(report.explanation, report.state, NOW, full=True)
    assert any(line.startswith("Backup retention policies: none") for line in lines)


def test_the_alert_reminder_clusters_and_group_rows_say_a_dead_cluster() -> None:
    cluster = Cluster(id="c9q1", name="orders", folder_id="b1g1")
    report = FreshnessReport(
        cluster_id="c9q1",
        state=FreshnessState.STALE,
        max_age=MaxAge(timedelta(hours=26), MaxAgeSource.DEFAULT, "default"),
        newest_backup_id="b",
        newest_backup_at=NOW - timedelta(hours=30),
        age=timedelta(hours=30),
        explanation=Explanation(
            condition=Condition("DEAD"),
            attempts=AttemptHistory(attempt(AttemptOutcome.FAILED, "boom"), 2, 2),
        ),
    )
    route = AlertRoute(channel="C1", mention=["S1"])
    entry = evaluate(None, report, route=route, route_key="k", now=NOW).entry
    alert = slack(
        render_alert(
            entry,
            cluster=cluster,
            report=report,
            route=route,
            console_url="u",
            limits=SLACK.limits,
            now=NOW,
        )
    )
    head = alert.blocks[0]["text"]["text"]
    assert "*: cluster is DEAD: backups cannot run; the newest backup is 1d 6h old" in head
    assert "failed: boom (2 attempts in a row have failed)" in head
    reminder = slack(render_reminder(entry, cluster=cluster, report=report, now=NOW))
    assert (
        "*orders*: cluster is DEAD: backups cannot run; it still has no fresh backup"
        in (reminder.blocks[0]["text"]["text"])
    )
    assert "failed: boom" in reminder.blocks[0]["text"]["text"]
    clusters = slack(
        render_clusters("f", [ClusterRow(cluster, report)], now=NOW, limits=SLACK.limits)
    )
    assert ":warning: cluster is DEAD" in str(clusters.blocks)
    row = _row(GroupMember(cluster, report, entry), "https://c", NOW)
    assert ":warning: cluster is DEAD" in row
    assert ":x: last attempt failed <!date^" in row
    assert "(2 in a row)" in row


def test_the_console_link_points_at_the_clusters_backups() -> None:
    assert console_backups_url("https://console.yandex.cloud/", "b1gf", "c9qc") == (
        "https://console.yandex.cloud/folders/b1gf/managed-opensearch/cluster/c9qc/backups"
    )
    assert "%3C" in console_backups_url("https://console.yandex.cloud", "b1g<x>", "c9q")
