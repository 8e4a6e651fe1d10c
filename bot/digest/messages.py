"""The daily digest and ``/backups status`` (the digest view, one page at a time), as cards.

Everything that comes from the cloud (names, ids, labels, error text) is escaped and bounded in
length, so that a cluster named ``<!channel>`` notifies nobody and no row can outgrow a
paragraph; rows are packed whole within the chat's :class:`~bot.chat.card.Limits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.chat.card import Buttons, Card, Divider, Header, Limits, Note, Part, Text
from bot.chat.mrkdwn import escape
from bot.chat.pack import LazyRows, escape_clipped, pack
from bot.commands import strings
from bot.commands.strings import BUTTON_NEXT_PAGE, PREFIX
from bot.digest.actions import STATUS_NEXT_PAGE, ViewPage
from bot.digest.model import STATE_ORDER, Digest, DigestGroup, DigestRow
from bot.durations import format_duration
from bot.freshness.messages import (
    SHORT_ERROR_ESCAPED,
    STATE_EMOJI,
    blocking_clause,
    cluster_link,
    cut,
    detail_lines,
    environment_word,
    id_code,
    plain,
    reason_text,
    slack_date,
    state_count,
)
from bot.freshness.model import FreshnessState
from bot.i18n.catalog import _, ngettext
from bot.i18n.units import format_bytes, format_signed, format_signed_bytes

#: Rows in the digest's top post at most: a screenful; the rest are in its thread.
TOP_ROWS = 20
_TITLE_ESCAPED = 200
#: One warning in a digest's lead (five of them share a paragraph).
_WARNING_ESCAPED = 500
#: Warnings named in a digest's lead; the rest are counted.
_WARNINGS_MAX = 5
#: Characters (escaped) of a group's name in its heading.
_GROUP_LABEL_MAX = 150
#: Fresh-only groups named in the top post's foot; the rest are counted.
_QUIET_GROUPS_MAX = 5


def _clusters(n: int) -> str:
    return ngettext("{n} cluster", "{n} clusters", n).format(n=n)


def _sentence(text: str) -> str:
    """``text`` with a capital first letter (reasons are written to fit mid-sentence too)."""
    return text[:1].upper() + text[1:]


def digest_title(day: date) -> str:
    """``Backups digest · Mon 2 Nov 2026``: the title, with the route's local date."""
    return _("Backups digest · {date}").format(date=f"{day:%a} {day.day} {day:%b %Y}")


# --- the digest ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestMessages:
    """A digest as it is posted: one top-level post, and the parts of its thread."""

    top: Card
    thread: list[Card]

    def messages(self) -> list[Card]:
        """The top post, then the thread's parts, in the order they are posted."""
        return [self.top, *self.thread]


def render_digest(
    digest: Digest,
    *,
    title: str,
    console_url: str,
    limits: Limits,
    warnings: Sequence[str] = (),
) -> DigestMessages:
    """The digest as one top-level post and the parts of its thread.

    The top post has the title, the counts, what the digest could not see (``warnings``: a folder
    that could not be listed, whose clusters are missing, which the reader must not take for good
    news), and at most :data:`TOP_ROWS` of the worst rows, grouped as the digest's ``group_by``
    says and worst first within each group; fresh clusters are counted per group, not listed.
    It ends with what is left for the thread ("412 more problems and 588 fresh clusters in the
    thread"). The thread names every row the top post left out, in parts within ``limits``
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

    top: Card | None = None
    chosen: list[int] = []
    for count in range(min(TOP_ROWS, len(notable)), -1, -1):
        chosen = sorted(notable[:count], key=lambda i: (group_rank[rows[i].group], i))
        top = _digest_top(digest, title, warnings, rows, texts, chosen, groups, grouped, limits)
        if top is not None:
            break
    assert top is not None  # the head alone always fits: its parts are bounded

    in_top = set(chosen)
    rest = sorted(
        (i for i in range(len(rows)) if i not in in_top),
        key=lambda i: (group_rank[rows[i].group], i),
    )
    thread = _digest_thread(title, rows, texts, rest, groups, grouped, limits)
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
    limits: Limits,
) -> Card | None:
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
            body = [_("No watched cluster matches this digest.")]
        elif not any(row.notable for row in rows):
            n = digest.cluster_count
            said = ngettext(
                "Nothing to report: all {n} cluster have fresh backups.",
                "Nothing to report: all {n} clusters have fresh backups.",
                n,
            ).format(n=n)
            body = [f":white_check_mark: {said}"]
    shown = set(chosen)
    left = [row for i, row in enumerate(rows) if i not in shown]
    problems_left = sum(1 for row in left if row.report.state != FreshnessState.FRESH)
    fresh_left = len(left) - problems_left
    foot = _digest_top_foot(digest, problems_left, fresh_left, chosen, rows, grouped)
    packed = pack(
        body,
        limits=limits,
        head=_digest_lead(digest, title, limits, warnings),
        foot=foot,
        max_rows=len(body),
    )
    if packed.shown != len(body):
        return None
    return Card(_digest_fallback(title, digest), packed.parts)


def _digest_lead(
    digest: Digest, title: str, limits: Limits, warnings: Sequence[str] = ()
) -> list[Part]:
    notes = [_("Generated {when}").format(when=slack_date(digest.generated_at))]
    if digest.only_problems and digest.hidden_count:
        hidden = digest.hidden_count
        notes.append(
            ngettext(
                "{n} cluster with fresh backups not shown",
                "{n} clusters with fresh backups not shown",
                hidden,
            ).format(n=hidden)
        )
    lead: list[Part] = [
        Header(plain(cut(title, limits.header))),
        Text(_digest_summary(digest)),
        Note([" · ".join(notes)]),
    ]
    if warnings:
        shown = [escape_clipped(w, _WARNING_ESCAPED) for w in warnings[:_WARNINGS_MAX]]
        if len(warnings) > _WARNINGS_MAX:
            more = len(warnings) - _WARNINGS_MAX
            shown.append(ngettext("and {n} more", "and {n} more", more).format(n=more))
        said = _("*Not in this digest:* {warnings}").format(warnings="; ".join(shown))
        lead.append(Text(f":warning: {said}"))
    return [*lead, Divider()]


def _digest_top_foot(
    digest: Digest,
    problems_left: int,
    fresh_left: int,
    chosen: Sequence[int],
    rows: Sequence[DigestRow],
    grouped: bool,
) -> list[Part]:
    notes = []
    problems = ngettext("{n} more problem", "{n} more problems", problems_left)
    fresh = ngettext("{n} fresh cluster", "{n} fresh clusters", fresh_left)
    if problems_left and fresh_left:
        said = _("{problems} and {fresh} in the thread").format(
            problems=problems.format(n=problems_left), fresh=fresh.format(n=fresh_left)
        )
        notes.append(f":thread: {said}")
    elif problems_left or fresh_left:
        left = problems.format(n=problems_left) if problems_left else fresh.format(n=fresh_left)
        notes.append(":thread: " + _("{left} in the thread").format(left=left))
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
                more = len(quiet) - _QUIET_GROUPS_MAX
                named.append(
                    ngettext("and {n} more groups", "and {n} more groups", more).format(n=more)
                )
            said = _("All fresh: {groups}").format(groups=" · ".join(named))
            notes.append(f"{STATE_EMOJI[FreshnessState.FRESH]} {said}")
    return [Note(notes)] if notes else []


def _group_heading(group: DigestGroup, *, continued: bool = False) -> str:
    counts = " · ".join(
        f"{STATE_EMOJI[state]} {state_count(state, count)}"
        for state in STATE_ORDER
        if (count := group.counts.get(state, 0))
    )
    label = f"*{escape_clipped(group.label, _GROUP_LABEL_MAX)}*"
    if continued:
        label = _("{group} (continued)").format(group=label)
    return f"{label} · {counts}"


def _digest_thread(
    title: str,
    rows: Sequence[DigestRow],
    texts: Sequence[str],
    order: Sequence[int],
    groups: dict[str, DigestGroup],
    grouped: bool,
    limits: Limits,
) -> list[Card]:
    """The rows at ``order`` in parts: each within ``limits``, a group's heading before its
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
    widest = 10 ** len(str(max(len(order), 1))) - 1
    parts: list[list[str]] = []
    at = 0

    def rows_from(start: int) -> LazyRows:
        return LazyRows(len(order) - start, lambda j: decorated(start + j, j == 0))

    while at < len(order):
        rest = rows_from(at)
        packed = pack(rest, limits=limits, head=_thread_head(title, widest, widest))
        if packed.shown == 0:
            raise ValueError(f"row {at + 1} of the digest's thread fits no message")
        parts.append(list(rest[: packed.shown]))
        at += packed.shown
    cards = []
    for number, part in enumerate(parts, start=1):
        packed = pack(part, limits=limits, head=_thread_head(title, number, len(parts)))
        assert packed.shown == len(part)
        cards.append(Card(_thread_fallback(title, number, len(parts)), packed.parts))
    return cards


def _thread_head(title: str, number: int, total: int) -> list[Part]:
    said = _("{title}, continued: part {number} of {total}").format(
        title=f"*{escape_clipped(title, _TITLE_ESCAPED)}*", number=number, total=total
    )
    return [Note([said])]


def _thread_fallback(title: str, number: int, total: int) -> str:
    return _("{title}, continued (part {number} of {total})").format(
        title=escape_clipped(title, _TITLE_ESCAPED), number=number, total=total
    )


def _digest_fallback(title: str, digest: Digest) -> str:
    counts = ", ".join(_digest_counts(digest, emoji=False))
    return f"{escape_clipped(title, _TITLE_ESCAPED)}: {counts}"


# --- status: the digest view, one page at a time -----------------------------------------------


def render_status(
    digest: Digest,
    *,
    title: str,
    console_url: str,
    limits: Limits,
    warnings: Sequence[str] = (),
    target: str | None = None,
    offset: int = 0,
    detailed: bool = False,
    buttons: Buttons | None = None,
) -> Card:
    """One page of ``/backups status``: every row worst first, from row ``offset``, as many as
    fit one message, with a Next page button for the rest (its value holds ``target`` and the
    next offset, so the page after survives a restart). ``detailed`` (the status of one
    cluster) adds to each row its retention policies, restore readiness and backup trend, and
    leaves out the fleet's counts; ``buttons`` (its open alert's) follow its row."""
    total = len(digest.rows)
    offset = max(0, offset)
    window = digest.rows[offset:]
    texts: Sequence[str] = LazyRows(
        len(window),
        lambda i: _digest_row(window[i], console_url, digest.generated_at, detailed=detailed),
    )
    if not texts:
        if total == 0 and offset == 0:
            texts = [_("No watched cluster matches.")]
        else:
            texts = [
                escape(_(strings.VIEW_FLEET_CHANGED)).format(
                    n=offset, prefix=escape(PREFIX), command="status"
                )
            ]
        window = ()

    def shown_of(left: int) -> int:
        return len(window) - left if window else 0

    def foot(left: int) -> list[Part]:
        shown = shown_of(left)
        remaining = total - offset - shown
        notes = []
        if shown and (offset or remaining > 0):
            rows_shown = _(strings.VIEW_ROWS).format(
                first=offset + 1, last=offset + shown, total=total
            )
            notes.append(rows_shown[:1].upper() + rows_shown[1:])
        elif total and not detailed:
            notes.append(_clusters(total))
        parts: list[Part] = [buttons] if buttons is not None else []
        if remaining > 0:
            button = _(BUTTON_NEXT_PAGE)
            notes.append(strings.view_more(remaining).format(n=remaining, button=button))
            parts.append(Buttons([STATUS_NEXT_PAGE.button(ViewPage(target, offset + shown))]))
        return [*([Note([" · ".join(notes)])] if notes else []), *parts]

    def fallback(left: int) -> str:
        text = _digest_fallback(title, digest)
        shown = shown_of(left)
        if shown and shown < total:
            rows = _("(rows {first}–{last} of {total})").format(
                first=offset + 1, last=offset + shown, total=total
            )
            text += f" {rows}"
        return text

    head: list[Part]
    if offset == 0 and detailed:
        # One cluster: its row says its state; "1 cluster: 0 fresh · 1 stale ..." says nothing.
        generated = _("Generated {when}").format(when=slack_date(digest.generated_at))
        head = [Header(plain(cut(title, limits.header))), Note([generated])]
    elif offset == 0:
        head = _digest_lead(digest, title, limits, warnings)
    else:
        title_text = escape_clipped(title, _TITLE_ESCAPED)
        head = [Note([f"*{title_text}* · " + _(strings.VIEW_FROM_ROW).format(n=offset + 1)])]
    packed = pack(texts, limits=limits, head=head, foot=foot)
    return Card(fallback(packed.left_count), packed.parts)


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
            parts.append(f"{prefix}{state_count(state, count)}")
    return parts


def _digest_summary(digest: Digest) -> str:
    counts = " · ".join(_digest_counts(digest, emoji=True))
    total = _("Newest backups total {size}").format(size=format_bytes(digest.total_size_bytes))
    return f"*{_clusters(digest.cluster_count)}*: {counts}\n{total}"


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
    head = [f"{STATE_EMOJI[report.state]} *{cluster_link(cluster, console_url)}*"]
    environment = environment_word(cluster)
    if environment is not None:
        head.append(environment)
    if cluster.folder_id and folder:
        head.append(_("folder {id}").format(id=id_code(cluster.folder_id)))
    lines = [" · ".join(head), _digest_state_line(row)]
    lines += detail_lines(
        report.explanation, report.state, now, full=detailed, error_limit=SHORT_ERROR_ESCAPED
    )

    changes = []
    if row.size_delta is not None:
        changes.append(format_signed_bytes(row.size_delta))
    if row.indices_delta is not None:
        delta = row.indices_delta
        indices = ngettext("{n} indices", "{n} indices", abs(delta))
        changes.append(indices.format(n=format_signed(delta)))
    if row.count_delta is not None:
        delta = row.count_delta
        backups = ngettext("{n} backup", "{n} backups", abs(delta))
        changes.append(backups.format(n=format_signed(delta)))
    if changes:
        lines.append(_("Since the last digest: {changes}").format(changes=", ".join(changes)))

    ratio = row.shrink_ratio
    if row.shrunk and ratio is not None and row.newest and row.previous_backup:
        said = _(
            "The newest backup is {ratio} smaller than the one before it ({before} → {after})"
        ).format(
            ratio=f"{ratio:.0%}",
            before=format_bytes(row.previous_backup.size_bytes),
            after=format_bytes(row.newest.size_bytes),
        )
        lines.append(f":warning: {said}")
    return "\n".join(lines)


def _digest_state_line(row: DigestRow) -> str:
    report = row.report
    limit = format_duration(report.max_age.value)
    if report.state == FreshnessState.UNKNOWN:
        return _sentence(reason_text(report.reason or _("the backups could not be read")))
    prefix = ""
    explanation = report.explanation
    clause = blocking_clause(explanation.condition if explanation else None, report.state)
    if clause:
        prefix = f":no_entry: {_sentence(clause)}. "
    elif report.state == FreshnessState.STOPPED:
        prefix = _("Cluster stopped, not checked.") + " "
    elif report.state == FreshnessState.UNSCHEDULED:
        prefix = _("Snapshot schedule removed, not checked.") + " "
    newest = row.newest
    if newest is None or report.age is None:
        return prefix + _("No backup yet (max age {limit})").format(limit=limit)
    age = format_duration(report.age)
    parts = [
        prefix
        + (
            _("Newest {age} ago ({when})").format(age=age, when=slack_date(newest.created_at))
            if newest.created_at is not None
            else _("Newest {age} ago").format(age=age)
        ),
        _("max {limit}").format(limit=limit),
        format_bytes(newest.size_bytes),
        ngettext("{n} indices", "{n} indices", newest.indices_total).format(n=newest.indices_total),
    ]
    if row.backup_count is not None:
        count = row.backup_count
        parts.append(ngettext("{n} backup", "{n} backups", count).format(n=count))
    return " · ".join(parts)
