"""When the watcher runs: the staleness sweep every ``sweep.every``, and each digest route on its
cron schedule in its own time zone.

APScheduler 3's ``AsyncIOScheduler`` does the timing; what makes a run happen once is not here but
in the store (every run is claimed, see :mod:`bot.digest.runner` and :mod:`bot.alerts.sweep`), so
several replicas may run this scheduler side by side. Two things APScheduler does not do are done
here:

* **catch-up after a restart**: its memory job store forgets a fire time missed while the process
  was down, so at start each route's latest scheduled time is looked up and, if it is within the
  route's ``misfire_grace`` and its digest was not posted, it is posted now;
* **runs held by the dead**: a digest whose claim another replica holds is looked at again once
  that claim's lease could have run out, until it is done or the grace is over, so a replica
  killed mid-digest does not cost the day's digest;
* **graceful shutdown**: APScheduler cancels running coroutine jobs when it shuts down. Jobs here
  run in tasks of their own (shielded from that cancellation), so a running sweep or digest can
  finish; one that does not finish within the timeout is cancelled, and its claim is handed back
  so that another replica takes it at once;
* **outages said once**: a run that fails because the database or the cloud is away is counted,
  not logged with a traceback: the outage is one line when it starts and one when it ends
  (:class:`bot.ops.outages.Outages`). An error of any other kind is a bug and keeps its traceback.

Fire times come from the one cron engine (:mod:`bot.cron`): weekdays follow crontab (0 or 7 is
Sunday, 1 is Monday), not APScheduler 3's own numbering (0 is Monday).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import clock as bot_clock
from bot.config import BotConfig, DigestRoute, ReportRoute
from bot.cron import cron_trigger, first_fire_after, last_fire_within
from bot.digest.runner import DigestResult, DigestRunner, DigestStatus, digest_route_key, run_key
from bot.errors import ConfigError
from bot.ops.logging import bind_request_id
from bot.ops.metrics import Metrics
from bot.ops.outages import Dependency, Outages, dependency_of, describe
from bot.store import Store

log = logging.getLogger(__name__)

#: Job id of the staleness sweep.
SWEEP_JOB = "sweep"
#: Job id of the daily clean-up of old history, and what it keeps.
PRUNE_JOB = "prune"
HISTORY_KEPT = timedelta(days=30)
PRUNE_FIRST_AFTER = timedelta(hours=1)
#: A monthly report missed while the bot was down is still made this late.
REPORT_MISFIRE_GRACE = timedelta(hours=12)
#: How long :meth:`WatchScheduler.shutdown` waits for running jobs by default.
SHUTDOWN_TIMEOUT = 30.0
#: Waits before retrying a digest whose post failed: 1, 2, 4, 8, then every 15 minutes, for as
#: long as the route's misfire grace lasts.
_RETRY_FIRST = timedelta(minutes=1)
_RETRY_MAX = timedelta(minutes=15)


class ReportRunner(Protocol):
    """What the scheduler needs of :class:`bot.ledger.reporter.MonthlyReporter`."""

    async def run(self, route: ReportRoute, *, now: datetime) -> Any: ...


class SweepRunner(Protocol):
    """What the scheduler needs of :class:`bot.alerts.sweep.Sweeper`."""

    async def run(self, *, now: datetime, dry_run: bool = False) -> Any: ...


# --- pure helpers ------------------------------------------------------------------------------


def next_fire(schedule: str, tz: str | ZoneInfo, after: datetime) -> datetime:
    """The first time strictly after ``after`` that ``schedule`` fires, in the zone ``tz``."""
    fire = first_fire_after(cron_trigger(schedule, tz), after)
    if fire is None:  # pragma: no cover - a crontab without an end date always fires again
        raise ValueError(f"{schedule!r} never fires after {after.isoformat()}")
    return fire


def latest_fire(
    schedule: str, tz: str | ZoneInfo, now: datetime, *, within: timedelta
) -> datetime | None:
    """The last time at or before ``now``, and no earlier than ``now - within``, that
    ``schedule`` fires; None when it does not fire in that window."""
    return last_fire_within(cron_trigger(schedule, tz), now - within, now)


def due_catch_up(
    schedule: str, tz: str | ZoneInfo, misfire_grace: timedelta, now: datetime
) -> datetime | None:
    """The scheduled time a digest started at ``now`` should still honour: the latest fire time
    at or before ``now`` if it is at most ``misfire_grace`` old, else None."""
    return latest_fire(schedule, tz, now, within=misfire_grace)


def retry_delay(attempt: int) -> timedelta:
    """How long to wait before retry number ``attempt`` (1-based) of a failed digest."""
    return min(_RETRY_FIRST * (1 << min(max(0, attempt - 1), 16)), _RETRY_MAX)


# --- the scheduler -----------------------------------------------------------------------------


class WatchScheduler:
    """Runs the sweep and the digests on time, on one replica or several."""

    def __init__(
        self,
        *,
        sweeper: SweepRunner,
        digests: DigestRunner,
        config: BotConfig,
        store: Store,
        owner: str,
        clock: Callable[[], datetime] = bot_clock.now,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT,
        prune_after: timedelta = PRUNE_FIRST_AFTER,
        metrics: Metrics | None = None,
        reports: ReportRunner | None = None,
        after_sweep: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        self._reports = reports
        self._prune_after = prune_after
        self.outages = Outages(metrics=metrics)
        self._sweeper = sweeper
        #: Run after every sweep, with ``now=`` (the restore drills' reaper and schedule).
        self._after_sweep = after_sweep
        self._digests = digests
        self._config = config
        self._store = store
        self._owner = owner
        self._clock = clock
        self._shutdown_timeout = shutdown_timeout
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._routes: dict[str, DigestRoute] = {}
        for route in config.digests:
            key = digest_route_key(route)
            try:
                cron_trigger(route.schedule, route.timezone)
            except ValueError as exc:
                raise ConfigError(f"digests: channel {route.channel}: {exc}") from None
            self._routes[key] = route
        #: Outcomes of the runs so far, newest last (for tests and ``check``): (job id, result).
        self.history: list[tuple[str, Any]] = []

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    async def start(self) -> None:
        """Start the jobs, and post any digest missed while the bot was down (within grace)."""
        if self._scheduler is not None:
            raise RuntimeError("the scheduler is already started")
        self._closing = False
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start()
        self._scheduler = scheduler
        now = self._clock()
        # APScheduler times its jobs by the wall clock, whatever ``now`` the runs are given.
        started = bot_clock.now()
        scheduler.add_job(
            self._sweep_job,
            IntervalTrigger(seconds=self._config.sweep.every.total_seconds(), timezone=UTC),
            id=SWEEP_JOB,
            name=SWEEP_JOB,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            # The first sweep right away: after a restart, staleness is known at once.
            next_run_time=started,
        )
        scheduler.add_job(
            self._prune_job,
            IntervalTrigger(hours=24, timezone=UTC),
            id=PRUNE_JOB,
            name=PRUNE_JOB,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=started + self._prune_after,
        )
        for key, route in self._routes.items():
            scheduler.add_job(
                self._digest_job,
                cron_trigger(route.schedule, route.timezone),
                args=[key],
                id=key,
                name=key,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(1, int(route.misfire_grace.total_seconds())),
            )
        if self._reports is not None:
            for index, report in enumerate(self._config.reports):
                # Once a month per route: the reporter's claim of the month settles replicas
                # and the days of the schedule after the first that fires.
                scheduler.add_job(
                    self._report_job,
                    cron_trigger(report.schedule, report.timezone),
                    args=[index],
                    id=f"report:{report.channel}:{index}",
                    name=f"report:{report.channel}",
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=int(REPORT_MISFIRE_GRACE.total_seconds()),
                )
        for key, route in self._routes.items():
            slot = due_catch_up(route.schedule, route.timezone, route.misfire_grace, now)
            if slot is not None:
                self._spawn(f"{key} (catch-up)", self._catch_up(key, route, slot, now))
        log.info("scheduler of %s started; next runs: %s", self._owner, _describe(self.next_runs()))

    async def shutdown(self, wait: bool = True) -> None:
        """Stop starting runs. With ``wait``, running ones may finish within the shutdown
        timeout; what is still running then (or at once without ``wait``) is cancelled and its
        claim handed back (the sweep and the digest runner release their claims when
        cancelled)."""
        self._closing = True
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # APScheduler's shutdown runs on the next loop iteration
        pending = {task for task in self._running if not task.done()}
        if pending and wait:
            _, pending = await asyncio.wait(pending, timeout=self._shutdown_timeout)
        # The sweep and the digest runner hand their claims back when cancelled, so another
        # replica takes the run over at once instead of waiting for the lease to run out.
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        self._running.clear()

    def next_runs(self) -> dict[str, datetime]:
        """The next time of each job (sweep and one per digest route), in UTC."""
        now = self._clock()
        out: dict[str, datetime] = {}
        if self._scheduler is not None:
            for job in self._scheduler.get_jobs():
                if job.next_run_time is not None and job.id in (SWEEP_JOB, *self._routes):
                    out[job.id] = job.next_run_time.astimezone(UTC)
        if SWEEP_JOB not in out:
            out[SWEEP_JOB] = now
        for key, route in self._routes.items():
            if key not in out:
                out[key] = next_fire(route.schedule, route.timezone, now).astimezone(UTC)
        return out

    # --- jobs ----------------------------------------------------------------------------------

    async def _prune_job(self) -> None:
        """Forget finished claims and old incidents: a claim row is written every sweep, so
        without this the database grows forever. Harmless to run on every replica."""
        if self._closing:
            return
        now = self._clock()
        cutoff = now - HISTORY_KEPT
        try:
            removed = await self._store.prune(before=cutoff)
            # The freshness ledger keeps its own, longer history (ledger.retention).
            removed += await self._store.ledger.prune(before=now - self._config.ledger.retention)
        except Exception as exc:
            if not self._outage(exc, now):
                log.exception("pruning old history failed")
            return
        self.outages.answered(Dependency.DATABASE, now=now)
        log.info("pruned %d row(s) of history older than %s", removed, cutoff.isoformat())

    async def _sweep_job(self) -> None:
        if self._closing:
            return
        now = self._clock()
        await self._shielded(SWEEP_JOB, self._run_sweep(now))

    async def _run_sweep(self, now: datetime) -> Any:
        try:
            result = await self._sweeper.run(now=now)
        except Exception as exc:
            if not self._outage(exc, now):
                log.exception("the sweep failed")
            return None
        self.outages.answered(Dependency.DATABASE, now=now)
        if self._after_sweep is not None:
            try:
                await self._after_sweep(now=now)
            except Exception:
                log.exception("the restore drills' pass after the sweep failed")
        if getattr(result, "blind", False):
            errors = getattr(result, "fleet_errors", ()) or ("nothing could be listed",)
            self.outages.failed(Dependency.CLOUD, str(errors[0]), now=now)
        elif getattr(result, "skipped", None) is None:
            self.outages.answered(Dependency.CLOUD, now=now)
        return result

    async def _report_job(self, index: int) -> None:
        if self._closing or self._reports is None:
            return
        route = self._config.reports[index]
        now = self._clock()
        try:
            result = await self._reports.run(route, now=now)
        except Exception as exc:
            if not self._outage(exc, now):
                log.exception("the monthly report to %s failed", route.channel)
            return
        self.history.append((f"report:{route.channel}", result))

    async def _digest_job(self, key: str, attempt: int = 0, slot: datetime | None = None) -> None:
        if self._closing:
            return
        route = self._routes[key]
        now = self._clock()
        if slot is None:
            # The fire time this run stands for (and so the local date it posts for): the
            # latest scheduled time, even if APScheduler runs the job a little late.
            slot = latest_fire(route.schedule, route.timezone, now, within=route.misfire_grace)
        if slot is None:
            slot = now
        elif now > slot + route.misfire_grace:
            return  # a retry past the grace: give up, as APScheduler does with a misfire
        await self._shielded(key, self._run_digest(key, route, slot, now, attempt))

    async def _run_digest(
        self, key: str, route: DigestRoute, slot: datetime, now: datetime, attempt: int
    ) -> DigestResult | None:
        result: DigestResult | None = None
        try:
            result = await self._digests.run_route(route, now=now, slot=slot)
        except Exception as exc:
            if not self._outage(exc, now):
                log.exception("the digest %s failed", key)
        else:
            self.outages.answered(Dependency.DATABASE, now=now)
            if result.status == DigestStatus.FAILED:
                reason = result.detail or "nothing could be listed"
                self.outages.failed(Dependency.CLOUD, reason, now=now)
            elif result.status == DigestStatus.QUEUED:
                self.outages.answered(Dependency.CLOUD, now=now)
        if result is None or result.status == DigestStatus.FAILED:
            self._schedule_retry(key, route, slot, now, attempt + 1)
        elif result.status == DigestStatus.SKIPPED:
            # Another replica holds the run. Alive, it finishes it; dead (killed mid-run), its
            # lease runs out: look again just after, and take the run over if it is not done.
            after = self._config.sweep.lease + timedelta(seconds=1)
            self._schedule_retry(key, route, slot, now, attempt + 1, after=after)
        return result

    async def _catch_up(
        self, key: str, route: DigestRoute, slot: datetime, now: datetime
    ) -> DigestResult | None:
        """Post the digest of ``slot`` unless it was posted (by this replica or another)."""
        try:
            if await self._store.claims.run_finished(run_key(key, route, slot)):
                return None
        except Exception as exc:
            if not self._outage(exc, now):
                log.exception("cannot tell whether the digest %s was posted; trying it", key)
        log.info("catching up the digest %s scheduled for %s", key, slot.isoformat())
        return await self._run_digest(key, route, slot, now, 0)

    def _schedule_retry(
        self,
        key: str,
        route: DigestRoute,
        slot: datetime,
        now: datetime,
        attempt: int,
        *,
        after: timedelta | None = None,
    ) -> None:
        when = now + (after if after is not None else retry_delay(attempt))
        if self._closing or self._scheduler is None or when > slot + route.misfire_grace:
            if not self._closing:
                log.error("the digest %s for %s was not posted; giving up", key, slot.isoformat())
            return
        log.warning("the digest %s will be retried at %s", key, when.isoformat())
        self._scheduler.add_job(
            self._digest_job,
            DateTrigger(run_date=when, timezone=UTC),
            args=[key, attempt, slot],
            id=f"{key}:retry",
            replace_existing=True,
            misfire_grace_time=max(1, int(route.misfire_grace.total_seconds())),
        )

    def _outage(self, exc: Exception, now: datetime) -> bool:
        """Count ``exc`` towards the outage of the dependency it stands for (saying so if the
        outage is new); False when it stands for none."""
        dependency = dependency_of(exc)
        if dependency is None:
            return False
        self.outages.failed(dependency, describe(exc), now=now)
        return True

    # --- task bookkeeping ----------------------------------------------------------------------

    def _spawn(self, name: str, work: Awaitable[Any]) -> asyncio.Task[Any]:
        # The task copies the context here: every log line of this run carries one request id.
        with bind_request_id():
            task: asyncio.Task[Any] = asyncio.ensure_future(self._record(name, work))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _record(self, name: str, work: Awaitable[Any]) -> Any:
        result = await work
        self.history.append((name, result))
        return result

    async def _shielded(self, name: str, work: Awaitable[Any]) -> None:
        """Run ``work`` in a task of its own, so that APScheduler's shutdown (which cancels the
        job's task) does not cut it short; :meth:`shutdown` decides when it is cancelled."""
        task = self._spawn(name, work)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)


def _describe(runs: dict[str, datetime]) -> str:
    return ", ".join(f"{job} at {when.isoformat()}" for job, when in sorted(runs.items()))
