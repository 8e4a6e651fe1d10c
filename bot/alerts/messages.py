"""The watcher's Slack messages: the daily digest, the stale-backup alert (updated in place), its
thread replies, and the bot's alert about itself.

Everything that comes from the cloud (names, ids, labels, error text) is escaped and bounded in
length, so that a cluster named ``<!channel>`` notifies nobody and no row can outgrow a section.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from bot.alerts.model import AlertEntry, AlertStatus
from bot.alerts.policy import outage_duration
from bot.backup.model import OperationOutcome
from bot.chat.mrkdwn import code, escape, link, mention
from bot.cloud.models import Cluster, Environment
from bot.commands import strings
from bot.commands.messages import STATUS_NEXT_PAGE_ACTION, next_page_button, view_page_value
from bot.commands.strings import BUTTON_NEXT_PAGE, PREFIX
from bot.config import AlertRoute
from bot.digest.model import STATE_ORDER, Digest, DigestGroup, DigestRow
from bot.durations import format_duration
from bot.freshness.messages import SHORT_ERROR_ESCAPED, attempt_line, blocking_clause, detail_lines
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.i18n.units import format_bytes, format_signed, format_signed_bytes
from bot.slack.budget import LazyRows, OverBudget, checked, cut_escaped, escape_clipped, pack_rows
from bot.slack.message import MAX_FIELD_TEXT, MAX_HEADER_TEXT, Message

#: Action ids of the alert's buttons; handlers/ listens for these.
ACTION_ACK = "alert_ack"
ACTION_SNOOZE_4H = "alert_snooze_4h"
ACTION_SNOOZE_24H = "alert_snooze_24h"
ACTION_LIST = "alert_list"
ACTION_BACKUP = "alert_backup"

#: One emoji per state, the same as the command replies use (bot.commands.strings).
STATE_EMOJI: dict[FreshnessState, str] = {
    state: strings.STATE_ICON[state.value] for state in FreshnessState
}

# Bounds on text from the cloud, measured after escaping (which may grow it five times).
_NAME_ESCAPED = 200
_TITLE_ESCAPED = 200
_ID_ESCAPED = 100
_REASON_ESCAPED = 600
#: One warning in a digest's lead (five of them share a section).
_WARNING_ESCAPED = 500
_LABEL_ESCAPED = 150
#: Ids in console URLs, before percent-encoding (at most three times longer).
_ID_MAX = 64
#: Warnings named in a digest's lead; the rest are counted.
_WARNINGS_MAX = 5
_LABELS_MAX = 10


# --- small helpers -------------------------------------------------------------------------------


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


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str) -> str:
    # plain_text is not parsed for mentions, but a header or a dialog is no place to show
    # "<!channel>" either; angle quotes keep the text readable.
    return text.replace("<", "‹").replace(">", "›")


def _name(cluster: Cluster) -> str:
    """The cluster's name, plain, short enough that escaped it takes at most _NAME_ESCAPED."""
    return cut_escaped(cluster.display_name, _NAME_ESCAPED)


def _id_code(value: str) -> str:
    """An id from the cloud as inline code, bounded after escaping."""
    return code(cut_escaped(value, _ID_ESCAPED))


def _reason(text: str) -> str:
    return escape_clipped(text, _REASON_ESCAPED)


def _cluster_link(cluster: Cluster, console_url: str) -> str:
    url = console_backups_url(console_url, _cut(cluster.folder_id, _ID_MAX), cluster.id[:_ID_MAX])
    return link(url, _name(cluster))


def _environment(cluster: Cluster) -> str | None:
    if cluster.environment == Environment.ENVIRONMENT_UNSPECIFIED:
        return None
    return cluster.environment.value


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


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts]}


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _plain(_cut(text, MAX_HEADER_TEXT)), "emoji": True},
    }


# --- the digest ----------------------------------------------------------------------------------

#: Rows in the digest's top post at most: a screenful; the rest are in its thread.
TOP_ROWS = 20
#: Characters (escaped) of a group's name in its heading.
_GROUP_LABEL_MAX = 150
#: Fresh-only groups named in the top post's foot; the rest are counted.
_QUIET_GROUPS_MAX = 5


@dataclass(frozen=True, slots=True)
class DigestMessages:
    """A digest as Slack gets it: one top-level post, and the parts of its thread."""

    top: Message
    thread: list[Message]

    def messages(self) -> list[Message]:
        """The top post, then the thread's parts, in the order they are posted."""
        return [self.top, *self.thread]


def flatten_digest(rendered: DigestMessages) -> list[Message]:
    """Every message of a digest in posting order, the top post first."""
    return rendered.messages()


def render_digest(
    digest: Digest, *, title: str, console_url: str, warnings: Sequence[str] = ()
) -> DigestMessages:
    """The digest as one top-level post and the parts of its thread.

    The top post has the title, the counts, what the digest could not see (``warnings``: a folder
    that could not be listed, whose clusters are missing, which the reader must not take for good
    news), and at most :data:`TOP_ROWS` of the worst rows, grouped as the digest's ``group_by``
    says and worst first within each group; fresh clusters are counted per group, not listed.
    It ends with what is left for the thread ("412 more problems and 588 fresh clusters in the
    thread"). The thread names every row the top post left out, in parts within Slack's budget
    (with ``only_problems`` the fresh clusters are only counted).
    """
    rows = digest.rows
    by_folder = "folder" in digest.group_by  # the group heading names the folder
    now = digest.generated_at
    texts = [_digest_row(row, console_url, now, folder=not by_folder) for row in rows]
    group_rank = {group.key: rank for rank, group in enumerate(digest.groups)}
    groups = {group.key: group for group in digest.groups}
    grouped = bool(digest.group_by)
    notable = [i for i, row in enumerate(rows) if row.notable]

    top: Message | None = None
    chosen: list[int] = []
    for count in range(min(TOP_ROWS, len(notable)), -1, -1):
        chosen = sorted(notable[:count], key=lambda i: (group_rank[rows[i].group], i))
        top = _digest_top(digest, title, warnings, rows, texts, chosen, groups, grouped)
        if top is not None:
            break
    assert top is not None  # the head alone always fits: its parts are bounded

    in_top = set(chosen)
    rest = sorted(
        (i for i in range(len(rows)) if i not in in_top),
        key=lambda i: (group_rank[rows[i].group], i),
    )
    thread = _digest_thread(title, rows, texts, rest, groups, grouped)
    return DigestMessages(top=top, thread=thread)


def _digest_top(
    digest: Digest,
    title: str,
    warnings: Sequence[str],
    rows: Sequence[DigestRow],
    texts: Sequence[str],
    chosen: Sequence[int],
    groups: dict[str, DigestGroup],
    grouped: bool,
) -> Message | None:
    """The top post with the rows ``chosen`` (in display order), or None if they do not fit."""
    body: list[str] = []
    previous_group: str | None = None
    for i in chosen:
        text = texts[i]
        if grouped and rows[i].group != previous_group:
            text = f"{_group_heading(groups[rows[i].group])}\n{text}"
        previous_group = rows[i].group
        body.append(text)
    if not body:
        if digest.cluster_count == 0:
            body = ["No watched cluster matches this digest."]
        elif not any(row.notable for row in rows):
            body = [
                f":white_check_mark: Nothing to report: all "
                f"{_plural(digest.cluster_count, 'cluster')} have fresh backups."
            ]
    shown = set(chosen)
    left = [row for i, row in enumerate(rows) if i not in shown]
    problems_left = sum(1 for row in left if row.report.state != FreshnessState.FRESH)
    fresh_left = len(left) - problems_left
    foot = _digest_top_foot(digest, problems_left, fresh_left, chosen, rows, grouped)
    packed = pack_rows(
        body,
        text=_digest_fallback(title, digest),
        head=_digest_lead(digest, title, warnings),
        foot=foot,
        max_rows=len(body),
    )
    return packed.message if packed.shown == len(body) else None


def _digest_lead(digest: Digest, title: str, warnings: Sequence[str] = ()) -> list[dict[str, Any]]:
    notes = [f"Generated {slack_date(digest.generated_at)}"]
    if digest.only_problems and digest.hidden_count:
        notes.append(f"{_plural(digest.hidden_count, 'cluster')} with fresh backups not shown")
    lead = [_header(title), _section(_digest_summary(digest)), _context(" · ".join(notes))]
    if warnings:
        shown = [escape_clipped(w, _WARNING_ESCAPED) for w in warnings[:_WARNINGS_MAX]]
        if len(warnings) > _WARNINGS_MAX:
            shown.append(f"and {len(warnings) - _WARNINGS_MAX} more")
        lead.append(_section(":warning: *Not in this digest:* " + "; ".join(shown)))
    return [*lead, {"type": "divider"}]


def _digest_top_foot(
    digest: Digest,
    problems_left: int,
    fresh_left: int,
    chosen: Sequence[int],
    rows: Sequence[DigestRow],
    grouped: bool,
) -> list[dict[str, Any]]:
    notes = []
    parts = []
    if problems_left:
        parts.append(f"{problems_left} more {'problem' if problems_left == 1 else 'problems'}")
    if fresh_left:
        parts.append(f"{fresh_left} fresh {'cluster' if fresh_left == 1 else 'clusters'}")
    if parts:
        notes.append(f":thread: {' and '.join(parts)} in the thread")
    if grouped:
        shown_groups = {rows[i].group for i in chosen}
        quiet = [
            g
            for g in digest.groups
            if g.key not in shown_groups and g.counts[FreshnessState.FRESH] == g.cluster_count
        ]
        if quiet:
            named = [
                f"*{escape_clipped(g.label, _GROUP_LABEL_MAX)}* ({g.cluster_count})"
                for g in quiet[:_QUIET_GROUPS_MAX]
            ]
            if len(quiet) > _QUIET_GROUPS_MAX:
                named.append(f"and {len(quiet) - _QUIET_GROUPS_MAX} more groups")
            notes.append(f"{STATE_EMOJI[FreshnessState.FRESH]} All fresh: " + " · ".join(named))
    return [_context(*notes)] if notes else []


def _group_heading(group: DigestGroup, *, continued: bool = False) -> str:
    counts = " · ".join(
        f"{STATE_EMOJI[state]} {count} {state.value}"
        for state in STATE_ORDER
        if (count := group.counts.get(state, 0))
    )
    more = " (continued)" if continued else ""
    return f"*{escape_clipped(group.label, _GROUP_LABEL_MAX)}*{more} · {counts}"


def _digest_thread(
    title: str,
    rows: Sequence[DigestRow],
    texts: Sequence[str],
    order: Sequence[int],
    groups: dict[str, DigestGroup],
    grouped: bool,
) -> list[Message]:
    """The rows at ``order`` in parts: each within the budget, a group's heading before its
    first row (again, marked continued, at the top of a part that starts inside a group)."""

    def decorated(at: int, first_in_part: bool) -> str:
        i = order[at]
        if not grouped:
            return texts[i]
        group = rows[i].group
        if at == 0 or rows[order[at - 1]].group != group:
            return f"{_group_heading(groups[group])}\n{texts[i]}"
        if first_in_part:
            return f"{_group_heading(groups[group], continued=True)}\n{texts[i]}"
        return texts[i]

    # Pack with the widest part numbers the thread can have, then number the parts for real
    # (the real head is no longer, so every part still fits).
    widest = len(str(max(len(order), 1)))
    parts: list[list[str]] = []
    at = 0

    def rows_from(start: int) -> LazyRows:
        return LazyRows(len(order) - start, lambda j: decorated(start + j, j == 0))

    while at < len(order):
        rest = rows_from(at)
        packed = pack_rows(
            rest,
            text=_thread_fallback(title, 10**widest - 1, 10**widest - 1),
            head=_thread_head(title, 10**widest - 1, 10**widest - 1),
        )
        if packed.shown == 0:
            raise OverBudget([f"row {at + 1} of the digest's thread fits no message"])
        parts.append(list(rest[: packed.shown]))
        at += packed.shown
    messages = []
    for number, part in enumerate(parts, start=1):
        packed = pack_rows(
            part,
            text=_thread_fallback(title, number, len(parts)),
            head=_thread_head(title, number, len(parts)),
        )
        assert packed.shown == len(part)
        messages.append(packed.message)
    return messages


def _thread_head(title: str, number: int, total: int) -> list[dict[str, Any]]:
    return [
        _context(f"*{escape_clipped(title, _TITLE_ESCAPED)}*, continued: part {number} of {total}")
    ]


def _thread_fallback(title: str, number: int, total: int) -> str:
    return f"{escape_clipped(title, _TITLE_ESCAPED)}, continued (part {number} of {total})"


def _digest_fallback(title: str, digest: Digest) -> str:
    counts = ", ".join(_digest_counts(digest, emoji=False))
    return f"{escape_clipped(title, _TITLE_ESCAPED)}: {counts}"


# --- status: the digest view, one page at a time -----------------------------------------------


def render_status(
    digest: Digest,
    *,
    title: str,
    console_url: str,
    warnings: Sequence[str] = (),
    target: str | None = None,
    offset: int = 0,
    detailed: bool = False,
) -> Message:
    """One page of ``/backups status``: every row worst first, from row ``offset``, as many as
    fit one message, with a Next page button for the rest (its value holds ``target`` and the
    next offset, so the page after survives a restart). ``detailed`` (the status of one
    cluster) adds to each row its retention policies, restore readiness and backup trend."""
    total = len(digest.rows)
    offset = max(0, offset)
    window = digest.rows[offset:]
    texts: Sequence[str] = LazyRows(
        len(window),
        lambda i: _digest_row(window[i], console_url, digest.generated_at, detailed=detailed),
    )
    if not texts:
        if total == 0 and offset == 0:
            texts = ["No watched cluster matches."]
        else:
            texts = [
                escape(strings.VIEW_FLEET_CHANGED).format(
                    n=offset, prefix=escape(PREFIX), command="status"
                )
            ]
        window = ()

    def shown_of(left: int) -> int:
        return len(window) - left if window else 0

    def foot(left: int) -> list[dict[str, Any]]:
        shown = shown_of(left)
        remaining = total - offset - shown
        notes = []
        if shown and (offset or remaining > 0):
            rows_shown = strings.VIEW_ROWS.format(
                first=offset + 1, last=offset + shown, total=total
            )
            notes.append(rows_shown[:1].upper() + rows_shown[1:])
        elif total:
            notes.append(_plural(total, "cluster"))
        blocks = []
        if remaining > 0:
            notes.append(strings.VIEW_MORE.format(n=remaining, button=BUTTON_NEXT_PAGE))
            blocks.append(
                next_page_button(STATUS_NEXT_PAGE_ACTION, view_page_value(target, offset + shown))
            )
        return [*([_context(" · ".join(notes))] if notes else []), *blocks]

    def fallback(left: int) -> str:
        text = _digest_fallback(title, digest)
        shown = shown_of(left)
        if shown and shown < total:
            text += f" (rows {offset + 1}–{offset + shown} of {total})"
        return text

    if offset == 0:
        head = _digest_lead(digest, title, warnings)
    else:
        title_text = escape_clipped(title, _TITLE_ESCAPED)
        head = [_context(f"*{title_text}* · " + strings.VIEW_FROM_ROW.format(n=offset + 1))]
    return pack_rows(texts, text=fallback, head=head, foot=foot).message


def _digest_counts(digest: Digest, *, emoji: bool) -> list[str]:
    parts = []
    for state in (
        FreshnessState.FRESH,
        FreshnessState.STALE,
        FreshnessState.NEVER,
        FreshnessState.UNKNOWN,
        FreshnessState.STOPPED,
        FreshnessState.UNSCHEDULED,
    ):
        count = digest.counts.get(state, 0)
        always = state in (
            FreshnessState.FRESH,
            FreshnessState.STALE,
            FreshnessState.NEVER,
            FreshnessState.UNKNOWN,
        )
        if count or always:
            prefix = f"{STATE_EMOJI[state]} " if emoji else ""
            parts.append(f"{prefix}{count} {state.value}")
    return parts


def _digest_summary(digest: Digest) -> str:
    counts = " · ".join(_digest_counts(digest, emoji=True))
    return (
        f"*{_plural(digest.cluster_count, 'cluster')}*: {counts}\n"
        f"Newest backups total {format_bytes(digest.total_size_bytes)}"
    )


def _digest_row(
    row: DigestRow,
    console_url: str,
    now: datetime,
    *,
    folder: bool = True,
    detailed: bool = False,
) -> str:
    """One cluster's row at ``now``; ``folder=False`` leaves out the folder (its group heading
    names it); ``detailed`` adds policies, restore readiness and the trend."""
    cluster, report = row.cluster, row.report
    head = [f"{STATE_EMOJI[report.state]} *{_cluster_link(cluster, console_url)}*"]
    environment = _environment(cluster)
    if environment is not None:
        head.append(environment)
    if cluster.folder_id and folder:
        head.append(f"folder {_id_code(cluster.folder_id)}")
    lines = [" · ".join(head), _digest_state_line(row)]
    lines += detail_lines(
        report.explanation, report.state, now, full=detailed, error_limit=SHORT_ERROR_ESCAPED
    )

    changes = []
    if row.size_delta is not None:
        changes.append(format_signed_bytes(row.size_delta))
    if row.indices_delta is not None:
        changes.append(f"{format_signed(row.indices_delta)} indices")
    if row.count_delta is not None:
        word = "backup" if abs(row.count_delta) == 1 else "backups"
        changes.append(f"{format_signed(row.count_delta)} {word}")
    if changes:
        lines.append("Since the last digest: " + ", ".join(changes))

    ratio = row.shrink_ratio
    if row.shrunk and ratio is not None and row.newest and row.previous_backup:
        lines.append(
            f":warning: The newest backup is {ratio:.0%} smaller than the one before it "
            f"({format_bytes(row.previous_backup.size_bytes)} → "
            f"{format_bytes(row.newest.size_bytes)})"
        )
    return "\n".join(lines)


def _sentence(text: str) -> str:
    """``text`` with a capital first letter (reasons are written to fit mid-sentence too)."""
    return text[:1].upper() + text[1:]


def _digest_state_line(row: DigestRow) -> str:
    report = row.report
    limit = format_duration(report.max_age.value)
    if report.state == FreshnessState.UNKNOWN:
        return _sentence(_reason(report.reason or "the backups could not be read"))
    prefix = ""
    explanation = report.explanation
    clause = blocking_clause(explanation.condition if explanation else None, report.state)
    if clause:
        prefix = f":no_entry: {_sentence(clause)}. "
    elif report.state == FreshnessState.STOPPED:
        prefix = "Cluster stopped, not checked. "
    elif report.state == FreshnessState.UNSCHEDULED:
        prefix = "Snapshot schedule removed, not checked. "
    newest = row.newest
    if newest is None or report.age is None:
        return f"{prefix}No backup yet (max age {limit})"
    parts = [
        f"{prefix}Newest {format_duration(report.age)} ago ({slack_date(newest.created_at)})"
        if newest.created_at is not None
        else f"{prefix}Newest {format_duration(report.age)} ago",
        f"max {limit}",
        format_bytes(newest.size_bytes),
        f"{newest.indices_total} indices",
    ]
    if row.backup_count is not None:
        parts.append(_plural(row.backup_count, "backup"))
    return " · ".join(parts)


# --- the alert -----------------------------------------------------------------------------------


def render_alert(
    entry: AlertEntry,
    *,
    cluster: Cluster,
    report: FreshnessReport,
    route: AlertRoute,
    console_url: str,
    now: datetime,
) -> Message:
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
            f"{status_line}\n*{_cluster_link(cluster, console_url)}*: {problem}",
            *detail_lines(report.explanation, report.state, now),
        ]
    )

    fields = []
    environment = _environment(cluster)
    if environment is not None:
        fields.append(f"*Environment*\n{environment}")
    if cluster.folder_id:
        fields.append(f"*Folder*\n{_id_code(cluster.folder_id)}")
    fields.append(f"*Cluster id*\n{_id_code(cluster.id)}")
    if report.newest_backup_id is not None and report.newest_backup_at is not None:
        fields.append(
            f"*Newest backup*\n{_id_code(report.newest_backup_id)}\n"
            f"{slack_date(report.newest_backup_at)}"
        )
    else:
        fields.append("*Newest backup*\nnone")
    age = format_duration(report.age) if report.age is not None else "n/a"
    fields.append(f"*Age*\n{age} (max {format_duration(report.max_age.value)})")
    if entry.stale_since is not None:
        fields.append(f"*Stale since*\n{slack_date(entry.stale_since)}")
    if cluster.labels:
        fields.append(_labels_field(cluster.labels))

    notes = [f"Max age from {_max_age_source(report.max_age)}"]
    if entry.opened_at is not None:
        notes.append(f"opened {slack_date(entry.opened_at)}")
    notes.append(f"checked {slack_date(now)}")

    blocks: list[dict[str, Any]] = [
        _section(headline, block_id="alert_headline"),
        {
            "type": "section",
            "block_id": "alert_fields",
            "fields": [{"type": "mrkdwn", "text": text} for text in fields],
        },
        _context(" · ".join(notes)),
    ]
    if entry.status.is_open:
        blocks.append(_alert_buttons(entry, cluster))
    return checked(Message(text=_alert_fallback(entry, cluster, report, route), blocks=blocks))


def _labels_field(labels: dict[str, str]) -> str:
    """``*Labels*`` and as many ``key=value`` codes as fit a field, then how many more."""
    items = sorted(labels.items())
    shown = [code(cut_escaped(f"{k}={v}", _LABEL_ESCAPED)) for k, v in items[:_LABELS_MAX]]
    room = MAX_FIELD_TEXT - len("*Labels*\n") - len(" and 99 more")
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
        return _reason(report.reason or "the backups could not be read")
    return f"the newest backup is older than the maximum of {limit}"


def _alert_buttons(entry: AlertEntry, cluster: Cluster) -> dict[str, Any]:
    value = json.dumps({"c": entry.cluster_id, "r": entry.route_key}, separators=(",", ":"))

    def button(text: str, action_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "type": "button",
            "text": {"type": "plain_text", "text": text, "emoji": True},
            "action_id": action_id,
            "value": value,
            **extra,
        }

    elements = []
    if entry.status != AlertStatus.ACKNOWLEDGED:
        elements.append(button("Acknowledge", ACTION_ACK, style="primary"))
    elements += [
        button("Snooze 4 h", ACTION_SNOOZE_4H),
        button("Snooze 24 h", ACTION_SNOOZE_24H),
        button("List backups", ACTION_LIST),
        button(
            "Start backup now",
            ACTION_BACKUP,
            confirm={
                "title": {"type": "plain_text", "text": "Start a backup now?"},
                "text": {
                    "type": "plain_text",
                    "text": (
                        f"Start a backup of {_plain(_cut(cluster.display_name, 60))} now? It "
                        "runs in the background; the alert resolves when it completes."
                    ),
                },
                "confirm": {"type": "plain_text", "text": "Start backup"},
                "deny": {"type": "plain_text", "text": "Cancel"},
            },
        ),
    ]
    return {"type": "actions", "block_id": "alert_actions", "elements": elements}


def _alert_fallback(
    entry: AlertEntry, cluster: Cluster, report: FreshnessReport, route: AlertRoute
) -> str:
    name = escape(_name(cluster))
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
) -> Message:
    """A reminder in the alert's thread: the cluster is still without a fresh backup."""
    name = f"*{escape(_name(cluster))}*"
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
    return checked(Message(text=text, blocks=[_section("\n".join(lines))]))


def render_resolved(
    entry: AlertEntry, *, cluster: Cluster, report: FreshnessReport, now: datetime
) -> Message:
    """The resolved notice in the alert's thread, saying why it resolved."""
    name = f"*{escape(_name(cluster))}*"
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
        backup = f" ({_id_code(report.newest_backup_id)})" if report.newest_backup_id else ""
        text = (
            f":white_check_mark: Resolved: a fresh backup landed{landed}{backup}; "
            f"{name} went without a fresh backup for {outage}."
        )
    return checked(Message(text=text, blocks=[_section(text)]))


def render_retired(entry: AlertEntry, *, now: datetime) -> Message:
    """An incident closed because its cluster is no longer watched on the route (deleted, moved,
    or no longer matching): the text that replaces the alert and goes in its thread. The cluster
    may be gone, so only what the incident itself remembers is shown."""
    outage = format_duration(outage_duration(entry, now))
    text = (
        f":white_check_mark: Resolved: cluster {_id_code(entry.cluster_id)} is no longer "
        f"watched here (deleted, moved out of the watched folders, or no longer matching this "
        f"alert route). It had gone without a fresh backup for {outage}."
    )
    return checked(Message(text=text, blocks=[_section(text)]))


# --- the bot about itself ------------------------------------------------------------------------


def render_self_alert(
    consecutive_failures: int, last_ok: datetime | None, reason: str, now: datetime
) -> Message:
    """The bot cannot read the cloud: until it can, no stale backup will be noticed."""
    if last_ok is None:
        since = "No sweep has succeeded since the bot started."
    else:
        ago = format_duration(max(now - last_ok, timedelta(0)))
        since = f"The last successful sweep was {slack_date(last_ok)} ({ago} ago)."
    text = (
        f":rotating_light: *The backups bot is blind*: it could not read the cloud for "
        f"{_plural(consecutive_failures, 'sweep')} in a row. {since}\n"
        f"Last error: {_reason(reason)}\n"
        "Until it can, stale backups go unnoticed."
    )
    fallback = (
        f"The backups bot could not read the cloud for "
        f"{_plural(consecutive_failures, 'sweep')} in a row."
    )
    return checked(Message(text=fallback, blocks=[_section(text)]))


def render_self_recovered(failures_since: datetime | None, now: datetime) -> Message:
    """The bot can read the cloud again (posted in the self-alert's thread)."""
    blind_for = ""
    if failures_since is not None:
        blind_for = f" after {format_duration(max(now - failures_since, timedelta(0)))}"
    text = (
        f":white_check_mark: *The backups bot can read the cloud again*{blind_for}. "
        "Stale backups are noticed again from this sweep on."
    )
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return checked(Message(text=text.replace("*", ""), blocks=[block]))


def render_operation_outcome(
    outcome: OperationOutcome,
    *,
    cluster_label: str,
    requested_by: str,
    operation_id: str,
    requested_at: datetime,
    error: str | None,
    now: datetime,
) -> Message:
    """What became of a backup someone started, for the thread it was asked from."""
    name = f"*{escape(cut_escaped(cluster_label, _NAME_ESCAPED))}*"
    who = mention(requested_by) if requested_by else "someone"
    op = _id_code(operation_id)
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
    return checked(Message(text=text, blocks=[_section(text)]))
