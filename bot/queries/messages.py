"""What the queries answer with, as cards: a page of a cluster's backups, one backup in full, a
folder's backups, a page of clusters with their freshness.

Every renderer is pure: it takes plain values and an explicit ``now``. Everything that came from
the cloud is clipped to a bound and escaped, so that no row can outgrow a paragraph and an index
named ``<!channel>`` notifies nobody. Rows are packed whole into paragraphs (never cut mid-way)
with :func:`bot.chat.pack.pack`, within the chat's limits less what each reply adds under its
rows (a footer, a Next page button).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.chat.card import Buttons, Card, Divider, Fields, Limits, Note, Part, Text
from bot.chat.mrkdwn import escape
from bot.chat.pack import LazyRows, Row, pack, paragraphs
from bot.cloud.models import Backup, Cluster, ListPosition, newest_first
from bot.commands import strings as s
from bot.commands.messages import code_text, esc, fill, one_line, reply_fallback, say
from bot.digest.actions import ViewPage
from bot.digest.model import STATE_ORDER, worst_first_key
from bot.freshness.explain import Explanation
from bot.freshness.messages import (
    attempt_line,
    condition_line,
    condition_short,
    maintenance_line,
    policies_line,
    restore_line,
    trend_line,
)
from bot.freshness.model import FreshnessReport
from bot.i18n.catalog import _
from bot.i18n.units import human_age, human_bytes, human_duration, utc_time
from bot.queries.actions import CLUSTERS_NEXT_PAGE, LIST_NEXT_PAGE, ListPage

#: What a page of ``list`` keeps back for its footer and its Next page button (whose value the
#: packer does not count: up to ``limits.value`` more), and ``get`` and ``folder`` for their notes.
_LIST_RESERVE_PARTS, _LIST_RESERVE_TEXT = 2, 1000
_NOTES_RESERVE_PARTS, _GET_RESERVE_TEXT, _FOLDER_RESERVE_TEXT = 1, 500, 1000

#: Longest value shown from the cloud, before escaping (which can grow it five times).
_ID_CLIP = 100
_NAME_CLIP = 80
_VERSION_CLIP = 24
_INDEX_CLIP = 255  # OpenSearch's own limit on an index name
_CLOUD_MESSAGE_CLIP = 300
_MESSAGE_CLIP = 1200


@dataclass(frozen=True, slots=True)
class ClusterRow:
    """One line of ``clusters``: a cluster and the freshness verdict for it."""

    cluster: Cluster
    report: FreshnessReport


def _when(moment: datetime | None) -> str:
    """A time shown in each reader's own time zone, with a UTC fallback."""
    if moment is None:
        return s.UNKNOWN_VALUE
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    ts = int(aware.timestamp())
    if ts <= 0:  # Slack formats only times after the epoch; keep the UTC text
        return utc_time(aware)
    return f"<!date^{ts}^{{date_short_pretty}} {{time}}|{utc_time(aware)}>"


def _newest_first(backups: Iterable[Backup]) -> list[Backup]:
    # The API promises no order: sort, by the one order every view of the bot uses.
    return newest_first(backups)


def _list_row(backup: Backup, now: datetime) -> str:
    head = say(
        s.LIST_ROW_HEAD,
        started=_when(backup.started_at),
        took=human_duration(backup.duration_seconds),
        size=human_bytes(backup.size_bytes),
        indices=s.count_indices(backup.indices_total),
        version=esc(backup.opensearch_version or s.UNKNOWN_VALUE, _VERSION_CLIP),
    )
    tail = say(
        s.LIST_ROW_TAIL,
        id=code_text(backup.id),
        finished=_when(backup.finished_at),
        age=human_age(backup.finished_at, now),
    )
    return f"{head}\n{tail}"


def next_page_value(cluster_id: str, after: ListPosition, limit: int) -> str:
    """The Next page button's value: the cluster, where the page ended and the page size;
    everything needed to show the next page after a restart, whatever the cloud's order."""
    return LIST_NEXT_PAGE.value(ListPage(cluster_id, after, limit))


def render_backup_list(
    cluster_label: str,
    backups: Sequence[Backup],
    *,
    now: datetime,
    cluster_id: str,
    limit: int,
    more: bool = False,
    first: int = 1,
    total: int | None = None,
    skipped: int = 0,
    notice: str | None = None,
    explanation: Explanation | None = None,
    limits: Limits,
) -> Card:
    """A page of a cluster's backups, newest first, with a Next page button if ``more`` follow.

    ``first`` is the 1-based place of the page's first row among ``total`` backups. The button
    continues after the last row shown (rows that did not fit come next), by position, not by
    the cloud's page token. ``skipped`` counts backups the cloud sent that could not be read;
    ``notice`` (plain text) is said above the list. ``explanation`` heads the list with the
    cluster's state, its last backup attempt and the trend of its last backups.
    """
    cluster_label = cluster_label or cluster_id
    label = esc(cluster_label, _NAME_CLIP)
    head: list[Part] = [Note([escape(one_line(notice, _MESSAGE_CLIP))])] if notice else []
    about = paragraphs(_about_lines(explanation, now), limits=limits)
    if not backups:
        empty = s.LIST_EMPTY if first <= 1 else s.LIST_NO_MORE
        parts = [*head, Text(say(empty, cluster=label)), *about]
        if skipped:
            parts.append(Note([fill(s.list_skipped(skipped), n=skipped)]))
        return Card(say(s.LIST_FALLBACK_EMPTY, cluster=esc(cluster_label, _NAME_CLIP)), parts)
    ordered = newest_first(backups)
    # Room for the longest button value this page could need, decided once the rows are known.
    longest = max(len(next_page_value(cluster_id, ListPosition.of(b), limit)) for b in ordered)
    room = limits.less(
        parts=_LIST_RESERVE_PARTS, text=_LIST_RESERVE_TEXT + min(longest, limits.value)
    )
    rows = [_list_row(b, now) for b in ordered]
    head += [Text(say(s.LIST_TITLE, cluster=label)), *about]
    packed = pack(rows, limits=room, head=head, sep="\n\n")
    shown = packed.shown
    footer = [say(s.LIST_FOOTER, shown=s.count_backups(shown), prefix=s.PREFIX)]
    if total is not None and shown and (first > 1 or more or shown < len(rows)):
        footer.append(say(s.LIST_RANGE, first=first, last=first + shown - 1, total=total))
    if shown < len(rows):
        footer.append(fill(s.list_not_shown(len(rows) - shown), n=len(rows) - shown))
    if skipped:
        footer.append(fill(s.list_skipped(skipped), n=skipped))
    page: ListPage | None = None
    if shown and (more or shown < len(rows)):
        page = ListPage(cluster_id, ListPosition.of(ordered[shown - 1]), limit)
        if len(LIST_NEXT_PAGE.value(page)) > limits.value:
            footer.append(_(s.LIST_POSITION_TOO_LONG))
            page = None
    parts = [*packed.parts, Note([" · ".join(footer)])]
    if page is not None:
        parts.append(Buttons([LIST_NEXT_PAGE.button(page)]))
    newest = ordered[0].finished_at or ordered[0].started_at
    text = say(
        s.LIST_FALLBACK,
        cluster=esc(cluster_label, _NAME_CLIP),
        shown=s.count_backups(len(ordered)),
        newest=f"{utc_time(newest)} ({human_age(newest, now)})",
    )
    return Card(reply_fallback(text), parts)


def _about_lines(explanation: Explanation | None, now: datetime) -> list[str]:
    """The head of a cluster's list: its state, its last backup attempt, its trend."""
    if explanation is None:
        return []
    lines = [
        condition_line(explanation.condition),
        attempt_line(explanation, now),
        trend_line(explanation.trend),
    ]
    return [line for line in lines if line]


def _field(label: str, value: str) -> str:
    """``*Label*`` (a strings template, translated) over its value."""
    return f"*{_(label)}*\n{value}"


def _backup_about(
    explanation: Explanation | None, missing: Sequence[str], now: datetime
) -> list[str]:
    lines: list[str] = []
    if explanation is not None:
        schedule = explanation.schedule.detail if explanation.schedule is not None else ""
        lines += [
            condition_line(explanation.condition),
            attempt_line(explanation, now),
            maintenance_line(explanation.maintenance, schedule),
            restore_line(explanation.restore, this_backup=True),
            policies_line(explanation),
            trend_line(explanation.trend),
        ]
    lines += [escape(one_line(note, _CLOUD_MESSAGE_CLIP)) for note in missing]
    return [line[:1].upper() + line[1:] for line in lines if line]


def render_backup(
    backup: Backup,
    *,
    now: datetime,
    explanation: Explanation | None = None,
    missing: Sequence[str] = (),
    limits: Limits,
    folder_name: str | None = None,
) -> Card:
    """One backup in full: times, every size figure, version, and its index names.

    ``explanation`` (of its cluster, with ``restore`` judged for this backup) adds whether a
    restore would work, the cluster's state and last backup attempt, its retention policies and
    the trend of its last backups; ``missing`` (plain text) say what of that could not be read.
    ``folder_name``, where known, names its folder beside the id.
    """
    title = say(s.BACKUP_TITLE, id=code_text(backup.id))
    folder = backup.folder_id or s.UNKNOWN_VALUE
    of = say(
        s.BACKUP_OF,
        cluster=code_text(backup.source_cluster_id or s.UNKNOWN_VALUE),
        folder=code_text(f"{folder_name} ({folder})" if folder_name else folder),
    )
    fields = [
        _field(
            s.BACKUP_FIELD_STARTED,
            f"{_when(backup.started_at)} ({human_age(backup.started_at, now)})",
        ),
        _field(
            s.BACKUP_FIELD_FINISHED,
            f"{_when(backup.finished_at)} ({human_age(backup.finished_at, now)})",
        ),
        _field(s.BACKUP_FIELD_DURATION, human_duration(backup.duration_seconds)),
        _field(
            s.BACKUP_FIELD_VERSION, esc(backup.opensearch_version or s.UNKNOWN_VALUE, _NAME_CLIP)
        ),
        _field(s.BACKUP_FIELD_SIZE, human_bytes(backup.size_bytes)),
        _field(s.BACKUP_FIELD_INCREMENTAL, human_bytes(backup.incremental_size_bytes)),
        _field(s.BACKUP_FIELD_TOTAL, human_bytes(backup.total_size_bytes)),
        _field(s.BACKUP_FIELD_FREE_SPACE, human_bytes(backup.free_space_required_bytes)),
        _field(s.BACKUP_FIELD_INDICES, f"{backup.indices_total:,}"),
    ]
    head: list[Part] = [
        Text(f"{title}\n{of}"),
        Fields(fields),
        *paragraphs(_backup_about(explanation, missing, now), limits=limits),
    ]
    room = limits.less(parts=_NOTES_RESERVE_PARTS, text=_GET_RESERVE_TEXT)
    names = list(backup.indices[:100])
    notes: list[str] = []
    if names:
        total = max(backup.indices_total, len(names))
        lead = (
            say(s.BACKUP_INDICES_TITLE, count=len(names))
            if total <= len(names)
            else say(s.BACKUP_INDICES_PARTIAL, shown=len(names), total=f"{total:,}")
        )
        rows = [f"`{code_text(n, _INDEX_CLIP)}`" for n in names]
        packed = pack(rows, limits=room, head=[*head, Divider()], lead=lead, sep="\n")
        parts = list(packed.parts)
        if packed.shown < len(names):
            left = len(names) - packed.shown
            notes.append(fill(s.indices_not_shown(left), n=left))
    else:
        parts = head
        notes.append(_(s.BACKUP_INDICES_NONE))
    if notes:
        parts.append(Note([" ".join(notes)]))
    text = say(
        s.BACKUP_FALLBACK,
        id=esc(backup.id, _ID_CLIP),
        cluster=esc(backup.source_cluster_id or s.UNKNOWN_VALUE, _ID_CLIP),
        finished=utc_time(backup.finished_at),
        size=human_bytes(backup.size_bytes),
        indices=s.count_indices(backup.indices_total),
    )
    return Card(reply_fallback(text), parts)


def _folder_row(backup: Backup, now: datetime) -> str:
    return say(
        s.FOLDER_ROW,
        finished=f"{_when(backup.finished_at)} ({human_age(backup.finished_at, now)})",
        size=human_bytes(backup.size_bytes),
        indices=s.count_indices(backup.indices_total),
        id=code_text(backup.id),
    )


def _folder_group(
    label: str,
    backups: Sequence[Backup],
    total: int,
    per_cluster: int,
    now: datetime,
    limits: Limits,
) -> list[Part]:
    """A cluster's part of ``folder``: a divider, its name, how many backups it has (``total``,
    of which ``backups`` are the newest) and its newest ``per_cluster``."""
    ordered = _newest_first(backups)
    name = esc(label, _NAME_CLIP)
    if not ordered:
        return [Divider(), Text(say(s.FOLDER_CLUSTER_EMPTY, cluster=name))]
    head = say(s.FOLDER_CLUSTER, cluster=name, count=s.count_backups(total))
    rows = [_folder_row(b, now) for b in ordered[:per_cluster]]
    if total > per_cluster:
        older = total - per_cluster
        rows.append(fill(s.folder_more_rows(older), n=older))
    return [Divider(), *paragraphs(rows, limits=limits, lead=head)]


def render_folder_backups(
    folder_id: str,
    groups: Sequence[tuple[str, Sequence[Backup]]],
    *,
    totals: Sequence[int] | None = None,
    now: datetime,
    truncated: bool,
    read: int = 0,
    limits: Limits,
) -> Card:
    """Backups of every cluster in a folder, grouped by cluster, newest first. Big folders show
    the newest few per cluster (and how many more), then as many clusters as fit. ``totals``
    (one per group) counts each cluster's backups when ``groups`` keeps only the newest few;
    ``truncated`` says the listing was left after ``read`` backups."""
    counts = list(totals) if totals is not None else [len(b) for _, b in groups]
    counts = [max(n, len(b)) for n, (_label, b) in zip(counts, groups, strict=True)]
    folder = code_text(folder_id, _ID_CLIP)
    total = sum(counts)
    notes: list[str] = []
    if truncated:
        notes.append(say(s.FOLDER_TRUNCATED, prefix=s.PREFIX, limit=f"{max(read, total):,}"))
    if not groups:
        empty: list[Part] = [Text(say(s.FOLDER_EMPTY, folder=folder))]
        if notes:
            empty.append(Note(notes))
        return Card(say(s.FOLDER_EMPTY, folder=esc(folder_id, _ID_CLIP)), empty)
    title = Text(say(s.FOLDER_TITLE, folder=folder))
    room = limits.less(parts=_NOTES_RESERVE_PARTS, text=_FOLDER_RESERVE_TEXT)
    packed = None
    for per_cluster in (10, 5, 3, 2, 1):
        # Each cluster whole or not at all; fewer backups each until every cluster fits.
        rows: list[Row] = [
            _folder_group(label, backups, n, per_cluster, now, limits)
            for (label, backups), n in zip(groups, counts, strict=True)
        ]
        packed = pack(rows, limits=room, head=[title])
        if packed.shown == len(groups):
            break
    assert packed is not None
    if packed.shown < len(groups):
        left = len(groups) - packed.shown
        notes.append(fill(s.folder_more_clusters(left), n=left, prefix=s.PREFIX))
    parts = list(packed.parts)
    if notes:
        parts.append(Note(notes[:2]))
    text = say(
        s.FOLDER_FALLBACK,
        folder=esc(folder_id, _ID_CLIP),
        clusters=s.count_clusters(len(groups)),
        backups=s.count_backups(total),
    )
    return Card(reply_fallback(text), parts)


def _state_counts(rows: Sequence[ClusterRow]) -> str:
    counts = Counter(r.report.state for r in rows)
    return ", ".join(
        f"{counts[state]} {_(s.STATE_WORD[state.value])}" for state in STATE_ORDER if counts[state]
    )


def _cluster_row(row: ClusterRow, now: datetime) -> str:
    report = row.report
    if report.newest_backup_at is not None:
        detail = " · " + say(
            s.CLUSTERS_ROW_NEWEST,
            when=_when(report.newest_backup_at),
            age=human_age(report.newest_backup_at, now),
            max_age=human_duration(report.max_age.value),
        )
    elif report.reason:
        detail = " · " + esc(report.reason, _CLOUD_MESSAGE_CLIP)
    else:
        detail = ""
    if report.explanation is not None:
        words = condition_short(report.explanation.condition)  # "is DEAD": the row is one line
        if words:
            detail += " · :warning: " + _("cluster {condition}").format(condition=words)
    return say(
        s.CLUSTERS_ROW,
        icon=s.STATE_ICON[report.state.value],
        name=esc(row.cluster.display_name, _NAME_CLIP),
        id=code_text(row.cluster.id),
        state=_(s.STATE_WORD[report.state.value]),
        detail=detail,
    )


def render_clusters(
    folder_label: str,
    rows: Sequence[ClusterRow],
    *,
    now: datetime,
    offset: int = 0,
    target: str | None = None,
    limits: Limits,
    context: str = "",
) -> Card:
    """One page of clusters with their newest backup, its age and freshness, worst first (the
    order of :func:`bot.digest.model.worst_first_key`), from row ``offset``; a Next page button
    (value: ``target``, the folder asked for or None, and the next offset) shows the rest.
    ``folder_label`` names the folders (by name where known); ``context`` (mrkdwn: their ids)
    opens the footer's context line."""
    folder = esc(folder_label, _NAME_CLIP)
    if not rows:
        empty: list[Part] = [Text(say(s.CLUSTERS_EMPTY, folder=folder))]
        if context:
            empty.append(Note([context]))
        return Card(say(s.CLUSTERS_EMPTY, folder=esc(folder_label, _NAME_CLIP)), empty)
    offset = max(0, offset)
    ordered = sorted(rows, key=lambda r: worst_first_key(r.cluster, r.report))
    window = ordered[offset:]
    title = say(s.CLUSTERS_TITLE, folder=folder)
    if offset:
        title += " · " + say(s.VIEW_FROM_ROW, n=offset + 1)

    def line(i: int) -> str:
        text = _cluster_row(window[i], now) if window else ""
        if not window:
            text = say(s.VIEW_FLEET_CHANGED, n=offset, prefix=s.PREFIX, command="clusters")
        return f"{title}\n{text}" if i == 0 else text  # the title opens the first section

    lines = LazyRows(max(len(window), 1), line)
    total = len(rows)
    counts = _state_counts(rows)
    summary = fill(s.clusters_summary(total), total=total, counts=counts)

    def shown_of(left: int) -> int:
        return len(window) - left if window else 0

    def foot(left: int) -> list[Part]:
        shown = shown_of(left)
        remaining = total - offset - shown
        notes = [context, summary] if context else [summary]
        if shown and (offset or remaining > 0):
            notes.append(say(s.VIEW_ROWS, first=offset + 1, last=offset + shown, total=total))
        buttons: list[Part] = []
        if remaining > 0:
            notes.append(fill(s.view_more(remaining), n=remaining, button=_(s.BUTTON_NEXT_PAGE)))
            buttons.append(Buttons([CLUSTERS_NEXT_PAGE.button(ViewPage(target, offset + shown))]))
        return [Note([" · ".join(notes)]), *buttons]

    text = say(s.CLUSTERS_FALLBACK, folder=esc(folder_label, _NAME_CLIP), counts=counts)
    packed = pack(lines, limits=limits, foot=foot, sep="\n")
    return Card(reply_fallback(text), packed.parts)
