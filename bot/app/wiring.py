"""Wiring in one place: the objects a bot process is made of, built once from settings and config.

Every entry point (``serve``, ``demo``, ``exec``, ``sweep``, ``digest``) opens the same
:class:`Components` and closes them in reverse order, so there is one answer to "where does the
cloud client come from" and one place that decides what is shared.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.alerts import actions as alert_actions
from bot.alerts.service import AlertService
from bot.alerts.sweep import Sweeper
from bot.app.cli import fast_sweeps
from bot.backup import actions as backup_actions
from bot.backup.follower import OperationFollower
from bot.backup.service import BackupService
from bot.chat.actions import Action
from bot.chat.card import Chat
from bot.cloud.client import CloudClient, RequestObserver
from bot.commands.router import Router
from bot.config import BotConfig
from bot.digest import actions as digest_actions
from bot.digest.runner import DigestRunner
from bot.drills import actions as drill_actions
from bot.drills.service import DrillService
from bot.fleet.job import FleetJob
from bot.fleet.lookup import ClusterFinder
from bot.home.service import HomeService
from bot.ledger.service import LedgerService
from bot.ops.metrics import Metrics
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.notices import ChannelNotices
from bot.outbox.pacing import Pace
from bot.queries import actions as query_actions
from bot.queries.service import Queries
from bot.settings import Settings
from bot.silences.service import SilenceService
from bot.slack.blocks import SLACK
from bot.slack.notifier import SlackNotifier
from bot.store import Store

_Job = TypeVar("_Job", bound=FleetJob)

#: Every button the bot makes, whichever features a process runs: the chat listens for these.
DECLARED_ACTIONS: tuple[Action[Any], ...] = (
    *query_actions.ACTIONS,
    *digest_actions.ACTIONS,
    *backup_actions.ACTIONS,
    *alert_actions.ACTIONS,
    *drill_actions.ACTIONS,
)


def make_owner(role: str) -> str:
    """A name for this process in run claims: unique per process, readable in the database."""
    return f"{role}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Components:
    """What a bot process is made of. ``notifier`` and ``executor`` are None for dry runs that
    post nothing (their sweeps and digests queue nothing either)."""

    settings: Settings
    config: BotConfig
    metrics: Metrics
    cloud: CloudClient
    store: Store
    notifier: SlackNotifier | None
    queries: Queries
    backups: BackupService
    alerts: AlertService
    router: Router
    sweeper: Sweeper
    digests: DigestRunner
    owner: str
    executor: DeliveryExecutor | None
    drills: DrillService
    home: HomeService


@dataclass
class Features:
    """What answers people: the router and the features it routes to. ``backups`` and
    ``alerts`` need a store; without one (a process with no watcher) they are None."""

    queries: Queries
    router: Router
    backups: BackupService | None = None
    alerts: AlertService | None = None
    drills: DrillService | None = None
    home: HomeService | None = None


def build_features(
    cloud: CloudClient,
    config: BotConfig,
    *,
    store: Store | None = None,
    console_url: str = "",
    owner: str = "",
    queued: Callable[[], None] | None = None,
    metrics: Metrics | None = None,
    follower: OperationFollower | None = None,
    chat: Chat = SLACK,
    drill_poll_interval: float | None = None,
) -> Features:
    """The features and the router over them, sharing one way to find a cluster, their
    messages made for ``chat``."""
    finder = ClusterFinder(cloud, config)
    queries = Queries(cloud, config, chat=chat, finder=finder, store=store, console_url=console_url)
    if store is None:
        asking = BackupService(cloud, None, config, finder=finder)
        router = Router(config, [queries, asking], declared=DECLARED_ACTIONS, metrics=metrics)
        return Features(queries, router)
    follower = follower or OperationFollower(
        cloud, store, owner=owner, lease=config.sweep.lease, queued=queued, chat=chat
    )
    backups = BackupService(cloud, store, config, follower=follower, finder=finder)
    alerts = AlertService(
        cloud,
        store,
        config,
        chat=chat,
        finder=finder,
        console_url=console_url,
        queued=queued,
    )
    ledger = LedgerService(store, config)
    silences = SilenceService(store, config)
    drills = DrillService(
        cloud,
        store,
        config,
        owner=owner,
        finder=finder,
        queued=queued,
        chat=chat,
        poll_interval=drill_poll_interval,
    )
    router = Router(
        config,
        [queries, backups, alerts, ledger, drills, silences],
        declared=DECLARED_ACTIONS,
        metrics=metrics,
    )
    home = HomeService(store, config, silences=silences.home_parts)
    return Features(queries, router, backups, alerts, drills, home)


@asynccontextmanager
async def open_components(
    settings: Settings,
    config: BotConfig,
    *,
    role: str,
    slack: bool = True,
    metrics: Metrics | None = None,
    on_request: RequestObserver | None = None,
    pace: Pace | None = None,
) -> AsyncIterator[Components]:
    """Build every component; on exit, stop followers and close sessions and the database.

    ``on_request`` observes every cloud request (default: the metrics' histogram); ``pace`` is
    how fast posts go out (default: Slack's, about one a second per channel)."""
    metrics = metrics or Metrics()
    owner = make_owner(role)
    async with AsyncExitStack() as stack:
        cloud = CloudClient.from_settings(
            settings,
            on_request=on_request or metrics.observe_cloud_request,
            on_skipped=metrics.count_skipped_item,
        )
        stack.push_async_callback(cloud.aclose)
        store = await Store.open(settings.database_url)
        stack.push_async_callback(store.close)
        notifier = (
            SlackNotifier.from_settings(settings, metrics=metrics, keep_alive=True)
            if slack
            else None
        )
        if notifier is not None:
            stack.push_async_callback(notifier.aclose)
        executor = None
        if notifier is not None:
            executor = DeliveryExecutor(
                store, notifier, owner=owner, lease=config.sweep.lease, metrics=metrics, pace=pace
            )
            executor.watch = ChannelNotices(store, config, queued=executor.wake, chat=SLACK)
            stack.push_async_callback(executor.aclose)
        queued = executor.wake if executor is not None else None

        def job(kind: type[_Job]) -> _Job:
            """A run over the fleet, made of what the runs share."""
            return kind(
                cloud,
                store,
                config,
                metrics=metrics,
                console_url=settings.yc_console_url,
                owner=owner,
                queued=queued,
                chat=SLACK,
            )

        features = build_features(
            cloud,
            config,
            store=store,
            console_url=settings.yc_console_url,
            owner=owner,
            queued=queued,
            metrics=metrics,
            # Tests and demos (fast sweeps) run drills of seconds: ask every tenth of one.
            drill_poll_interval=0.1 if fast_sweeps() else None,
        )
        assert features.backups is not None
        assert features.alerts is not None
        stack.push_async_callback(features.backups.aclose)
        drills = features.drills
        assert drills is not None
        home = features.home
        assert home is not None
        stack.push_async_callback(drills.aclose)
        yield Components(
            settings=settings,
            config=config,
            metrics=metrics,
            cloud=cloud,
            store=store,
            notifier=notifier,
            queries=features.queries,
            backups=features.backups,
            alerts=features.alerts,
            router=features.router,
            sweeper=job(Sweeper),
            digests=job(DigestRunner),
            owner=owner,
            executor=executor,
            drills=drills,
            home=home,
        )
