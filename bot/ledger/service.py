"""``/backups slo`` and ``/backups history``: the freshness ledger read back from the store,
figured by the pure ledger, shown as cards. No cloud request: the ledger is what the sweeps
kept."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.chat.actions import Answer, BoundAction, Invocation
from bot.chat.card import Card
from bot.chat.mrkdwn import code, escape, mention
from bot.cloud.models import Cluster
from bot.commands.grammar import HistoryCmd, SloCmd
from bot.commands.router import CommandRoute
from bot.config import BotConfig, DrillRoute, Match, Slo
from bot.drills.plan import route_for
from bot.errors import UsageError
from bot.fleet.match import folder_allowed, matches
from bot.i18n.catalog import _, ngettext
from bot.i18n.units import human_bytes, human_duration
from bot.ledger.messages import Event, render_history, render_slo
from bot.ledger.model import ClusterHistory, ClusterState
from bot.ledger.policy import (
    ClusterLedger,
    FleetLedger,
    MonthDrills,
    daily_shares,
    ledger_of,
    month_drills,
    month_of,
    month_period,
)
from bot.store import Store


def cluster_of(history: ClusterHistory) -> Cluster:
    """The cluster as the ledger last saw it, for matching."""
    return Cluster.model_validate(
        {
            "id": history.cluster_id,
            "name": history.name,
            "folderId": history.folder_id,
            "labels": dict(history.labels),
            "environment": history.environment or "ENVIRONMENT_UNSPECIFIED",
        }
    )


def target_for(slo: Slo, history: ClusterHistory) -> float:
    """The cluster's target: the first matching ``slo.overrides`` entry's, else ``slo.target``."""
    if slo.overrides:
        cluster = cluster_of(history)
        for override in slo.overrides:
            if matches(override.match, cluster):
                return override.target
    return slo.target


def scope_match(target: str) -> Match | None:
    """A match written as the config's (``folder:<id>``, ``label:<k>=<v>``,
    ``environment:<ENV>``), or None for a bare id or name."""
    kind, sep, rest = target.partition(":")
    if not sep:
        return None
    if kind == "folder":
        return Match(folder=rest)
    if kind == "environment":
        return Match.model_validate({"environment": rest})
    name, _eq, value = rest.partition("=")
    return Match(labels={name: value})


async def drills_of(
    store: Store,
    config: BotConfig,
    histories: Sequence[ClusterHistory],
    *,
    start: datetime,
    end: datetime,
) -> MonthDrills | None:
    """The restore drills of ``histories``' clusters that finished in ``[start, end)``, read
    from the drills table, each against its drill route's ``rto_target``; None when drills are
    not configured and none finished (the report then says nothing of drills)."""
    records = await store.drills.finished_between(start, end)
    if not config.drills and not records:
        return None
    by_id = {h.cluster_id: h for h in histories}

    def route(cluster_id: str) -> DrillRoute | None:
        return route_for(config.drills, cluster_of(by_id[cluster_id]))

    def target(cluster_id: str) -> timedelta | None:
        found = route(cluster_id)
        return found.rto_target if found is not None else None

    return month_drills(
        records,
        [(h.cluster_id, h.name) for h in histories],
        rto_target=target,
        covered=lambda cluster_id: route(cluster_id) is not None,
    )


async def month_to_date(store: Store, config: BotConfig, *, now: datetime) -> list[ClusterLedger]:
    """Every cluster's figures for this month so far (those the ledger saw this month)."""
    start, end = month_period(month_of(now))
    return [
        ledger_of(h, start=start, end=end, now=now, target=target_for(config.slo, h))
        for h in await store.ledger.histories(start=start, end=end)
        if h.spans
    ]


class LedgerService:
    """The ledger's commands; a feature of the router."""

    def __init__(self, store: Store, config: BotConfig) -> None:
        self.store = store
        self.config = config

    def commands(self) -> Iterable[CommandRoute[Any]]:
        async def slo(command: SloCmd, inv: Invocation, now: datetime) -> Answer:
            card = await self.slo(command.target, command.month, now=now)
            return Answer([card], ephemeral=not command.share)

        async def history(command: HistoryCmd, inv: Invocation, now: datetime) -> Answer:
            card = await self.history(command.cluster, command.days, now=now)
            return Answer([card], ephemeral=not command.share)

        yield CommandRoute(SloCmd, slo, reaches_cloud=False)
        yield CommandRoute(HistoryCmd, history, reaches_cloud=False)

    def actions(self) -> Iterable[BoundAction]:
        return ()

    async def _visible(self, start: datetime, end: datetime) -> list[ClusterHistory]:
        allowed = self.config.visible_folders()
        return [
            h
            for h in await self.store.ledger.histories(start=start, end=end)
            if folder_allowed(h.folder_id, allowed)
        ]

    async def fleet(
        self, target: str | None, month: str | None, *, now: datetime
    ) -> tuple[FleetLedger, list[ClusterHistory], str]:
        """The figures of ``target``'s clusters for ``month`` (default: this month), with their
        histories and the scope as a person reads it."""
        start, end = month_period(month or month_of(now))
        histories = await self._visible(start, end)
        scope, chosen = _choose(target, histories)
        figures = tuple(
            ledger_of(h, start=start, end=end, now=now, target=target_for(self.config.slo, h))
            for h in chosen
        )
        return FleetLedger(start, end, self.config.slo.target, figures), chosen, scope

    async def slo(self, target: str | None, month: str | None, *, now: datetime) -> Card:
        fleet, chosen, scope = await self.fleet(target, month, now=now)
        daily = daily_shares(
            chosen, start=fleet.start, end=fleet.end, now=now, target=self.config.slo.target
        )
        return render_slo(
            fleet,
            scope=scope,
            month=month or month_of(now),
            daily=daily,
            to_date=now < fleet.end,
            drills=await self.drills(chosen, fleet),
        )

    async def drills(
        self, histories: Sequence[ClusterHistory], fleet: FleetLedger
    ) -> MonthDrills | None:
        """The restore drills of ``histories`` in ``fleet``'s period."""
        return await drills_of(self.store, self.config, histories, start=fleet.start, end=fleet.end)

    async def history(self, cluster: str, days: int, *, now: datetime) -> Card:
        start = now - timedelta(days=days)
        found = [h for h in await self._visible(start, now) if cluster in (h.cluster_id, h.name)]
        if not found:
            raise UsageError(
                _("The ledger has no cluster `{cluster}`.").format(cluster=escape(cluster)),
                hint=_("It keeps the clusters the bot watches, from their first sweep on."),
            )
        history = found[0]
        figures = ledger_of(
            history, start=start, end=now, now=now, target=target_for(self.config.slo, history)
        )
        events = _backup_events(history, start)
        events += _change_events(history, start)
        events += await self._incident_events(history.cluster_id, start)
        for started in await self.store.ledger.started_backups(history.cluster_id, since=start):
            outcome = escape(started.outcome) if started.outcome else _("still running")
            events.append(
                Event(
                    started.requested_at,
                    _("backup started from Slack by {user}: {outcome}").format(
                        user=mention(started.requested_by), outcome=outcome
                    ),
                )
            )
        return render_history(history.display_name, days=days, figures=figures, events=events)

    async def _incident_events(self, cluster_id: str, start: datetime) -> list[Event]:
        out: list[Event] = []
        for entry in await self.store.incidents.list_alerts():
            if entry.cluster_id != cluster_id:
                continue
            if entry.opened_at is not None and entry.opened_at >= start:
                out.append(Event(entry.opened_at, _(":rotating_light: alert opened")))
            if entry.acknowledged_at is not None and entry.acknowledged_at >= start:
                by = mention(entry.acknowledged_by) if entry.acknowledged_by else "?"
                out.append(
                    Event(entry.acknowledged_at, _("acknowledged by {user}").format(user=by))
                )
            if entry.snoozed_until is not None and entry.snoozed_by:
                out.append(
                    Event(
                        entry.last_notified_at or entry.snoozed_until,
                        _("snoozed by {user} until {until}").format(
                            user=mention(entry.snoozed_by),
                            until=entry.snoozed_until.strftime("%Y-%m-%d %H:%M UTC"),
                        ),
                    )
                )
            if entry.resolved_at is not None and entry.resolved_at >= start:
                out.append(Event(entry.resolved_at, _(":white_check_mark: resolved")))
        return out


def _choose(
    target: str | None, histories: Sequence[ClusterHistory]
) -> tuple[str, list[ClusterHistory]]:
    if target is None:
        return _("every watched cluster"), list(histories)
    match = scope_match(target)
    if match is not None:
        return target, [h for h in histories if matches(match, cluster_of(h))]
    by_cluster = [h for h in histories if target in (h.cluster_id, h.name)]
    if by_cluster:
        return by_cluster[0].display_name, by_cluster[:1]
    by_folder = [h for h in histories if h.folder_id == target]
    if by_folder:
        return _("folder {folder}").format(folder=target), by_folder
    raise UsageError(
        _("The ledger has no cluster or folder `{target}`.").format(target=escape(target)),
        hint=_("Name a watched cluster, a folder id, or a match such as `label:team=search`."),
    )


def _backup_events(history: ClusterHistory, start: datetime) -> list[Event]:
    """Backups on time as one line per run, and each gap beyond the maximum age as its own."""
    events: list[Event] = []
    backups = [b for b in history.backups if b.completed_at >= start]
    max_age = history.max_ages[-1].max_age if history.max_ages else None
    run: list[datetime] = []

    def close_run() -> None:
        if not run:
            return
        events.append(
            Event(
                run[-1],
                ngettext(
                    "{count} backup on time since {first}",
                    "{count} backups on time since {first}",
                    len(run),
                ).format(count=len(run), first=run[0].strftime("%Y-%m-%d %H:%M")),
            )
        )
        run.clear()

    previous = None
    for backup in backups:
        if previous is not None and max_age is not None:
            gap = backup.completed_at - previous
            if gap > max_age:
                close_run()
                events.append(
                    Event(
                        backup.completed_at,
                        _(
                            ":warning: no backup for {gap} (max {max_age}), until {backup} ({size})"
                        ).format(
                            gap=human_duration(gap),
                            max_age=human_duration(max_age),
                            backup=code(backup.backup_id),
                            size=human_bytes(backup.size_bytes),
                        ),
                    )
                )
                previous = backup.completed_at
                continue
        run.append(backup.completed_at)
        previous = backup.completed_at
    close_run()
    return events


def _change_events(history: ClusterHistory, start: datetime) -> list[Event]:
    events: list[Event] = []
    for change in history.max_ages[1:]:
        if change.since >= start:
            events.append(
                Event(
                    change.since,
                    _("maximum age now {max_age} ({source})").format(
                        max_age=human_duration(change.max_age), source=change.source
                    ),
                )
            )
    said = {
        ClusterState.STOPPED: _(":double_vertical_bar: stopped"),
        ClusterState.RUNNING: _(":arrow_forward: running"),
        ClusterState.DEAD: _(":skull: health DEAD"),
    }
    for i, state in enumerate(history.states):
        if state.since >= start and i > 0:
            events.append(Event(state.since, said[state.state]))
    return events
