"""The alert's messages: the stale-backup alert (updated in place), its thread replies, the
bot's alert about itself, and what became of a backup someone started, as cards.

Everything that comes from the cloud (names, ids, labels, error text) is escaped and bounded in
length, so that a cluster named ``<!channel>`` notifies nobody and no row can outgrow a paragraph.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.alerts.model import AlertEntry, AlertStatus
from bot.alerts.policy import outage_duration
from bot.backup.model import OperationOutcome
from bot.chat.card import Button, Buttons, Card, Confirm, Fields, Limits, Note, Part, Text
from bot.chat.mrkdwn import code, escape, mention
from bot.chat.pack import cut_escaped, escape_clipped
from bot.cloud.models import Cluster
from bot.config import AlertRoute
from bot.durations import format_duration
from bot.freshness.messages import (
    attempt_line,
    blocking_clause,
    cluster_link,
    cluster_name,
    cut,
    detail_lines,
    environment_word,
    id_code,
    plain,
    reason_text,
    slack_date,
)
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource

#: Action ids of the alert's buttons; handlers/ listens for these.
ACTION_ACK = "alert_ack"
ACTION_SNOOZE_4H = "alert_snooze_4h"
ACTION_SNOOZE_24H = "alert_snooze_24h"
ACTION_LIST = "alert_list"
ACTION_BACKUP = "alert_backup"

# Bounds on text from the cloud, measured after escaping (which may grow it five times).
_NAME_ESCAPED = 200
_LABEL_ESCAPED = 150
_LABELS_MAX = 10


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if abs(count) == 1 else f"{count} {word}s"


def _max_age_source(max_age: MaxAge) -> str:
    if max_age.source == MaxAgeSource.OVERRIDE:
        return "a freshness override"
    if max_age.source == MaxAgeSource.SCHEDULE:
        return f"snapshot schedule {escape(max_age.detail)}, plus grace"
    if max_age.source == MaxAgeSource.POLICY:
        return f"{escape_clipped(max_age.detail, 300)}, plus grace"
    return "the default for clusters with no snapshot schedule, plus grace"


# --- the alert -----------------------------------------------------------------------------------


def render_alert(
    entry: AlertEntry,
    *,
    cluster: Cluster,
    report: FreshnessReport,
    route: AlertRoute,
    console_url: str,
    limits: Limits,
    now: datetime,
) -> Card:
    """The alert message, rendered anew on every change and updated in place.

    On-call is mentioned only while the incident is FIRING; the buttons are there while it is
    open (Acknowledge only until someone has).
    """
    status_line = _alert_status_line(entry, route)
    problem = _alert_problem(report, entry, now)
    clause = _clause(report)
    if clause:
        problem = f"{clause}; {problem}"
    headline = "\n".join(
        [
            f"{status_line}\n*{cluster_link(cluster, console_url)}*: {problem}",
            *detail_lines(report.explanation, report.state, now),
        ]
    )

    fields = []
    environment = environment_word(cluster)
    if environment is not None:
        fields.append(f"*Environment*\n{environment}")
    if cluster.folder_id:
        fields.append(f"*Folder*\n{id_code(cluster.folder_id)}")
    fields.append(f"*Cluster id*\n{id_code(cluster.id)}")
    if report.newest_backup_id is not None and report.newest_backup_at is not None:
        fields.append(
            f"*Newest backup*\n{id_code(report.newest_backup_id)}\n"
            f"{slack_date(report.newest_backup_at)}"
        )
    else:
        fields.append("*Newest backup*\nnone")
    age = format_duration(report.age) if report.age is not None else "n/a"
    fields.append(f"*Age*\n{age} (max {format_duration(report.max_age.value)})")
    if entry.stale_since is not None:
        fields.append(f"*Stale since*\n{slack_date(entry.stale_since)}")
    if cluster.labels:
        fields.append(_labels_field(cluster.labels, limits))

    notes = [f"Max age from {_max_age_source(report.max_age)}"]
    if entry.opened_at is not None:
        notes.append(f"opened {slack_date(entry.opened_at)}")
    notes.append(f"checked {slack_date(now)}")

    parts: list[Part] = [
        Text(headline, anchor="alert_headline"),
        Fields(fields, anchor="alert_fields"),
        Note([" · ".join(notes)]),
    ]
    if entry.status.is_open:
        parts.append(_alert_buttons(entry, cluster))
    return Card(_alert_fallback(entry, cluster, report, route), parts)


def _labels_field(labels: dict[str, str], limits: Limits) -> str:
    """``*Labels*`` and as many ``key=value`` codes as fit a field, then how many more."""
    items = sorted(labels.items())
    shown = [code(cut_escaped(f"{k}={v}", _LABEL_ESCAPED)) for k, v in items[:_LABELS_MAX]]
    room = limits.field - len("*Labels*\n") - len(" and 99 more")
    while shown and len(" ".join(shown)) > room:
        shown.pop()
    text = "*Labels*\n" + " ".join(shown)
    if len(shown) < len(items):
        text += f" and {len(items) - len(shown)} more"
    return text


def _alert_status_line(entry: AlertEntry, route: AlertRoute) -> str:
    status = entry.status
    if status == AlertStatus.FIRING:
        mentions = " ".join(mention(slack_id) for slack_id in route.mention)
        return f":rotating_light: *FIRING* {mentions}".rstrip()
    if status == AlertStatus.ACKNOWLEDGED:
        who = f" by {mention(entry.acknowledged_by)}" if entry.acknowledged_by else ""
        when = f" {slack_date(entry.acknowledged_at)}" if entry.acknowledged_at else ""
        return f":eyes: *ACKNOWLEDGED*{who}{when}"
    if status == AlertStatus.SNOOZED:
        until = f" until {slack_date(entry.snoozed_until)}" if entry.snoozed_until else ""
        who = f" by {mention(entry.snoozed_by)}" if entry.snoozed_by else ""
        return f":zzz: *SNOOZED*{until}{who}"
    if status == AlertStatus.RESOLVED:
        when = f" {slack_date(entry.resolved_at)}" if entry.resolved_at else ""
        return f":white_check_mark: *RESOLVED*{when}"
    return ":white_check_mark: *OK*"


def _clause(report: FreshnessReport) -> str:
    """``cluster is DEAD: backups cannot run`` when that is what stops the backups."""
    explanation = report.explanation
    return blocking_clause(explanation.condition if explanation else None, report.state)


def _alert_problem(report: FreshnessReport, entry: AlertEntry, now: datetime) -> str:
    limit = format_duration(report.max_age.value)
    state = report.state
    if state == FreshnessState.STALE and report.age is not None:
        return f"the newest backup is {format_duration(report.age)} old; the maximum is {limit}"
    if state == FreshnessState.NEVER:
        return f"the cluster has no backup at all; the maximum age is {limit}"
    if state == FreshnessState.FRESH:
        age = f" ({format_duration(report.age)} old)" if report.age is not None else ""
        outage = format_duration(outage_duration(entry, now))
        return f"a fresh backup landed{age}; it went without one for {outage}"
    if state == FreshnessState.STOPPED:
        return "the cluster is stopped; its backups are not checked while it is"
    if state == FreshnessState.UNSCHEDULED:
        return "the cluster's snapshot schedule was removed; its backups are no longer checked"
    if state == FreshnessState.UNKNOWN:
        return reason_text(report.reason or "the backups could not be read")
    return f"the newest backup is older than the maximum of {limit}"


def _alert_buttons(entry: AlertEntry, cluster: Cluster) -> Buttons:
    value = json.dumps({"c": entry.cluster_id, "r": entry.route_key}, separators=(",", ":"))
    buttons = []
    if entry.status != AlertStatus.ACKNOWLEDGED:
        buttons.append(Button(ACTION_ACK, "Acknowledge", value, style="primary", emoji=True))
    buttons += [
        Button(ACTION_SNOOZE_4H, "Snooze 4 h", value, emoji=True),
        Button(ACTION_SNOOZE_24H, "Snooze 24 h", value, emoji=True),
        Button(ACTION_LIST, "List backups", value, emoji=True),
        Button(
            ACTION_BACKUP,
            "Start backup now",
            value,
            emoji=True,
            confirm=Confirm(
                title="Start a backup now?",
                text=(
                    f"Start a backup of {plain(cut(cluster.display_name, 60))} now? It "
                    "runs in the background; the alert resolves when it completes."
                ),
                confirm="Start backup",
                deny="Cancel",
            ),
        ),
    ]
    return Buttons(buttons, anchor="alert_actions")


def _alert_fallback(
    entry: AlertEntry, cluster: Cluster, report: FreshnessReport, route: AlertRoute
) -> str:
    name = escape(cluster_name(cluster))
    status = entry.status.value.upper()
    if report.state == FreshnessState.NEVER:
        what = f"{name} has no backup at all"
    elif report.state == FreshnessState.STALE and report.age is not None:
        what = (
            f"the newest backup of {name} is {format_duration(report.age)} old "
            f"(max {format_duration(report.max_age.value)})"
        )
    else:
        what = f"backups of {name}: {report.state.value}"
    clause = _clause(report)
    if clause:
        what = f"{name}: {clause}; {what}"
    attempts = report.explanation.attempts if report.explanation else None
    if attempts is not None and attempts.failed_in_a_row:
        what += "; the last backup attempt failed"
    text = f"{status}: {what}"
    if entry.status == AlertStatus.FIRING and route.mention:
        text += " " + " ".join(mention(slack_id) for slack_id in route.mention)
    return text


# --- thread replies ------------------------------------------------------------------------------


def render_reminder(
    entry: AlertEntry,
    *,
    cluster: Cluster,
    report: FreshnessReport,
    now: datetime,
    mention_ids: Sequence[str] = (),
) -> Card:
    """A reminder in the alert's thread: the cluster is still without a fresh backup."""
    name = f"*{escape(cluster_name(cluster))}*"
    outage = format_duration(outage_duration(entry, now))
    limit = format_duration(report.max_age.value)
    if report.state == FreshnessState.NEVER or report.age is None:
        what = f"{name} still has no backup at all (max age {limit})"
    else:
        what = (
            f"{name} still has no fresh backup: the newest is {format_duration(report.age)} old "
            f"(max {limit})"
        )
    clause = _clause(report)
    if clause:
        what = f"{name}: {clause}; it still has no fresh backup"
        if report.age is not None:
            what += f" (the newest is {format_duration(report.age)} old, max {limit})"
    text = f":alarm_clock: {what}; stale for {outage}."
    if mention_ids:
        text += " " + " ".join(mention(slack_id) for slack_id in mention_ids)
    lines = [text]
    attempt = attempt_line(report.explanation, now, state=report.state)
    if attempt:
        lines.append(attempt)
    return Card(text, [Text("\n".join(lines))])


def render_resolved(
    entry: AlertEntry, *, cluster: Cluster, report: FreshnessReport, now: datetime
) -> Card:
    """The resolved notice in the alert's thread, saying why it resolved."""
    name = f"*{escape(cluster_name(cluster))}*"
    outage = format_duration(outage_duration(entry, now))
    state = report.state
    if state == FreshnessState.STOPPED:
        text = (
            f":white_check_mark: Resolved: cluster stopped. {name} is not checked while it is "
            f"stopped; it had gone without a fresh backup for {outage}."
        )
    elif state == FreshnessState.UNSCHEDULED:
        text = (
            f":white_check_mark: Resolved: the snapshot schedule of {name} was removed, so it is "
            f"no longer checked; it had gone without a fresh backup for {outage}."
        )
    else:
        landed = ""
        if report.newest_backup_at is not None:
            landed = f" at {slack_date(report.newest_backup_at)}"
        backup = f" ({id_code(report.newest_backup_id)})" if report.newest_backup_id else ""
        text = (
            f":white_check_mark: Resolved: a fresh backup landed{landed}{backup}; "
            f"{name} went without a fresh backup for {outage}."
        )
    return Card(text, [Text(text)])


def render_retired(entry: AlertEntry, *, now: datetime) -> Card:
    """An incident closed because its cluster is no longer watched on the route (deleted, moved,
    or no longer matching): the text that replaces the alert and goes in its thread. The cluster
    may be gone, so only what the incident itself remembers is shown."""
    outage = format_duration(outage_duration(entry, now))
    text = (
        f":white_check_mark: Resolved: cluster {id_code(entry.cluster_id)} is no longer "
        f"watched here (deleted, moved out of the watched folders, or no longer matching this "
        f"alert route). It had gone without a fresh backup for {outage}."
    )
    return Card(text, [Text(text)])


# --- the bot about itself ------------------------------------------------------------------------


def render_self_alert(
    consecutive_failures: int, last_ok: datetime | None, reason: str, now: datetime
) -> Card:
    """The bot cannot read the cloud: until it can, no stale backup will be noticed."""
    if last_ok is None:
        since = "No sweep has succeeded since the bot started."
    else:
        ago = format_duration(max(now - last_ok, timedelta(0)))
        since = f"The last successful sweep was {slack_date(last_ok)} ({ago} ago)."
    text = (
        f":rotating_light: *The backups bot is blind*: it could not read the cloud for "
        f"{_plural(consecutive_failures, 'sweep')} in a row. {since}\n"
        f"Last error: {reason_text(reason)}\n"
        "Until it can, stale backups go unnoticed."
    )
    fallback = (
        f"The backups bot could not read the cloud for "
        f"{_plural(consecutive_failures, 'sweep')} in a row."
    )
    return Card(fallback, [Text(text)])


def render_self_recovered(failures_since: datetime | None, now: datetime) -> Card:
    """The bot can read the cloud again (posted in the self-alert's thread)."""
    blind_for = ""
    if failures_since is not None:
        blind_for = f" after {format_duration(max(now - failures_since, timedelta(0)))}"
    text = (
        f":white_check_mark: *The backups bot can read the cloud again*{blind_for}. "
        "Stale backups are noticed again from this sweep on."
    )
    return Card(text.replace("*", ""), [Text(text)])


def render_operation_outcome(
    outcome: OperationOutcome,
    *,
    cluster_label: str,
    requested_by: str,
    operation_id: str,
    requested_at: datetime,
    error: str | None,
    now: datetime,
) -> Card:
    """What became of a backup someone started, for the thread it was asked from."""
    name = f"*{escape(cut_escaped(cluster_label, _NAME_ESCAPED))}*"
    who = mention(requested_by) if requested_by else "someone"
    op = id_code(operation_id)
    took = format_duration(max(now - requested_at, timedelta(0)))
    if outcome == OperationOutcome.DONE:
        text = (
            f":white_check_mark: The backup of {name} that {who} started is done "
            f"(operation {op}, {took}). An open alert resolves at the next check."
        )
    elif outcome == OperationOutcome.FAILED:
        reason = escape((error or "no reason given")[:300])
        text = f":x: The backup of {name} that {who} started failed: {reason} (operation {op})."
    elif outcome == OperationOutcome.GAVE_UP:
        text = (
            f":hourglass: The backup of {name} that {who} started is still running after "
            f"{took} (operation {op}); I stopped following it. Check the console."
        )
    else:
        text = (
            f":grey_question: The cloud no longer knows operation {op}, the backup of {name} "
            f"that {who} started; check the cluster's backups."
        )
    return Card(text, [Text(text)])
