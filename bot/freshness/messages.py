"""Why a backup is late, and whether a restore would work, in mrkdwn lines for every message
that shows a cluster's freshness (alerts, reminders, digest rows, ``status``, ``list``, ``get``).

Each function takes the plain values of :mod:`bot.freshness.explain` and returns one line (or
"" when there is nothing to say). Text from the cloud (error messages, maintenance info, policy
names) is escaped and bounded, so that a hostile message notifies nobody and no line outgrows its
section.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.cloud.models import RetentionPolicy
from bot.durations import format_duration
from bot.freshness.attempts import AttemptOutcome
from bot.freshness.explain import Condition, Explanation, Maintenance, TrendPoint
from bot.freshness.model import FreshnessState
from bot.freshness.restore import RestoreReadiness
from bot.freshness.schedules import cron_text
from bot.freshness.sparkline import sparkline
from bot.i18n.units import format_bytes
from bot.slack.budget import escape_clipped

#: Bounds on the cloud's text, measured after escaping.
ERROR_ESCAPED = 500
SHORT_ERROR_ESCAPED = 250  # in a digest or status row, of which many share a message
_INFO_ESCAPED = 250
_POLICY_NAME_ESCAPED = 80
_CRON_ESCAPED = 60
_POLICIES_SHOWN = 5


def when(moment: datetime) -> str:
    """A time in the reader's own time zone, with a UTC fallback (as ``slack_date``)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    fallback = aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ts = int(aware.timestamp())
    if ts <= 0:
        return fallback
    return f"<!date^{ts}^{{date_short_pretty}} {{time}}|{fallback}>"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the cluster's own state -------------------------------------------------------------------


def blocking_clause(condition: Condition | None, state: FreshnessState) -> str:
    """``cluster is DEAD: backups cannot run`` for a DEAD or ERROR cluster whose backups are
    stale (or absent), said before anything else; "" otherwise."""
    if condition is None or not condition.blocking or not state.fires:
        return ""
    verb = "is DEAD" if condition.blocking == "DEAD" else "is in ERROR"
    return f"cluster {verb}: backups cannot run"


def condition_words(condition: Condition | None, *, with_blocking: bool = True) -> str:
    """``is DEAD: backups cannot run (status ERROR)`` or ``health DEGRADED, status UPDATING``;
    "" when there is nothing to say. ``with_blocking=False`` leaves out what was said first."""
    if condition is None:
        return ""
    words = ", ".join(condition.words)
    if condition.blocking and with_blocking:
        verb = "is DEAD" if condition.blocking == "DEAD" else "is in ERROR"
        return f"{verb}: backups cannot run" + (f" ({words})" if words else "")
    return words


def condition_line(condition: Condition | None, *, with_blocking: bool = True) -> str:
    """``:warning: Cluster health DEGRADED, status UPDATING``, or ""."""
    words = condition_words(condition, with_blocking=with_blocking)
    return f":warning: Cluster {words}" if words else ""


# --- backup attempts ---------------------------------------------------------------------------


def attempt_line(
    explanation: Explanation | None,
    now: datetime,
    *,
    state: FreshnessState | None = None,
    error_limit: int = ERROR_ESCAPED,
) -> str:
    """The last backup attempt and its outcome: "The last backup attempt, 02:30 UTC, failed:
    <the cloud's message>", "A backup has been running for 3h", ...; "" when the operations
    were not read. For a cluster whose backups are missing (``state``) or that is past a slot
    with no backup, a last attempt that succeeded is the one of its newest backup: then nothing
    has tried since, which is said."""
    if explanation is None:
        return ""
    if explanation.operations_error:
        reason = escape_clipped(explanation.operations_error, error_limit)
        return f":grey_question: The cluster's operations could not be read: {reason}"
    history = explanation.attempts
    if history is None:
        return ""
    last = history.last
    if last is None:
        return ":grey_question: No backup attempt is among the cluster's operations."
    at = when(last.started_at) if last.started_at is not None else "at an unknown time"
    before = ""
    if history.failed_in_a_row == 1:
        before = "; the attempt before it failed"
    elif history.failed_in_a_row > 1:
        before = f"; the {history.failed_in_a_row} attempts before it failed"
    if last.outcome == AttemptOutcome.RUNNING:
        if last.started_at is None:
            return f":hourglass: A backup is running{before}."
        ran = format_duration(max(now - last.started_at, timedelta(0)))
        return f":hourglass: A backup has been running for {ran} (since {at}){before}."
    if last.outcome == AttemptOutcome.FAILED:
        reason = escape_clipped(last.error or f"error code {last.code}", error_limit)
        row = ""
        if history.failed_in_a_row > 1:
            row = f" ({history.failed_in_a_row} attempts in a row have failed)"
        return f":x: The last backup attempt, {at}, failed: {reason}{row}"
    if (state is not None and state.fires) or explanation.missed_slot is not None:
        return f":grey_question: The last backup attempt, {at}, succeeded; none was made since."
    return f":white_check_mark: The last backup attempt, {at}, succeeded."


def attempt_words(explanation: Explanation | None) -> str:
    """A few words for a grouped alert's row: "last attempt failed 2026-11-23 02:30 UTC"."""
    if explanation is None or explanation.attempts is None or explanation.attempts.last is None:
        return ""
    last = explanation.attempts.last
    if last.outcome == AttemptOutcome.FAILED:
        at = f" {when(last.started_at)}" if last.started_at is not None else ""
        more = (
            f" ({explanation.attempts.failed_in_a_row} in a row)"
            if explanation.attempts.failed_in_a_row > 1
            else ""
        )
        return f":x: last attempt failed{at}{more}"
    if last.outcome == AttemptOutcome.RUNNING:
        return ":hourglass: a backup is running"
    return ""


# --- maintenance, policies, restore, trend -----------------------------------------------------


def maintenance_line(maintenance: Maintenance | None, schedule_detail: str = "") -> str:
    """A planned maintenance over a backup slot, or ""."""
    if maintenance is None:
        return ""
    due = "delayed until" if maintenance.delayed else "due"
    slot = f"the {maintenance.slot.strftime('%H:%M')} UTC backup slot"
    if schedule_detail:
        slot += f" ({escape_clipped(schedule_detail, 150)})"
    info = f": {escape_clipped(maintenance.info, _INFO_ESCAPED)}" if maintenance.info else ""
    return f":wrench: A planned maintenance, {due} {when(maintenance.at)}, overlaps {slot}{info}"


def policies_line(explanation: Explanation | None) -> str:
    """The cluster's backup retention policies, or that there are none, or ""."""
    if explanation is None:
        return ""
    if explanation.policies_error:
        reason = escape_clipped(explanation.policies_error, SHORT_ERROR_ESCAPED)
        return f"Backup retention policies could not be read: {reason}"
    if explanation.policies_offered is False:
        return "Backup retention policies: not offered for this cluster"
    policies = explanation.policies
    if policies is None:
        return ""
    if not policies:
        return "Backup retention policies: none"
    shown = [_policy(p) for p in policies[:_POLICIES_SHOWN]]
    if len(policies) > _POLICIES_SHOWN:
        shown.append(f"and {len(policies) - _POLICIES_SHOWN} more")
    return "Backup retention policies: " + "; ".join(shown)


def _policy(policy: RetentionPolicy) -> str:
    name = escape_clipped(
        policy.policy_name or policy.policy_id or "(unnamed)", _POLICY_NAME_ESCAPED
    )
    text = f"*{name}*"
    if policy.cron is not None:
        tab = policy.cron
        cron = cron_text(tab.minute, tab.hour, tab.day_of_month, tab.month, tab.day_of_week)
        text += f" `{escape_clipped(cron, _CRON_ESCAPED).replace('`', chr(39))}` UTC"
    if policy.retain_for_days:
        text += f", kept {_plural(policy.retain_for_days, 'day')}"
    return text


def restore_line(restore: RestoreReadiness | None, *, of: str = "the newest backup") -> str:
    """Whether a restore of the backup into a cluster of this shape would fit, and whether its
    version is one the cloud restores to; "" when nothing can be said."""
    if restore is None:
        return ""
    parts = []
    fits = restore.fits
    if fits is True:
        parts.append(
            f":white_check_mark: A restore of {of} into a cluster of this shape would fit: it "
            f"needs {format_bytes(restore.required_bytes or 0)} free, the data nodes have "
            f"{format_bytes(restore.available_bytes or 0)}."
        )
    elif fits is False:
        parts.append(restore_warning(restore, of=of))
    elif restore.required_bytes is None:
        parts.append(f"Restore: the cloud does not say how much space {of} needs.")
    else:
        parts.append(
            f"Restore: {of} needs {format_bytes(restore.required_bytes)} free; the cluster's "
            "config does not say how much disk its data nodes have."
        )
    if restore.too_old:
        version = escape_clipped(restore.version, 40)
        oldest = escape_clipped(restore.oldest_restorable, 40)
        parts.append(
            f":warning: Its OpenSearch {version} is older than any version the cloud restores "
            f"to (the oldest is {oldest})."
        )
    return " ".join(parts)


def restore_warning(restore: RestoreReadiness, *, of: str = "the newest backup") -> str:
    """The digest's warning for a backup that would not fit."""
    return (
        f":warning: A restore of {of} would not fit a cluster of this shape: it needs "
        f"{format_bytes(restore.required_bytes or 0)} free, the data nodes have "
        f"{format_bytes(restore.available_bytes or 0)}."
    )


def trend_line(points: Sequence[TrendPoint]) -> str:
    """The last backups' sizes and durations as sparklines, oldest first, with the min and
    max of each: "Last 14 backups: size ▁▃▅▇█ 1.1–1.3 TiB · took ▂▁█▃ 4m–38m"."""
    if len(points) < 2:
        return ""
    sizes = [float(p.size_bytes) for p in points]
    durations = [p.duration_seconds for p in points]
    low, high = min(p.size_bytes for p in points), max(p.size_bytes for p in points)
    text = (
        f"Last {len(points)} backups, oldest first: size `{sparkline(sizes)}` "
        f"{format_bytes(low)}–{format_bytes(high)}"
    )
    known = [d for d in durations if d is not None]
    if known:
        shortest = format_duration(timedelta(seconds=min(known)))
        longest = format_duration(timedelta(seconds=max(known)))
        text += f" · took `{sparkline(durations)}` {shortest}–{longest}"
    return text


def detail_lines(
    explanation: Explanation | None,
    state: FreshnessState,
    now: datetime,
    *,
    full: bool = False,
    error_limit: int = ERROR_ESCAPED,
) -> list[str]:
    """The lines a cluster's freshness is followed by: its condition (unless it is said first),
    the last attempt, a maintenance over its backup window, a restore that would not fit; with
    ``full`` (``status <cluster>``, ``get``) also its policies, restore readiness and trend."""
    if explanation is None:
        return []
    lines = []
    said_first = bool(blocking_clause(explanation.condition, state))
    lines.append(condition_line(explanation.condition, with_blocking=not said_first))
    lines.append(attempt_line(explanation, now, state=state, error_limit=error_limit))
    detail = explanation.schedule.detail if explanation.schedule is not None else ""
    lines.append(maintenance_line(explanation.maintenance, detail))
    if full:
        lines.append(restore_line(explanation.restore))
        lines.append(policies_line(explanation))
        lines.append(trend_line(explanation.trend))
    elif explanation.restore is not None and explanation.restore.fits is False:
        lines.append(restore_warning(explanation.restore))
    return [_sentence(line) for line in lines if line]
