"""Replies to ``/backups`` commands, as cards.

Every renderer is pure: it takes plain values and an explicit ``now``. Everything that came from
the cloud or from a person is clipped to a bound and escaped, so that no row can outgrow a
paragraph and an index named ``<!channel>`` notifies nobody. Rows are packed whole into
paragraphs (never cut mid-way) with :func:`bot.chat.pack.pack`, within the chat's limits less
what each reply adds under its rows (a footer, a Next page button).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.chat.card import Button, Buttons, Card, Divider, Fields, Limits, Note, Part, Text
from bot.chat.mrkdwn import escape
from bot.chat.pack import LazyRows, Row, clip, escape_clipped, pack, paragraphs
from bot.cloud.models import Backup, Cluster, ListPosition, newest_first
from bot.commands import strings as s
from bot.commands.access import CommandDenied, denial_text
from bot.digest.model import STATE_ORDER, worst_first_key
from bot.errors import (
    AccessDenied,
    AuthError,
    BadRequest,
    BotError,
    CloudAPIError,
    CloudError,
    CloudRequestError,
    CloudTimeout,
    ConfigError,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    SlackError,
    StoreUnavailable,
    Unauthenticated,
    UsageError,
)
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

#: Characters of a reply's notification text, well within any chat's.
FALLBACK_BUDGET = 3000
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
#: An error's message and hint, measured after escaping: together well within a section.
_ERROR_ESCAPED = 1800
_HINT_ESCAPED = 1000

NEXT_PAGE_ACTION = "list_next_page"
#: The Next page buttons of ``status`` and ``clusters``; their value is :func:`view_page_value`.
STATUS_NEXT_PAGE_ACTION = "status_next_page"
CLUSTERS_NEXT_PAGE_ACTION = "clusters_next_page"
BACKUP_CONFIRM_ACTION = "backup_confirm"
BACKUP_CANCEL_ACTION = "backup_cancel"


@dataclass(frozen=True, slots=True)
class ClusterRow:
    """One line of ``clusters``: a cluster and the freshness verdict for it."""

    cluster: Cluster
    report: FreshnessReport


# --- small builders -----------------------------------------------------------------------------


def _clip(value: object, limit: int) -> str:
    """Bound a value to ``limit`` characters and make it one line; the result is not escaped."""
    text = " ".join(str(value).split()) if value is not None else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _esc(value: object, limit: int) -> str:
    return escape(_clip(value, limit))


def _code(value: object, limit: int = _ID_CLIP) -> str:
    """Escaped text for use inside backticks: a backtick in the value cannot end the span."""
    return _esc(value, limit).replace("`", "'")


def _plain(value: object, limit: int) -> str:
    """A cloud value in the plain-text fallback, escaped too: Slack parses it for mentions."""
    return _esc(value, limit)


def _when(moment: datetime | None) -> str:
    """A time shown in each reader's own time zone, with a UTC fallback."""
    if moment is None:
        return s.UNKNOWN_VALUE
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    ts = int(aware.timestamp())
    if ts <= 0:  # Slack formats only times after the epoch; keep the UTC text
        return utc_time(aware)
    return f"<!date^{ts}^{{date_short_pretty}} {{time}}|{utc_time(aware)}>"


def _t(template: str, **values: object) -> str:
    """Translate a strings template and fill it for mrkdwn: the template is escaped (so
    ``<cluster>`` shows as typed); the values must already be escaped by the caller."""
    return _fill(_(template), **values)


def _fill(template: str, **values: object) -> str:
    """Fill a template already in the reader's language (a count's form) as :func:`_t` does."""
    return escape(template).format(**values)


def _newest_first(backups: Iterable[Backup]) -> list[Backup]:
    # The API promises no order: sort, by the one order every view of the bot uses.
    return newest_first(backups)


def _fallback(text: str) -> str:
    return clip(text, FALLBACK_BUDGET)


# --- help ---------------------------------------------------------------------------------------


def render_help(topic: str | None = None) -> Card:
    """Usage of every command, or the full help of one, with examples."""
    entry = s.HELP_BY_NAME.get(topic) if topic else None
    if entry is None:
        lines = [f"*{escape(_(s.HELP_TITLE))}*"]
        lines += [
            f"`{escape(s.usage_line(h.name))}` {escape(_(h.summary))}" for h in s.COMMAND_HELP
        ]
        examples = ", ".join(
            f"`{escape(s.PREFIX)} {escape(h.examples[0])}`"
            for h in s.COMMAND_HELP
            if h.name in ("list", "clusters", "snooze")
        )
        parts: list[Part] = [
            Text("\n".join(lines)),
            Note([f"{_(s.HELP_EXAMPLES)}: {examples}"]),
            Note([escape(_(s.HELP_SHARE_NOTE).format(prefix=s.PREFIX))]),
        ]
        plain = [_(s.HELP_TITLE)]
        plain += [f"{s.usage_line(h.name)}: {_(h.summary)}" for h in s.COMMAND_HELP]
        return Card(escape("\n".join(plain)), parts)
    summary = _(entry.summary)
    body = [f"*{escape(s.usage_line(entry.name))}*", escape(summary.capitalize()) + "."]
    if entry.details:
        body.append(escape(_(entry.details)))
    examples = "\n".join(f"`{escape(s.PREFIX)} {escape(e)}`" for e in entry.examples)
    parts = [Text("\n".join(body)), Text(f"*{_(s.HELP_EXAMPLES)}*\n{examples}")]
    return Card(escape(f"{s.usage_line(entry.name)}: {summary}"), parts)


# --- list ---------------------------------------------------------------------------------------


def _list_row(backup: Backup, now: datetime) -> str:
    head = _t(
        s.LIST_ROW_HEAD,
        started=_when(backup.started_at),
        took=human_duration(backup.duration_seconds),
        size=human_bytes(backup.size_bytes),
        indices=s.count_indices(backup.indices_total),
        version=_esc(backup.opensearch_version or s.UNKNOWN_VALUE, _VERSION_CLIP),
    )
    tail = _t(
        s.LIST_ROW_TAIL,
        id=_code(backup.id),
        finished=_when(backup.finished_at),
        age=human_age(backup.finished_at, now),
    )
    return f"{head}\n{tail}"


def next_page_value(cluster_id: str, after: ListPosition, limit: int) -> str:
    """The Next page button's value: the cluster, where the page ended and the page size;
    everything needed to show the next page after a restart, whatever the cloud's order."""
    return json.dumps({"c": cluster_id, "p": after.encode(), "l": limit}, separators=(",", ":"))


def view_page_value(target: str | None, offset: int) -> str:
    """A ``status``/``clusters`` Next page button's value: what was asked for (a cluster or
    folder, or None for everything watched) and the row the next page starts at."""
    return json.dumps({"t": target, "o": offset}, separators=(",", ":"))


def next_page_button(action_id: str, value: str) -> Buttons:
    """A row with one Next page button."""
    return Buttons([Button(action_id, _(s.BUTTON_NEXT_PAGE), value)])


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
    label = _esc(cluster_label, _NAME_CLIP)
    head: list[Part] = [Note([escape(_clip(notice, _MESSAGE_CLIP))])] if notice else []
    about = paragraphs(_about_lines(explanation, now), limits=limits)
    if not backups:
        empty = s.LIST_EMPTY if first <= 1 else s.LIST_NO_MORE
        parts = [*head, Text(_t(empty, cluster=label)), *about]
        if skipped:
            parts.append(Note([_fill(s.list_skipped(skipped), n=skipped)]))
        return Card(_t(s.LIST_FALLBACK_EMPTY, cluster=_plain(cluster_label, _NAME_CLIP)), parts)
    ordered = newest_first(backups)
    # Room for the longest button value this page could need, decided once the rows are known.
    longest = max(len(next_page_value(cluster_id, ListPosition.of(b), limit)) for b in ordered)
    room = limits.less(
        parts=_LIST_RESERVE_PARTS, text=_LIST_RESERVE_TEXT + min(longest, limits.value)
    )
    rows = [_list_row(b, now) for b in ordered]
    head += [Text(_t(s.LIST_TITLE, cluster=label)), *about]
    packed = pack(rows, limits=room, head=head, sep="\n\n")
    shown = packed.shown
    footer = [_t(s.LIST_FOOTER, shown=s.count_backups(shown), prefix=s.PREFIX)]
    if total is not None and shown and (first > 1 or more or shown < len(rows)):
        footer.append(_t(s.LIST_RANGE, first=first, last=first + shown - 1, total=total))
    if shown < len(rows):
        footer.append(_fill(s.list_not_shown(len(rows) - shown), n=len(rows) - shown))
    if skipped:
        footer.append(_fill(s.list_skipped(skipped), n=skipped))
    button_value = ""
    if shown and (more or shown < len(rows)):
        button_value = next_page_value(cluster_id, ListPosition.of(ordered[shown - 1]), limit)
        if len(button_value) > limits.value:
            footer.append(_(s.LIST_POSITION_TOO_LONG))
            button_value = ""
    parts = [*packed.parts, Note([" · ".join(footer)])]
    if button_value:
        parts.append(next_page_button(NEXT_PAGE_ACTION, button_value))
    newest = ordered[0].finished_at or ordered[0].started_at
    text = _t(
        s.LIST_FALLBACK,
        cluster=_plain(cluster_label, _NAME_CLIP),
        shown=s.count_backups(len(ordered)),
        newest=f"{utc_time(newest)} ({human_age(newest, now)})",
    )
    return Card(_fallback(text), parts)


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


# --- get ----------------------------------------------------------------------------------------


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
    lines += [escape(_clip(note, _CLOUD_MESSAGE_CLIP)) for note in missing]
    return [line[:1].upper() + line[1:] for line in lines if line]


def render_backup(
    backup: Backup,
    *,
    now: datetime,
    explanation: Explanation | None = None,
    missing: Sequence[str] = (),
    limits: Limits,
) -> Card:
    """One backup in full: times, every size figure, version, and its index names.

    ``explanation`` (of its cluster, with ``restore`` judged for this backup) adds whether a
    restore would work, the cluster's state and last backup attempt, its retention policies and
    the trend of its last backups; ``missing`` (plain text) say what of that could not be read.
    """
    title = _t(s.BACKUP_TITLE, id=_code(backup.id))
    of = _t(
        s.BACKUP_OF,
        cluster=_code(backup.source_cluster_id or s.UNKNOWN_VALUE),
        folder=_code(backup.folder_id or s.UNKNOWN_VALUE),
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
            s.BACKUP_FIELD_VERSION, _esc(backup.opensearch_version or s.UNKNOWN_VALUE, _NAME_CLIP)
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
            _t(s.BACKUP_INDICES_TITLE, count=len(names))
            if total <= len(names)
            else _t(s.BACKUP_INDICES_PARTIAL, shown=len(names), total=f"{total:,}")
        )
        rows = [f"`{_code(n, _INDEX_CLIP)}`" for n in names]
        packed = pack(rows, limits=room, head=[*head, Divider()], lead=lead, sep="\n")
        parts = list(packed.parts)
        if packed.shown < len(names):
            left = len(names) - packed.shown
            notes.append(_fill(s.indices_not_shown(left), n=left))
    else:
        parts = head
        notes.append(_(s.BACKUP_INDICES_NONE))
    if notes:
        parts.append(Note([" ".join(notes)]))
    text = _t(
        s.BACKUP_FALLBACK,
        id=_plain(backup.id, _ID_CLIP),
        cluster=_plain(backup.source_cluster_id or s.UNKNOWN_VALUE, _ID_CLIP),
        finished=utc_time(backup.finished_at),
        size=human_bytes(backup.size_bytes),
        indices=s.count_indices(backup.indices_total),
    )
    return Card(_fallback(text), parts)


# --- folder -------------------------------------------------------------------------------------


def _folder_row(backup: Backup, now: datetime) -> str:
    return _t(
        s.FOLDER_ROW,
        finished=f"{_when(backup.finished_at)} ({human_age(backup.finished_at, now)})",
        size=human_bytes(backup.size_bytes),
        indices=s.count_indices(backup.indices_total),
        id=_code(backup.id),
    )


def _folder_group(
    label: str, backups: Sequence[Backup], per_cluster: int, now: datetime, limits: Limits
) -> list[Part]:
    """A cluster's part of ``folder``: a divider, its name and its newest backups."""
    ordered = _newest_first(backups)
    name = _esc(label, _NAME_CLIP)
    if not ordered:
        return [Divider(), Text(_t(s.FOLDER_CLUSTER_EMPTY, cluster=name))]
    head = _t(s.FOLDER_CLUSTER, cluster=name, count=s.count_backups(len(ordered)))
    rows = [_folder_row(b, now) for b in ordered[:per_cluster]]
    if len(ordered) > per_cluster:
        older = len(ordered) - per_cluster
        rows.append(_fill(s.folder_more_rows(older), n=older))
    return [Divider(), *paragraphs(rows, limits=limits, lead=head)]


def render_folder_backups(
    folder_id: str,
    groups: Sequence[tuple[str, Sequence[Backup]]],
    *,
    now: datetime,
    truncated: bool,
    limits: Limits,
) -> Card:
    """Backups of every cluster in a folder, grouped by cluster, newest first. Big folders show
    the newest few per cluster (and how many more), then as many clusters as fit."""
    folder = _code(folder_id, _ID_CLIP)
    total = sum(len(b) for _, b in groups)
    notes: list[str] = []
    if truncated:
        notes.append(_t(s.FOLDER_TRUNCATED, prefix=s.PREFIX))
    if not groups:
        empty: list[Part] = [Text(_t(s.FOLDER_EMPTY, folder=folder))]
        if notes:
            empty.append(Note(notes))
        return Card(_t(s.FOLDER_EMPTY, folder=_plain(folder_id, _ID_CLIP)), empty)
    title = Text(_t(s.FOLDER_TITLE, folder=folder))
    room = limits.less(parts=_NOTES_RESERVE_PARTS, text=_FOLDER_RESERVE_TEXT)
    packed = None
    for per_cluster in (10, 5, 3, 2, 1):
        # Each cluster whole or not at all; fewer backups each until every cluster fits.
        rows: list[Row] = [
            _folder_group(label, backups, per_cluster, now, limits) for label, backups in groups
        ]
        packed = pack(rows, limits=room, head=[title])
        if packed.shown == len(groups):
            break
    assert packed is not None
    if packed.shown < len(groups):
        left = len(groups) - packed.shown
        notes.append(_fill(s.folder_more_clusters(left), n=left, prefix=s.PREFIX))
    parts = list(packed.parts)
    if notes:
        parts.append(Note(notes[:2]))
    text = _t(
        s.FOLDER_FALLBACK,
        folder=_plain(folder_id, _ID_CLIP),
        clusters=s.count_clusters(len(groups)),
        backups=s.count_backups(total),
    )
    return Card(_fallback(text), parts)


# --- clusters -----------------------------------------------------------------------------------


def _state_counts(rows: Sequence[ClusterRow]) -> str:
    counts = Counter(r.report.state for r in rows)
    return ", ".join(
        f"{counts[state]} {_(s.STATE_WORD[state.value])}" for state in STATE_ORDER if counts[state]
    )


def _cluster_row(row: ClusterRow, now: datetime) -> str:
    report = row.report
    if report.newest_backup_at is not None:
        detail = " · " + _t(
            s.CLUSTERS_ROW_NEWEST,
            when=_when(report.newest_backup_at),
            age=human_age(report.newest_backup_at, now),
            max_age=human_duration(report.max_age.value),
        )
    elif report.reason:
        detail = " · " + _esc(report.reason, _CLOUD_MESSAGE_CLIP)
    else:
        detail = ""
    if report.explanation is not None:
        words = condition_short(report.explanation.condition)  # "is DEAD": the row is one line
        if words:
            detail += " · :warning: " + _("cluster {condition}").format(condition=words)
    return _t(
        s.CLUSTERS_ROW,
        icon=s.STATE_ICON[report.state.value],
        name=_esc(row.cluster.display_name, _NAME_CLIP),
        id=_code(row.cluster.id),
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
) -> Card:
    """One page of clusters with their newest backup, its age and freshness, worst first (the
    order of :func:`bot.digest.model.worst_first_key`), from row ``offset``; a Next page button
    (value: ``target``, the folder asked for or None, and the next offset) shows the rest."""
    folder = _esc(folder_label, _NAME_CLIP)
    if not rows:
        return Card(
            _t(s.CLUSTERS_EMPTY, folder=_plain(folder_label, _NAME_CLIP)),
            [Text(_t(s.CLUSTERS_EMPTY, folder=folder))],
        )
    offset = max(0, offset)
    ordered = sorted(rows, key=lambda r: worst_first_key(r.cluster, r.report))
    window = ordered[offset:]
    title = _t(s.CLUSTERS_TITLE, folder=folder)
    if offset:
        title += " · " + _t(s.VIEW_FROM_ROW, n=offset + 1)

    def line(i: int) -> str:
        text = _cluster_row(window[i], now) if window else ""
        if not window:
            text = _t(s.VIEW_FLEET_CHANGED, n=offset, prefix=s.PREFIX, command="clusters")
        return f"{title}\n{text}" if i == 0 else text  # the title opens the first section

    lines = LazyRows(max(len(window), 1), line)
    total = len(rows)
    counts = _state_counts(rows)
    summary = _fill(s.clusters_summary(total), total=total, counts=counts)

    def shown_of(left: int) -> int:
        return len(window) - left if window else 0

    def foot(left: int) -> list[Part]:
        shown = shown_of(left)
        remaining = total - offset - shown
        notes = [summary]
        if shown and (offset or remaining > 0):
            notes.append(_t(s.VIEW_ROWS, first=offset + 1, last=offset + shown, total=total))
        buttons: list[Part] = []
        if remaining > 0:
            notes.append(_fill(s.view_more(remaining), n=remaining, button=_(s.BUTTON_NEXT_PAGE)))
            value = view_page_value(target, offset + shown)
            buttons.append(next_page_button(CLUSTERS_NEXT_PAGE_ACTION, value))
        return [Note([" · ".join(notes)]), *buttons]

    text = _t(s.CLUSTERS_FALLBACK, folder=_plain(folder_label, _NAME_CLIP), counts=counts)
    packed = pack(lines, limits=limits, foot=foot, sep="\n")
    return Card(_fallback(text), packed.parts)


# --- errors, acknowledgements, confirmations ----------------------------------------------------


def _cloud_says(err: BaseException) -> str:
    return _clip(str(err), _CLOUD_MESSAGE_CLIP) or s.UNKNOWN_VALUE


def _describe(
    err: BaseException, correlation_id: str | None, subject: str | None
) -> tuple[str, str, str | None, str | None]:
    """(icon, message, hint, detail) in plain text; the caller escapes."""
    if isinstance(err, UsageError):
        return s.ERROR_ICON_USAGE, _clip(str(err), _MESSAGE_CLIP), err.hint, None
    if isinstance(err, AccessDenied):
        return s.ERROR_ICON_DENIED, _clip(str(err), _MESSAGE_CLIP), _(s.ACCESS_HINT), None
    if isinstance(err, CloudAPIError):
        detail = _(s.REQUEST_ID).format(id=_clip(err.request_id, 64)) if err.request_id else None
        if isinstance(err, NotFound):
            what = subject or _(s.NOT_FOUND_SUBJECT)
            message = (
                _(s.NOT_FOUND_CLOUD_SAYS).format(subject=what, cloud=_cloud_says(err))
                if str(err)
                else _(s.NOT_FOUND).format(subject=what)
            )
            return s.ERROR_ICON_USAGE, message, _(s.NOT_FOUND_HINT).format(prefix=s.PREFIX), detail
        if isinstance(err, PermissionDenied):
            message = _(s.PERMISSION_DENIED).format(cloud=_cloud_says(err))
            return s.ERROR_ICON_DENIED, message, _(s.PERMISSION_DENIED_HINT), detail
        if isinstance(err, Unauthenticated):
            return s.ERROR_ICON_CLOUD, _(s.UNAUTHENTICATED), _(s.UNAUTHENTICATED_HINT), detail
        if isinstance(err, RateLimited):
            return s.ERROR_ICON_CLOUD, _(s.CLOUD_RATE_LIMITED), _(s.TRY_AGAIN), detail
        if isinstance(err, ServerError):
            message = _(s.CLOUD_SERVER_ERROR).format(status=err.status)
            return s.ERROR_ICON_CLOUD, message, _(s.TRY_AGAIN), detail
        if isinstance(err, BadRequest):
            message = _(s.CLOUD_BAD_REQUEST).format(cloud=_cloud_says(err))
            return s.ERROR_ICON_CLOUD, message, None, detail
        message = _(s.CLOUD_OTHER).format(status=err.status, cloud=_cloud_says(err))
        return s.ERROR_ICON_CLOUD, message, _(s.TRY_AGAIN), detail
    if isinstance(err, CloudTimeout):
        return s.ERROR_ICON_CLOUD, _(s.CLOUD_TIMEOUT), _(s.TRY_AGAIN), None
    if isinstance(err, CloudRequestError):
        return s.ERROR_ICON_CLOUD, _(s.CLOUD_UNREACHABLE), _(s.TRY_AGAIN), None
    if isinstance(err, AuthError):
        return s.ERROR_ICON_CLOUD, _(s.UNAUTHENTICATED), _(s.UNAUTHENTICATED_HINT), None
    if isinstance(err, MalformedResponse):
        detail = _(s.UNEXPECTED).format(id=correlation_id) if correlation_id else None
        return s.ERROR_ICON_CLOUD, _(s.CLOUD_MALFORMED), _(s.TRY_AGAIN), detail
    if isinstance(err, CloudError):
        return s.ERROR_ICON_CLOUD, _(s.CLOUD_UNREACHABLE), _(s.TRY_AGAIN), None
    if isinstance(err, ConfigError):
        message = _(s.CONFIG_ERROR).format(detail=_clip(str(err), _MESSAGE_CLIP))
        return s.ERROR_ICON_BUG, message, _(s.CONFIG_HINT), None
    if isinstance(err, SlackError):
        message = _(s.SLACK_ERROR).format(detail=_clip(str(err), _CLOUD_MESSAGE_CLIP))
        return s.ERROR_ICON_BUG, message, _(s.TRY_AGAIN), None
    if isinstance(err, StoreUnavailable):
        return s.ERROR_ICON_BUG, _(s.STORE_UNAVAILABLE), _(s.STORE_HINT), None
    if isinstance(err, BotError) and str(err):
        return s.ERROR_ICON_USAGE, _clip(str(err), _MESSAGE_CLIP), None, None
    # An unexpected error: its text may hold anything, so only the id is shown.
    if correlation_id:
        message = _(s.UNEXPECTED).format(id=_clip(correlation_id, 64).replace("`", "'"))
    else:
        message = _(s.UNEXPECTED_NO_ID)
    return s.ERROR_ICON_BUG, message, _(s.UNEXPECTED_HINT), None


def render_error(
    err: BaseException, *, correlation_id: str | None = None, subject: str | None = None
) -> Card:
    """What went wrong, for a person: typed errors say what and what to do; anything else
    only says it was our fault, with the correlation id that is in the log.

    ``subject`` names what was looked for in a NotFound reply, e.g. "cluster `c9q...`"; it is
    plain text and is escaped here.
    """
    icon, message, hint, detail = _describe(err, correlation_id, subject)
    if isinstance(err, CommandDenied):
        text = f"{icon} {denial_text(err, mrkdwn=True)}"
    else:
        text = f"{icon} {escape_clipped(message, _ERROR_ESCAPED)}"
    if hint:
        text += "\n" + escape_clipped(_clip(hint, _MESSAGE_CLIP), _HINT_ESCAPED)
    parts: list[Part] = [Text(text)]
    if detail:
        parts.append(Note([escape_clipped(detail, _HINT_ESCAPED)]))
    plain = message if not hint else f"{message} {hint}"
    fallback = _fallback(escape(plain))
    return Card(fallback if fallback.strip() else icon, parts)


def render_ack(text: str) -> Card:
    """A short confirmation. ``text`` is plain (backticks and asterisks allowed) and escaped."""
    escaped = escape_clipped(_clip(text, _MESSAGE_CLIP), _ERROR_ESCAPED)
    return Card(escaped if escaped.strip() else _("Done."), [Text(f":white_check_mark: {escaped}")])


def render_backup_confirm(cluster_label: str, cluster_id: str) -> Card:
    """Ask before starting a backup: a Start backup and a Cancel button, value the cluster id."""
    question = _t(s.BACKUP_CONFIRM, cluster=_esc(cluster_label, _NAME_CLIP), id=_code(cluster_id))
    value = _clip(cluster_id, _ID_CLIP)
    buttons = [
        Button(BACKUP_CONFIRM_ACTION, _(s.BUTTON_CONFIRM_BACKUP), value, style="primary"),
        Button(BACKUP_CANCEL_ACTION, _(s.BUTTON_CANCEL), value),
    ]
    return Card(
        _t(s.BACKUP_CONFIRM_FALLBACK, cluster=_plain(cluster_label, _NAME_CLIP)),
        [Text(question), Buttons(buttons)],
    )
