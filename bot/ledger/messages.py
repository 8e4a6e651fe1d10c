"""What a person reads of the freshness ledger: ``/backups slo`` and ``/backups history``, as
cards in the catalog's words. Pure: figures and a ``now`` in, a card out."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.chat.card import Card, Header, Note, Part, Text
from bot.chat.mrkdwn import escape
from bot.freshness.sparkline import sparkline
from bot.i18n.catalog import _, ngettext
from bot.i18n.units import human_duration, utc_time
from bot.ledger.policy import ClusterDrills, ClusterLedger, FleetLedger, MonthDrills

#: The clusters below target an ``slo`` card names, worst first.
WORST_SHOWN = 10
#: The lines of a ``history`` card, newest first.
HISTORY_LINES = 40
#: The lowest share a day's sparkline block stands for (unless a day is lower).
SPARK_FLOOR = 0.9
#: Lines per paragraph (a chat caps a paragraph's length).
_LINES_PER_TEXT = 10


def percent(share: float | None) -> str:
    """``99.73 %``; ``—`` when nothing was observed."""
    if share is None:
        return "—"
    return f"{share * 100:.2f} %"


def render_slo(
    fleet: FleetLedger,
    *,
    scope: str,
    month: str,
    daily: Sequence[float | None],
    to_date: bool,
    drills: MonthDrills | None = None,
) -> Card:
    """The share within the objective of ``scope`` over ``month``, its clusters below target
    worst first with their worst gap, the share per day and the error budget left; with
    ``drills``, which clusters the month's restore drills proved restorable and how fast
    against their target."""
    title = (
        _("Backup freshness of {scope}, {month} to date")
        if to_date
        else _("Backup freshness of {scope}, {month}")
    ).format(scope=scope, month=month)
    parts: list[Part] = [Header(title)]
    if not fleet.clusters:
        text = _("The ledger has nothing for {scope} in {month} yet.").format(
            scope=escape(scope), month=month
        )
        return Card(text, [*parts, Text(text)])
    budget = fleet.budget_remaining
    lead = _(
        "*{share}* of the observed time within the maximum age (target {target}); "
        "error budget left: *{budget}*."
    ).format(
        share=percent(fleet.share),
        target=percent(fleet.target),
        budget=(
            human_duration(budget)
            if budget.total_seconds() >= 0
            else _("overspent by {duration}").format(duration=human_duration(-budget))
        ),
    )
    parts.append(Text(lead))
    known = [d for d in daily if d is not None]
    if known:
        # On a fixed scale from SPARK_FLOOR (or lower) to 100 %: a day at 99.9 % among days at
        # 100 % is not drawn as the bottom of the chart.
        anchors = [1.0, min(SPARK_FLOOR, *known)]
        line = sparkline([*daily, *anchors])[: len(daily)]
        parts.append(Text(_("Per day: `{sparkline}`").format(sparkline=line)))
    below = fleet.below_target()
    if below:
        lines = [_cluster_line(c) for c in below[:WORST_SHOWN]]
        heading = ngettext(
            "*{count} cluster below target*, worst first:",
            "*{count} clusters below target*, worst first:",
            len(below),
        ).format(count=len(below))
        parts.append(Text("\n".join([heading, *lines])))
        if len(below) > WORST_SHOWN:
            parts.append(Note([_("and {count} more").format(count=len(below) - WORST_SHOWN)]))
    else:
        parts.append(Text(_("Every cluster is at or above its target.")))
    if drills:
        parts += _drill_parts(drills)
    notes = []
    stopped = sum((c.stopped for c in fleet.clusters), start=fleet.observed * 0)
    unknown = sum((c.unknown for c in fleet.clusters), start=fleet.observed * 0)
    if stopped:
        notes.append(
            _("Stopped time left out: {duration}.").format(duration=human_duration(stopped))
        )
    if unknown:
        notes.append(
            _("Unknown (the bot cannot vouch for it): {duration}.").format(
                duration=human_duration(unknown)
            )
        )
    count = len(fleet.clusters)
    notes.append(
        ngettext("{count} cluster in the ledger.", "{count} clusters in the ledger.", count).format(
            count=count
        )
    )
    parts.append(Note(notes))
    return Card(f"{title}: {percent(fleet.share)}", parts)


def _drill_parts(drills: MonthDrills) -> list[Part]:
    """The month's restore drills: how many drilled clusters were proven restorable, each
    (worst first: no drill passed, over its target, the slowest) with its slowest restore
    against ``rto_target``, and how many a drill route covers went undrilled."""
    parts: list[Part] = []
    count = len(drills.clusters)
    if count:
        heading = ngettext(
            "*Restore drills:* {proven} of {count} drilled cluster proven restorable "
            "(a drill passed):",
            "*Restore drills:* {proven} of {count} drilled clusters proven restorable "
            "(a drill passed):",
            count,
        ).format(proven=len(drills.proven), count=count)
        ordered = drills.worst_first()
        lines = [_drill_line(c) for c in ordered[:WORST_SHOWN]]
        parts.append(Text("\n".join([heading, *lines])))
        if count > WORST_SHOWN:
            parts.append(Note([_("and {count} more").format(count=count - WORST_SHOWN)]))
    else:
        parts.append(Text(_("*Restore drills:* no cluster was drilled in this period.")))
    if drills.undrilled:
        n = len(drills.undrilled)
        parts.append(
            Note(
                [
                    ngettext(
                        "{count} cluster a drill route covers was not drilled in this period.",
                        "{count} clusters a drill route covers were not drilled in this period.",
                        n,
                    ).format(count=n)
                ]
            )
        )
    return parts


def _drill_line(c: ClusterDrills) -> str:
    cluster = escape(c.display_name)
    if not c.proven:
        return ":x: " + ngettext(
            "{cluster}: no drill passed ({failed} failed)",
            "{cluster}: no drill passed ({failed} failed)",
            c.failed,
        ).format(cluster=cluster, failed=c.failed)
    slowest = c.slowest
    if slowest is None:
        return ":white_check_mark: " + _("{cluster}: passed").format(cluster=cluster)
    if c.rto_target is None:
        return ":white_check_mark: " + _("{cluster}: restored in {time}").format(
            cluster=cluster, time=human_duration(slowest)
        )
    if c.within_target:
        return ":white_check_mark: " + _("{cluster}: restored in {time} (target {target})").format(
            cluster=cluster, time=human_duration(slowest), target=human_duration(c.rto_target)
        )
    return ":warning: " + _(
        "{cluster}: restored in {time}, slower than its target {target}"
    ).format(cluster=cluster, time=human_duration(slowest), target=human_duration(c.rto_target))


def _cluster_line(c: ClusterLedger) -> str:
    gap = c.longest_gap
    if gap is None:
        return _("• {cluster}: {share}").format(
            cluster=escape(c.display_name), share=percent(c.share)
        )
    return _("• {cluster}: {share}, worst gap {duration} from {start}").format(
        cluster=escape(c.display_name),
        share=percent(c.share),
        duration=human_duration(gap.duration),
        start=utc_time(gap.start),
    )


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a cluster's history: when, and what (our markup, escaped)."""

    at: datetime
    text: str


def render_history(
    name: str,
    *,
    days: int,
    figures: ClusterLedger,
    events: Sequence[Event],
) -> Card:
    """A cluster's timeline over the last ``days`` days, newest first."""
    title = ngettext(
        "History of {cluster}, the last {days} day",
        "History of {cluster}, the last {days} days",
        days,
    ).format(cluster=name, days=days)
    parts: list[Part] = [Header(title)]
    summary = _(
        "*{share}* within the maximum age; {breaches} outside it, {outside} in all."
    ).format(
        share=percent(figures.share),
        breaches=ngettext("{count} breach", "{count} breaches", len(figures.breaches)).format(
            count=len(figures.breaches)
        ),
        outside=human_duration(figures.outside),
    )
    parts.append(Text(summary))
    ordered = sorted(events, key=lambda e: e.at, reverse=True)
    shown = ordered[:HISTORY_LINES]
    lines = [f"`{utc_time(e.at)}` {e.text}" for e in shown]
    for i in range(0, len(lines), _LINES_PER_TEXT):
        parts.append(Text("\n".join(lines[i : i + _LINES_PER_TEXT])))
    if not lines:
        parts.append(Text(_("Nothing happened in that time.")))
    if len(ordered) > HISTORY_LINES:
        parts.append(
            Note(
                [
                    _("{count} older events not shown; ask for fewer days.").format(
                        count=len(ordered) - HISTORY_LINES
                    )
                ]
            )
        )
    return Card(title, parts)


#: The CSV's columns, one row per cluster: names a spreadsheet shows as headers (ids, not words).
CSV_COLUMNS = (
    "cluster_id",
    "cluster",
    "folder_id",
    "month",
    "target_percent",
    "share_percent",
    "observed_hours",
    "outside_hours",
    "stopped_hours",
    "unknown_hours",
    "breaches",
    "longest_time_to_recover_hours",
    "longest_gap_hours",
    "longest_gap_start",
    "error_budget_hours",
    "error_budget_left_hours",
    # Restore drills finished in the month (empty where no drill finished): a cluster with a
    # passed drill was proven restorable; its slowest restore against its route's rto_target.
    "drills_passed",
    "drills_failed",
    "slowest_restore_minutes",
    "rto_target_minutes",
)


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.2f}"


def _minutes(delta: timedelta | None) -> str:
    return "" if delta is None else f"{delta.total_seconds() / 60:.0f}"


def report_csv(fleet: FleetLedger, *, month: str, drills: MonthDrills | None = None) -> str:
    """The month's figures as CSV (RFC 4180, comma-separated, a header row), one row per
    cluster, worst share first: what ``backups-bot report --csv`` prints and the monthly report
    attaches."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    ordered = sorted(
        fleet.clusters,
        key=lambda c: (c.share if c.share is not None else 2.0, c.display_name, c.cluster_id),
    )
    for c in ordered:
        gap = c.longest_gap
        recoveries = c.recoveries
        drilled = drills.of(c.cluster_id) if drills is not None else None
        writer.writerow(
            (
                c.cluster_id,
                c.name,
                c.folder_id,
                month,
                f"{c.target * 100:g}",
                "" if c.share is None else f"{c.share * 100:.4f}",
                _hours(c.observed),
                _hours(c.outside),
                _hours(c.stopped),
                _hours(c.unknown),
                len(c.breaches),
                _hours(max(recoveries)) if recoveries else "",
                _hours(gap.duration) if gap is not None else "",
                gap.start.strftime("%Y-%m-%dT%H:%M:%SZ") if gap is not None else "",
                _hours(c.budget),
                _hours(c.budget_remaining),
                drilled.passed if drilled is not None else "",
                drilled.failed if drilled is not None else "",
                _minutes(drilled.slowest) if drilled is not None else "",
                _minutes(drilled.rto_target) if drilled is not None else "",
            )
        )
    return out.getvalue()
