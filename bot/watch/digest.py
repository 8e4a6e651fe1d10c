"""The daily digest of a route: read the fleet, classify, compare with the previous digest, post.

A scheduled digest posts at most once per route and local day, across replicas and restarts: the
run is claimed in the store under ``digest:<route key>:<local date>`` (a schedule that fires more
than once a day adds the local time, ``...:2026-11-02T17:00``), and finished once every part is
in the channel. A replica that loses the claim does nothing ("another replica got there first";
"already posted today" once the winner finished).

Never half-written, and never posted twice: before the first part goes out, the rendered parts
and the figures for tomorrow's deltas are saved as the run's *plan* (a store fact), and each
part's ``ts`` is recorded (in a second, small fact) as soon as Slack accepted it. If a post
fails, the claim is handed back, and a retry (the scheduler's, or another replica's after a
crash) resumes the same plan from the first part not posted: no part is lost, repeated or mixed
with a newer reading. Figures and the ``last_digest`` marker are saved only after the last part
was posted. The one window left is a crash between Slack's answer and that record
(milliseconds): that part would be posted again by the retry.

``force`` (the ``digest`` command) posts now whether or not today's scheduled digest went out,
under its own key ``digest-manual:<route key>:<time>``; it saves figures like a scheduled digest,
since "what changed since the last digest" should be since the last one people saw.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot import clock as bot_clock
from bot.cloud.limits import background_lane
from bot.config import BotConfig, DigestRoute
from bot.core.digest import Digest, DigestInput, build_digest, figures_of
from bot.core.freshness import classify, max_age_for
from bot.core.match import route_key
from bot.core.types import ClusterFigures
from bot.errors import BotError
from bot.render.message import Message
from bot.render.watch import flatten_digest, render_digest
from bot.watch.part import SKIPPED_CLAIM, WatchPart
from bot.watch.reader import FleetReading, read_fleet
from bot.watch.sweep import had_schedule_ids

log = logging.getLogger(__name__)

#: Marker set to the time of the last digest posted (any route).
MARKER_LAST_DIGEST = "last_digest"

ALREADY_POSTED = "already posted today"
CLAIM_LOST = "the claim was taken over mid-run"

_PLAN_VERSION = 1


class DigestStatus(StrEnum):
    POSTED = "posted"  # every part is in the channel (possibly finishing an earlier attempt)
    DRY_RUN = "dry_run"  # built and rendered only
    ALREADY_POSTED = "already_posted"  # this run was finished before
    SKIPPED = "skipped"  # another replica holds the run, or took it over mid-run
    FAILED = "failed"  # nothing or only some parts posted; the run was handed back for a retry


@dataclass(frozen=True, slots=True)
class DigestResult:
    """What one route's digest run did."""

    route: DigestRoute
    route_key: str
    run_key: str | None  # None for a dry run, which claims nothing
    status: DigestStatus
    messages: tuple[Message, ...] = ()  # every part of the digest, posted or not
    posted: tuple[str, ...] = ()  # ts of the parts in the channel, in order
    resumed_from: int = 0  # parts an earlier attempt had already posted
    digest: Digest | None = None  # None when resumed from a plan, or when nothing was built
    detail: str = ""  # why it was skipped or failed, for a person
    errors: tuple[str, ...] = ()  # what could not be listed at all (the digest lacks it)

    @property
    def ok(self) -> bool:
        return self.status not in (DigestStatus.FAILED,)

    def summary(self) -> str:
        where = f"digest for {self.route.channel}"
        if self.status == DigestStatus.POSTED:
            text = f"{where}: posted {len(self.messages)} message(s)"
            if self.resumed_from:
                text += f" ({self.resumed_from} by an earlier attempt)"
            return text
        if self.status == DigestStatus.DRY_RUN:
            return f"{where}: {len(self.messages)} message(s), not posted (dry run)"
        if self.status == DigestStatus.FAILED:
            return (
                f"{where}: failed after {len(self.posted)} of {len(self.messages) or '?'} "
                f"message(s): {self.detail}"
            )
        return f"{where}: {self.detail}"


def digest_route_key(route: DigestRoute) -> str:
    """The stable key of a digest route (its channel and match)."""
    return route_key("digest", route.channel, route.match)


def fires_once_a_day(schedule: str) -> bool:
    """True when the cron ``schedule`` names one minute and one hour (``30 9 * * mon-fri``)."""
    fields = schedule.split()
    return len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit()


def local_date(route: DigestRoute, when: datetime) -> date:
    """The date at ``when`` in the route's time zone."""
    return when.astimezone(ZoneInfo(route.timezone)).date()


def run_key(key: str, route: DigestRoute, slot: datetime) -> str:
    """The claim key of the scheduled digest of route ``key`` for the fire time ``slot``."""
    local = slot.astimezone(ZoneInfo(route.timezone))
    if fires_once_a_day(route.schedule):
        return f"digest:{key}:{local.date().isoformat()}"
    return f"digest:{key}:{local:%Y-%m-%dT%H:%M}"


def manual_run_key(key: str, now: datetime) -> str:
    """The claim key of a digest posted by hand at ``now``."""
    return f"digest-manual:{key}:{now.isoformat(timespec='microseconds')}"


def digest_title(route: DigestRoute, day: date) -> str:
    """``Backups digest · Mon 2 Nov 2026``: the title, with the route's local date."""
    return f"Backups digest · {day:%a} {day.day} {day:%b %Y}"


def routes_for(config: BotConfig, channel: str | None) -> list[DigestRoute]:
    """The digest routes of ``channel``, or all of them."""
    return [r for r in config.digests if channel is None or r.channel == channel]


@dataclass(slots=True)
class _Plan:
    """A run's rendered parts and figures, saved before the first post so a retry resumes it.

    ``posted`` (the ts of each part in the channel) is kept in a small fact of its own, updated
    after every post, so the bulky plan is written once.
    """

    messages: list[Message]
    figures: list[ClusterFigures]
    posted: list[str] = field(default_factory=list)

    def dump(self) -> str:
        return json.dumps(
            {
                "v": _PLAN_VERSION,
                "messages": [m.payload() for m in self.messages],
                "figures": [_figures_json(f) for f in self.figures],
            },
            separators=(",", ":"),
        )

    def dump_posted(self) -> str:
        return json.dumps(self.posted)

    @classmethod
    def load(cls, raw: str | None, raw_posted: str | None) -> _Plan | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            if data.get("v") != _PLAN_VERSION:
                return None
            posted = json.loads(raw_posted) if raw_posted else []
            return cls(
                messages=[
                    Message(text=str(m["text"]), blocks=list(m.get("blocks") or []))
                    for m in data["messages"]
                ],
                figures=[_figures_from_json(f) for f in data["figures"]],
                posted=[str(ts) for ts in posted],
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignoring an unreadable digest plan")
            return None


@dataclass(frozen=True, slots=True)
class _Built:
    digest: Digest
    messages: list[Message]
    figures: list[ClusterFigures]
    errors: tuple[str, ...]


@dataclass(eq=False, repr=False)
class DigestRunner(WatchPart):
    """Builds and posts the digests of the configured routes."""

    #: Only for renewing the claim's lease while parts are posted; the digest itself is built
    #: at the ``now`` handed to :meth:`run_route`.
    clock: Callable[[], datetime] = field(default=bot_clock.now, kw_only=True)

    async def run_all(
        self,
        *,
        now: datetime,
        channel: str | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> list[DigestResult]:
        """Run every route (of ``channel``, if given), one after the other."""
        return [
            await self.run_route(route, now=now, dry_run=dry_run, force=force)
            for route in routes_for(self.config, channel)
        ]

    async def run_route(
        self,
        route: DigestRoute,
        *,
        now: datetime,
        dry_run: bool = False,
        force: bool = False,
        slot: datetime | None = None,
    ) -> DigestResult:
        """Post the digest of ``route`` as of ``now``.

        ``slot`` is the scheduled time this run stands for (default ``now``); its local date
        names the run and the title. A dry run claims, posts and saves nothing. ``force`` posts
        even if the scheduled digest of the day was posted (see the module docstring).
        """
        key = digest_route_key(route)
        day = local_date(route, slot or now)
        if dry_run:
            built = await self._build(route, key, now, day)
            return DigestResult(
                route,
                key,
                None,
                DigestStatus.DRY_RUN,
                tuple(built.messages),
                digest=built.digest,
                errors=built.errors,
            )
        if self.notifier is None:
            raise ValueError("a digest that posts needs a Slack notifier")

        claim = manual_run_key(key, now) if force else run_key(key, route, slot or now)
        lease = self.config.sweep.lease
        if not await self.store.claim_run(claim, self.owner, now=now, lease=lease):
            finished = await self.store.run_finished(claim)
            detail = ALREADY_POSTED if finished else SKIPPED_CLAIM
            log.info("digest %s: %s", claim, detail)
            status = DigestStatus.ALREADY_POSTED if finished else DigestStatus.SKIPPED
            return DigestResult(route, key, claim, status, detail=detail)
        try:
            return await self._post(route, key, claim, now, day)
        except BaseException:
            # Unexpected (the database, a cancellation at shutdown): hand the run back so that a
            # retry or another replica can take it at once; the plan keeps what was posted.
            await self._release(claim)
            raise

    # --- the steps -----------------------------------------------------------------------------

    async def _post(
        self, route: DigestRoute, key: str, claim: str, now: datetime, day: date
    ) -> DigestResult:
        assert self.notifier is not None
        plan_key, posted_key = f"digest-plan:{claim}", f"digest-posted:{claim}"
        plan = _Plan.load(
            await self.store.get_fact(plan_key), await self.store.get_fact(posted_key)
        )
        digest: Digest | None = None
        errors: tuple[str, ...] = ()
        if plan is None:
            built = await self._build(route, key, now, day)
            digest, errors = built.digest, built.errors
            if digest.cluster_count == 0 and errors:
                # Nothing could be listed: an empty digest would say all is well. Retry instead.
                detail = "; ".join(errors)
                await self._release(claim)
                return DigestResult(
                    route, key, claim, DigestStatus.FAILED, detail=detail, errors=errors
                )
            plan = _Plan(messages=built.messages, figures=built.figures)
            await self.store.set_fact(posted_key, plan.dump_posted())
            await self.store.set_fact(plan_key, plan.dump())
        resumed = len(plan.posted)
        if resumed:
            log.info("digest %s: resuming after %d posted part(s)", claim, resumed)

        def result(status: DigestStatus, detail: str = "") -> DigestResult:
            return DigestResult(
                route,
                key,
                claim,
                status,
                tuple(plan.messages),
                tuple(plan.posted),
                resumed,
                digest,
                detail,
                errors,
            )

        for message in plan.messages[len(plan.posted) :]:
            renewed = await self.store.renew_claim(
                claim, self.owner, now=self.clock(), lease=self.config.sweep.lease
            )
            if not renewed:
                log.warning("digest %s: %s; stopped", claim, CLAIM_LOST)
                return result(DigestStatus.SKIPPED, CLAIM_LOST)
            try:
                ts = await self.notifier.post(route.channel, message)
            except BotError as exc:
                log.warning("digest %s: a post failed, handing the run back: %s", claim, exc)
                await self._release(claim)
                return result(DigestStatus.FAILED, str(exc))
            plan.posted.append(ts)
            await self.store.set_fact(posted_key, plan.dump_posted())

        await self.store.save_figures(key, plan.figures)
        await self.store.set_marker(MARKER_LAST_DIGEST, now)
        if not await self.store.finish_run(claim, self.owner, now=now):
            log.warning("digest %s: posted, but the claim had been taken over", claim)
        # The plan is only needed while the run is unfinished.
        await self.store.delete_facts(plan_key, posted_key)
        if self.metrics is not None:
            self.metrics.record_digest_posted(now.timestamp())
        log.info("digest %s: posted %d part(s) to %s", claim, len(plan.messages), route.channel)
        return result(DigestStatus.POSTED)

    async def _build(self, route: DigestRoute, key: str, now: datetime, day: date) -> _Built:
        """Read, classify, compare and render; the figures to save once it is posted."""
        with background_lane():  # behind people's requests, within the background share
            fleet = await read_fleet(self.cloud, self.config, match=route.match)
        for error in fleet.errors:
            log.warning("digest for %s: %s", route.channel, error)
        had_schedule = await had_schedule_ids(self.store)
        previous = await self.store.get_figures(key)
        digest = build_digest(
            self._inputs(fleet, had_schedule, now),
            previous,
            now=now,
            shrink_threshold=self.config.freshness.shrink_warning,
            only_problems=route.only_problems,
            group_by=route.group_by,
        )
        figures = figures_of(digest)
        if fleet.errors:
            # Clusters of a folder that could not be listed are missing from this reading, not
            # gone: keep their figures so that the next digest still has something to compare.
            seen = {f.cluster_id for f in figures}
            figures += [f for cid, f in previous.items() if cid not in seen]
        # The top post and its thread, posted one after the other until the delivery executor
        # threads them.
        messages = flatten_digest(
            render_digest(
                digest,
                title=digest_title(route, day),
                console_url=self.console_url,
                warnings=fleet.errors,
            )
        )
        return _Built(digest, messages, figures, fleet.errors)

    def _inputs(
        self, fleet: FleetReading, had_schedule: set[str], now: datetime
    ) -> list[DigestInput]:
        items = []
        for reading in fleet.clusters:
            cluster = reading.cluster
            backups = reading.backups
            report = classify(
                cluster,
                backups,
                max_age=max_age_for(cluster, self.config.freshness),
                now=now,
                read_error=reading.error,
                had_schedule=cluster.id in had_schedule,
            )
            items.append(DigestInput(cluster, report, backups, backup_count=reading.count))
        return items

    async def _release(self, claim: str) -> None:
        try:
            await self.store.release_run(claim, self.owner)
        except Exception:
            log.exception("digest %s: could not hand the run back", claim)


def _figures_json(f: ClusterFigures) -> dict[str, Any]:
    return {
        "cluster_id": f.cluster_id,
        "newest_backup_id": f.newest_backup_id,
        "newest_size_bytes": f.newest_size_bytes,
        "newest_indices_total": f.newest_indices_total,
        "backup_count": f.backup_count,
        "taken_at": f.taken_at.isoformat(),
    }


def _figures_from_json(data: dict[str, Any]) -> ClusterFigures:
    return ClusterFigures(
        cluster_id=str(data["cluster_id"]),
        newest_backup_id=data["newest_backup_id"],
        newest_size_bytes=data["newest_size_bytes"],
        newest_indices_total=data["newest_indices_total"],
        backup_count=int(data["backup_count"]),
        taken_at=datetime.fromisoformat(data["taken_at"]),
    )
