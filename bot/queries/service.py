"""The commands that read and show: ``list``, ``get``, ``folder``, ``clusters`` and ``status``,
and their Next page buttons.

Everything is read from the cloud when asked (and, for the views, what the store remembers of
schedules); nothing is changed. ``clusters`` and ``status`` are offered only with a store: the
processes that run no watcher answer the three others.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.alerts.actions import LIST_BACKUPS, AlertRef
from bot.alerts.messages import alert_buttons, runbook_link
from bot.chat.actions import Answer, BoundAction, Invocation
from bot.chat.card import Buttons, Card, Chat
from bot.cloud.client import CloudClient
from bot.cloud.models import (
    Backup,
    BackupPage,
    Cluster,
    ListPosition,
    OperationPage,
    PolicyPage,
    VersionPage,
    newest_first,
)
from bot.commands import strings
from bot.commands.grammar import DEFAULT_LIMIT, ClustersCmd, FolderCmd, GetCmd, ListCmd, StatusCmd
from bot.commands.router import CommandRoute
from bot.config import BotConfig
from bot.digest.actions import STATUS_NEXT_PAGE, ViewPage
from bot.digest.messages import folder_ids_line, render_status
from bot.digest.model import DigestInput, build_digest, last_drill
from bot.drills.plan import route_for
from bot.errors import BotError, CloudError, InvalidArgument, NotFound, UsageError
from bot.fleet.discovery import directory_for, folders_with_found
from bot.fleet.lookup import ClusterFinder, looks_like_id
from bot.fleet.match import folder_allowed, route_key
from bot.fleet.reader import ClusterReading, read_clusters, read_fleet
from bot.freshness.attempts import AttemptHistory, backup_attempts
from bot.freshness.explain import Explanation, explain, trend_of
from bot.freshness.memory import had_schedule_ids
from bot.freshness.model import FreshnessReport
from bot.freshness.policy import newest_backup, schedule_for
from bot.freshness.restore import restore_readiness
from bot.i18n.catalog import N_, _
from bot.queries import messages as rc
from bot.queries.actions import CLUSTERS_NEXT_PAGE, LIST_NEXT_PAGE, ListPage
from bot.queries.messages import ClusterRow
from bot.silences.policy import silence_for
from bot.store import Store

log = logging.getLogger(__name__)

#: How many backups ``folder`` reads before it stops and says the folder has more.
#: ``folder`` reads the whole listing (``Backup.list`` promises no order, so the newest backup
#: may be on its last page) but keeps only the newest few of each cluster it can show; past this
#: many backups it stops and says what it read.
FOLDER_READ_LIMIT = 50_000
#: The most backups of one cluster ``folder`` shows (render_folder_backups' largest step).
FOLDER_KEEP_PER_CLUSTER = 10
_NEVER = datetime.min.replace(tzinfo=UTC)


class Queries:
    """Answers the commands that read: from the cloud, as the config lets the bot show it."""

    def __init__(
        self,
        cloud: CloudClient,
        config: BotConfig,
        *,
        chat: Chat,
        finder: ClusterFinder | None = None,
        store: Store | None = None,
        console_url: str = "",
    ) -> None:
        self.cloud = cloud
        self.config = config
        self.chat = chat
        self.finder = finder or ClusterFinder(cloud, config)
        self.store = store
        self.console_url = console_url

    def commands(self) -> Iterable[CommandRoute[Any]]:
        yield CommandRoute(ListCmd, self._list_command)
        yield CommandRoute(GetCmd, self._get_command)
        yield CommandRoute(FolderCmd, self._folder_command)
        if self.store is not None:
            yield CommandRoute(ClustersCmd, self._clusters_command)
            yield CommandRoute(StatusCmd, self._status_command)

    def actions(self) -> Iterable[BoundAction]:
        yield LIST_NEXT_PAGE.bind(self._next_list_page)
        yield LIST_BACKUPS.bind(self._list_from_alert)
        if self.store is not None:
            yield STATUS_NEXT_PAGE.bind(self._next_status_page)
            yield CLUSTERS_NEXT_PAGE.bind(self._next_clusters_page)

    # --- commands and buttons ------------------------------------------------------------------

    async def _list_command(self, command: ListCmd, inv: Invocation, now: datetime) -> Answer:
        after = _typed_position(command.page_token)
        message = await self.list_backups(command.cluster, command.limit, after, now=now)
        return Answer([message], ephemeral=not command.share)

    async def _get_command(self, command: GetCmd, inv: Invocation, now: datetime) -> Answer:
        return Answer([await self.get_backup(command.backup_id, now=now)], not command.share)

    async def _folder_command(self, command: FolderCmd, inv: Invocation, now: datetime) -> Answer:
        return Answer([await self.folder(command.folder_id, now=now)], not command.share)

    async def _clusters_command(
        self, command: ClustersCmd, inv: Invocation, now: datetime
    ) -> Answer:
        message = await self.clusters_view(command.folder_id, now=now)
        return Answer([message], ephemeral=not command.share)

    async def _status_command(self, command: StatusCmd, inv: Invocation, now: datetime) -> Answer:
        message = await self.status_view(command.target, now=now)
        return Answer([message], ephemeral=not command.share)

    async def _next_list_page(self, page: ListPage, inv: Invocation, now: datetime) -> Answer:
        # A button posted by an older version carries the cloud's page token, which meant a
        # page of the cloud's (undefined) order: start again from the newest, and say so.
        notice = _(strings.LIST_OLD_BUTTON) if page.after is None else None
        message = await self.list_backups(
            page.cluster_id, page.limit, page.after, now=now, notice=notice
        )
        return Answer([message])

    async def _list_from_alert(self, ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
        """An alert's *List backups*: the first page of its cluster's backups."""
        return Answer([await self.list_backups(ref.cluster_id, DEFAULT_LIMIT, None, now=now)])

    async def _next_status_page(self, page: ViewPage, inv: Invocation, now: datetime) -> Answer:
        return Answer([await self.status_view(page.target, now=now, offset=page.offset)])

    async def _next_clusters_page(self, page: ViewPage, inv: Invocation, now: datetime) -> Answer:
        return Answer([await self.clusters_view(page.target, now=now, offset=page.offset)])

    # --- list ----------------------------------------------------------------------------------

    async def list_backups(
        self,
        ref: str,
        limit: int,
        after: ListPosition | None,
        *,
        now: datetime,
        notice: str | None = None,
    ) -> Card:
        """A page of ``limit`` of the cluster's backups, newest first, after ``after``.

        Every page of the cloud's listing is read (the API promises no order, so the newest
        could be on any page), sorted, and paged here: the Next page button carries the place
        of the last row shown, which stays right after a restart and when a backup lands.
        """
        listing: BackupPage | None = None
        operations: OperationPage | BaseException | None = None
        if looks_like_id(ref):
            # Ask for the cluster, its backups and its operations at once: one round trip
            # instead of two. They are only shown if the cluster is one the bot may show.
            found, fetched, ops = await asyncio.gather(
                self.finder.find(ref),
                self.cloud.all_cluster_backups(ref),
                self.cloud.all_cluster_operations(ref),
                return_exceptions=True,
            )
            if isinstance(found, BaseException):
                raise found
            cluster = found
            if cluster.id == ref and isinstance(fetched, BackupPage):
                listing = fetched
                operations = ops
        else:
            cluster = await self.finder.find(ref)
        if listing is None:
            fetched, operations = await asyncio.gather(
                self.cloud.all_cluster_backups(cluster.id),
                self.cloud.all_cluster_operations(cluster.id),
                return_exceptions=True,
            )
            if isinstance(fetched, BaseException):
                raise fetched
            listing = fetched
        ordered = newest_first(listing.backups)
        attempts, operations_error = _attempts_of(operations)
        about = explain(
            cluster,
            newest=newest_backup(listing.backups),
            now=now,
            trend=trend_of(listing.backups),
            attempts=attempts,
            operations_error=operations_error,
        )
        start = 0 if after is None else after.after(ordered)
        return rc.render_backup_list(
            cluster.display_name,
            ordered[start : start + limit],
            now=now,
            cluster_id=cluster.id,
            limit=limit,
            more=start + limit < len(ordered),
            first=start + 1,
            total=len(ordered),
            skipped=len(listing.skipped),
            notice=notice,
            explanation=about,
            limits=self.chat.limits,
        )

    # --- get -----------------------------------------------------------------------------------

    async def get_backup(self, backup_id: str, *, now: datetime) -> Card:
        """One backup in full, with whether it would restore and its cluster's state."""
        backup = await self.cloud.get_backup(backup_id)
        if not folder_allowed(backup.folder_id, self.config.visible_folders()):
            log.info(
                "backup %s is in folder %s, outside access.folders", backup_id, backup.folder_id
            )
            raise NotFound(
                404,
                _("backup {id} does not exist or is not in a folder the bot shows").format(
                    id=backup_id
                ),
            )
        (explanation, missing), names = await asyncio.gather(
            self._backup_details(backup, now=now),
            self._folder_names([backup.folder_id] if backup.folder_id else [], now),
        )
        return rc.render_backup(
            backup,
            now=now,
            explanation=explanation,
            missing=missing,
            limits=self.chat.limits,
            folder_name=names.get(backup.folder_id or ""),
        )

    async def _backup_details(
        self, backup: Backup, *, now: datetime
    ) -> tuple[Explanation | None, list[str]]:
        """What ``get`` says beyond the backup: whether it would restore, its cluster's state,
        last backup attempt and retention policies, and the trend of its backups. Read at once;
        what cannot be read is said in a line (the backup is still shown)."""
        cluster_id = backup.source_cluster_id
        if not cluster_id:
            return None, []
        cluster, listing, operations, policies, versions = await asyncio.gather(
            self.cloud.get_cluster(cluster_id),
            self.cloud.all_cluster_backups(cluster_id),
            self.cloud.all_cluster_operations(cluster_id),
            self.cloud.all_retention_policies(cluster_id),
            self.cloud.all_versions(),
            return_exceptions=True,
        )
        missing: list[str] = []
        unread = (
            (N_("Its cluster could not be read: {reason}"), cluster),
            (N_("The cluster's backups could not be read: {reason}"), listing),
        )
        for template, got in unread:
            if isinstance(got, BaseException):
                missing.append(_(template).format(reason=_failure(got)))
        known = cluster if isinstance(cluster, Cluster) else Cluster(id=cluster_id)
        backups = listing.backups if isinstance(listing, BackupPage) else ()
        policy_list = policies.policies if isinstance(policies, PolicyPage) else None
        version_list = versions.versions if isinstance(versions, VersionPage) else None
        attempts, operations_error = _attempts_of(operations)
        explanation = explain(
            known,
            newest=newest_backup(backups),
            now=now,
            schedule=schedule_for(known, policy_list or ()),
            policies=policy_list,
            policies_offered=None if isinstance(policies, BaseException) else policies is not None,
            policies_error=_failure(policies) if isinstance(policies, BaseException) else "",
            versions=version_list,
            trend=trend_of(backups),
            attempts=attempts,
            operations_error=operations_error,
        )
        restore = restore_readiness(known, backup, version_list) if known is cluster else None
        return replace(explanation, restore=restore), missing

    # --- folder --------------------------------------------------------------------------------

    async def folder(self, folder_id: str, *, now: datetime) -> Card:
        """The backups of every cluster in a folder, grouped by cluster, newest first."""
        if not folder_allowed(folder_id, self.config.visible_folders()):
            log.info("folder %s is outside access.folders", folder_id)
            raise NotFound(404, "")
        kept: dict[str, list[tuple[datetime, int, Backup]]] = defaultdict(list)
        counts: Counter[str] = Counter()
        read = 0
        truncated = False
        async for backup in self.cloud.list_folder_backups(folder_id):
            if read >= FOLDER_READ_LIMIT:
                truncated = True
                break
            read += 1
            counts[backup.source_cluster_id] += 1
            heap = kept[backup.source_cluster_id]
            item = (backup.created_at or backup.started_at or _NEVER, read, backup)
            if len(heap) < FOLDER_KEEP_PER_CLUSTER:
                heapq.heappush(heap, item)
            else:
                heapq.heappushpop(heap, item)  # the oldest of the kept ones goes
        names = await self._cluster_names(folder_id)
        by_cluster: dict[str, list[Backup]] = {
            cid: [b for _at, _n, b in heap] for cid, heap in kept.items()
        }
        for cluster_id in names:
            by_cluster.setdefault(cluster_id, [])
        groups = sorted(by_cluster.items(), key=_newest_key, reverse=True)
        labelled = [(_label(cid, names.get(cid, "")), group) for cid, group in groups]
        return rc.render_folder_backups(
            folder_id,
            labelled,
            totals=[counts[cid] for cid, _group in groups],
            now=now,
            truncated=truncated,
            read=read,
            limits=self.chat.limits,
        )

    async def _cluster_names(self, folder_id: str) -> dict[str, str]:
        # Names make the grouping readable; without them the ids still do, so a failure here
        # (say, a role that can list backups but not clusters) is not worth failing the reply.
        try:
            return {c.id: c.name async for c in self.cloud.list_clusters(folder_id)}
        except BotError as exc:
            log.warning("cannot list clusters of folder %s for names: %s", folder_id, exc)
            return {}

    # --- views: clusters and status ------------------------------------------------------------

    async def clusters_view(self, folder_id: str | None, *, now: datetime, offset: int = 0) -> Card:
        """One page of the clusters of a folder (default: the watched folders) with their
        freshness, worst first, from row ``offset``; a Next page button leads on."""
        if folder_id is None:
            watch = self.config.watch
            folders = await folders_with_found(self.cloud, watch, watch.folders, now=now)
            if not folders:
                raise UsageError(
                    _("the bot watches no folder, so there is no default"),
                    hint=_("name one: clusters <folder-id>"),
                )
        else:
            if not folder_allowed(folder_id, self.config.visible_folders()):
                raise NotFound(
                    404, _("folder {folder} is not one the bot shows").format(folder=folder_id)
                )
            folders = [folder_id]
        clusters: list[Cluster] = []
        for folder in folders:
            clusters.extend([c async for c in self.cloud.list_clusters(folder)])
        readings = await read_clusters(
            self.cloud, clusters, freshness=self.config.freshness, now=now
        )
        had = await self._had_schedule()
        rows = [ClusterRow(r.cluster, self._report(r, had, now)) for r in readings]
        names = await self._folder_names(folders, now)
        return rc.render_clusters(
            ", ".join(names.get(f) or f for f in folders),
            rows,
            now=now,
            offset=offset,
            target=folder_id,
            limits=self.chat.limits,
            context=folder_ids_line(names, folders),
        )

    async def _folder_names(self, folder_ids: Sequence[str], now: datetime) -> Mapping[str, str]:
        """The folders' names where they can be read (cached; a folder whose name cannot be
        read is shown by its id, and that is no error of the answer's)."""
        directory = directory_for(self.cloud)
        return (await directory.folder_names(self.cloud, folder_ids, now=now)).names

    async def status_view(self, target: str | None, *, now: datetime, offset: int = 0) -> Card:
        """The digest view, now, in one message: for a cluster (id or name), a folder id, or
        every watched cluster; worst first from row ``offset``, a Next page button for more."""
        had = await self._had_schedule()
        freshness = self.config.freshness
        one = False  # the status of one cluster: in full (policies, restore, trend)
        buttons: Buttons | None = None
        folder_ids: list[str] = []  # the folder the title names
        if target is None:
            title = _("Backups status")
            fleet = await read_fleet(self.cloud, self.config, now=now)
            readings, errors = list(fleet.clusters), list(fleet.errors)
            names = fleet.folder_names
        elif target in self.config.watch.folders or target in self.config.visible_folders():
            names = await self._folder_names([target], now)
            title = _("Backups status of folder {folder}").format(folder=names.get(target, target))
            folder_ids = [target]
            clusters = [c async for c in self.cloud.list_clusters(target)]
            readings = await read_clusters(self.cloud, clusters, freshness=freshness, now=now)
            errors = []
        else:
            cluster = await self.finder.find(target)
            title = _("Backups status of {cluster}").format(cluster=cluster.display_name)
            readings, names = await asyncio.gather(
                read_clusters(self.cloud, [cluster], freshness=freshness, now=now, full=True),
                self._folder_names([cluster.folder_id] if cluster.folder_id else [], now),
            )
            errors, one = [], True
            buttons = await self._alert_buttons(cluster)
        if errors and not readings:
            raise CloudError(errors[0])
        drills = (
            await self.store.drills.last_drills()
            if self.store is not None and self.config.drills
            else {}
        )
        silences = await self.store.silences.active(now) if self.store is not None else []
        items = [
            DigestInput(
                cluster=r.cluster,
                report=self._report(r, had, now),
                backups=r.backups,
                backup_count=r.count,
                last_drill=last_drill(drills.get(r.cluster.id)),
                drilled=route_for(self.config.drills, r.cluster) is not None,
                silence=silence_for(silences, r.cluster, now),
            )
            for r in readings
        ]
        digest = build_digest(
            items,
            {},
            now=now,
            shrink_threshold=self.config.freshness.shrink_warning,
            folder_names=names,
        )
        return render_status(
            digest,
            title=title,
            console_url=self.console_url,
            limits=self.chat.limits,
            warnings=errors,
            target=target,
            offset=offset,
            detailed=one,
            buttons=buttons,
            folder_ids=folder_ids,
        )

    async def _alert_buttons(self, cluster: Cluster) -> Buttons | None:
        """The buttons of the cluster's open alert (its first route's), if it has one."""
        if self.store is None:
            return None
        for entry in await self.store.incidents.list_alerts(open_only=True):
            if entry.cluster_id == cluster.id:
                route = next(
                    (
                        r
                        for r in self.config.alerts
                        if route_key("alert", r.channel, r.match) == entry.route_key
                    ),
                    None,
                )
                runbook = runbook_link(route, cluster) if route is not None else None
                return alert_buttons(entry, cluster, runbook=runbook)
        return None

    async def _had_schedule(self) -> set[str]:
        return await had_schedule_ids(self.store) if self.store is not None else set()

    def _report(self, reading: ClusterReading, had: set[str], now: datetime) -> FreshnessReport:
        return reading.report(
            self.config.freshness, now=now, had_schedule=reading.cluster.id in had
        )


def _typed_position(token: str | None) -> ListPosition | None:
    """``--page-token``: the position a Next page button carries (``p``), typed by hand."""
    if token is None:
        return None
    position = ListPosition.decode(token)
    if position is None:
        raise InvalidArgument(
            _(strings.LIST_BAD_POSITION),
            hint=_(strings.HINT_PAGE_TOKEN).format(prefix=strings.PREFIX),
        )
    return position


def _failure(exc: BaseException) -> str:
    """Why a read failed, for a person: a typed error says; anything else is a bug of ours."""
    if isinstance(exc, BotError):
        return str(exc).strip() or type(exc).__name__
    raise exc


def _attempts_of(
    operations: OperationPage | BaseException | None,
) -> tuple[AttemptHistory | None, str]:
    """The backup attempts among the operations read, or why they could not be read."""
    if operations is None:
        return None, ""
    if isinstance(operations, BaseException):
        return None, _failure(operations)
    return backup_attempts(operations.operations), ""


def _label(cluster_id: str, name: str) -> str:
    if not cluster_id:
        return _("(no cluster id)")
    return f"{name} ({cluster_id})" if name and name != cluster_id else cluster_id


def _newest_key(item: tuple[str, list[Backup]]) -> tuple[bool, datetime | str]:
    backups = item[1]
    moments = [b.created_at or b.started_at for b in backups]
    known = [m for m in moments if m is not None]
    if not known:
        return (False, item[0])
    return (True, max(known))
