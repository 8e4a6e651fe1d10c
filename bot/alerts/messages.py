"""The alert's messages: the stale-backup alert (updated in place), its thread replies, the
bot's alert about itself, and what became of a backup someone started, as cards.

Everything that comes from the cloud (names, ids, labels, error text) is escaped and bounded in
length, so that a cluster named ``<!channel>`` notifies nobody and no row can outgrow a paragraph.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

from bot.alerts.actions import (
    ACKNOWLEDGE,
    LIST_BACKUPS,
    RUNBOOK,
    SNOOZE_4H,
    SNOOZE_24H,
    START_BACKUP,
    UNACKNOWLEDGE,
    UNSNOOZE,
    AlertRef,
)
from bot.alerts.model import AlertEntry, AlertStatus
from bot.alerts.policy import outage_duration
from bot.backup.model import OperationOutcome, backup_blocker
from bot.chat.card import Buttons, Card, Confirm, Limits, Note, Part, Text
from bot.chat.mrkdwn import code, escape, mention
from bot.chat.pack import cut_escaped, escape_clipped
from bot.cloud.models import Cluster
from bot.config import AlertRoute
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
from bot.freshness.schedules import say_schedule
from bot.i18n.catalog import N_, _, ngettext
from bot.i18n.units import say_duration
from bot.silences.messages import silenced_marker

#: Action ids of the alert's buttons; handlers/ listens for these.

# Bounds on text from the cloud, measured after escaping (which may grow it five times).
_NAME_ESCAPED = 200
_LABEL_ESCAPED = 150
_LABELS_MAX = 10
#: The cloud's error in the line before the buttons: a phone shows about 400 characters there.
WHY_ERROR_ESCAPED = 140


def _status_word(status: AlertStatus) -> str:
    """``FIRING``, ``ACKNOWLEDGED``, ...: the incident's status as the alert says it."""
    if status == AlertStatus.FIRING:
        return _("FIRING")
    if status == AlertStatus.ACKNOWLEDGED:
        return _("ACKNOWLEDGED")
    if status == AlertStatus.SNOOZED:
        return _("SNOOZED")
    if status == AlertStatus.RESOLVED:
        return _("RESOLVED")
    return _("OK")


def _state_word(state: FreshnessState) -> str:
    """``stale``, ``never``, ...: a freshness state as the alert's fallback names it."""
    words = {
        FreshnessState.FRESH: N_("fresh"),
        FreshnessState.STALE: N_("stale"),
        FreshnessState.NEVER: N_("never"),
        FreshnessState.UNKNOWN: N_("unknown"),
        FreshnessState.STOPPED: N_("stopped"),
        FreshnessState.UNSCHEDULED: N_("unscheduled"),
    }
    return _(words[state])


def _max_age_source(max_age: MaxAge) -> str:
    if max_age.source == MaxAgeSource.OVERRIDE:
        return _("a freshness override")
    if max_age.source == MaxAgeSource.SCHEDULE:
        said = escape(say_schedule(max_age.detail))
        return _("snapshot schedule {schedule}, plus grace").format(schedule=said)
    if max_age.source == MaxAgeSource.POLICY:
        said = escape_clipped(say_schedule(max_age.detail), 300)
        return _("{policy}, plus grace").format(policy=said)
    return _("the default for clusters with no snapshot schedule, plus grace")


def _labelled(label: str, value: str) -> str:
    """``*Label* value``, one fact of a line of small print."""
    return f"*{label}* {value}"


def _field(label: str, value: str) -> str:
    """``*Label*`` over its value."""
    return f"*{label}*\n{value}"


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
    mention: Sequence[str] | None = None,
    same_sweep: bool = False,
) -> Card:
    """The alert message, rendered anew on every change and updated in place.

    On-call (``mention``, the route's by default) is mentioned only while the incident is
    FIRING; ``same_sweep`` says instead that they were mentioned in an earlier post of the same
    sweep. The buttons are there while it is open (Acknowledge until someone has, then
    Unacknowledge).
    """
    mention_ids = tuple(route.mention if mention is None else mention)
    if entry.silenced:
        mention_ids = ()  # a silenced cluster pages nobody
    status_line = _alert_status_line(entry, mention_ids)
    if entry.silenced:
        status_line += " · " + silenced_words(entry)
    elif same_sweep and entry.status == AlertStatus.FIRING:
        status_line += " · " + same_sweep_words()
    if entry.escalated_at is not None and entry.status == AlertStatus.FIRING:
        status_line += " · " + escalated_words(entry.escalated_at)
    problem = _alert_problem(report, entry, now)
    clause = _clause(report)
    if clause:
        problem = f"{clause}; {problem}"
    why, rest = _why(report, now)
    headline = "\n".join(
        [f"{status_line}\n*{cluster_link(cluster, console_url)}*: {problem}", *why]
    )
    parts: list[Part] = [Text(headline, anchor="alert_headline")]
    if entry.status.is_open:
        parts.append(alert_buttons(entry, cluster, runbook=runbook_link(route, cluster)))
    parts.append(Note([*rest, *_alert_facts(entry, cluster, report, limits, now)]))
    return Card(_alert_fallback(entry, cluster, report, mention_ids), parts)


def _why(report: FreshnessReport, now: datetime) -> tuple[list[str], list[str]]:
    """The one line that says why, for before the buttons, and the other lines, for after them.

    A failed or running attempt says most (the cloud's own error), then a maintenance over its
    backup window, then what comes first of the rest (the cluster's condition)."""
    lines = detail_lines(report.explanation, report.state, now, error_limit=WHY_ERROR_ESCAPED)
    lines.sort(key=_why_rank)
    return lines[:1], lines[1:]


def _why_rank(line: str) -> int:
    """A failed or running attempt says most, then a maintenance over the backup window."""
    if line.startswith((":x:", ":hourglass:")):
        return 0
    return 1 if line.startswith(":wrench:") else 2


def _alert_facts(
    entry: AlertEntry, cluster: Cluster, report: FreshnessReport, limits: Limits, now: datetime
) -> list[str]:
    """What the alert says after its buttons, in small print: where the cluster is, its newest
    backup, where its maximum age comes from, when the incident opened and was checked."""
    where = []
    environment = environment_word(cluster)
    if environment is not None:
        where.append(environment)
    if cluster.folder_id:
        where.append(_labelled(_("Folder"), id_code(cluster.folder_id)))
    where.append(_labelled(_("Cluster id"), id_code(cluster.id)))
    if report.newest_backup_id is not None and report.newest_backup_at is not None:
        newest = f"{id_code(report.newest_backup_id)} {slack_date(report.newest_backup_at)}"
    else:
        newest = _("none")
    backups = [_labelled(_("Newest backup"), newest)]
    if entry.stale_since is not None:
        backups.append(_labelled(_("Stale since"), slack_date(entry.stale_since)))
    notes = [_("Max age from {source}").format(source=_max_age_source(report.max_age))]
    if entry.opened_at is not None:
        notes.append(_("opened {when}").format(when=slack_date(entry.opened_at)))
    notes.append(_("checked {when}").format(when=slack_date(now)))
    facts = [" · ".join(where), " · ".join(backups), " · ".join(notes)]
    if cluster.labels:
        facts.insert(1, _labels_field(cluster.labels, limits).replace("*\n", "* ", 1))
    return facts


def _labels_field(labels: dict[str, str], limits: Limits) -> str:
    """``*Labels*`` and as many ``key=value`` codes as fit a field, then how many more."""
    items = sorted(labels.items())
    shown = [code(cut_escaped(f"{k}={v}", _LABEL_ESCAPED)) for k, v in items[:_LABELS_MAX]]
    head = _field(_("Labels"), "")
    # Room for the longest "and N more" there can be (at most 99 labels are left out).
    room = limits.field - len(head) - len(" " + _and_more(99))
    while shown and len(" ".join(shown)) > room:
        shown.pop()
    text = head + " ".join(shown)
    if len(shown) < len(items):
        text += " " + _and_more(len(items) - len(shown))
    return text


def _and_more(n: int) -> str:
    return ngettext("and {n} more", "and {n} more", n).format(n=n)


def escalated_words(when: datetime) -> str:
    """``⏫ escalated <when>``: a firing alert that was escalated says so."""
    return ":arrow_double_up: " + _("escalated {when}").format(when=slack_date(when))


def same_sweep_words() -> str:
    """What a post says in place of mentioning on-call a second time in one sweep."""
    return _("same sweep as the post above that mentioned on-call")


def silenced_words(entry: AlertEntry) -> str:
    """What an alert of a silenced incident says in place of paging."""
    return silenced_marker(entry.silence_id, entry.silenced_until)


def _alert_status_line(entry: AlertEntry, mention_ids: Sequence[str]) -> str:
    status = entry.status
    word = f"*{_status_word(status)}*"
    if status == AlertStatus.FIRING:
        mentions = " ".join(mention(slack_id) for slack_id in mention_ids)
        return f":rotating_light: {word} {mentions}".rstrip()
    if status == AlertStatus.ACKNOWLEDGED:
        who = mention(entry.acknowledged_by) if entry.acknowledged_by else ""
        when = slack_date(entry.acknowledged_at) if entry.acknowledged_at else ""
        if who and when:
            said = _("{status} by {who} {when}")
        elif who:
            said = _("{status} by {who}")
        else:
            said = "{status} {when}" if when else "{status}"
        return f":eyes: {said.format(status=word, who=who, when=when)}"
    if status == AlertStatus.SNOOZED:
        until = slack_date(entry.snoozed_until) if entry.snoozed_until else ""
        who = mention(entry.snoozed_by) if entry.snoozed_by else ""
        if until and who:
            said = _("{status} until {until} by {who}")
        elif until:
            said = _("{status} until {until}")
        else:
            said = _("{status} by {who}") if who else "{status}"
        return f":zzz: {said.format(status=word, until=until, who=who)}"
    if status == AlertStatus.RESOLVED:
        when = f" {slack_date(entry.resolved_at)}" if entry.resolved_at else ""
        return f":white_check_mark: {word}{when}"
    return f":white_check_mark: {word}"


def _clause(report: FreshnessReport) -> str:
    """``cluster is DEAD: backups cannot run`` when that is what stops the backups."""
    explanation = report.explanation
    return blocking_clause(explanation.condition if explanation else None, report.state)


def _alert_problem(report: FreshnessReport, entry: AlertEntry, now: datetime) -> str:
    limit = say_duration(report.max_age.value)
    state = report.state
    if state == FreshnessState.STALE and report.age is not None:
        return _("the newest backup is {age} old; the maximum is {limit}").format(
            age=say_duration(report.age), limit=limit
        )
    if state == FreshnessState.NEVER:
        return _("the cluster has no backup at all; the maximum age is {limit}").format(limit=limit)
    if state == FreshnessState.FRESH:
        outage = say_duration(outage_duration(entry, now))
        if report.age is not None:
            return _("a fresh backup landed ({age} old); it went without one for {outage}").format(
                age=say_duration(report.age), outage=outage
            )
        return _("a fresh backup landed; it went without one for {outage}").format(outage=outage)
    if state == FreshnessState.STOPPED:
        return _("the cluster is stopped; its backups are not checked while it is")
    if state == FreshnessState.UNSCHEDULED:
        return _("the cluster's snapshot schedule was removed; its backups are no longer checked")
    if state == FreshnessState.UNKNOWN:
        return reason_text(report.reason or _("the backups could not be read"))
    return _("the newest backup is older than the maximum of {limit}").format(limit=limit)


def runbook_link(route: AlertRoute, cluster: Cluster) -> str | None:
    """The route's ``runbook_url`` for ``cluster``, each value URL-encoded; None without one."""
    if route.runbook_url is None:
        return None
    return route.runbook_url.format(
        cluster=quote(cluster.name or cluster.id, safe=""),
        cluster_id=quote(cluster.id, safe=""),
        folder=quote(cluster.folder_id, safe=""),
    )


def alert_buttons(entry: AlertEntry, cluster: Cluster, *, runbook: str | None = None) -> Buttons:
    """The buttons of an open incident's alert (also under ``status <cluster>``); ``runbook``:
    the link of its route's runbook, for a link button."""
    ref = AlertRef(entry.cluster_id, entry.route_key)
    buttons = []
    if entry.status == AlertStatus.ACKNOWLEDGED:
        buttons.append(UNACKNOWLEDGE.button(ref))
    else:
        buttons.append(ACKNOWLEDGE.button(ref, style="primary"))
    if entry.status == AlertStatus.SNOOZED:
        buttons.append(UNSNOOZE.button(ref))
    buttons += [SNOOZE_4H.button(ref), SNOOZE_24H.button(ref), LIST_BACKUPS.button(ref)]
    if not backup_blocker(cluster):
        # A DEAD, ERROR or STOPPED cluster is not offered a backup the cloud would refuse; the
        # alert's first line says why its backups cannot run.
        question = _(
            "Start a backup of {cluster} now? It runs in the background; the alert resolves when "
            "it completes."
        ).format(cluster=plain(cut(cluster.display_name, 60)))
        confirm = Confirm(
            title=_("Start a backup now?"),
            text=question,
            confirm=_("Start backup"),
            deny=_("Cancel"),
        )
        buttons.append(START_BACKUP.button(ref, confirm=confirm))
    if runbook is not None:
        buttons.append(RUNBOOK.button(ref, url=runbook))
    return Buttons(buttons, anchor="alert_actions")


def _alert_fallback(
    entry: AlertEntry, cluster: Cluster, report: FreshnessReport, mention_ids: Sequence[str]
) -> str:
    name = escape(cluster_name(cluster))
    if report.state == FreshnessState.NEVER:
        what = _("{cluster} has no backup at all").format(cluster=name)
    elif report.state == FreshnessState.STALE and report.age is not None:
        what = _("the newest backup of {cluster} is {age} old (max {limit})").format(
            cluster=name,
            age=say_duration(report.age),
            limit=say_duration(report.max_age.value),
        )
    else:
        what = _("backups of {cluster}: {state}").format(
            cluster=name, state=_state_word(report.state)
        )
    clause = _clause(report)
    if clause:
        what = f"{name}: {clause}; {what}"
    attempts = report.explanation.attempts if report.explanation else None
    if attempts is not None and attempts.failed_in_a_row:
        what = _("{what}; the last backup attempt failed").format(what=what)
    text = f"{_status_word(entry.status)}: {what}"
    if entry.status == AlertStatus.FIRING and mention_ids:
        text += " " + " ".join(mention(slack_id) for slack_id in mention_ids)
    return text


# --- thread replies ------------------------------------------------------------------------------


def render_reminder(
    entry: AlertEntry,
    *,
    cluster: Cluster,
    report: FreshnessReport,
    now: datetime,
    mention_ids: Sequence[str] = (),
    silence_over: int | None = None,
    escalated_after: timedelta | None = None,
) -> Card:
    """A reminder in the alert's thread: the cluster is still without a fresh backup;
    ``silence_over``: the id of the silence whose end this reminder says; ``escalated_after``:
    this reminder escalates the alert, nobody having answered it within that."""
    name = f"*{escape(cluster_name(cluster))}*"
    outage = say_duration(outage_duration(entry, now))
    limit = say_duration(report.max_age.value)
    age = say_duration(report.age) if report.age is not None else ""
    clause = _clause(report)
    if clause:
        if report.age is not None:
            what = _(
                "{cluster}: {clause}; it still has no fresh backup (the newest is {age} old, "
                "max {limit})"
            )
        else:
            what = _("{cluster}: {clause}; it still has no fresh backup")
    elif report.state == FreshnessState.NEVER or report.age is None:
        what = _("{cluster} still has no backup at all (max age {limit})")
    else:
        what = _("{cluster} still has no fresh backup: the newest is {age} old (max {limit})")
    said = what.format(cluster=name, clause=clause, age=age, limit=limit)
    text = ":alarm_clock: " + _("{what}; stale for {outage}.").format(what=said, outage=outage)
    if mention_ids:
        text += " " + " ".join(mention(slack_id) for slack_id in mention_ids)
    if escalated_after is not None:
        up = ":arrow_double_up: " + _(
            "Escalated: nobody acknowledged or snoozed this alert within {after}."
        ).format(after=say_duration(escalated_after))
        text = f"{up}\n{text}"
    if silence_over is not None:
        over = ":bell: " + _("Silence {id} is over and this alert is still open.").format(
            id=silence_over
        )
        text = f"{over}\n{text}"
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
    outage = say_duration(outage_duration(entry, now))
    state = report.state
    landed = ""
    if state == FreshnessState.STOPPED:
        said = _(
            "Resolved: cluster stopped. {cluster} is not checked while it is stopped; it had "
            "gone without a fresh backup for {outage}."
        )
    elif state == FreshnessState.UNSCHEDULED:
        said = _(
            "Resolved: the snapshot schedule of {cluster} was removed, so it is no longer "
            "checked; it had gone without a fresh backup for {outage}."
        )
    else:
        if report.newest_backup_at is not None:
            landed = _("a fresh backup landed at {when}").format(
                when=slack_date(report.newest_backup_at)
            )
        else:
            landed = _("a fresh backup landed")
        if report.newest_backup_id:
            landed += f" ({id_code(report.newest_backup_id)})"
        said = _("Resolved: {landed}; {cluster} went without a fresh backup for {outage}.")
    text = f":white_check_mark: {said.format(cluster=name, outage=outage, landed=landed)}"
    return Card(text, [Text(text)])


def render_retired(entry: AlertEntry, *, now: datetime) -> Card:
    """An incident closed because its cluster is no longer watched on the route (deleted, moved,
    or no longer matching): the text that replaces the alert and goes in its thread. The cluster
    may be gone, so only what the incident itself remembers is shown."""
    outage = say_duration(outage_duration(entry, now))
    said = _(
        "Resolved: cluster {cluster} is no longer watched here (deleted, moved out of the "
        "watched folders, or no longer matching this alert route). It had gone without a fresh "
        "backup for {outage}."
    ).format(cluster=id_code(entry.cluster_id), outage=outage)
    text = f":white_check_mark: {said}"
    return Card(text, [Text(text)])


# --- the bot about itself ------------------------------------------------------------------------


def render_self_alert(
    consecutive_failures: int, last_ok: datetime | None, reason: str, now: datetime
) -> Card:
    """The bot cannot read the cloud: until it can, no stale backup will be noticed."""
    n = consecutive_failures
    if last_ok is None:
        since = _("No sweep has succeeded since the bot started.")
    else:
        ago = say_duration(max(now - last_ok, timedelta(0)))
        since = _("The last successful sweep was {when} ({ago} ago).").format(
            when=slack_date(last_ok), ago=ago
        )
    blind = ngettext(
        "*The backups bot is blind*: it could not read the cloud for {n} sweep in a row.",
        "*The backups bot is blind*: it could not read the cloud for {n} sweeps in a row.",
        n,
    ).format(n=n)
    last_error = _("Last error: {reason}").format(reason=reason_text(reason))
    unnoticed = _("Until it can, stale backups go unnoticed.")
    text = f":rotating_light: {blind} {since}\n{last_error}\n{unnoticed}"
    fallback = ngettext(
        "The backups bot could not read the cloud for {n} sweep in a row.",
        "The backups bot could not read the cloud for {n} sweeps in a row.",
        n,
    ).format(n=n)
    return Card(fallback, [Text(text)])


def render_self_recovered(failures_since: datetime | None, now: datetime) -> Card:
    """The bot can read the cloud again (posted in the self-alert's thread)."""
    if failures_since is not None:
        said = _(
            "*The backups bot can read the cloud again* after {duration}. Stale backups are "
            "noticed again from this sweep on."
        ).format(duration=say_duration(max(now - failures_since, timedelta(0))))
    else:
        said = _(
            "*The backups bot can read the cloud again*. Stale backups are noticed again from "
            "this sweep on."
        )
    text = f":white_check_mark: {said}"
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
    who = mention(requested_by) if requested_by else _("someone")
    values = {
        "cluster": name,
        "who": who,
        "operation": id_code(operation_id),
        "took": say_duration(max(now - requested_at, timedelta(0))),
    }
    if outcome == OperationOutcome.DONE:
        icon = ":white_check_mark:"
        said = _(
            "The backup of {cluster} that {who} started is done (operation {operation}, "
            "{took}). An open alert resolves at the next check."
        )
    elif outcome == OperationOutcome.FAILED:
        values["reason"] = escape((error or _("no reason given"))[:300])
        icon = ":x:"
        said = _(
            "The backup of {cluster} that {who} started failed: {reason} (operation {operation})."
        )
    elif outcome == OperationOutcome.GAVE_UP:
        icon = ":hourglass:"
        said = _(
            "The backup of {cluster} that {who} started is still running after {took} "
            "(operation {operation}); I stopped following it. Check the console."
        )
    else:
        icon = ":grey_question:"
        said = _(
            "The cloud no longer knows operation {operation}, the backup of {cluster} that "
            "{who} started; check the cluster's backups."
        )
    text = f"{icon} {said.format(**values)}"
    return Card(text, [Text(text)])
