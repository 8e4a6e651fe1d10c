"""The reaper: on every sweep, drill clusters that outlived their drill are deleted.

A drill deletes its own cluster in a ``finally``; what escapes it (a ``kill -9`` mid-drill, a
replica that died, a delete the cloud kept failing) is found here by its label
(``backups-bot-drill``) in every folder drills restore into, and deleted once it is older than
its drill's time limit, or at once when its drill is over. Each one is reported once, in its
route's channel, through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.chat.card import Chat
from bot.cloud.client import CloudClient
from bot.cloud.models import Cluster
from bot.config import BotConfig, DrillRoute
from bot.drills.messages import render_reaped
from bot.drills.model import DRILL_LABEL
from bot.drills.plan import leftovers
from bot.errors import CloudError, NotFound
from bot.outbox.change import Change
from bot.outbox.posts import OutboundPost, PostKind, make_post
from bot.slack.blocks import SLACK
from bot.store import Store

log = logging.getLogger(__name__)


def reported_marker(cluster_id: str) -> str:
    """The marker saying a leftover drill cluster was reported (so it is reported once)."""
    return f"drill-reaped:{cluster_id}"


class DrillReaper:
    """Deletes leftover drill clusters; one per process."""

    def __init__(
        self,
        cloud: CloudClient,
        store: Store,
        config: BotConfig,
        *,
        chat: Chat = SLACK,
        queued: Callable[[], None] | None = None,
    ) -> None:
        self.cloud = cloud
        self.store = store
        self.config = config
        self.chat = chat
        self.queued = queued

    def _routes_by_folder(self) -> dict[str, DrillRoute]:
        """Each folder drills restore into, with the route that allows the longest drill there."""
        out: dict[str, DrillRoute] = {}
        for route in self.config.drills:
            known = out.get(route.folder)
            if known is None or route.time_limit > known.time_limit:
                out[route.folder] = route
        return out

    async def reap(
        self,
        *,
        now: datetime,
        dry_run: bool = False,
        reported: list[OutboundPost] | None = None,
    ) -> list[str]:
        """Delete the drill clusters due for it; the ids of those whose delete the cloud took
        (with ``dry_run``: of those it would delete, touching nothing). The posts it queues are
        appended to ``reported`` when given (the one-shot sweep delivers them)."""
        deleted: list[str] = []
        for folder, route in self._routes_by_folder().items():
            try:
                found = await self.cloud.labelled_clusters(folder, DRILL_LABEL)
            except CloudError as exc:
                log.warning("drills: cannot look for leftover clusters in %s: %s", folder, exc)
                continue
            if not found:
                continue
            known = await self.store.drills.drills_by_id(
                [c.labels[DRILL_LABEL] for c in found if DRILL_LABEL in c.labels]
            )
            running = {d for d, record in known.items() if not record.finished}
            due = leftovers(
                found,
                limits={d: record.time_limit for d, record in known.items()},
                finished={d for d in known if d not in running},
                default_limit=route.time_limit,
                now=now,
            )
            for cluster in due:
                if dry_run:
                    deleted.append(cluster.id)
                elif await self._delete(cluster):
                    deleted.append(cluster.id)
                    post = await self._report(cluster, route, now)
                    if post is not None and reported is not None:
                        reported.append(post)
        return deleted

    async def _delete(self, cluster: Cluster) -> bool:
        try:
            await self.cloud.delete_cluster(cluster.id)
        except NotFound:
            return False  # gone meanwhile
        except CloudError as exc:
            # A delete may already be running (a conflict), or the cloud refuses now: the next
            # sweep asks again.
            log.warning("drills: cannot delete leftover cluster %s now: %s", cluster.id, exc)
            return False
        log.warning(
            "drills: deleting leftover drill cluster %s (drill %s)",
            cluster.id,
            cluster.labels.get(DRILL_LABEL, "?"),
        )
        return True

    async def _report(
        self, cluster: Cluster, route: DrillRoute, now: datetime
    ) -> OutboundPost | None:
        marker = reported_marker(cluster.id)
        if await self.store.facts.get_marker(marker) is not None:
            return None
        age = now - cluster.created_at if cluster.created_at else None
        post = make_post(
            PostKind.DRILL,
            route.channel,
            render_reaped(cluster, age=age if age is None else max(age, timedelta(0))),
            chat=self.chat,
            subject=f"leftover drill cluster {cluster.id}",
        )
        await self.store.commit(Change(posts=[post], markers={marker: now}), now=now)
        if self.queued is not None:
            self.queued()
        return post
