"""Restore drills as the rest of the bot sees them: run one now (the CLI, the slash command),
plan one without creating anything (a dry run), and, after every sweep, reap leftovers, take over
drills whose replica died, and start the drills whose period has come.

Money guardrails: nothing happens unless ``drills:`` lists a route; a route runs at most
``max_concurrent`` drills at once; each drill is bounded by its ``time_limit``; every drill
cluster is labelled and deleted by the drill, else by the reaper.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import clock
from bot.chat.actions import Answer, BoundAction, Invocation
from bot.chat.card import Chat
from bot.cloud.client import CloudClient
from bot.cloud.models import Backup, Cluster, RestoreRequest
from bot.commands.grammar import DrillCmd, DrillsCmd
from bot.commands.router import CommandRoute
from bot.config import BotConfig, DrillRoute
from bot.drills.actions import DRILL_CANCEL, DRILL_CONFIRM
from bot.drills.messages import (
    render_drill_cancelled,
    render_drill_confirm,
    render_drill_list,
    render_drill_started,
)
from bot.drills.model import PASSWORD_NOT_SENT, DrillRecord, drill_id
from bot.drills.plan import (
    DrillCost,
    choose_backup,
    drill_cost,
    period_start,
    restore_request,
    route_for,
)
from bot.drills.reaper import DrillReaper
from bot.drills.runner import DEFAULT_POLL_INTERVAL, DrillRunner
from bot.errors import BotError, CloudError
from bot.fleet.lookup import ClusterFinder
from bot.fleet.match import matches, watched
from bot.i18n.catalog import _, ngettext
from bot.slack.blocks import SLACK
from bot.store import Store

log = logging.getLogger(__name__)

#: An unfinished drill is not counted against ``max_concurrent`` this long after its deadline
#: (its replica died and the reaper has its cluster).
_STALE_AFTER = timedelta(hours=1)


class NoDrillRoute(BotError):
    """No ``drills:`` route matches the cluster (drills are off unless configured)."""


class TooManyDrills(BotError):
    """The route already runs ``max_concurrent`` drills."""


@dataclass(frozen=True)
class DrillPlan:
    """What a drill of a cluster would do now: the route, the backup, the request and its cost.
    The request's admin password is a placeholder: a dry run creates nothing."""

    cluster: Cluster
    route: DrillRoute
    backup: Backup | None
    request: RestoreRequest | None
    cost: DrillCost


class DrillService:
    """Drills for one process: its runner, its reaper, and the drills it runs in the background."""

    def __init__(
        self,
        cloud: CloudClient,
        store: Store,
        config: BotConfig,
        *,
        owner: str,
        finder: ClusterFinder | None = None,
        chat: Chat = SLACK,
        queued: Callable[[], None] | None = None,
        poll_interval: float | None = None,
    ) -> None:
        self.cloud = cloud
        self.store = store
        self.config = config
        self.finder = finder or ClusterFinder(cloud, config)
        self.runner = DrillRunner(
            cloud,
            store,
            owner=owner,
            lease=config.sweep.lease,
            queued=queued,
            chat=chat,
            poll_interval=DEFAULT_POLL_INTERVAL if poll_interval is None else poll_interval,
        )
        self.reaper = DrillReaper(cloud, store, config, chat=chat, queued=queued)
        self._tasks: dict[str, asyncio.Task[DrillRecord | None]] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.config.drills)

    def route_of(self, cluster: Cluster) -> DrillRoute:
        route = route_for(self.config.drills, cluster)
        if route is None:
            raise NoDrillRoute(
                _(
                    "No drills: route matches cluster {cluster}; restore drills are off unless "
                    "the config lists one."
                ).format(cluster=cluster.display_name)
            )
        return route

    async def plan(self, ref: str, *, now: datetime) -> DrillPlan:
        """What a drill of the cluster ``ref`` names would create now, and cost; creates nothing."""
        cluster = await self.finder.find(ref)
        route = self.route_of(cluster)
        drill = drill_id(cluster.id, now)
        backups = (await self.cloud.all_cluster_backups(cluster.id)).backups
        backup = choose_backup(backups, route, drill=drill, now=now)
        request = (
            None
            if backup is None
            else restore_request(
                route, cluster, backup, drill=drill, admin_password=PASSWORD_NOT_SENT, now=now
            )
        )
        return DrillPlan(cluster, route, backup, request, drill_cost(route, backup))

    async def _check_room(self, route: DrillRoute, now: datetime, *, starting: int = 0) -> None:
        running = [
            r
            for r in await self.store.drills.running_drills()
            if r.folder_id == route.folder
            and r.channel == route.channel
            and now < r.deadline + _STALE_AFTER
        ]
        if len(running) + starting >= route.max_concurrent:
            raise TooManyDrills(
                ngettext(
                    "{count} drill of this route is running already (max_concurrent: {most}); "
                    "try again when it is over.",
                    "{count} drills of this route are running already (max_concurrent: {most}); "
                    "try again when one is over.",
                    len(running),
                ).format(count=len(running), most=route.max_concurrent)
            )

    async def run_now(
        self, cluster: Cluster, *, requested_by: str = "", now: datetime | None = None
    ) -> DrillRecord | None:
        """Run a drill of ``cluster`` now, to its end; None when another replica runs it."""
        now = now or clock.now()
        route = self.route_of(cluster)
        await self._check_room(route, now)
        return await self.runner.run(
            route, cluster, drill=drill_id(cluster.id, now), requested_by=requested_by, now=now
        )

    def start(
        self,
        cluster: Cluster,
        route: DrillRoute,
        *,
        drill: str,
        requested_by: str = "",
        now: datetime,
    ) -> asyncio.Task[DrillRecord | None]:
        """Run a drill in the background (once: a second call gives the same task)."""
        task = self._tasks.get(drill)
        if task is not None and not task.done():
            return task
        task = asyncio.create_task(
            self.runner.run(route, cluster, drill=drill, requested_by=requested_by, now=now),
            name="drill:" + drill,
        )
        self._tasks[drill] = task
        return task

    @property
    def running(self) -> list[str]:
        return [d for d, task in self._tasks.items() if not task.done()]

    async def wait(self) -> None:
        """Wait for the background drills (tests, a graceful drain)."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop the background drills: each asks for its cluster's delete and hands its claim
        back (the next replica, or the reaper, finishes the job)."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    # --- after every sweep ----------------------------------------------------------------------

    # --- the commands and their buttons -----------------------------------------------------------

    def commands(self) -> Iterable[CommandRoute[Any]]:
        yield CommandRoute(DrillsCmd, self._list)
        yield CommandRoute(DrillCmd, self._ask)

    def actions(self) -> Iterable[BoundAction]:
        yield DRILL_CONFIRM.bind(self._confirmed)
        yield DRILL_CANCEL.bind(self._cancelled)

    async def _list(self, command: DrillsCmd, inv: Invocation, now: datetime) -> Answer:
        ids = None
        if command.cluster is not None:
            ids = [(await self.finder.find(command.cluster)).id]
        records = await self.store.drills.list_drills(ids, limit=20)
        return Answer([render_drill_list(records, now=now)], ephemeral=not command.share)

    async def _ask(self, command: DrillCmd, inv: Invocation, now: datetime) -> Answer:
        plan = await self.plan(command.cluster, now=now)
        if plan.backup is None:
            raise NoDrillRoute(
                _("{cluster} has no backup to restore.").format(cluster=plan.cluster.display_name)
            )
        return Answer(
            [
                render_drill_confirm(
                    plan.cluster.display_name,
                    plan.cluster.id,
                    plan.cost,
                    backup_id=plan.backup.id,
                    channel=plan.route.channel,
                )
            ]
        )

    async def _confirmed(self, cluster_id: str, inv: Invocation, now: datetime) -> Answer:
        cluster = await self.finder.find(cluster_id)
        route = self.route_of(cluster)
        await self._check_room(route, now)
        self.start(
            cluster, route, drill=drill_id(cluster.id, now), requested_by=inv.user_id, now=now
        )
        return Answer(
            [render_drill_started(cluster.display_name, route.channel)], replace_original=True
        )

    async def _cancelled(self, cluster_id: str, inv: Invocation, now: datetime) -> Answer:
        return Answer([render_drill_cancelled()], replace_original=True)

    async def after_sweep(self, *, now: datetime) -> None:
        """Reap leftovers, take over drills whose replica died, start the drills now due."""
        if not self.enabled:
            return
        await self.reaper.reap(now=now)
        await self.take_over(now=now)
        await self._start_due(now)

    async def take_over(self, *, now: datetime) -> None:
        """Resume, in the background, the unfinished drills whose replica's claim lapsed (a
        drill still held by its replica is left to it: its claim refuses)."""
        for record in await self.store.drills.running_drills():
            if record.id in self.running or now >= record.deadline:
                continue  # past its deadline: the reaper deletes its cluster
            try:
                cluster = await self.cloud.get_cluster(record.cluster_id)
            except CloudError as exc:
                log.warning("drill %s: cannot read its cluster: %s", record.id, exc)
                continue
            route = route_for(self.config.drills, cluster)
            if route is not None:
                # The runner's claim says whether its replica is alive: if it is, this returns
                # None at once.
                self.start(cluster, route, drill=record.id, now=record.started_at)

    async def _watched_clusters(self) -> list[Cluster]:
        clusters: dict[str, Cluster] = {}
        for folder in self.config.watch.folders:
            for cluster in await self.finder.cache.clusters_in(self.cloud, folder):
                clusters[cluster.id] = cluster
        for ref in self.config.watch.clusters:
            with contextlib.suppress(BotError):
                cluster = await self.finder.find(ref)
                clusters[cluster.id] = cluster
        return [c for c in clusters.values() if watched(self.config, c)]

    async def _start_due(self, now: datetime) -> None:
        due = [(route, period_start(route, now)) for route in self.config.drills]
        due = [(route, period) for route, period in due if period is not None]
        if not due:
            return
        try:
            clusters = await self._watched_clusters()
        except CloudError as exc:
            log.warning("drills: cannot read the watched clusters: %s", exc)
            return
        for route, period in due:
            assert period is not None
            started = 0
            for cluster in clusters:
                if route_for(self.config.drills, cluster) is not route or not matches(
                    route.match, cluster
                ):
                    continue
                drill = drill_id(cluster.id, period)
                if drill in self._tasks or await self.store.drills.get_drill(drill) is not None:
                    continue
                try:
                    await self._check_room(route, now, starting=started)
                except TooManyDrills:
                    break  # the next sweep starts the rest
                self.start(cluster, route, drill=drill, now=now)
                started += 1
