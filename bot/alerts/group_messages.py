"""Grouped alerts: a storm of stale clusters in one post, the rest in its thread.

When an Object Storage outage makes 300 clusters stale at once, on-call gets one post that
mentions them once, says how many and which are worst, and acts on all of them (acknowledge,
snooze); the rows that do not fit are in the thread, and so are the joins, recoveries and
reminders of later sweeps. Everything from the cloud is escaped; every message is packed within
the chat's limits (see :mod:`bot.chat.pack`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.alerts.actions import (
    ACKNOWLEDGE_ALL,
    SNOOZE_ALL_4H,
    SNOOZE_ALL_24H,
    UNACKNOWLEDGE_ALL,
    UNSNOOZE_ALL,
)
from bot.alerts.messages import escalated_words, same_sweep_words
from bot.alerts.model import AlertEntry, AlertGroup, AlertStatus
from bot.chat.card import Buttons, Card, Divider, Limits, Note, Part, Text
from bot.chat.mrkdwn import code, escape, link, mention
from bot.chat.mrkdwn import mention as mention_of
from bot.chat.pack import escape_clipped, pack
from bot.cloud.models import Cluster
from bot.config import AlertRoute
from bot.fleet.grouping import folder_context
from bot.freshness.attempts import AttemptOutcome
from bot.freshness.messages import (
    STATE_EMOJI,
    attempt_words,
    condition_short,
    console_backups_url,
    cut,
    id_code,
    slack_date,
    state_count,
)
from bot.freshness.model import FreshnessReport, FreshnessState
from bot.i18n.catalog import _, ngettext
from bot.i18n.units import say_duration

#: Action ids of a grouped alert's buttons; handlers/ listens for these.

#: Rows a group's post shows before "and N more in the thread".
TOP_ROWS = 15
_NAME_MAX = 100
_ID_MAX = 64
#: The storm's shared error, as the line under its status says it.
_CAUSE_ESCAPED = 200
#: People named as having acknowledged or snoozed a storm, before "and N more".
_WHO_MAX = 3


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One cluster of a grouped alert: as read now (``report`` None when it was not read in this
    sweep: its incident's stored state stands in), and its own incident."""

    cluster: Cluster
    report: FreshnessReport | None
    entry: AlertEntry

    @property
    def state(self) -> FreshnessState | None:
        return self.report.state if self.report is not None else self.entry.last_state


def _worst_first(members: Sequence[GroupMember], now: datetime) -> list[GroupMember]:
    def key(m: GroupMember) -> tuple[int, float, str]:
        never = 0 if m.state == FreshnessState.NEVER else 1
        since = m.entry.stale_since or m.entry.opened_at or now
        return (never, since.timestamp(), m.cluster.display_name)

    return sorted(members, key=key)


def _row(member: GroupMember, console_url: str, now: datetime) -> str:
    cluster, report, entry = member.cluster, member.report, member.entry
    state = member.state or FreshnessState.UNKNOWN
    name = escape(cut(cluster.display_name, _NAME_MAX))
    if cluster.folder_id:
        url = console_backups_url(console_url, cluster.folder_id[:_ID_MAX], cluster.id[:_ID_MAX])
        name = link(url, cut(cluster.display_name, _NAME_MAX))
    parts = [f"{STATE_EMOJI[state]} *{name}*"]
    if report is not None and report.age is not None:
        parts.append(
            _("newest {age} old (max {limit})").format(
                age=say_duration(report.age), limit=say_duration(report.max_age.value)
            )
        )
    elif state == FreshnessState.NEVER:
        parts.append(_("no backup at all"))
    elif entry.newest_backup_at is not None:
        # Not read just now: what the incident remembers of the newest backup.
        age = say_duration(max(now - entry.newest_backup_at, timedelta(0)))
        if entry.stale_since is not None and entry.stale_since >= entry.newest_backup_at:
            limit = say_duration(entry.stale_since - entry.newest_backup_at)
            parts.append(_("newest {age} old (max {limit})").format(age=age, limit=limit))
        else:
            parts.append(_("newest {age} old").format(age=age))
    explanation = report.explanation if report is not None else None
    if explanation is not None:
        # A few words each: a storm's rows are many, the thread has the rest.
        said = condition_short(explanation.condition)
        if explanation.condition.blocking:
            said = _("cluster {condition}").format(condition=said)
        if said:
            parts.append(f":warning: {said}")
        if attempt := attempt_words(explanation):
            parts.append(attempt)
    if entry.status == AlertStatus.ACKNOWLEDGED:
        parts.append(
            f":eyes: {mention(entry.acknowledged_by)}" if entry.acknowledged_by else ":eyes:"
        )
    elif entry.status == AlertStatus.SNOOZED and entry.snoozed_until is not None:
        parts.append(":zzz: " + _("until {when}").format(when=slack_date(entry.snoozed_until)))
    elif entry.status == AlertStatus.RESOLVED:
        parts.append(":white_check_mark: " + _("recovered"))
    parts.append(code(cluster.id[:_ID_MAX]))
    return " · ".join(parts)


def _buttons(group: AlertGroup, members: Sequence[GroupMember]) -> Buttons:
    """Acknowledge all while any member fires; once none does, Unacknowledge and Unsnooze in its
    place for the members acknowledged and snoozed; the snoozes always."""
    statuses = {m.entry.status for m in members}
    first = []
    if AlertStatus.FIRING in statuses:
        first.append(ACKNOWLEDGE_ALL.button(group.id, style="primary"))
    else:
        if AlertStatus.ACKNOWLEDGED in statuses:
            first.append(UNACKNOWLEDGE_ALL.button(group.id))
        if AlertStatus.SNOOZED in statuses:
            first.append(UNSNOOZE_ALL.button(group.id))
    return Buttons(
        [*first, SNOOZE_ALL_4H.button(group.id), SNOOZE_ALL_24H.button(group.id)],
        anchor="group_actions",
    )


def _failed_error(member: GroupMember) -> str:
    """The error of the member's last backup attempt if it failed (as its code when the cloud
    gave no text), else ""."""
    explanation = member.report.explanation if member.report is not None else None
    attempts = explanation.attempts if explanation is not None else None
    last = attempts.last if attempts is not None else None
    if last is None or last.outcome != AttemptOutcome.FAILED:
        return ""
    return last.error or _("error code {code}").format(code=last.code)


def storm_cause(members: Sequence[GroupMember]) -> str:
    """What the storm's open members share: the most common error of their last backup attempt
    and how many share it ("4 of 5: ..."); "" when none of them failed one."""
    open_members = [m for m in members if m.entry.status.is_open]
    errors = Counter(e for e in map(_failed_error, open_members) if e)
    if not errors:
        return ""
    error, n = min(errors.items(), key=lambda item: (-item[1], item[0]))
    said = _("{n} of {total}: {error}").format(
        n=n, total=len(open_members), error=escape_clipped(error, _CAUSE_ESCAPED)
    )
    return f":x: {said}"


def _who(ids: Sequence[str]) -> str:
    """Up to a few people as mentions, then how many more."""
    unique = list(dict.fromkeys(i for i in ids if i))
    said = " ".join(mention(i) for i in unique[:_WHO_MAX])
    if len(unique) > _WHO_MAX:
        said += " " + _and_more(len(unique) - _WHO_MAX)
    return said


def _and_more(n: int) -> str:
    return ngettext("and {n} more", "and {n} more", n).format(n=n)


def _held_head(members: Sequence[GroupMember]) -> str:
    """A storm none of whose members fires: who acknowledged it, when, or who snoozed it and
    until when."""
    acked = [m.entry for m in members if m.entry.status == AlertStatus.ACKNOWLEDGED]
    snoozed = [m.entry for m in members if m.entry.status == AlertStatus.SNOOZED]
    ack_who = _who([e.acknowledged_by or "" for e in acked])
    ack_times = [e.acknowledged_at for e in acked if e.acknowledged_at is not None]
    snooze_who = _who([e.snoozed_by or "" for e in snoozed])
    untils = [e.snoozed_until for e in snoozed if e.snoozed_until is not None]
    until = slack_date(max(untils)) if untils else ""
    if acked and not snoozed:
        status = "*" + _("ACKNOWLEDGED") + "*"
        if ack_who and ack_times:
            said = _("{status} by {who} {when}").format(
                status=status, who=ack_who, when=slack_date(max(ack_times))
            )
        elif ack_who:
            said = _("{status} by {who}").format(status=status, who=ack_who)
        else:
            said = status
        return f":eyes: {said}"
    if snoozed and not acked:
        status = "*" + _("SNOOZED") + "*"
        if until and snooze_who:
            said = _("{status} until {until} by {who}").format(
                status=status, until=until, who=snooze_who
            )
        elif until:
            said = _("{status} until {until}").format(status=status, until=until)
        else:
            said = status
        return f":zzz: {said}"
    parts = ["*" + _("ACKNOWLEDGED OR SNOOZED") + "*"]
    if ack_who:
        parts.append(_("acknowledged by {who}").format(who=ack_who))
    if snooze_who and until:
        parts.append(_("snoozed until {until} by {who}").format(until=until, who=snooze_who))
    return ":eyes: " + " · ".join(parts)


def _counts(members: Sequence[GroupMember]) -> str:
    states = Counter(m.state for m in members if m.entry.status.is_open)
    statuses = Counter(m.entry.status for m in members)
    parts = []
    for state in (FreshnessState.STALE, FreshnessState.NEVER, FreshnessState.UNKNOWN):
        if states.get(state):
            parts.append(f"{STATE_EMOJI[state]} {state_count(state, states[state])}")
    if n := statuses.get(AlertStatus.ACKNOWLEDGED):
        parts.append(":eyes: " + ngettext("{n} acknowledged", "{n} acknowledged", n).format(n=n))
    if n := statuses.get(AlertStatus.SNOOZED):
        parts.append(":zzz: " + ngettext("{n} snoozed", "{n} snoozed", n).format(n=n))
    if n := statuses.get(AlertStatus.RESOLVED):
        recovered = ngettext("{n} recovered", "{n} recovered", n).format(n=n)
        parts.append(f":white_check_mark: {recovered}")
    return " · ".join(parts)


def render_group_alert(
    group: AlertGroup,
    members: Sequence[GroupMember],
    *,
    route: AlertRoute,
    console_url: str,
    limits: Limits,
    now: datetime,
    mention: Sequence[str] | None = None,
    same_sweep: bool = False,
) -> tuple[Card, list[Card]]:
    """The group's post (rendered anew on every change and updated in place) and, for its first
    posting, the thread parts holding the rows the post leaves out. On-call (``mention``, the
    route's by default) is mentioned while a member fires; ``same_sweep`` says instead that an
    earlier post of this sweep mentioned them."""
    mention_ids = list(dict.fromkeys(route.mention if mention is None else mention))
    open_members = [m for m in members if m.entry.status.is_open]
    total = len(members)
    label = escape(cut(group.label, _NAME_MAX))
    if group.resolved_at is not None:
        lasted = say_duration(max(group.resolved_at - group.opened_at, timedelta(0)))
        every = ngettext(
            "every one of {n} cluster in {group} has a fresh backup again; the storm lasted "
            "{lasted}",
            "every one of {n} clusters in {group} has a fresh backup again; the storm lasted "
            "{lasted}",
            total,
        ).format(n=total, group=f"*{label}*", lasted=lasted)
        when = slack_date(group.resolved_at)
        resolved = _("RESOLVED")
        status = f":white_check_mark: *{resolved}* {when} · {every}"
        fallback = ngettext(
            "RESOLVED: {n} clusters in {group} have fresh backups again",
            "RESOLVED: {n} clusters in {group} have fresh backups again",
            total,
        ).format(n=total, group=label)
    else:
        firing = sum(1 for m in open_members if m.entry.status == AlertStatus.FIRING)
        if firing:
            mentions = " ".join(mention_of(i) for i in mention_ids)
            firing_word = _("FIRING")
            head = f":rotating_light: *{firing_word}* {mentions}".rstrip()
            if same_sweep:
                head += " · " + same_sweep_words()
            escalated = [
                m.entry.escalated_at
                for m in open_members
                if m.entry.status == AlertStatus.FIRING and m.entry.escalated_at is not None
            ]
            if escalated:
                head += " · " + escalated_words(min(escalated))
        else:
            head = _held_head(open_members)
        stale = ngettext(
            "*{open} of {n} cluster in {group}* have no fresh backup",
            "*{open} of {n} clusters in {group}* have no fresh backup",
            total,
        ).format(open=len(open_members), n=total, group=label)
        status = f"{head}\n{stale}"
        if cause := storm_cause(members):
            status += f"\n{cause}"
        fallback = ngettext(
            "FIRING: {n} clusters in {group} have no fresh backup",
            "FIRING: {n} clusters in {group} have no fresh backup",
            len(open_members),
        ).format(n=len(open_members), group=label)
        if firing and mention_ids:
            fallback += " " + " ".join(mention_of(i) for i in mention_ids)
    notes = [
        _("opened {when}").format(when=slack_date(group.opened_at)),
        _("checked {when}").format(when=slack_date(now)),
        _("one post for the whole group; each cluster resolves on its own"),
    ]
    folder_id = folder_context(group.group_key, group.label)
    if folder_id is not None:
        # The title names the folder; its id, which a person copies, in the context line.
        notes.insert(0, _("folder id {id}").format(id=id_code(folder_id)))
    # What a phone shows before the buttons is the status and the cause; the rows come after.
    lead: list[Part] = [Text(status)]
    if group.is_open:
        lead.append(_buttons(group, members))
    lead += [Note([_counts(members) or _("no cluster")]), Divider()]
    foot: list[Part] = [Note([" · ".join(notes)])]
    rows = [_row(m, console_url, now) for m in _worst_first(members, now)]

    def foot_of(left: int) -> list[Part]:
        said = ngettext("… and {n} more in the thread", "… and {n} more in the thread", left)
        more = [Note([said.format(n=left)])] if left else []
        return [*more, *foot]

    packed = pack(rows, limits=limits, head=lead, foot=foot_of, max_rows=TOP_ROWS)
    left = [row for row in packed.left if isinstance(row, str)]
    thread = _parts(_("{group}, the rest of the storm:").format(group=f"*{label}*"), left, limits)
    return Card(fallback, packed.parts), thread


def _parts(title: str, rows: list[str], limits: Limits, *, sep: str = "\n") -> list[Card]:
    """``rows`` in as many thread replies as they need, each headed by ``title``."""
    parts: list[Card] = []
    while rows:
        packed = pack(rows, limits=limits, head=[Note([title])], sep=sep)
        if packed.shown == 0:  # pragma: no cover - a row always fits an empty message
            raise ValueError("a row does not fit a message")
        parts.append(Card(title.replace("*", ""), packed.parts))
        rows = rows[packed.shown :]
    return parts


def _list_parts(
    title: str, members: Sequence[GroupMember], console_url: str, limits: Limits, now: datetime
) -> list[Card]:
    return _parts(title, [_row(m, console_url, now) for m in _worst_first(members, now)], limits)


def render_group_joined(
    group: AlertGroup,
    joined: Sequence[GroupMember],
    *,
    console_url: str,
    limits: Limits,
    now: datetime,
) -> list[Card]:
    """Clusters that went stale while the group was open: they join it, in its thread."""
    if not joined:
        return []
    n = len(joined)
    said = ngettext(
        "{n} more cluster joined this storm:", "{n} more clusters joined this storm:", n
    ).format(n=n)
    title = f":heavy_plus_sign: {said}"
    return _list_parts(title, joined, console_url, limits, now)


def render_group_recovered(
    group: AlertGroup,
    recovered: Sequence[GroupMember],
    *,
    left: int,
    limits: Limits,
    now: datetime,
) -> list[Card]:
    """Clusters of the group that recovered in this sweep (one reply per sweep)."""
    if not recovered:
        return []
    names = [escape(cut(m.cluster.display_name, _NAME_MAX)) for m in recovered]
    said = ngettext(
        "{n} cluster recovered; {left} still without a fresh backup:",
        "{n} clusters recovered; {left} still without a fresh backup:",
        len(recovered),
    ).format(n=len(recovered), left=left)
    title = f":white_check_mark: {said}"
    rows = [
        f"{name} · {code(m.cluster.id[:_ID_MAX])}" for name, m in zip(names, recovered, strict=True)
    ]
    return _parts(title, rows, limits)


def render_group_reminder(
    group: AlertGroup,
    still_open: Sequence[GroupMember],
    *,
    mention_ids: Sequence[str],
    now: datetime,
) -> Card:
    """A reminder in the group's thread: how many are still stale, for how long."""
    lasted = say_duration(max(now - group.opened_at, timedelta(0)))
    firing = sum(1 for m in still_open if m.entry.status == AlertStatus.FIRING)
    said = ngettext(
        "{n} cluster of this storm still has no fresh backup ({firing} not acknowledged); it "
        "started {lasted} ago.",
        "{n} clusters of this storm still have no fresh backup ({firing} not acknowledged); it "
        "started {lasted} ago.",
        len(still_open),
    ).format(n=len(still_open), firing=firing, lasted=lasted)
    text = f":alarm_clock: {said}"
    if mention_ids and firing:
        text += " " + " ".join(mention(i) for i in dict.fromkeys(mention_ids))
    return Card(text, [Text(text)])


def render_group_resolved(
    group: AlertGroup, members: Sequence[GroupMember], *, now: datetime
) -> Card:
    """The storm is over: the last member recovered."""
    end = group.resolved_at or now
    lasted = say_duration(max(end - group.opened_at, timedelta(0)))
    said = ngettext(
        "Resolved: every one of the {n} cluster of this storm has a fresh backup again. It "
        "lasted {lasted}.",
        "Resolved: every one of the {n} clusters of this storm has a fresh backup again. It "
        "lasted {lasted}.",
        len(members),
    ).format(n=len(members), lasted=lasted)
    text = f":white_check_mark: {said}"
    return Card(text, [Text(text)])
