"""The monthly freshness report: for each ``reports:`` route, once a month, one post with the
last month's figures of the route's clusters and the worst of them.

Once per route and month across every replica: the run is claimed in the store
(``report:<channel>:<YYYY-MM>``) before anything is done, and its post is committed with the
run's finish in one transaction, so a crash leaves neither or both, and the outbox delivers it
once. The CSV (:func:`bot.ledger.messages.report_csv`) goes with it once the file post kind is
merged; until then ``backups-bot report --csv`` makes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.chat.card import Chat
from bot.config import BotConfig, Match, ReportRoute
from bot.fleet.match import folder_allowed, matches
from bot.i18n.catalog import _
from bot.ledger.messages import render_slo, report_csv
from bot.ledger.policy import FleetLedger, daily_shares, ledger_of, month_period
from bot.ledger.service import cluster_of, drills_of, target_for
from bot.outbox.change import Change, RunFinish
from bot.outbox.posts import FileUpload, OutboundPost, PostKind, make_file_post, make_post
from bot.slack.blocks import SLACK
from bot.store import Store
from bot.store.claims import SKIPPED_CLAIM

log = logging.getLogger(__name__)


def last_month(route: ReportRoute, now: datetime) -> str:
    """``YYYY-MM`` of the month before ``now`` in the route's time zone."""
    local = now.astimezone(ZoneInfo(route.timezone))
    first = local.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def report_key(route: ReportRoute, month: str) -> str:
    return f"report:{route.channel}:{month}"


@dataclass(frozen=True, slots=True)
class ReportResult:
    key: str
    post: OutboundPost | None = None
    skipped: str | None = None  # why nothing was done


class MonthlyReporter:
    """Makes the monthly reports; one per process."""

    def __init__(
        self,
        store: Store,
        config: BotConfig,
        *,
        owner: str,
        chat: Chat = SLACK,
        queued: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.owner = owner
        self.chat = chat
        self._queued = queued

    async def run(
        self, route: ReportRoute, *, now: datetime, month: str | None = None, force: bool = False
    ) -> ReportResult:
        """The report of ``month`` (default: last month) for ``route``, queued once; ``force``
        (the demo's ``:report``) runs under a key of its own, so the scheduled one still goes."""
        month = month or last_month(route, now)
        key = report_key(route, month)
        if force:
            key = f"{key}:manual:{now.isoformat()}:{self.owner}"
        lease = self.config.sweep.lease
        if not await self.store.claims.claim_run(key, self.owner, now=now, lease=lease):
            return ReportResult(key, skipped=SKIPPED_CLAIM)
        try:
            post, table = await self._posts(route, month, now)
            change = Change(posts=[post, table], finish_run=RunFinish(key, self.owner, now))
            if await self.store.commit(change, now=now) is None:
                return ReportResult(key, skipped=SKIPPED_CLAIM)
        except BaseException:
            await self.store.claims.release_run(key, self.owner)
            raise
        log.info("report %s queued", key)
        if self._queued is not None:
            self._queued()
        return ReportResult(key, post=post)

    async def _posts(
        self, route: ReportRoute, month: str, now: datetime
    ) -> tuple[OutboundPost, OutboundPost]:
        """The report's post, and the CSV of every cluster (one row each) in its thread: a file
        delivered through the outbox exactly once, like every post."""
        start, end = month_period(month)
        allowed = self.config.visible_folders()
        histories = [
            h
            for h in await self.store.ledger.histories(start=start, end=end)
            if h.spans
            and folder_allowed(h.folder_id, allowed)
            and matches(route.match, cluster_of(h))
        ]
        slo = self.config.slo
        figures = tuple(
            ledger_of(h, start=start, end=end, now=now, target=target_for(slo, h))
            for h in histories
        )
        fleet = FleetLedger(start, end, slo.target, figures)
        daily = daily_shares(histories, start=start, end=end, now=now, target=slo.target)
        drills = await drills_of(self.store, self.config, histories, start=start, end=end)
        card = render_slo(
            fleet,
            scope=_("every watched cluster")
            if route.match == Match()
            else _("the clusters of this report"),
            month=month,
            daily=daily,
            to_date=now < end,
            drills=drills,
        )
        post = make_post(
            PostKind.REPORT, route.channel, card, chat=self.chat, subject=f"report {month}"
        )
        table = FileUpload(
            filename=f"backup-freshness-{month}.csv",
            title=_("Backup freshness, {month}: every cluster").format(month=month),
            content=report_csv(fleet, month=month, drills=drills).encode("utf-8"),
        )
        file_post = make_file_post(
            route.channel, table, subject=f"report {month} table", parent=(post.id, None)
        )
        return post, file_post
