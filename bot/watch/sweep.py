"""The staleness sweep: read the fleet once, move every alert incident on, post what changed.

One sweep per slot (``now`` floored to ``sweep.every``) across every replica: the slot is claimed
in the store first, and a replica that loses the claim does nothing ("another replica got there
first"). The persisted incident is what makes an alert post once and resolve once; the store's
version check keeps two writers (a sweep and a button click) from both moving it.

Delivery is at least once, with a window of one Slack call: an alert is saved as posted only
after Slack accepted it, so a failed post is tried again by the next sweep. A replica killed
between Slack's answer and the save (milliseconds) would have its alert posted again by the
replica that takes the slot over.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from bot import clock
from bot.cloud.limits import background_lane
from bot.config import AlertRoute
from bot.core import alerts
from bot.core.alerts import ActionKind, Decision, Reason
from bot.core.freshness import classify, max_age_for
from bot.core.match import matches, route_key
from bot.core.types import AlertEntry, AlertStatus, FreshnessReport
from bot.errors import SlackError
from bot.models import Cluster
from bot.render.message import Message
from bot.render.watch import (
    render_alert,
    render_reminder,
    render_resolved,
    render_retired,
    render_self_alert,
    render_self_recovered,
)
from bot.store import Store
from bot.watch.part import SKIPPED_CLAIM, WatchPart
from bot.watch.reader import ClusterReading, FleetReading, read_cluster, read_fleet

log = logging.getLogger(__name__)

#: Store fact: ids of clusters seen with a snapshot schedule (JSON list), so that a schedule
#: removed later is reported as such rather than as a stale cluster.
FACT_HAD_SCHEDULE = "watch:had_schedule"
#: Store fact: the open self-alert (JSON ``{"since": iso, "messages": {channel: ts}}``), or "".
FACT_SELF_ALERT = "watch:self_alert"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SweepActionKind(enum.StrEnum):
    POST_ALERT = "post_alert"
    UPDATE_ALERT = "update_alert"
    POST_REMINDER = "post_reminder"
    POST_RESOLVED = "post_resolved"
    POST_SELF_ALERT = "post_self_alert"
    POST_SELF_RECOVERED = "post_self_recovered"


@dataclass(frozen=True, slots=True)
class SweepAction:
    """One Slack message the sweep posted or updated (or, in a dry run, would have)."""

    kind: SweepActionKind
    channel: str
    message: Message
    cluster_id: str | None = None
    route_key: str | None = None
    thread_ts: str | None = None  # replies: the alert message's ts
    ts: str | None = None  # the posted or updated message; None in a dry run or on failure
    reason: str = ""
    error: str | None = None  # why Slack refused it; None when it went through

    def describe(self) -> str:
        """One line for a person: what, where, about which cluster."""
        what = self.kind.value.replace("_", " ")
        where = self.channel + (f" (thread {self.thread_ts})" if self.thread_ts else "")
        about = f" for {self.cluster_id}" if self.cluster_id else ""
        why = f" [{self.reason}]" if self.reason else ""
        outcome = f": FAILED ({self.error})" if self.error else ""
        return f"{what}{about} in {where}{why}{outcome}"


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep did; ``actions`` are the messages in order (to do, in a dry run)."""

    slot: str
    now: datetime
    dry_run: bool = False
    skipped: str | None = None  # why nothing was done (another replica has the slot)
    clusters: int = 0  # watched clusters read
    fleet_errors: tuple[str, ...] = ()  # folders or clusters that could not be listed
    blind: bool = False  # the cloud could not be read at all
    consecutive_failures: int = 0
    actions: tuple[SweepAction, ...] = ()
    #: Clusters whose new alert the confirming re-read did not bear out (a flaky read).
    unconfirmed: tuple[str, ...] = ()
    #: Incidents another writer moved while this sweep worked on them (left to it).
    conflicts: tuple[str, ...] = ()
    cloud_requests: int = 0

    @property
    def ok(self) -> bool:
        """True unless the cloud was unreadable or a Slack call failed."""
        return not self.blind and not any(a.error for a in self.actions)

    def _of(self, *kinds: SweepActionKind) -> list[SweepAction]:
        return [a for a in self.actions if a.kind in kinds and a.error is None]

    @property
    def posted(self) -> list[SweepAction]:
        """New alerts posted."""
        return self._of(SweepActionKind.POST_ALERT)

    @property
    def updated(self) -> list[SweepAction]:
        """Alert messages updated in place."""
        return self._of(SweepActionKind.UPDATE_ALERT)

    @property
    def reminded(self) -> list[SweepAction]:
        return self._of(SweepActionKind.POST_REMINDER)

    @property
    def resolved(self) -> list[SweepAction]:
        """Resolved notices posted."""
        return self._of(SweepActionKind.POST_RESOLVED)

    @property
    def failed(self) -> list[SweepAction]:
        return [a for a in self.actions if a.error is not None]

    def summary(self) -> str:
        """One line: the slot and the counts."""
        if self.skipped:
            return f"sweep {self.slot}: skipped, {self.skipped}"
        verb = "would post" if self.dry_run else "posted"
        parts = [
            f"{self.clusters} cluster{'s' if self.clusters != 1 else ''} read",
            f"{len(self._of(SweepActionKind.POST_ALERT))} alert(s) {verb}",
            f"{len(self._of(SweepActionKind.UPDATE_ALERT))} update(s)",
            f"{len(self._of(SweepActionKind.POST_REMINDER))} reminder(s)",
            f"{len(self._of(SweepActionKind.POST_RESOLVED))} resolved",
        ]
        if self_alerts := self._of(SweepActionKind.POST_SELF_ALERT):
            parts.append(f"{verb} {len(self_alerts)} self-alert(s)")
        if recovered := self._of(SweepActionKind.POST_SELF_RECOVERED):
            parts.append(f"{verb} {len(recovered)} recovery notice(s)")
        if self.failed:
            parts.append(f"{len(self.failed)} Slack call(s) failed")
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


async def had_schedule_ids(store: Store) -> set[str]:
    """Ids of the clusters the sweep has seen with a snapshot schedule."""
    raw = await store.get_fact(FACT_HAD_SCHEDULE)
    if not raw:
        return set()
    try:
        value = json.loads(raw)
    except ValueError:
        return set()
    return {str(v) for v in value} if isinstance(value, list) else set()


@dataclass(frozen=True, slots=True)
class _About:
    """What a Slack action concerns, for the result."""

    cluster_id: str | None = None
    route_key: str | None = None
    reason: str = ""


class _Plan(NamedTuple):
    """One cluster of a route with something to post or to save, as first read."""

    cluster: Cluster
    report: FreshnessReport
    stored: AlertEntry | None
    decision: Decision


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
    actions: list[SweepAction] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    #: The confirming re-reads, started together and awaited in cluster order.
    rereads: dict[str, asyncio.Task[ClusterReading]] = field(default_factory=dict)
    requests: int = 0


@dataclass(eq=False, repr=False)
class Sweeper(WatchPart):
    """Runs the staleness sweep. One per process; :meth:`run` may be called every slot."""

    _lost: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    # --- the run -------------------------------------------------------------------------------

    async def run(
        self, *, now: datetime, dry_run: bool = False, manual: bool = False
    ) -> SweepResult:
        """One sweep at ``now``. In a dry run nothing is claimed, saved or posted: the result
        holds the messages that would have gone out.

        ``manual`` (the ``sweep`` verb, the demo) runs even when this slot's scheduled sweep
        already ran, under a claim of its own; incidents are still reserved in the store before
        anything is posted, so it never posts a second alert for an open incident."""
        sweep = self.config.sweep
        key = (
            f"sweep-manual:{now.isoformat()}:{self.owner}" if manual else slot_key(now, sweep.every)
        )
        if not dry_run:
            if self.notifier is None:
                raise ValueError("a sweep that posts needs a Slack notifier")
            if not await self.store.claim_run(key, self.owner, now=now, lease=sweep.lease):
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
                    await self.store.release_run(key, self.owner)
                if self.metrics is not None:
                    self.metrics.record_sweep("failed")
            raise
        finally:
            if renewer is not None:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
        if not dry_run:
            await self.store.finish_run(key, self.owner, now=now)
            if self.metrics is not None:
                outcome = "ok" if result.ok else "failed"
                finished = clock.now().timestamp() if not result.blind else None
                self.metrics.record_sweep(outcome, finished)
                firing = await self.store.list_alerts(open_only=True)
                self.metrics.alerts_firing.set(len(firing))
        log.info("%s", result.summary())
        return result

    async def _renew(self, key: str) -> None:
        """Keep the lease while the sweep works; flag a lost claim so that nothing more posts."""
        lease = self.config.sweep.lease
        interval = max(lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                held = await self.store.renew_claim(key, self.owner, now=clock.now(), lease=lease)
            except Exception:
                log.exception("sweep %s: could not renew the claim", key)
                continue
            if not held:
                self._lost.set()
                return

    def _check_claim(self) -> None:
        if self._lost.is_set():
            raise _ClaimLost

    async def _sweep(self, key: str, now: datetime, dry_run: bool) -> SweepResult:
        run = _Run(now=now, dry_run=dry_run)
        fleet, read_failure = await self._read(now)
        run.requests += fleet.requests
        blind = read_failure is not None
        self._check_claim()

        had_schedule = await had_schedule_ids(self.store)
        if not blind:
            try:
                for route in self.config.alerts:
                    await self._sweep_route(run, route, fleet, had_schedule)
            finally:
                await _cancel(run.rereads.values())
            if not dry_run:
                await self._remember_schedules(fleet, had_schedule)

        if not dry_run:
            failures = await self.store.record_sweep(ok=not blind, now=now)
        else:  # what record_sweep would count, so that a dry run shows a self-alert it would post
            failures = await self.store.sweep_failures() + 1 if blind else 0
        await self._self_alert(run, failures, read_failure)

        return SweepResult(
            slot=key,
            now=now,
            dry_run=dry_run,
            clusters=len(fleet.clusters),
            fleet_errors=fleet.errors,
            blind=blind,
            consecutive_failures=failures,
            actions=tuple(run.actions),
            unconfirmed=tuple(run.unconfirmed),
            conflicts=tuple(run.conflicts),
            cloud_requests=run.requests,
        )

    async def _read(self, now: datetime) -> tuple[FleetReading, str | None]:
        """The fleet, and why it counts as unreadable (None when the sweep could see)."""
        try:
            fleet = await read_fleet(self.cloud, self.config)
        except Exception as exc:  # a sweep must survive anything the read throws
            log.exception("sweep: reading the fleet failed")
            return FleetReading((), (), 0), f"reading the fleet failed: {exc}"
        if fleet.errors and not fleet.clusters:
            return fleet, fleet.errors[0]
        if fleet.clusters and all(c.error is not None for c in fleet.clusters):
            return fleet, fleet.clusters[0].error
        return fleet, None

    # --- alert routes --------------------------------------------------------------------------

    async def _sweep_route(
        self, run: _Run, route: AlertRoute, fleet: FleetReading, had_schedule: set[str]
    ) -> None:
        key = alert_route_key(route)
        # One query for the route's incidents (not one per cluster); the version check of every
        # save still catches a writer that moves one of them meanwhile.
        entries = {e.cluster_id: e for e in await self.store.list_alerts(route_key=key)}
        plans: list[_Plan] = []
        seen: set[str] = set()
        for reading in fleet.clusters:
            if not matches(route.match, reading.cluster):
                continue
            seen.add(reading.cluster.id)
            report = self._classify(reading, had_schedule, run.now)
            stored = entries.get(reading.cluster.id)
            if stored is not None and stored.status.is_open and stored.message_ts is None:
                # Reserved for posting but never posted (its poster died, or could not undo).
                # A reservation younger than a lease may be a live replica posting: leave it.
                reserved_at = stored.last_notified_at or stored.opened_at or run.now
                if run.now - reserved_at < self.config.sweep.lease:
                    continue
                stored = replace(stored, status=AlertStatus.RESOLVED)
            decision = alerts.evaluate(stored, report, route=route, route_key=key, now=run.now)
            if not decision.actions and (stored is None or decision.entry == stored):
                continue  # nothing to post, nothing to save
            plans.append(_Plan(reading.cluster, report, stored, decision))

        # Start re-reading every new incident at once (the client's limiter bounds the requests
        # in flight); each is awaited in cluster order below, so that the Slack posts keep a
        # stable order while the later re-reads go on behind the first posts.
        self._check_claim()
        self._reread(run, [p.cluster.id for p in plans if p.decision.has(ActionKind.POST_ALERT)])

        for cluster, report, stored, decision in plans:
            self._check_claim()
            if not decision.actions:
                if not run.dry_run:
                    await self._save(run, decision.entry)
                continue
            if decision.has(ActionKind.POST_ALERT):
                confirmed = await self._confirm(run, cluster.id, had_schedule)
                if confirmed is None:
                    run.unconfirmed.append(cluster.id)
                    log.info(
                        "sweep: %s looked %s but the re-read did not confirm it; no alert",
                        cluster.id,
                        report.state.value,
                    )
                    continue
                cluster, report = confirmed
                decision = alerts.evaluate(stored, report, route=route, route_key=key, now=run.now)
                if not decision.has(ActionKind.POST_ALERT):
                    continue
            await self._apply(run, route, cluster, report, stored, decision)

        if not fleet.errors:
            # Only a complete listing can tell that a cluster is gone: with a folder unreadable,
            # its clusters' incidents stay as they are.
            gone = [e for e in entries.values() if e.status.is_open and e.cluster_id not in seen]
            for entry in gone:
                await self._retire(run, route, entry)

    async def _retire(self, run: _Run, route: AlertRoute, entry: AlertEntry) -> None:
        """Close the incident of a cluster the route no longer sees (deleted, moved, or out of
        its match): its alert is replaced in place and the thread told, then it is saved."""
        self._check_claim()
        decision = alerts.retire(entry, route=route, now=run.now)
        message = render_retired(decision.entry, now=run.now)
        about = _About(entry.cluster_id, entry.route_key, Reason.NO_LONGER_WATCHED.value)
        channel = entry.channel or route.channel
        if entry.message_ts is not None:
            kinds = {action.kind for action in decision.actions}
            update = await self._send(
                run, SweepActionKind.UPDATE_ALERT, channel, message, entry.message_ts, about=about
            )
            if update.error is not None:
                return
            if ActionKind.POST_RESOLVED in kinds:
                reply = await self._send(
                    run,
                    SweepActionKind.POST_RESOLVED,
                    channel,
                    message,
                    None,
                    thread=entry.message_ts,
                    about=about,
                )
                if reply.error is not None:
                    return
        if not run.dry_run:
            await self._save(run, decision.entry)

    def _classify(
        self, reading: ClusterReading, had_schedule: set[str], now: datetime
    ) -> FreshnessReport:
        cluster = reading.cluster
        return classify(
            cluster,
            reading.backups,
            max_age=max_age_for(cluster, self.config.freshness),
            now=now,
            read_error=reading.error,
            had_schedule=cluster.id in had_schedule,
        )

    def _reread(self, run: _Run, cluster_ids: list[str]) -> None:
        """Start reading the clusters of new incidents once more (each once a sweep)."""
        for cluster_id in dict.fromkeys(cluster_ids):
            if cluster_id not in run.rereads:
                run.rereads[cluster_id] = asyncio.create_task(read_cluster(self.cloud, cluster_id))
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

    async def _apply(
        self,
        run: _Run,
        route: AlertRoute,
        cluster: Cluster,
        report: FreshnessReport,
        stored: AlertEntry | None,
        decision: Decision,
    ) -> None:
        """Carry out a decision's Slack actions, then persist its entry if they went through."""
        entry = decision.entry
        kinds = {action.kind for action in decision.actions}
        reason = ",".join(sorted({action.reason.value for action in decision.actions}))
        about = _About(cluster.id, entry.route_key, reason)

        if ActionKind.POST_ALERT in kinds:
            message = render_alert(
                entry,
                cluster=cluster,
                report=report,
                route=route,
                console_url=self.console_url,
                now=run.now,
            )
            if run.dry_run:
                await self._send(
                    run, SweepActionKind.POST_ALERT, route.channel, message, None, about=about
                )
                return
            # Reserve the incident before posting: of two writers that both saw it closed (say,
            # sweeps of two slots overlapping), only one wins this save, and only it posts.
            self._check_claim()
            reserved = await self.store.save_alert(entry)
            if reserved is None:
                run.conflicts.append(f"{entry.cluster_id}/{entry.route_key}")
                return
            action = await self._send(
                run,
                SweepActionKind.POST_ALERT,
                route.channel,
                message,
                None,
                check_claim=False,  # checked just before the reservation
                about=about,
            )
            if action.error is None:
                await self._save(run, replace(reserved, message_ts=action.ts))
            else:
                # Not posted: hand the incident back as it was, so the next sweep posts it.
                before = stored or AlertEntry(
                    cluster_id=entry.cluster_id, route_key=entry.route_key, channel=route.channel
                )
                await self._save(run, replace(before, version=reserved.version))
            return

        thread = entry.message_ts
        channel = entry.channel or route.channel
        reply: tuple[SweepActionKind, Message] | None = None
        if ActionKind.POST_RESOLVED in kinds:
            reply = (
                SweepActionKind.POST_RESOLVED,
                render_resolved(entry, cluster=cluster, report=report, now=run.now),
            )
        elif ActionKind.POST_REMINDER in kinds:
            reminder = render_reminder(
                entry, cluster=cluster, report=report, now=run.now, mention_ids=route.mention
            )
            reply = (SweepActionKind.POST_REMINDER, reminder)

        # Update first: it is idempotent, so doing it again next sweep is harmless. The thread
        # reply is not; whether it went through decides whether the entry is saved.
        update_ok = True
        if thread is not None and (reply is not None or ActionKind.UPDATE_ALERT in kinds):
            message = render_alert(
                entry,
                cluster=cluster,
                report=report,
                route=route,
                console_url=self.console_url,
                now=run.now,
            )
            action = await self._send(
                run, SweepActionKind.UPDATE_ALERT, channel, message, thread, about=about
            )
            update_ok = action.error is None
        if reply is not None:
            action = await self._send(
                run, reply[0], channel, reply[1], None, thread=thread, about=about
            )
            if action.error is not None:
                return
        elif not update_ok:
            return
        if not run.dry_run and stored != entry:
            await self._save(run, entry)

    async def _send(
        self,
        run: _Run,
        kind: SweepActionKind,
        channel: str,
        message: Message,
        update_ts: str | None,
        *,
        thread: str | None = None,
        check_claim: bool = True,
        about: _About | None = None,
    ) -> SweepAction:
        """Post (or, with ``update_ts``, update) one message and record the action."""
        about = about or _About()
        action = SweepAction(
            kind=kind,
            channel=channel,
            message=message,
            cluster_id=about.cluster_id,
            route_key=about.route_key,
            thread_ts=thread,
            ts=update_ts,
            reason=about.reason,
        )
        if run.dry_run:
            run.actions.append(replace(action, ts=update_ts))
            return action
        if check_claim:
            self._check_claim()
        assert self.notifier is not None
        try:
            if update_ts is not None:
                await self.notifier.update(channel, update_ts, message)
            else:
                ts = await self.notifier.post(channel, message, thread_ts=thread)
                action = replace(action, ts=ts)
        except SlackError as exc:
            log.warning("sweep: %s failed: %s", action.describe(), exc)
            action = replace(action, error=str(exc), ts=update_ts)
        run.actions.append(action)
        return action

    async def _save(self, run: _Run, entry: AlertEntry) -> None:
        saved = await self.store.save_alert(entry)
        if saved is None:
            # Someone (a button click, another replica) moved the incident since it was read:
            # their change stands; the next sweep looks again.
            run.conflicts.append(f"{entry.cluster_id}/{entry.route_key}")
            log.info("sweep: %s/%s was changed meanwhile", entry.cluster_id, entry.route_key)

    # --- schedules -----------------------------------------------------------------------------

    async def _remember_schedules(self, fleet: FleetReading, had: set[str]) -> None:
        now_scheduled = {
            r.cluster.id
            for r in fleet.clusters
            if r.error is None and r.cluster.snapshot_schedule is not None
        }
        if now_scheduled <= had:
            return
        await self.store.set_fact(FACT_HAD_SCHEDULE, json.dumps(sorted(had | now_scheduled)))

    # --- the bot about itself ------------------------------------------------------------------

    def _self_channels(self) -> list[str]:
        if self.config.sweep.self_alert_channel:
            return [self.config.sweep.self_alert_channel]
        return list(dict.fromkeys(route.channel for route in self.config.alerts))

    async def _self_alert(self, run: _Run, failures: int, read_failure: str | None) -> None:
        """Post one self-alert after ``blind_after`` failed sweeps, one recovery notice after."""
        raw = await self.store.get_fact(FACT_SELF_ALERT)
        state: dict[str, object] = {}
        if raw:
            with contextlib.suppress(ValueError):
                loaded = json.loads(raw)
                state = loaded if isinstance(loaded, dict) else {}
        messages = state.get("messages")
        posted: dict[str, str] = (
            {str(k): str(v) for k, v in messages.items()} if isinstance(messages, dict) else {}
        )
        if read_failure is not None:
            if failures < self.config.sweep.blind_after:
                return
            pending = [c for c in self._self_channels() if c not in posted]
            if not pending:
                return
            last_ok = await self.store.get_marker("last_sweep_ok")
            message = render_self_alert(failures, last_ok, read_failure, run.now)
            for channel in pending:
                action = await self._send(
                    run,
                    SweepActionKind.POST_SELF_ALERT,
                    channel,
                    message,
                    None,
                    about=_About(reason="blind"),
                )
                if action.error is None and action.ts is not None:
                    posted[channel] = action.ts
            if run.dry_run:
                return
            # Blind since the last sweep that could see (or since this one, if none ever did).
            since = state.get("since") or (last_ok or run.now).isoformat()
            await self.store.set_fact(
                FACT_SELF_ALERT, json.dumps({"since": since, "messages": posted})
            )
            return
        if not posted:
            return
        since_raw = state.get("since")
        since = datetime.fromisoformat(since_raw) if isinstance(since_raw, str) else None
        message = render_self_recovered(since, run.now)
        left: dict[str, str] = {}
        for channel, ts in posted.items():
            action = await self._send(
                run,
                SweepActionKind.POST_SELF_RECOVERED,
                channel,
                message,
                None,
                thread=ts,
                about=_About(reason="recovered"),
            )
            if action.error is not None:
                left[channel] = ts
        if run.dry_run:
            return
        value = json.dumps({"since": since_raw, "messages": left}) if left else ""
        await self.store.set_fact(FACT_SELF_ALERT, value)
