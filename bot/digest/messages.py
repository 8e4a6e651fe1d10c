"""The daily digest and ``/backups status`` (the digest view, one page at a time), as cards.

Everything that comes from the cloud (names, ids, labels, error text) is escaped and bounded in
length, so that a cluster named ``<!channel>`` notifies nobody and no row can outgrow a
paragraph; rows are packed whole within the chat's :class:`~bot.chat.card.Limits`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.chat.card import Buttons, Card, Divider, Header, Limits, Note, Part, Text, measure
from bot.chat.mrkdwn import escape
from bot.chat.pack import LazyRows, escape_clipped, pack
from bot.commands import strings
from bot.commands.strings import BUTTON_NEXT_PAGE, PREFIX
from bot.digest.actions import STATUS_NEXT_PAGE, ViewPage
from bot.digest.model import STATE_ORDER, Digest, DigestGroup, DigestRow
from bot.fleet.grouping import folder_context
from bot.freshness.messages import (
    SHORT_ERROR_ESCAPED,
    STATE_EMOJI,
    attempt_words,
    blocking_clause,
    cluster_link,
    condition_short,
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
from bot.i18n import units
from bot.i18n.catalog import _, ngettext
from bot.i18n.units import format_bytes, format_signed, format_signed_bytes, say_duration
from bot.outbox.posts import FileUpload
from bot.silences.messages import silenced_marker

#: Rows of ``/backups status`` and of the digest's thread parts are packed within the chat's
#: limits; the digest's top post is a summary a phone shows on one screen: the counts, then the
#: worst problems one line each, in at most this many visible characters whatever the fleet's
#: size, and at most :data:`TOP_LINES` lines.
TOP_VISIBLE = 1200
TOP_LINES = 8
#: The digest's thread: at most this many messages of problems (worst first), then the file of
#: every cluster (or, with ``only_problems``, a count of the problems not shown).
THREAD_PARTS = 4
#: Rows in the digest's top post at most (kept for the old name; see TOP_LINES).
TOP_ROWS = TOP_LINES
#: Characters (escaped) of a warning in the top post, and warnings named there.
_TOP_WARNING_ESCAPED = 160
_TOP_WARNINGS_MAX = 2
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
    return _("Backups digest · {date}").format(date=units.day(day))


# --- the digest ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestMessages:
    """A digest as it is posted: one top-level post, and the parts of its thread."""

    top: Card
    thread: list[Card]
    #: Every watched cluster as one CSV file, shared last in the thread; None with
    #: ``only_problems`` (the route asked for the problems only) or when not asked for.
    table: FileUpload | None = None

    def messages(self) -> list[Card]:
        """The top post, then the thread's parts, in the order they are posted (the file
        comes after them)."""
        return [self.top, *self.thread]


def render_digest(
    digest: Digest,
    *,
    title: str,
    console_url: str,
    limits: Limits,
    warnings: Sequence[str] = (),
    table_name: str | None = None,
) -> DigestMessages:
    """The digest as one top-level post, the parts of its thread and the file of every cluster.

    The top post is what a phone shows on one screen (:data:`TOP_VISIBLE` characters at most,
    whatever the fleet's size): the title, the counts by state, what the digest could not see
    (``warnings``: a folder that could not be listed, whose clusters are missing, which the
    reader must not take for good news), then the worst problems one line each (the cluster,
    how late against its maximum, the why in a few words), and what is in the thread. The thread
    holds the problems the top post left out, worst first, in at most :data:`THREAD_PARTS`
    messages within ``limits``; then the file of every watched cluster (``table_name``, a CSV),
    which also has what did not fit. With ``only_problems`` there is no file: the last message
    counts the problems left out instead.
    """
    rows = digest.rows
    by_folder = "folder" in digest.group_by  # the group heading names the folder
    now = digest.generated_at
    group_rank = {group.key: rank for rank, group in enumerate(digest.groups)}
    groups = {group.key: group for group in digest.groups}
    grouped = bool(digest.group_by)
    notable = [i for i, row in enumerate(rows) if row.notable]
    with_table = table_name is not None and not digest.only_problems and digest.cluster_count > 0

    lines = [_problem_line(rows[i], console_url) for i in notable[:TOP_LINES]]
    top: Card | None = None
    chosen: list[int] = []
    for count in range(len(lines), -1, -1):
        chosen = notable[:count]
        top = _digest_top(digest, title, warnings, lines[:count], chosen, rows, with_table, limits)
        if top is not None:
            break
    assert top is not None  # the head alone always fits: its parts are bounded

    in_top = set(chosen)
    rest = sorted(
        (i for i in notable if i not in in_top), key=lambda i: (group_rank[rows[i].group], i)
    )
    texts = LazyRows(
        len(rows),
        lambda i: _digest_row(
            rows[i], console_url, now, folder=not by_folder, folder_names=digest.folder_names
        ),
    )
    thread, shown = _digest_thread(title, rows, texts, rest, groups, grouped, limits)
    left = len(rest) - shown
    table = None
    if with_table and table_name is not None:
        table = digest_table(digest, title=title, filename=table_name, left=left)
    elif left:
        said = ngettext(
            "{n} more problem is not shown here: `{prefix} {command}` lists every one.",
            "{n} more problems are not shown here: `{prefix} {command}` lists every one.",
            left,
        ).format(n=left, prefix=escape(PREFIX), command="status")
        thread.append(Card(said, [Text(said)]))
    return DigestMessages(top=top, thread=thread, table=table)


#: A link (``<url|label>`` shows its label), a user or group mention, an emoji shortcode.
_LINK = re.compile(r"<[^|>]*\|([^>]*)>")
_EMOJI = re.compile(r":[a-z0-9_+-]+:")


def visible_length(text: str) -> int:
    """About how many characters of mrkdwn ``text`` a person sees: links as their label, an
    emoji as one, no bold or italic marks, entities as one."""
    text = _LINK.sub(r"\1", text)
    text = _EMOJI.sub("E", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return len(text.replace("*", "").replace("`", ""))


def _problem_line(row: DigestRow, console_url: str) -> str:
    """One problem in a few words: the cluster, how late against its maximum, why."""
    cluster, report = row.cluster, row.report
    parts = [f"{STATE_EMOJI[report.state]} *{cluster_link(cluster, console_url)}*"]
    limit = say_duration(report.max_age.value)
    if report.state == FreshnessState.UNKNOWN:
        reason = report.reason or _("the backups could not be read")
        parts.append(escape_clipped(reason, 80))
    elif report.state == FreshnessState.STOPPED:
        parts.append(_("Cluster stopped, not checked."))
    elif report.state == FreshnessState.UNSCHEDULED:
        parts.append(_("Snapshot schedule removed, not checked."))
    elif report.age is not None:
        parts.append(
            _("newest {age} old (max {limit})").format(age=say_duration(report.age), limit=limit)
        )
    else:
        parts.append(_("no backup at all"))
    explanation = report.explanation
    if explanation is not None:
        said = condition_short(explanation.condition)
        if explanation.condition.blocking:
            said = _("cluster {condition}").format(condition=said)
        if said:
            parts.append(f":warning: {said}")
        if attempt := attempt_words(explanation):
            parts.append(attempt)
    ratio = row.shrink_ratio
    if row.shrunk and ratio is not None:
        parts.append(
            ":warning: " + _("the newest backup is {ratio} smaller").format(ratio=f"{ratio:.0%}")
        )
    elif row.restore_would_not_fit:
        parts.append(":warning: " + _("the newest backup would not fit a restore"))
    if row.silence is not None:
        parts.append(silenced_marker(row.silence.id, row.silence.ends_at))
    return " · ".join(parts)


def _digest_top(
    digest: Digest,
    title: str,
    warnings: Sequence[str],
    lines: Sequence[str],
    chosen: Sequence[int],
    rows: Sequence[DigestRow],
    with_table: bool,
    limits: Limits,
) -> Card | None:
    """The top post with ``lines`` (the problems at ``chosen``), or None if it is longer than
    a phone's screen or the chat's limits."""
    # One paragraph: a line each, no gap between them (a phone's screen is short).
    body = ["\n".join(lines)] if lines else []
    if body and measure(Text(body[0])) > limits.paragraph:
        return None
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
    problems = sum(1 for row in rows if row.notable)
    problems_left = problems - len(chosen)
    notes = []
    if problems_left:
        more = ngettext("{n} more problem", "{n} more problems", problems_left)
        said = _("{left} in the thread").format(left=more.format(n=problems_left))
        notes.append(f":thread: {said}")
    if with_table:
        notes.append(":page_facing_up: " + _("every cluster in a CSV file in the thread"))
    foot: list[Part] = [Note([" · ".join(notes)])] if notes else []
    head = _digest_lead(
        digest,
        title,
        limits,
        warnings,
        warning_escaped=_TOP_WARNING_ESCAPED,
        warnings_max=_TOP_WARNINGS_MAX,
    )
    packed = pack(body, limits=limits, head=head, foot=foot, max_rows=len(body))
    if packed.shown != len(body):
        return None
    card = Card(_digest_fallback(title, digest), packed.parts)
    if lines and _card_visible(card) > TOP_VISIBLE:
        return None
    return card


def _card_visible(card: Card) -> int:
    total = 0
    for part in card.parts:
        if isinstance(part, Header | Text):
            total += visible_length(part.text) + 1
        elif isinstance(part, Note):
            total += sum(visible_length(item) + 1 for item in part.items)
    return total


_CSV_COLUMNS = (
    "cluster",
    "cluster_id",
    "folder_id",
    "environment",
    "state",
    "newest_backup_at",
    "age_hours",
    "max_age_hours",
    "newest_size_bytes",
    "newest_indices",
    "backups",
    "size_change_bytes",
    "backups_change",
    "note",
    # Restore drills (empty where no drill route covers the cluster; "never" where one does and
    # no drill has finished yet). Last, so that the older columns keep their places.
    "last_drill_at",
    "last_drill_result",
    "last_drill_restore_minutes",
)


def _cell(value: object) -> str:
    """A cell as text; a text that a spreadsheet would run as a formula is quoted."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def digest_table(digest: Digest, *, title: str, filename: str, left: int = 0) -> FileUpload:
    """Every row of the digest as one CSV file (UTF-8, a header line, worst first), with a
    line said with it (how many clusters; how many problems only the file has)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; quotes any \r or \n
    writer.writerow(_CSV_COLUMNS)
    for row in digest.rows:
        cluster, report = row.cluster, row.report
        newest = row.newest
        environment = environment_word(cluster)
        note = report.reason or ""
        drill = row.last_drill
        drill_result = (
            ("passed" if drill.passed else "failed")
            if drill is not None
            else ("never" if row.drilled else "")
        )
        explanation = report.explanation
        if not note and explanation is not None:
            note = condition_short(explanation.condition)
        writer.writerow(
            _cell(value)
            for value in (
                cluster.display_name,
                cluster.id,
                cluster.folder_id,
                environment or "",
                report.state.value,
                newest.created_at.isoformat() if newest and newest.created_at else "",
                f"{report.age.total_seconds() / 3600:.1f}" if report.age is not None else "",
                f"{report.max_age.value.total_seconds() / 3600:.1f}",
                newest.size_bytes if newest else "",
                newest.indices_total if newest else "",
                row.backup_count,
                row.size_delta,
                row.count_delta,
                note,
                drill.at.isoformat() if drill is not None else "",
                drill_result,
                f"{drill.restore_time.total_seconds() / 60:.0f}"
                if drill is not None and drill.restore_time is not None
                else "",
            )
        )
    n = digest.cluster_count
    comment = ngettext(
        "Every watched cluster, {n} in all, as a table.",
        "Every watched cluster, {n} in all, as a table.",
        n,
    ).format(n=n)
    if left:
        more = ngettext(
            "It also has the {n} problem not shown above.",
            "It also has the {n} problems not shown above.",
            left,
        ).format(n=left)
        comment = f"{comment} {more}"
    return FileUpload(
        filename=filename,
        title=_("{title}: every cluster").format(title=title),
        content=out.getvalue().encode(),
        comment=comment,
    )


#: The most folders whose ids a context line names (the rest are counted).
FOLDER_IDS_MAX = 5


def folder_ids_line(
    folder_names: Mapping[str, str], folder_ids: Sequence[str], *, most: int = FOLDER_IDS_MAX
) -> str:
    """The ids of the folders a message names by name, for its context line: ``team-search:
    folder id `b1g...``` each, the first ``most`` of them, then how many more; "" when no
    folder is named by name (one shown by its id needs no line)."""
    named = [f for f in dict.fromkeys(folder_ids) if f and folder_names.get(f)]
    said = [
        escape_clipped(folder_names[f], _GROUP_LABEL_MAX)
        + ": "
        + _("folder id {id}").format(id=id_code(f))
        for f in named[:most]
    ]
    if len(named) > most:
        more = len(named) - most
        said.append(ngettext("and {n} more", "and {n} more", more).format(n=more))
    return " · ".join(said)


def _digest_lead(
    digest: Digest,
    title: str,
    limits: Limits,
    warnings: Sequence[str] = (),
    *,
    warning_escaped: int = _WARNING_ESCAPED,
    warnings_max: int = _WARNINGS_MAX,
    context: str = "",
) -> list[Part]:
    notes = [_("Generated {when}").format(when=slack_date(digest.generated_at))]
    if context:
        notes.append(context)
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
        shown = [escape_clipped(w, warning_escaped) for w in warnings[:warnings_max]]
        if len(warnings) > warnings_max:
            more = len(warnings) - warnings_max
            shown.append(ngettext("and {n} more", "and {n} more", more).format(n=more))
        said = _("*Not in this digest:* {warnings}").format(warnings="; ".join(shown))
        lead.append(Text(f":warning: {said}"))
    return [*lead, Divider()]


def _group_heading(group: DigestGroup, *, continued: bool = False) -> str:
    counts = " · ".join(
        f"{STATE_EMOJI[state]} {state_count(state, count)}"
        for state in STATE_ORDER
        if (count := group.counts.get(state, 0))
    )
    label = f"*{escape_clipped(group.label, _GROUP_LABEL_MAX)}*"
    if continued:
        label = _("{group} (continued)").format(group=label)
    heading = f"{label} · {counts}"
    folder_id = folder_context(group.key, group.label)
    if folder_id is not None:
        # The title names the folder; its id, which a person copies, on a line of its own.
        heading += "\n" + _("folder id {id}").format(id=id_code(folder_id))
    return heading


def _digest_thread(
    title: str,
    rows: Sequence[DigestRow],
    texts: Sequence[str],
    order: Sequence[int],
    groups: dict[str, DigestGroup],
    grouped: bool,
    limits: Limits,
    *,
    max_parts: int = THREAD_PARTS,
) -> tuple[list[Card], int]:
    """The rows at ``order`` in at most ``max_parts`` parts, and how many rows they hold: each
    part within ``limits``, a group's heading before its first row (again, marked continued,
    at the top of a part that starts inside a group)."""

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

    while at < len(order) and len(parts) < max_parts:
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
    return cards, at


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
    folder_ids: Sequence[str] = (),
) -> Card:
    """One page of ``/backups status``: every row worst first, from row ``offset``, as many as
    fit one message, with a Next page button for the rest (its value holds ``target`` and the
    next offset, so the page after survives a restart). ``detailed`` (the status of one
    cluster) adds to each row its retention policies, restore readiness and backup trend, and
    leaves out the fleet's counts; ``buttons`` (its open alert's) follow its row. A folder
    named by its name (``digest.folder_names``: the rows' folders, and ``folder_ids``, the one
    the title names) has its id in the context line under the title."""
    total = len(digest.rows)
    offset = max(0, offset)
    window = digest.rows[offset:]
    texts: Sequence[str] = LazyRows(
        len(window),
        lambda i: _digest_row(
            window[i],
            console_url,
            digest.generated_at,
            detailed=detailed,
            folder_names=digest.folder_names,
        ),
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
    # The folders its title and rows name by name: their ids, in the context line.
    context = folder_ids_line(
        digest.folder_names, [*folder_ids, *(r.cluster.folder_id for r in digest.rows)]
    )
    if offset == 0 and detailed:
        # One cluster: its row says its state; "1 cluster: 0 fresh · 1 stale ..." says nothing.
        generated = _("Generated {when}").format(when=slack_date(digest.generated_at))
        said = " · ".join(n for n in (generated, context) if n)
        head = [Header(plain(cut(title, limits.header))), Note([said])]
    elif offset == 0:
        head = _digest_lead(digest, title, limits, warnings, context=context)
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
    summary = f"*{_clusters(digest.cluster_count)}*: {counts}\n{total}"
    drills = drill_flags(digest)
    return f"{summary}\n:test_tube: {drills}" if drills else summary


def drill_flags(digest: Digest) -> str:
    """One line on the restore drills, when something is wrong: "2 clusters never drilled ·
    1 last drill failed" (a cluster counts as never drilled only when a drills: route covers
    it); empty otherwise."""
    parts = []
    if digest.never_drilled:
        n = digest.never_drilled
        parts.append(
            ngettext("{n} cluster never drilled", "{n} clusters never drilled", n).format(n=n)
        )
    if digest.drill_failed:
        n = digest.drill_failed
        parts.append(ngettext("{n} last drill failed", "{n} last drills failed", n).format(n=n))
    return " · ".join(parts)


def _drill_line(row: DigestRow) -> str | None:
    """The row's restore drill: its last result, date and restore time, or that it was never
    drilled (only where a drills: route covers it)."""
    drill = row.last_drill
    if drill is None:
        return ":test_tube: " + _("Never restore-drilled") if row.drilled else None
    when = units.day(drill.at.date())
    if not drill.passed:
        return ":x: " + _("Last restore drill failed ({date})").format(date=when)
    if drill.restore_time is None:
        return ":test_tube: " + _("Last restore drill passed ({date})").format(date=when)
    return ":test_tube: " + _("Last restore drill passed ({date}), restored in {time}").format(
        date=when, time=say_duration(drill.restore_time)
    )


def _digest_row(
    row: DigestRow,
    console_url: str,
    now: datetime,
    *,
    folder: bool = True,
    detailed: bool = False,
    folder_names: Mapping[str, str] | None = None,
) -> str:
    """One cluster's row at ``now``; ``folder=False`` leaves out the folder (its group heading
    names it), else it is named by its name where ``folder_names`` knows it, by its id where
    not; ``detailed`` adds policies, restore readiness and the trend."""
    cluster, report = row.cluster, row.report
    head = [f"{STATE_EMOJI[report.state]} *{cluster_link(cluster, console_url)}*"]
    environment = environment_word(cluster)
    if environment is not None:
        head.append(environment)
    folder_name = (folder_names or {}).get(cluster.folder_id)
    if cluster.folder_id and folder and folder_name:
        head.append(_("folder {name}").format(name=escape_clipped(folder_name, _GROUP_LABEL_MAX)))
    elif cluster.folder_id and folder:
        head.append(_("folder {id}").format(id=id_code(cluster.folder_id)))
    if row.silence is not None:
        head.append(silenced_marker(row.silence.id, row.silence.ends_at))
    lines = [" · ".join(head), _digest_state_line(row)]
    if (drill := _drill_line(row)) is not None:
        lines.append(drill)
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
            ratio=units.percent(ratio),
            before=format_bytes(row.previous_backup.size_bytes),
            after=format_bytes(row.newest.size_bytes),
        )
        lines.append(f":warning: {said}")
    return _fitted(lines)


#: The most one row may take: a paragraph of Slack's (a section's text). The clipping of each
#: value keeps a row within it in English; a longer language may need to drop a detail line.
_ROW_MAX = 3000


def _fitted(lines: list[str]) -> str:
    """The row's lines, the last details dropped while it is over :data:`_ROW_MAX` (the head
    and the state line are always kept)."""
    while len(lines) > 2 and len("\n".join(lines)) > _ROW_MAX:
        lines.pop()
    return "\n".join(lines)


def _digest_state_line(row: DigestRow) -> str:
    report = row.report
    limit = say_duration(report.max_age.value)
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
    age = say_duration(report.age)
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
