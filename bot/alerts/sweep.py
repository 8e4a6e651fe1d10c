"""The staleness sweep: read the fleet once, move every alert incident on, queue what to say.

One sweep per slot (``now`` floored to ``sweep.every``) across every replica: the slot is claimed
in the store first, and a replica that loses the claim does nothing ("another replica got there
first"). The persisted incident is what makes an alert post once and resolve once; the store's
version check keeps two writers (a sweep and a button click) from both moving it.

Nothing is posted from here. Each incident's change is committed together with the posts it calls
for (:mod:`bot.alerts.plan` makes them; the outbox holds them): a crash leaves either both or
neither, and the delivery executor (:mod:`bot.outbox.executor`) sends what is queued, once,
at Slack's pace, however slow or refusing Slack is. A sweep never waits for Slack.

Doubt before acting: a new incident is re-read before anyone is paged (one flaky read pages
nobody); an open incident whose cluster is missing from a listing is re-read with Cluster.get
before it is retired: gone or no longer watched retires it, an error leaves it as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot import clock
from bot.alerts import policy as alerts
from bot.alerts.coverage import (
    UNREADABLE,
    UNREADABLE_FACT,
    count_unreadable,
    plan_coverage,
    render_unreadable_alert,
    render_unreadable_recovered,
)
from bot.alerts.messages import render_self_alert, render_self_recovered
from bot.alerts.model import AlertEntry, BotIncident
from bot.alerts.plan import RouteView, Step, plan_route, plan_self
from bot.alerts.policy import ActionKind
from bot.alerts.self_policy import BLIND, evaluate_blind
from bot.cloud.limits import background_lane
from bot.cloud.models import Cluster
from bot.config import AlertRoute
from bot.errors import BotError, NotFound
from bot.fleet.job import FleetJob
from bot.fleet.match import matches, route_key, watched
from bot.fleet.reader import ClusterReading, FleetReading, read_cluster, read_clusters, read_fleet
from bot.freshness.memory import had_schedule_ids, remember_schedules
from bot.freshness.model import FreshnessReport
from bot.freshness.policy import max_age_for
from bot.i18n.catalog import use_locale
from bot.ledger.model import Observation
from bot.ledger.policy import observation_of
from bot.ledger.service import month_to_date
from bot.ops.metrics import ClusterFigures
from bot.ops.outages import dependency_of, describe
from bot.outbox.change import Change
from bot.outbox.posts import OutboundPost, PostKind
from bot.silences.model import Silence
from bot.silences.policy import silence_for
from bot.store.claims import SKIPPED_CLAIM

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep did; ``posts`` are the messages it queued (would queue, in a dry run)."""

    slot: str
    now: datetime
    dry_run: bool = False
    skipped: str | None = None  # why nothing was done (another replica has the slot)
    clusters: int = 0  # watched clusters read
    fleet_errors: tuple[str, ...] = ()  # folders or clusters that could not be listed
    blind: bool = False  # the cloud could not be read at all
    consecutive_failures: int = 0
    posts: tuple[OutboundPost, ...] = ()
    #: Clusters whose new alert the confirming re-read did not bear out (a flaky read).
    unconfirmed: tuple[str, ...] = ()
    #: Incidents another writer moved while this sweep worked on them (left to it).
    conflicts: tuple[str, ...] = ()
    #: Clusters with an open incident missing from the listing, re-read before deciding.
    doubted: tuple[str, ...] = ()
    cloud_requests: int = 0

    @property
    def ok(self) -> bool:
        """True unless the cloud was unreadable."""
        return not self.blind

    def of(self, *kinds: PostKind) -> list[OutboundPost]:
        """The queued posts of these kinds, in order."""
        return [p for p in self.posts if p.kind in kinds]

    @property
    def posted(self) -> list[OutboundPost]:
        """New alerts: one per cluster, or one per storm."""
        return self.of(PostKind.ALERT, PostKind.GROUP_ALERT)

    @property
    def updated(self) -> list[OutboundPost]:
        """Alert messages updated in place."""
        return self.of(PostKind.ALERT_UPDATE, PostKind.GROUP_UPDATE)

    @property
    def reminded(self) -> list[OutboundPost]:
        return self.of(PostKind.REMINDER)

    @property
    def resolved(self) -> list[OutboundPost]:
        """Resolved notices."""
        return self.of(PostKind.RESOLVED)

    def summary(self) -> str:
        """One line: the slot and the counts."""
        if self.skipped:
            return f"sweep {self.slot}: skipped, {self.skipped}"
        verb = "would queue" if self.dry_run else "queued"
        grouped = self.of(PostKind.GROUP_ALERT)
        parts = [
            f"{self.clusters} cluster{'s' if self.clusters != 1 else ''} read",
            f"{len(self.posted)} alert(s) {verb}"
            + (f" ({len(grouped)} grouped)" if grouped else ""),
            f"{len(self.updated)} update(s)",
            f"{len(self.reminded)} reminder(s)",
            f"{len(self.resolved)} resolved",
        ]
        if self_alerts := self.of(PostKind.SELF_ALERT):
            parts.append(f"{verb} {len(self_alerts)} self-alert(s)")
        if recovered := self.of(PostKind.SELF_REPLY):
            parts.append(f"{verb} {len(recovered)} recovery notice(s)")
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} left to another writer")
        if self.blind:
            parts.append(f"BLIND ({self.consecutive_failures} failed sweep(s) in a row)")
        elif self.fleet_errors:
            parts.append(f"{len(self.fleet_errors)} read error(s)")
        return f"sweep {self.slot}{' (dry run)' if self.dry_run else ''}: " + ", ".join(parts)


def slot_start(now: datetime, every: timedelta) -> datetime:
    """``now`` floored to a multiple of ``every`` since the Unix epoch (UTC)."""
    step = int(every.total_seconds())
    if step <= 0:
        raise ValueError("sweep.every must be at least a second")
    seconds = int((now.astimezone(UTC) - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=seconds - seconds % step)


def slot_key(now: datetime, every: timedelta) -> str:
    """The run-claim key of the sweep slot holding ``now``: ``sweep:<slot start ISO>``."""
    return f"sweep:{slot_start(now, every).isoformat()}"


def alert_route_key(route: AlertRoute) -> str:
    """The store key of an alert route."""
    return route_key("alert", route.channel, route.match)


async def _cancel(tasks: Iterable[asyncio.Task[ClusterReading]]) -> None:
    """Cancel the re-reads nobody awaited (the sweep stopped early) and reap them."""
    started = list(tasks)
    for task in started:
        if not task.done():
            task.cancel()
    # Also collects what finished with an error, so that nothing is left unretrieved.
    await asyncio.gather(*started, return_exceptions=True)


class _ClaimLost(Exception):
    """The slot's lease was taken over by another replica: stop before posting anything."""


@dataclass
class _Run:
    """Mutable state of one sweep, gathered into the result at the end."""

    now: datetime
    dry_run: bool
    posts: list[OutboundPost] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    doubted: list[str] = field(default_factory=list)
    #: The confirming re-reads, started together and awaited in cluster order.
    rereads: dict[str, asyncio.Task[ClusterReading]] = field(default_factory=dict)
    requests: int = 0
    #: The silences that hold at ``now``, read once (bot.silences): who is not paged.
    silences: tuple[Silence, ...] = ()

    def silence_for(self, cluster: Cluster) -> Silence | None:
        return silence_for(self.silences, cluster, self.now)


@dataclass(eq=False, repr=False)
class Sweeper(FleetJob):
    """Runs the staleness sweep. One per process; :meth:`run` may be called every slot."""

    _lost: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    # --- the run -------------------------------------------------------------------------------

    async def run(
        self, *, now: datetime, dry_run: bool = False, manual: bool = False
    ) -> SweepResult:
        """One sweep at ``now``. In a dry run nothing is claimed, saved or posted: the result
        holds the messages that would have gone out.

        ``manual`` (the ``sweep`` verb, the demo) runs even when this slot's scheduled sweep
        already ran, under a claim of its own; an incident and its alert are committed together,
        guarded by the incident's version, so it never queues a second alert for an open one."""
        sweep = self.config.sweep
        key = (
            f"sweep-manual:{now.isoformat()}:{self.owner}" if manual else slot_key(now, sweep.every)
        )
        if not dry_run and not await self.store.claims.claim_run(
            key, self.owner, now=now, lease=sweep.lease
        ):
            log.info("sweep %s: %s", key, SKIPPED_CLAIM)
            if self.metrics is not None:
                self.metrics.record_sweep("skipped")
            return SweepResult(slot=key, now=now, skipped=SKIPPED_CLAIM)

        self._lost.clear()
        renewer = None if dry_run else asyncio.create_task(self._renew(key))
        try:
            # Its reads (and the re-reads it starts as tasks) wait behind people's requests and
            # within the background share, whoever runs it: the scheduler, the verb, the demo.
            with background_lane():
                result = await self._sweep(key, now, dry_run)
        except _ClaimLost:
            log.warning("sweep %s: the claim was taken over mid-run; stopped", key)
            if self.metrics is not None:
                self.metrics.record_sweep("skipped")
            return SweepResult(slot=key, now=now, skipped="the claim was taken over mid-run")
        except BaseException:
            if not dry_run:
                # Hand the slot back so that another replica (or the next tick) can run it.
                with contextlib.suppress(Exception):
                    await self.store.claims.release_run(key, self.owner)
                if self.metrics is not None:
                    self.metrics.record_sweep("failed")
            raise
        finally:
            if renewer is not None:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
        if not dry_run:
            await self.store.claims.finish_run(key, self.owner, now=now)
            if result.posts:
                self._queued()
            if self.metrics is not None:
                outcome = "ok" if result.ok else "failed"
                finished = clock.now().timestamp() if not result.blind else None
                self.metrics.record_sweep(outcome, finished)
                firing = await self.store.incidents.list_alerts(open_only=True)
                self.metrics.alerts_firing.set(len(firing))
                if result.ok:
                    await self._ledger_metrics(now)
        log.info("%s", result.summary())
        return result

    async def _renew(self, key: str) -> None:
        """Keep the lease while the sweep works; flag a lost claim so that nothing more posts."""
        lease = self.config.sweep.lease
        interval = max(lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                held = await self.store.claims.renew_claim(
                    key, self.owner, now=clock.now(), lease=lease
                )
            except Exception as exc:
                # An outage of the database is said once, by the scheduler; a bug deserves its
                # traceback.
                if dependency_of(exc) is None:
                    log.exception("sweep %s: could not renew the claim", key)
                else:
                    log.debug("sweep %s: could not renew the claim: %s", key, describe(exc))
                continue
            if not held:
                self._lost.set()
                return

    def _check_claim(self) -> None:
        if self._lost.is_set():
            raise _ClaimLost

    async def _sweep(self, key: str, now: datetime, dry_run: bool) -> SweepResult:
        run = _Run(now=now, dry_run=dry_run)
        run.silences = tuple(await self.store.silences.active(now))
        fleet, read_failure = await self._read(now)
        run.requests += fleet.requests
        blind = read_failure is not None
        self._check_claim()

        had_schedule = await had_schedule_ids(self.store)
        changes: list[Change] = []
        if not blind:
            try:
                for route in self.config.alerts:
                    changes += await self._plan_route(run, route, fleet, had_schedule)
            finally:
                await _cancel(run.rereads.values())
            changes.append(await self._plan_coverage(run, fleet))
            changes.append(await self._plan_unreadable(run, fleet))
            if not dry_run:
                self._export_figures(fleet, had_schedule, now)
                await self._remember_schedules(fleet, had_schedule)

        if not dry_run:
            # What the sweep saw goes to the freshness ledger with the sweep's own record, in
            # one transaction, before any incident it decided is committed.
            observations = self._observations(fleet, now) if not blind else ()
            failures = await self.store.facts.record_sweep(
                ok=not blind, now=now, ledger=observations
            )
        else:  # what record_sweep would count, so that a dry run shows a self-alert it would post
            failures = await self.store.facts.sweep_failures() + 1 if blind else 0
        changes.append(await self._plan_blind(run, failures, read_failure))
        await self._commit(run, changes)

        return SweepResult(
            slot=key,
            now=now,
            dry_run=dry_run,
            clusters=len(fleet.clusters),
            fleet_errors=fleet.errors,
            blind=blind,
            consecutive_failures=failures,
            posts=tuple(run.posts),
            unconfirmed=tuple(run.unconfirmed),
            conflicts=tuple(run.conflicts),
            doubted=tuple(run.doubted),
            cloud_requests=run.requests,
        )

    def _export_figures(self, fleet: FleetReading, had_schedule: set[str], now: datetime) -> None:
        """Every watched cluster's freshness, as the per-cluster metrics say it."""
        if self.metrics is None:
            return
        figures = []
        for reading in fleet.clusters:
            report = self._classify(reading, had_schedule, now)
            cluster = reading.cluster
            figures.append(
                ClusterFigures(
                    cluster_id=cluster.id,
                    name=cluster.name,
                    folder=cluster.folder_id,
                    state=report.state.value,
                    newest_age_seconds=report.age.total_seconds()
                    if report.age is not None
                    else None,
                    max_age_seconds=report.max_age.value.total_seconds(),
                )
            )
        self.metrics.set_clusters(figures)

    async def _commit(self, run: _Run, changes: list[Change]) -> None:
        """Commit each change with its posts, one transaction each; a change whose incident
        another writer moved meanwhile is left to them (the next sweep looks again)."""
        for change in changes:
            if not change:
                continue
            if run.dry_run:
                run.posts.extend(change.posts)
                continue
            self._check_claim()
            if await self.store.commit(change, now=run.now) is None:
                what = ", ".join(
                    [f"{e.cluster_id}/{e.route_key}" for e in change.alerts]
                    + [f"group {g.label}" for g in change.groups]
                    + [i.key for i in change.incidents]
                )
                run.conflicts.append(what)
                log.info("sweep: %s changed meanwhile; left to the other writer", what)
                continue
            run.posts.extend(change.posts)

    async def _read(self, now: datetime) -> tuple[FleetReading, str | None]:
        """The fleet, and why it counts as unreadable (None when the sweep could see)."""
        try:
            # The reasons a read words (the cloud's failures, a folder that cannot be listed) are
            # said as they are made: in the bot's language, which its routes mostly share.
            with use_locale(self.config.locale):
                fleet = await read_fleet(self.cloud, self.config, now=now)
        except Exception as exc:  # a sweep must survive anything the read throws
            # A cloud that cannot be read is said by the sweep's result and the scheduler's
            # outage lines (and a self-alert after blind_after sweeps); a bug keeps its traceback.
            if dependency_of(exc) is None:
                log.exception("sweep: reading the fleet failed")
            return FleetReading((), (), 0), f"reading the fleet failed: {describe(exc)}"
        if fleet.errors and not fleet.clusters:
            return fleet, fleet.errors[0]
        if fleet.clusters and all(c.error is not None for c in fleet.clusters):
            return fleet, fleet.clusters[0].error
        return fleet, None

    # --- alert routes --------------------------------------------------------------------------

    async def _plan_route(
        self, run: _Run, route: AlertRoute, fleet: FleetReading, had_schedule: set[str]
    ) -> list[Change]:
        key = alert_route_key(route)
        # One query for the route's incidents (not one per cluster); the version check of every
        # save still catches a writer that moves one of them meanwhile.
        entries = {e.cluster_id: e for e in await self.store.incidents.list_alerts(route_key=key)}
        groups = {
            g.id: g for g in await self.store.incidents.list_groups(route_key=key, open_only=True)
        }
        seen: dict[str, tuple[Cluster, FreshnessReport]] = {}
        candidates: list[Step] = []
        for reading in fleet.clusters:
            if not matches(route.match, reading.cluster):
                continue
            step = self._step(
                run, route, key, reading, entries.get(reading.cluster.id), had_schedule
            )
            assert step.report is not None
            seen[reading.cluster.id] = (step.cluster, step.report)
            if _matters(step):
                candidates.append(step)

        # Open incidents whose cluster the listing did not show: ask for each before retiring it.
        missing = [e for e in entries.values() if e.status.is_open and e.cluster_id not in seen]
        for step in await self._doubt(run, route, key, missing, had_schedule, fleet.found_folders):
            if step.report is not None:
                seen[step.cluster_id] = (step.cluster, step.report)
            if _matters(step):
                candidates.append(step)

        # Start re-reading every new incident at once (the client's limiter bounds the requests
        # in flight); each is awaited in cluster order below.
        self._check_claim()
        self._reread(
            run, [s.cluster_id for s in candidates if s.decision.has(ActionKind.POST_ALERT)]
        )
        steps: list[Step] = []
        for step in candidates:
            if step.decision.has(ActionKind.POST_ALERT):
                confirmed = await self._confirm(run, step.cluster_id, had_schedule)
                if confirmed is None:
                    run.unconfirmed.append(step.cluster_id)
                    log.info(
                        "sweep: %s looked %s but the re-read did not confirm it; no alert",
                        step.cluster_id,
                        step.report.state.value if step.report else "stale",
                    )
                    continue
                cluster, report = confirmed
                decision = alerts.evaluate(
                    step.before,
                    report,
                    route=route,
                    route_key=key,
                    now=run.now,
                    silence=run.silence_for(cluster),
                )
                if not decision.has(ActionKind.POST_ALERT):
                    continue
                seen[cluster.id] = (cluster, report)
                step = Step(cluster, report, step.before, decision)
            steps.append(step)
        view = RouteView(
            route,
            key,
            entries,
            seen,
            groups,
            locale=self.config.locale_of(route),
            folder_names=dict(fleet.folder_names),
        )
        return plan_route(view, steps, chat=self.chat, console_url=self.console_url, now=run.now)

    def _step(
        self,
        run: _Run,
        route: AlertRoute,
        key: str,
        reading: ClusterReading,
        stored: AlertEntry | None,
        had_schedule: set[str],
    ) -> Step:
        report = self._classify(reading, had_schedule, run.now)
        decision = alerts.evaluate(
            stored,
            report,
            route=route,
            route_key=key,
            now=run.now,
            silence=run.silence_for(reading.cluster),
        )
        return Step(reading.cluster, report, stored, decision)

    async def _doubt(
        self,
        run: _Run,
        route: AlertRoute,
        key: str,
        missing: list[AlertEntry],
        had_schedule: set[str],
        found_folders: frozenset[str] | None = None,
    ) -> list[Step]:
        """Re-read the clusters of open incidents a listing did not show. A cluster the cloud no
        longer knows, or that is no longer watched on the route, is retired; one that cannot be
        read keeps its incident as it is (blind is no reason to close)."""
        if not missing:
            return []
        probes = await asyncio.gather(*(self._probe(run, e.cluster_id) for e in missing))
        steps: list[Step] = []
        for entry, probe in zip(missing, probes, strict=True):
            run.doubted.append(entry.cluster_id)
            if probe is None or (
                isinstance(probe, ClusterReading)
                and not (
                    watched(self.config, probe.cluster, found_folders)
                    and matches(route.match, probe.cluster)
                )
            ):
                cluster = (
                    probe.cluster
                    if isinstance(probe, ClusterReading)
                    else Cluster(id=entry.cluster_id)
                )
                steps.append(
                    Step(cluster, None, entry, alerts.retire(entry, route=route, now=run.now))
                )
                continue
            if isinstance(probe, str):
                log.info(
                    "sweep: %s was not in the listing and cannot be read (%s); its incident "
                    "stays as it is",
                    entry.cluster_id,
                    probe,
                )
                continue
            steps.append(self._step(run, route, key, probe, entry, had_schedule))
        return steps

    async def _plan_coverage(self, run: _Run, fleet: FleetReading) -> Change:
        """Clusters the bot starts or stops watching, said once in the routes they match. One
        the listing no longer shows is asked for first: dropped only when the cloud says it is
        gone or no longer in a watched folder; one that cannot be read, or whose folder could
        not be listed, stays (unknown is no reason to stop watching)."""
        known = await self.store.coverage.list()
        seen = {reading.cluster.id for reading in fleet.clusters}
        missing = [
            entry
            for entry in known.values()
            if entry.watching
            and entry.cluster_id not in seen
            and entry.folder_id not in fleet.unlisted
        ]
        probes = await asyncio.gather(*(self._probe(run, e.cluster_id) for e in missing))
        gone: list[Cluster] = []
        for entry, probe in zip(missing, probes, strict=True):
            if probe is None:
                gone.append(Cluster(id=entry.cluster_id, folder_id=entry.folder_id))
            elif isinstance(probe, ClusterReading) and not watched(
                self.config, probe.cluster, fleet.found_folders
            ):
                gone.append(probe.cluster)
        self._check_claim()
        return plan_coverage(
            known,
            fleet.clusters,
            gone,
            routes=self.config.alerts,
            chat=self.chat,
            folder_names=dict(fleet.folder_names),
            now=run.now,
            retired=set(run.doubted),
        )

    async def _plan_unreadable(self, run: _Run, fleet: FleetReading) -> Change:
        """A self-alert once a watched folder has been unreadable for ``blind_after`` sweeps in
        a row (coverage fell, silently otherwise); its all-clear when every folder reads."""
        raw = await self.store.facts.get_fact(UNREADABLE_FACT)
        before = json.loads(raw) if raw else {}
        counts = count_unreadable(before, fleet.unlisted)
        if not run.dry_run and counts != before:
            await self.store.facts.set_fact(UNREADABLE_FACT, json.dumps(counts, sort_keys=True))
        blind_after = self.config.sweep.blind_after
        over = sorted(f for f, n in counts.items() if n >= blind_after)
        incident = await self.store.incidents.get_incident(UNREADABLE)
        decision = evaluate_blind(
            incident or BotIncident(key=UNREADABLE),
            can_see=not counts,
            failures=max(counts.values(), default=0),
            blind_after=blind_after,
            last_ok=None,
            reason=", ".join(over),
            now=run.now,
        )
        names = {f.id: f.name for f in fleet.discovery.folders}
        reasons = [e for e in fleet.errors if any(f in e for f in over)]
        return plan_self(
            decision,
            chat=self.chat,
            channels=self._self_channels(),
            opened=render_unreadable_alert(
                [(f, names.get(f, "")) for f in over], max(counts.values(), default=0), reasons
            ),
            closed=render_unreadable_recovered(),
        )

    async def _probe(self, run: _Run, cluster_id: str) -> ClusterReading | str | None:
        """The cluster read again; None when the cloud says it does not exist; the error for a
        person when it cannot be read (in the bot's language, as :meth:`_read` says it)."""
        with use_locale(self.config.locale):
            return await self._probe_once(run, cluster_id)

    async def _probe_once(self, run: _Run, cluster_id: str) -> ClusterReading | str | None:
        run.requests += 1
        try:
            cluster = await self.cloud.get_cluster(cluster_id)
        except NotFound:
            return None
        except BotError as exc:
            return str(exc) or type(exc).__name__
        run.requests += 1
        [reading] = await read_clusters(
            self.cloud, [cluster], freshness=self.config.freshness, now=run.now
        )
        return reading if reading.error is None else reading.error

    def _classify(
        self, reading: ClusterReading, had_schedule: set[str], now: datetime
    ) -> FreshnessReport:
        # The reading judges itself: its retention policies may set the maximum age, and what
        # the cloud says of why (attempts, state, restore readiness) goes with the report.
        return reading.report(
            self.config.freshness, now=now, had_schedule=reading.cluster.id in had_schedule
        )

    def _reread(self, run: _Run, cluster_ids: list[str]) -> None:
        """Start reading the clusters of new incidents once more (each once a sweep)."""
        for cluster_id in dict.fromkeys(cluster_ids):
            if cluster_id not in run.rereads:
                with use_locale(self.config.locale):  # the task speaks as the first read did
                    run.rereads[cluster_id] = asyncio.create_task(
                        read_cluster(
                            self.cloud, cluster_id, freshness=self.config.freshness, now=run.now
                        )
                    )
                run.requests += 2

    async def _confirm(
        self, run: _Run, cluster_id: str, had_schedule: set[str]
    ) -> tuple[Cluster, FreshnessReport] | None:
        """The cluster as re-read (started by :meth:`_reread`) before paging anyone; None unless
        it still fires."""
        reading = await run.rereads[cluster_id]
        report = self._classify(reading, had_schedule, run.now)
        if not report.state.fires:
            return None
        return reading.cluster, report

    async def _ledger_metrics(self, now: datetime) -> None:
        """The month to date of each cluster, for /metrics; never fails the sweep."""
        assert self.metrics is not None
        try:
            figures = await month_to_date(self.store, self.config, now=now)
        except Exception as exc:
            if dependency_of(exc) is None:
                log.exception("sweep: the ledger's figures could not be made")
            return
        self.metrics.set_ledger(
            (f.cluster_id, f.name, f.folder_id, f.share, f.budget_remaining.total_seconds())
            for f in figures
        )

    # --- the freshness ledger ---------------------------------------------------------------

    def _observations(self, fleet: FleetReading, now: datetime) -> tuple[Observation, ...]:
        """What this sweep saw of each cluster whose backups it could read."""
        out: list[Observation] = []
        for reading in fleet.clusters:
            if reading.error is not None or reading.count is None:
                continue
            cluster = reading.cluster
            max_age = max_age_for(cluster, self.config.freshness, reading.policies or ())
            out.append(observation_of(cluster, at=now, backups=reading.seen, max_age=max_age))
        return tuple(out)

    # --- schedules -----------------------------------------------------------------------------

    async def _remember_schedules(self, fleet: FleetReading, had: set[str]) -> None:
        scheduled = (
            r.cluster.id
            for r in fleet.clusters
            if r.error is None and r.cluster.snapshot_schedule is not None
        )
        await remember_schedules(self.store, scheduled, had)

    # --- the bot about itself ------------------------------------------------------------------

    def _self_channels(self) -> list[str]:
        if self.config.sweep.self_alert_channel:
            return [self.config.sweep.self_alert_channel]
        return list(dict.fromkeys(route.channel for route in self.config.alerts))

    async def _plan_blind(self, run: _Run, failures: int, read_failure: str | None) -> Change:
        """One self-alert after ``blind_after`` failed sweeps, one all-clear in its threads."""
        incident = await self.store.incidents.get_incident(BLIND)
        last_ok = await self.store.facts.get_marker("last_sweep_ok")
        decision = evaluate_blind(
            incident,
            can_see=read_failure is None,
            failures=failures,
            blind_after=self.config.sweep.blind_after,
            last_ok=last_ok,
            reason=read_failure or "",
            now=run.now,
        )
        with use_locale(self.config.locale):  # one notice for every channel: the bot's language
            opened = render_self_alert(failures, last_ok, read_failure or "", run.now)
            closed = render_self_recovered(decision.incident.since, run.now)
        return plan_self(
            decision, chat=self.chat, channels=self._self_channels(), opened=opened, closed=closed
        )


def _matters(step: Step) -> bool:
    """Whether a step has anything to post or to save, or is an open incident whose alert never
    reached Slack (from before the outbox) and must be posted now."""
    entry = step.decision.entry
    if step.decision.actions or step.before is None or entry != step.before:
        return (
            bool(step.decision.actions)
            or (step.before is not None and entry != step.before)
            or (step.before is None and entry.status.is_open)  # opened while silenced
        )
    return (
        entry.status.is_open
        and not entry.silenced
        and entry.message_id is None
        and entry.message_ts is None
        and entry.group_id is None
    )
