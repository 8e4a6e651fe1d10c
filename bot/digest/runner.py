"""The daily digest of a route: read the fleet, classify, compare with the previous digest, queue.

A scheduled digest posts once per route and local day, across replicas and restarts: the run is
claimed in the store under ``digest:<route key>:<local date>`` (a schedule that fires more than
once a day adds the local time, ``...:2026-11-02T17:00``). A replica that loses the claim does
nothing ("another replica got there first"; "already posted today" once the winner finished); the
scheduler tries again after a lease until the run is finished, so a claim held by a replica that
died is taken over and the digest still goes out.

Never half-written, and never posted twice: the digest's posts (its top post and the parts of
its thread), tomorrow's figures and the run's end are committed in ONE transaction. Before it
nothing is visible; after it the delivery executor posts each part once, in order, each recorded
as Slack accepts it, so a retry after a failure or a crash sends only what is missing.

``force`` (the ``digest`` command) posts now whether or not today's scheduled digest went out,
under its own key ``digest-manual:<route key>:<time>``; it saves figures like a scheduled digest,
since "what changed since the last digest" should be since the last one people saw.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.chat.card import Card
from bot.cloud.limits import background_lane
from bot.config import BotConfig, DigestRoute
from bot.cron import times_of_day
from bot.digest.messages import digest_title, render_digest
from bot.digest.model import (
    ClusterFigures,
    Digest,
    DigestInput,
    build_digest,
    figures_of,
    last_drill,
    shown_backup,
    shown_cluster,
)
from bot.drills.model import DrillRecord
from bot.drills.plan import route_for
from bot.fleet.job import FleetJob
from bot.fleet.match import route_key
from bot.fleet.reader import ClusterReading, read_fleet
from bot.freshness.memory import had_schedule_ids
from bot.i18n.catalog import use_locale
from bot.outbox.change import Change, RunFinish
from bot.outbox.posts import (
    FileUpload,
    OutboundPost,
    PostKind,
    make_file_post,
    make_post,
    new_post_id,
)
from bot.silences.model import Silence
from bot.silences.policy import silence_for
from bot.store.claims import SKIPPED_CLAIM

log = logging.getLogger(__name__)

ALREADY_POSTED = "already posted today"
CLAIM_LOST = "the claim was taken over mid-run"


class DigestStatus(StrEnum):
    QUEUED = "queued"  # every part is in the outbox, the run is finished; the executor posts it
    DRY_RUN = "dry_run"  # built and rendered only
    ALREADY_POSTED = "already_posted"  # this run was finished before
    SKIPPED = "skipped"  # another replica holds the run, or took it over mid-run
    FAILED = "failed"  # nothing could be read; the run was handed back for a retry


@dataclass(frozen=True, slots=True)
class DigestResult:
    """What one route's digest run did."""

    route: DigestRoute
    route_key: str
    run_key: str | None  # None for a dry run, which claims nothing
    status: DigestStatus
    messages: tuple[Card, ...] = ()  # the top post, then the parts of its thread
    posts: tuple[OutboundPost, ...] = ()  # as queued (empty for a dry run)
    digest: Digest | None = None  # None when nothing was built
    detail: str = ""  # why it was skipped or failed, for a person
    errors: tuple[str, ...] = ()  # what could not be listed at all (the digest lacks it)
    table: FileUpload | None = None  # every cluster as a CSV file, last in the thread

    def __repr__(self) -> str:
        # Never the messages, the digest or the file: a repr lands in logs and tracebacks.
        return f"DigestResult({self.route.channel!r}, {self.status.value!r})"

    @property
    def ok(self) -> bool:
        return self.status not in (DigestStatus.FAILED,)

    def summary(self) -> str:
        where = f"digest for {self.route.channel}"
        parts = (
            f"{len(self.messages)} message(s) (1 post and {len(self.messages) - 1} in its thread)"
        )
        if self.table is not None:
            parts += f" and a file ({self.table.filename}, {len(self.table.content):,} bytes)"
        if self.status == DigestStatus.QUEUED:
            return f"{where}: queued {parts}"
        if self.status == DigestStatus.DRY_RUN:
            return f"{where}: {parts}, not posted (dry run)"
        if self.status == DigestStatus.FAILED:
            return f"{where}: not posted: {self.detail}"
        return f"{where}: {self.detail}"


def digest_route_key(route: DigestRoute) -> str:
    """The stable key of a digest route (its channel and match)."""
    return route_key("digest", route.channel, route.match)


def fires_once_a_day(schedule: str) -> bool:
    """True when the cron ``schedule`` fires at one time of day (``30 9 * * mon-fri``), so a
    day's date names its run; False for several times a day or for no schedule at all."""
    fields = schedule.split()
    try:
        return len(fields) == 5 and len(times_of_day(fields[0], fields[1])) == 1
    except ValueError:
        return False


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


def routes_for(config: BotConfig, channel: str | None) -> list[DigestRoute]:
    """The digest routes of ``channel``, or all of them."""
    return [r for r in config.digests if channel is None or r.channel == channel]


@dataclass(frozen=True, slots=True)
class _Built:
    digest: Digest
    messages: list[Card]
    figures: list[ClusterFigures]
    errors: tuple[str, ...]
    table: FileUpload | None


@dataclass(eq=False, repr=False)
class DigestRunner(FleetJob):
    """Builds the digests of the configured routes and queues them for delivery."""

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
                table=built.table,
            )
        claim = manual_run_key(key, now) if force else run_key(key, route, slot or now)
        lease = self.config.sweep.lease
        if not await self.store.claims.claim_run(claim, self.owner, now=now, lease=lease):
            finished = await self.store.claims.run_finished(claim)
            detail = ALREADY_POSTED if finished else SKIPPED_CLAIM
            log.info("digest %s: %s", claim, detail)
            status = DigestStatus.ALREADY_POSTED if finished else DigestStatus.SKIPPED
            return DigestResult(route, key, claim, status, detail=detail)
        try:
            return await self._queue(route, key, claim, now, day)
        except BaseException:
            # Unexpected (the database, a cancellation at shutdown): hand the run back so that a
            # retry or another replica can take it at once. Nothing was queued.
            await self._release(claim)
            raise

    # --- the steps -----------------------------------------------------------------------------

    async def _queue(
        self, route: DigestRoute, key: str, claim: str, now: datetime, day: date
    ) -> DigestResult:
        built = await self._build(route, key, now, day)
        digest, errors = built.digest, built.errors
        if digest.cluster_count == 0 and errors:
            # Nothing could be listed: an empty digest would say all is well. Retry instead.
            await self._release(claim)
            return DigestResult(
                route, key, claim, DigestStatus.FAILED, detail="; ".join(errors), errors=errors
            )
        top_id = new_post_id()
        posts = [
            make_post(
                PostKind.DIGEST if index == 0 else PostKind.DIGEST_PART,
                route.channel,
                message,
                chat=self.chat,
                subject=claim,
                post_id=top_id if index == 0 else None,
                parent=(None if index == 0 else top_id, None),
            )
            for index, message in enumerate(built.messages)
        ]
        if built.table is not None:
            posts.append(
                make_file_post(route.channel, built.table, subject=claim, parent=(top_id, None))
            )
        change = Change(
            posts=posts,
            figures=(key, built.figures),
            finish_run=RunFinish(claim, self.owner, now),
        )
        if await self.store.commit(change, now=now) is None:
            # Our lease ran out while the digest was built, and another replica took the run.
            log.warning("digest %s: %s; nothing queued", claim, CLAIM_LOST)
            return DigestResult(route, key, claim, DigestStatus.SKIPPED, detail=CLAIM_LOST)
        self._queued()
        log.info(
            "digest %s: queued %d message(s) for %s", claim, len(built.messages), route.channel
        )
        return DigestResult(
            route,
            key,
            claim,
            DigestStatus.QUEUED,
            tuple(built.messages),
            tuple(posts),
            digest,
            errors=errors,
            table=built.table,
        )

    async def _build(self, route: DigestRoute, key: str, now: datetime, day: date) -> _Built:
        """Read, classify, compare and render, in the route's language (what the reading says
        of a folder it could not list is in the digest too); the figures to save once it is
        posted."""
        with use_locale(self.config.locale_of(route)):
            return await self._build_said(route, key, now, day)

    async def _build_said(self, route: DigestRoute, key: str, now: datetime, day: date) -> _Built:
        had_schedule = await had_schedule_ids(self.store)
        previous = await self.store.figures.get_figures(key)
        drills = await self.store.drills.last_drills() if self.config.drills else {}
        silences = await self.store.silences.active(now)
        fold = self._folder(had_schedule, now, drills, silences)
        with background_lane():  # behind people's requests, within the background share
            fleet = await read_fleet(
                self.cloud,
                self.config,
                match=route.match,
                now=now,
                ledger=False,
                trend=False,
                fold=fold,
            )
        for error in fleet.errors:
            log.warning("digest for %s: %s", route.channel, error)
        digest = build_digest(
            [item for item in fleet.folded if isinstance(item, DigestInput)],
            previous,
            now=now,
            shrink_threshold=self.config.freshness.shrink_warning,
            only_problems=route.only_problems,
            group_by=route.group_by,
            folder_names=dict(fleet.folder_names),
        )
        figures = figures_of(digest)
        if fleet.errors:
            # Clusters of a folder that could not be listed are missing from this reading, not
            # gone: keep their figures so that the next digest still has something to compare.
            seen = {f.cluster_id for f in figures}
            figures += [f for cid, f in previous.items() if cid not in seen]
        # The top post first, then the parts of its thread.
        rendered = render_digest(
            digest,
            title=digest_title(day),
            console_url=self.console_url,
            limits=self.chat.limits,
            warnings=fleet.errors,
            table_name=f"backups-digest-{day.isoformat()}.csv",
        )
        return _Built(digest, rendered.messages(), figures, fleet.errors, rendered.table)

    def _folder(
        self,
        had_schedule: set[str],
        now: datetime,
        drills: dict[str, DrillRecord],
        silences: Sequence[Silence] = (),
    ) -> Callable[[ClusterReading], DigestInput]:
        """What the digest keeps of a cluster's reading, made as soon as it is read (the
        reading, its cluster's config and its backups' indices are let go then): its report,
        the cluster and its newest two backups as a row shows them, its drill and silence."""

        def fold(reading: ClusterReading) -> DigestInput:
            cluster = reading.cluster
            report = reading.report(
                self.config.freshness, now=now, had_schedule=cluster.id in had_schedule
            )
            backups = reading.backups
            return DigestInput(
                shown_cluster(cluster),
                report,
                [shown_backup(b) for b in backups] if backups is not None else None,
                backup_count=reading.count,
                last_drill=last_drill(drills.get(cluster.id)),
                drilled=route_for(self.config.drills, cluster) is not None,
                silence=silence_for(silences, cluster, now),
            )

        return fold

    async def _release(self, claim: str) -> None:
        try:
            await self.store.claims.release_run(claim, self.owner)
        except Exception:
            log.exception("digest %s: could not hand the run back", claim)
