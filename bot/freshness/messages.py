"""What every message that shows a cluster's freshness says the same way (alerts, reminders,
digest rows, ``status``, ``list``, ``get``): the cluster's link, name and ids, its state's emoji,
times, and why a backup is late and whether a restore would work, in mrkdwn lines.

Each explanation function takes the plain values of :mod:`bot.freshness.explain` and returns one
line (or "" when there is nothing to say). Text from the cloud (names, ids, error messages,
maintenance info, policy names) is escaped and bounded, so that a hostile message notifies
nobody and no line outgrows its paragraph.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from bot.chat.mrkdwn import code, link
from bot.chat.pack import cut_escaped, escape_clipped
from bot.cloud.models import Cluster, Environment, RetentionPolicy
from bot.commands import strings
from bot.freshness.attempts import AttemptOutcome
from bot.freshness.explain import Condition, Explanation, Maintenance, TrendPoint, say_words
from bot.freshness.model import FreshnessState
from bot.freshness.restore import RestoreReadiness
from bot.freshness.schedules import cron_text, say_schedule
from bot.freshness.sparkline import sparkline
from bot.i18n.catalog import _, ngettext
from bot.i18n.units import format_bytes, say_duration

#: Bounds on the cloud's text, measured after escaping.
ERROR_ESCAPED = 500
SHORT_ERROR_ESCAPED = 250  # in a digest or status row, of which many share a message
_INFO_ESCAPED = 250
_POLICY_NAME_ESCAPED = 80
_CRON_ESCAPED = 60
_POLICIES_SHOWN = 5
# Bounds on names and ids from the cloud, measured after escaping (which may grow them 5 times).
_NAME_ESCAPED = 200
_ID_ESCAPED = 100
_REASON_ESCAPED = 600
#: Ids in console URLs, before percent-encoding (at most three times longer).
_ID_MAX = 64

#: One emoji per state, the same as the command replies use (bot.commands.strings).
STATE_EMOJI: dict[FreshnessState, str] = {
    state: strings.STATE_ICON[state.value] for state in FreshnessState
}


# --- clusters, ids and times -------------------------------------------------------------------


def console_backups_url(console_url: str, folder_id: str, cluster_id: str) -> str:
    """The cluster's backups page in the Yandex Cloud console."""
    return (
        f"{console_url.rstrip('/')}/folders/{quote(folder_id, safe='')}"
        f"/managed-opensearch/cluster/{quote(cluster_id, safe='')}/backups"
    )


def slack_date(when: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A date Slack shows in the reader's own time zone; UTC text where it cannot."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{fmt}|{fallback}>"


def utc_text(when: datetime) -> str:
    """``2024-05-01 03:00 UTC``, for plain-text fallbacks."""
    return when.strftime("%Y-%m-%d %H:%M UTC")


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (plain text: no entities)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str) -> str:
    """Text from the cloud for a plain-text place (a header, a dialog): not parsed for
    mentions, but no place to show "<!channel>" either; angle quotes keep it readable."""
    return text.replace("<", "‹").replace(">", "›")


def cluster_name(cluster: Cluster) -> str:
    """The cluster's name, plain, short enough that escaped it takes at most 200 characters."""
    return cut_escaped(cluster.display_name, _NAME_ESCAPED)


def id_code(value: str) -> str:
    """An id from the cloud as inline code, bounded after escaping."""
    return code(cut_escaped(value, _ID_ESCAPED))


def reason_text(text: str) -> str:
    """The cloud's (or a reader's) reason, escaped and bounded."""
    return escape_clipped(text, _REASON_ESCAPED)


def cluster_link(cluster: Cluster, console_url: str) -> str:
    """The cluster's name, linked to its backups in the console."""
    url = console_backups_url(console_url, cut(cluster.folder_id, _ID_MAX), cluster.id[:_ID_MAX])
    return link(url, cluster_name(cluster))


def environment_word(cluster: Cluster) -> str | None:
    """``PRODUCTION`` or ``PRESTABLE``; None when the cloud does not say."""
    if cluster.environment == Environment.ENVIRONMENT_UNSPECIFIED:
        return None
    return cluster.environment.value


def when(moment: datetime) -> str:
    """A time in the reader's own time zone, with a UTC fallback (as ``slack_date``)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    fallback = aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ts = int(aware.timestamp())
    if ts <= 0:
        return fallback
    return f"<!date^{ts}^{{date_short_pretty}} {{time}}|{fallback}>"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def state_count(state: FreshnessState, n: int) -> str:
    """``3 stale``: how many clusters are in ``state``, as counts in a heading say it."""
    if state == FreshnessState.FRESH:
        template = ngettext("{n} fresh", "{n} fresh", n)
    elif state == FreshnessState.STALE:
        template = ngettext("{n} stale", "{n} stale", n)
    elif state == FreshnessState.NEVER:
        template = ngettext("{n} never", "{n} never", n)
    elif state == FreshnessState.UNKNOWN:
        template = ngettext("{n} unknown", "{n} unknown", n)
    elif state == FreshnessState.STOPPED:
        template = ngettext("{n} stopped", "{n} stopped", n)
    else:
        template = ngettext("{n} unscheduled", "{n} unscheduled", n)
    return template.format(n=n)


# --- the cluster's own state -------------------------------------------------------------------


def blocking_clause(condition: Condition | None, state: FreshnessState) -> str:
    """``cluster is DEAD: backups cannot run`` for a DEAD or ERROR cluster whose backups are
    stale (or absent), said before anything else; "" otherwise."""
    if condition is None or not condition.blocking or not state.fires:
        return ""
    if condition.blocking == "DEAD":
        return _("cluster is DEAD: backups cannot run")
    return _("cluster is in ERROR: backups cannot run")


def condition_words(condition: Condition | None, *, with_blocking: bool = True) -> str:
    """``is DEAD: backups cannot run (status ERROR)`` or ``health DEGRADED, status UPDATING``;
    "" when there is nothing to say. ``with_blocking=False`` leaves out what was said first."""
    if condition is None:
        return ""
    words = ", ".join(say_words(condition))
    if condition.blocking and with_blocking:
        dead = condition.blocking == "DEAD"
        if not words:
            if dead:
                return _("is DEAD: backups cannot run")
            return _("is in ERROR: backups cannot run")
        if dead:
            return _("is DEAD: backups cannot run ({condition})").format(condition=words)
        return _("is in ERROR: backups cannot run ({condition})").format(condition=words)
    return words


def condition_short(condition: Condition) -> str:
    """A few words for a row: ``is DEAD``, ``is in ERROR``, or the condition's words."""
    if condition.blocking:
        return _("is DEAD") if condition.blocking == "DEAD" else _("is in ERROR")
    return ", ".join(say_words(condition))


def condition_line(condition: Condition | None, *, with_blocking: bool = True) -> str:
    """``:warning: Cluster health DEGRADED, status UPDATING``, or ""."""
    words = condition_words(condition, with_blocking=with_blocking)
    if not words:
        return ""
    return ":warning: " + _("Cluster {condition}").format(condition=words)


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
    has tried since, which is said. For a FRESH cluster (a row) nothing is said of an attempt
    that succeeded, or of none."""
    if explanation is None:
        return ""
    if explanation.operations_error:
        reason = escape_clipped(explanation.operations_error, error_limit)
        said = _("The cluster's operations could not be read: {reason}").format(reason=reason)
        return f":grey_question: {said}"
    history = explanation.attempts
    if history is None:
        return ""
    last = history.last
    late = last is not None and last.outcome == AttemptOutcome.RUNNING and explanation.missed_slot
    failed_last = last is not None and last.outcome == AttemptOutcome.FAILED
    if state == FreshnessState.FRESH and not (failed_last or late):
        # A fresh cluster's row says its attempts only when one failed or is running past a
        # slot: "succeeded; none was made since" reads like a problem where there is none.
        return ""
    if last is None:
        said = _("No backup attempt is among the cluster's operations.")
        return f":grey_question: {said}"
    at = when(last.started_at) if last.started_at is not None else _("at an unknown time")
    failed = history.failed_in_a_row
    if last.outcome == AttemptOutcome.RUNNING:
        return f":hourglass: {_running(failed, now, last.started_at, at)}"
    if last.outcome == AttemptOutcome.FAILED:
        error = last.error or _("error code {code}").format(code=last.code)
        reason = escape_clipped(error, error_limit)
        if failed > 1:
            said = ngettext(
                "The last backup attempt, {at}, failed: {reason} "
                "({n} attempts in a row have failed)",
                "The last backup attempt, {at}, failed: {reason} "
                "({n} attempts in a row have failed)",
                failed,
            ).format(at=at, reason=reason, n=failed)
        else:
            said = _("The last backup attempt, {at}, failed: {reason}").format(at=at, reason=reason)
        return f":x: {said}"
    if (state is not None and state.fires) or explanation.missed_slot is not None:
        said = _("The last backup attempt, {at}, succeeded; none was made since.").format(at=at)
        return f":grey_question: {said}"
    said = _("The last backup attempt, {at}, succeeded.").format(at=at)
    return f":white_check_mark: {said}"


def _running(failed: int, now: datetime, started_at: datetime | None, at: str) -> str:
    """A backup is running, since when, and how many attempts before it failed."""
    if started_at is None:
        if failed == 0:
            return _("A backup is running.")
        if failed == 1:
            return _("A backup is running; the attempt before it failed.")
        return ngettext(
            "A backup is running; the {n} attempts before it failed.",
            "A backup is running; the {n} attempts before it failed.",
            failed,
        ).format(n=failed)
    ran = say_duration(max(now - started_at, timedelta(0)))
    if failed == 0:
        return _("A backup has been running for {ran} (since {at}).").format(ran=ran, at=at)
    if failed == 1:
        return _(
            "A backup has been running for {ran} (since {at}); the attempt before it failed."
        ).format(ran=ran, at=at)
    return ngettext(
        "A backup has been running for {ran} (since {at}); the {n} attempts before it failed.",
        "A backup has been running for {ran} (since {at}); the {n} attempts before it failed.",
        failed,
    ).format(ran=ran, at=at, n=failed)


def attempt_words(explanation: Explanation | None) -> str:
    """A few words for a grouped alert's row: "last attempt failed 2026-11-23 02:30 UTC"."""
    if explanation is None or explanation.attempts is None or explanation.attempts.last is None:
        return ""
    last = explanation.attempts.last
    if last.outcome == AttemptOutcome.FAILED:
        failed = explanation.attempts.failed_in_a_row
        at = when(last.started_at) if last.started_at is not None else ""
        if failed > 1:
            template = (
                ngettext(
                    "last attempt failed {at} ({n} in a row)",
                    "last attempt failed {at} ({n} in a row)",
                    failed,
                )
                if at
                else ngettext(
                    "last attempt failed ({n} in a row)",
                    "last attempt failed ({n} in a row)",
                    failed,
                )
            )
        else:
            template = _("last attempt failed {at}") if at else _("last attempt failed")
        return f":x: {template.format(at=at, n=failed)}"
    if last.outcome == AttemptOutcome.RUNNING:
        return ":hourglass: " + _("a backup is running")
    return ""


# --- maintenance, policies, restore, trend -----------------------------------------------------


def maintenance_line(maintenance: Maintenance | None, schedule_detail: str = "") -> str:
    """A planned maintenance over a backup slot, or ""."""
    if maintenance is None:
        return ""
    slot = _("the {time} UTC backup slot").format(time=maintenance.slot.strftime("%H:%M"))
    if schedule_detail:
        slot += f" ({escape_clipped(say_schedule(schedule_detail), 150)})"
    template = (
        _("A planned maintenance, delayed until {when}, overlaps {slot}")
        if maintenance.delayed
        else _("A planned maintenance, due {when}, overlaps {slot}")
    )
    info = f": {escape_clipped(maintenance.info, _INFO_ESCAPED)}" if maintenance.info else ""
    return f":wrench: {template.format(when=when(maintenance.at), slot=slot)}{info}"


def policies_line(explanation: Explanation | None) -> str:
    """The cluster's backup retention policies, or that there are none, or ""."""
    if explanation is None:
        return ""
    if explanation.policies_error:
        reason = escape_clipped(explanation.policies_error, SHORT_ERROR_ESCAPED)
        return _("Backup retention policies could not be read: {reason}").format(reason=reason)
    if explanation.policies_offered is False:
        return _("Backup retention policies: not offered for this cluster")
    policies = explanation.policies
    if policies is None:
        return ""
    if not policies:
        return _("Backup retention policies: none")
    shown = [_policy(p) for p in policies[:_POLICIES_SHOWN]]
    if len(policies) > _POLICIES_SHOWN:
        more = len(policies) - _POLICIES_SHOWN
        shown.append(ngettext("and {n} more", "and {n} more", more).format(n=more))
    return _("Backup retention policies: {policies}").format(policies="; ".join(shown))


def _policy(policy: RetentionPolicy) -> str:
    name = escape_clipped(
        policy.policy_name or policy.policy_id or _("(unnamed)"), _POLICY_NAME_ESCAPED
    )
    text = f"*{name}*"
    if policy.cron is not None:
        tab = policy.cron
        cron = cron_text(tab.minute, tab.hour, tab.day_of_month, tab.month, tab.day_of_week)
        text += f" `{escape_clipped(cron, _CRON_ESCAPED).replace('`', chr(39))}` UTC"
    days = policy.retain_for_days
    if days:
        text = ngettext("{policy}, kept {n} day", "{policy}, kept {n} days", days).format(
            policy=text, n=days
        )
    return text


def restore_line(restore: RestoreReadiness | None, *, this_backup: bool = False) -> str:
    """Whether a restore of the newest backup (or, for ``get``, of ``this_backup``) into a
    cluster of this shape would fit, and whether its version is one the cloud restores to; ""
    when nothing can be said."""
    if restore is None:
        return ""
    parts = []
    fits = restore.fits
    needed = format_bytes(restore.required_bytes or 0)
    available = format_bytes(restore.available_bytes or 0)
    if fits is True:
        template = (
            _(
                "A restore of this backup into a cluster of this shape would fit: it needs "
                "{needed} free, the data nodes have {available}."
            )
            if this_backup
            else _(
                "A restore of the newest backup into a cluster of this shape would fit: it "
                "needs {needed} free, the data nodes have {available}."
            )
        )
        parts.append(f":white_check_mark: {template.format(needed=needed, available=available)}")
    elif fits is False:
        parts.append(restore_warning(restore, this_backup=this_backup))
    elif restore.required_bytes is None:
        parts.append(
            _("Restore: the cloud does not say how much space this backup needs.")
            if this_backup
            else _("Restore: the cloud does not say how much space the newest backup needs.")
        )
    else:
        template = (
            _(
                "Restore: this backup needs {needed} free; the cluster's config does not say how "
                "much disk its data nodes have."
            )
            if this_backup
            else _(
                "Restore: the newest backup needs {needed} free; the cluster's config does not "
                "say how much disk its data nodes have."
            )
        )
        parts.append(template.format(needed=format_bytes(restore.required_bytes)))
    if restore.too_old:
        version = escape_clipped(restore.version, 40)
        oldest = escape_clipped(restore.oldest_restorable, 40)
        said = _(
            "Its OpenSearch {version} is older than any version the cloud restores to (the "
            "oldest is {oldest})."
        ).format(version=version, oldest=oldest)
        parts.append(f":warning: {said}")
    return " ".join(parts)


def restore_warning(restore: RestoreReadiness, *, this_backup: bool = False) -> str:
    """The digest's warning for a backup that would not fit."""
    template = (
        _(
            "A restore of this backup would not fit a cluster of this shape: it needs {needed} "
            "free, the data nodes have {available}."
        )
        if this_backup
        else _(
            "A restore of the newest backup would not fit a cluster of this shape: it needs "
            "{needed} free, the data nodes have {available}."
        )
    )
    needed = format_bytes(restore.required_bytes or 0)
    available = format_bytes(restore.available_bytes or 0)
    return f":warning: {template.format(needed=needed, available=available)}"


def trend_line(points: Sequence[TrendPoint]) -> str:
    """The last backups' sizes and durations as sparklines, oldest first, with the min and
    max of each: "Last 14 backups: size ▁▃▅▇█ 1.1–1.3 TiB · took ▂▁█▃ 4m–38m"."""
    if len(points) < 2:
        return ""
    sizes = [float(p.size_bytes) for p in points]
    durations = [p.duration_seconds for p in points]
    low, high = min(p.size_bytes for p in points), max(p.size_bytes for p in points)
    text = ngettext(
        "Last {n} backups, oldest first: size `{sparkline}` {smallest}–{largest}",
        "Last {n} backups, oldest first: size `{sparkline}` {smallest}–{largest}",
        len(points),
    ).format(
        n=len(points),
        sparkline=sparkline(sizes),
        smallest=format_bytes(low),
        largest=format_bytes(high),
    )
    known = [d for d in durations if d is not None]
    if known:
        took = _("took `{sparkline}` {shortest}–{longest}").format(
            sparkline=sparkline(durations),
            shortest=say_duration(timedelta(seconds=min(known))),
            longest=say_duration(timedelta(seconds=max(known))),
        )
        text += f" · {took}"
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
    # One cluster in full says its last attempt whatever it was; a fresh row only a failed one.
    attempt_state = None if full and state == FreshnessState.FRESH else state
    lines.append(attempt_line(explanation, now, state=attempt_state, error_limit=error_limit))
    detail = explanation.schedule.detail if explanation.schedule is not None else ""
    lines.append(maintenance_line(explanation.maintenance, detail))
    if full:
        lines.append(restore_line(explanation.restore))
        lines.append(policies_line(explanation))
        lines.append(trend_line(explanation.trend))
    elif explanation.restore is not None and explanation.restore.fits is False:
        lines.append(restore_warning(explanation.restore))
    return [_sentence(line) for line in lines if line]
