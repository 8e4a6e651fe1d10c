"""Grouped alerts: a storm of stale clusters in one post, the rest in its thread.

When an Object Storage outage makes 300 clusters stale at once, on-call gets one post that
mentions them once, says how many and which are worst, and acts on all of them (acknowledge,
snooze); the rows that do not fit are in the thread, and so are the joins, recoveries and
reminders of later sweeps. Everything from the cloud is escaped; every message is packed within
the chat's limits (see :mod:`bot.chat.pack`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.alerts.model import AlertEntry, AlertGroup, AlertStatus
from bot.chat.card import Button, Buttons, Card, Divider, Limits, Note, Part, Text
from bot.chat.mrkdwn import code, escape, link, mention
from bot.chat.pack import pack
from bot.cloud.models import Cluster
from bot.config import AlertRoute
from bot.durations import format_duration
from bot.freshness.messages import (
    STATE_EMOJI,
    attempt_words,
    condition_words,
    console_backups_url,
    cut,
    slack_date,
)
from bot.freshness.model import FreshnessReport, FreshnessState

#: Action ids of a grouped alert's buttons; handlers/ listens for these.
ACTION_GROUP_ACK = "group_ack"
ACTION_GROUP_SNOOZE_4H = "group_snooze_4h"
ACTION_GROUP_SNOOZE_24H = "group_snooze_24h"

#: Rows a group's post shows before "and N more in the thread".
TOP_ROWS = 15
_NAME_MAX = 100
_ID_MAX = 64


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
        limit = format_duration(report.max_age.value)
        parts.append(f"newest {format_duration(report.age)} old (max {limit})")
    elif state == FreshnessState.NEVER:
        parts.append("no backup at all")
    elif entry.newest_backup_at is not None:
        # Not read just now: what the incident remembers of the newest backup.
        age = format_duration(max(now - entry.newest_backup_at, timedelta(0)))
        limit = ""
        if entry.stale_since is not None and entry.stale_since >= entry.newest_backup_at:
            limit = f" (max {format_duration(entry.stale_since - entry.newest_backup_at)})"
        parts.append(f"newest {age} old{limit}")
    explanation = report.explanation if report is not None else None
    if explanation is not None:
        # A few words each: a storm's rows are many, the thread has the rest.
        said = condition_words(explanation.condition)
        if explanation.condition.blocking:
            said = f"cluster {said.split(':')[0]}"
        if said:
            parts.append(f":warning: {said}")
        if attempt := attempt_words(explanation):
            parts.append(attempt)
    if entry.status == AlertStatus.ACKNOWLEDGED:
        parts.append(
            f":eyes: {mention(entry.acknowledged_by)}" if entry.acknowledged_by else ":eyes:"
        )
    elif entry.status == AlertStatus.SNOOZED and entry.snoozed_until is not None:
        parts.append(f":zzz: until {slack_date(entry.snoozed_until)}")
    elif entry.status == AlertStatus.RESOLVED:
        parts.append(":white_check_mark: recovered")
    parts.append(code(cluster.id[:_ID_MAX]))
    return " · ".join(parts)


def _buttons(group: AlertGroup) -> Buttons:
    value = json.dumps({"g": group.id}, separators=(",", ":"))
    return Buttons(
        [
            Button(ACTION_GROUP_ACK, "Acknowledge all", value, style="primary", emoji=True),
            Button(ACTION_GROUP_SNOOZE_4H, "Snooze all 4 h", value, emoji=True),
            Button(ACTION_GROUP_SNOOZE_24H, "Snooze all 24 h", value, emoji=True),
        ],
        anchor="group_actions",
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _counts(members: Sequence[GroupMember]) -> str:
    states = Counter(m.state for m in members if m.entry.status.is_open)
    statuses = Counter(m.entry.status for m in members)
    parts = []
    for state in (FreshnessState.STALE, FreshnessState.NEVER, FreshnessState.UNKNOWN):
        if states.get(state):
            parts.append(f"{STATE_EMOJI[state]} {states[state]} {state.value}")
    if statuses.get(AlertStatus.ACKNOWLEDGED):
        parts.append(f":eyes: {statuses[AlertStatus.ACKNOWLEDGED]} acknowledged")
    if statuses.get(AlertStatus.SNOOZED):
        parts.append(f":zzz: {statuses[AlertStatus.SNOOZED]} snoozed")
    if statuses.get(AlertStatus.RESOLVED):
        parts.append(f":white_check_mark: {statuses[AlertStatus.RESOLVED]} recovered")
    return " · ".join(parts)


def render_group_alert(
    group: AlertGroup,
    members: Sequence[GroupMember],
    *,
    route: AlertRoute,
    console_url: str,
    limits: Limits,
    now: datetime,
) -> tuple[Card, list[Card]]:
    """The group's post (rendered anew on every change and updated in place) and, for its first
    posting, the thread parts holding the rows the post leaves out."""
    open_members = [m for m in members if m.entry.status.is_open]
    total = len(members)
    label = escape(cut(group.label, _NAME_MAX))
    if group.resolved_at is not None:
        lasted = format_duration(max(group.resolved_at - group.opened_at, timedelta(0)))
        status = (
            f":white_check_mark: *RESOLVED* {slack_date(group.resolved_at)} · every one of "
            f"{_plural(total, 'cluster')} in *{label}* has a fresh backup again; the storm "
            f"lasted {lasted}"
        )
        fallback = f"RESOLVED: {total} clusters in {label} have fresh backups again"
    else:
        firing = sum(1 for m in open_members if m.entry.status == AlertStatus.FIRING)
        if firing:
            mentions = " ".join(mention(i) for i in dict.fromkeys(route.mention))
            head = f":rotating_light: *FIRING* {mentions}".rstrip()
        else:
            head = ":eyes: *ACKNOWLEDGED OR SNOOZED*"
        status = (
            f"{head}\n*{len(open_members)} of {_plural(total, 'cluster')} in {label}* "
            "have no fresh backup"
        )
        fallback = f"FIRING: {len(open_members)} clusters in {label} have no fresh backup"
        if firing and route.mention:
            fallback += " " + " ".join(mention(i) for i in dict.fromkeys(route.mention))
    notes = [
        f"opened {slack_date(group.opened_at)}",
        f"checked {slack_date(now)}",
        "one post for the whole group; each cluster resolves on its own",
    ]
    lead: list[Part] = [Text(status), Note([_counts(members) or "no cluster"]), Divider()]
    foot: list[Part] = [Note([" · ".join(notes)])]
    if group.is_open:
        foot.append(_buttons(group))
    rows = [_row(m, console_url, now) for m in _worst_first(members, now)]

    def foot_of(left: int) -> list[Part]:
        more = [Note([f"… and {left} more in the thread"])] if left else []
        return [*more, *foot]

    packed = pack(rows, limits=limits, head=lead, foot=foot_of, max_rows=TOP_ROWS)
    left = [row for row in packed.left if isinstance(row, str)]
    thread = _parts(f"*{label}*, the rest of the storm:", left, limits)
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
    title = f":heavy_plus_sign: {_plural(len(joined), 'more cluster')} joined this storm:"
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
    title = (
        f":white_check_mark: {_plural(len(recovered), 'cluster')} recovered; "
        f"{left} still without a fresh backup:"
    )
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
    lasted = format_duration(max(now - group.opened_at, timedelta(0)))
    firing = sum(1 for m in still_open if m.entry.status == AlertStatus.FIRING)
    text = (
        f":alarm_clock: {_plural(len(still_open), 'cluster')} of this storm still "
        f"{'has' if len(still_open) == 1 else 'have'} no fresh backup ({firing} not "
        f"acknowledged); it started {lasted} ago."
    )
    if mention_ids and firing:
        text += " " + " ".join(mention(i) for i in dict.fromkeys(mention_ids))
    return Card(text, [Text(text)])


def render_group_resolved(
    group: AlertGroup, members: Sequence[GroupMember], *, now: datetime
) -> Card:
    """The storm is over: the last member recovered."""
    end = group.resolved_at or now
    lasted = format_duration(max(end - group.opened_at, timedelta(0)))
    text = (
        f":white_check_mark: Resolved: every one of the {_plural(len(members), 'cluster')} "
        f"of this storm has a fresh backup again. It lasted {lasted}."
    )
    return Card(text, [Text(text)])
