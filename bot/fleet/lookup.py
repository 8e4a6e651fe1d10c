"""Find the cluster a person means: by id, or by name among the folders the bot is set up for.

Names are what people remember (``logs-prod``); ids are what the API wants. A cluster outside the
folders the bot may show is answered exactly like one that does not exist, so the bot never
confirms what it is not meant to show.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from bot import clock
from bot.cloud.client import CloudClient
from bot.cloud.models import Cluster
from bot.cloud.validation import validate_id
from bot.commands.strings import WHAT_CLUSTER_ID
from bot.config import BotConfig
from bot.errors import BotError, InvalidArgument, NotFound, UsageError
from bot.fleet.discovery import folders_with_found
from bot.fleet.match import folder_allowed
from bot.i18n.catalog import N_, _, ngettext

log = logging.getLogger(__name__)

_V = TypeVar("_V")

#: Yandex Cloud resource ids: 20 characters, a lowercase letter then lowercase letters and digits.
_CLOUD_ID = re.compile(r"[a-z][a-z0-9]{19}")
#: How many ids an "ambiguous name" message lists.
_AMBIGUOUS_SHOWN = 10
#: How many names a "did you mean" offers, and how close (difflib's ratio) each must be.
_SUGGESTED = 3
_SUGGEST_CUTOFF = 0.6


class ClusterSource(Protocol):
    """What the lookup needs from the cloud client."""

    async def get_cluster(self, cluster_id: str) -> Cluster: ...

    def list_clusters(self, folder_id: str, *, page_size: int = ...) -> AsyncIterator[Cluster]: ...


class ClusterCache:
    """Clusters and folder listings seen lately, kept for ``ttl`` seconds.

    Cluster metadata (name, folder) hardly ever changes, while a burst of commands asks for the
    same cluster again and again; a minute of staleness is a fair price. Concurrent misses for
    the same key share one request. Failures (NotFound included) are never cached.
    """

    def __init__(self, ttl: float = 60.0, *, max_entries: int = 5000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clusters: dict[str, tuple[float, Cluster]] = {}
        self._folders: dict[str, tuple[float, list[Cluster]]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[Any]] = {}

    async def get_cluster(self, cloud: ClusterSource, cluster_id: str) -> Cluster:
        """Cluster.get, or the copy read less than ``ttl`` ago."""
        return await self._get(
            self._clusters, ("c", cluster_id), lambda: cloud.get_cluster(cluster_id)
        )

    async def clusters_in(self, cloud: ClusterSource, folder_id: str) -> list[Cluster]:
        """Every cluster of a folder, or the listing read less than ``ttl`` ago."""

        async def read() -> list[Cluster]:
            return [c async for c in cloud.list_clusters(folder_id)]

        return await self._get(self._folders, ("f", folder_id), read)

    async def _get(
        self,
        table: dict[str, tuple[float, _V]],
        key: tuple[str, str],
        fetch: Callable[[], Awaitable[_V]],
    ) -> _V:
        hit = table.get(key[1])
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        pending = self._pending.get(key)
        if pending is not None:
            value: _V = await asyncio.shield(pending)
            return value
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await fetch()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiting callers get it, nobody else must
            raise
        else:
            future.set_result(value)
            if self.ttl > 0:
                if len(table) >= self.max_entries:
                    table.clear()  # crude, and rare: a bot sees far fewer clusters than this
                table[key[1]] = (time.monotonic() + self.ttl, value)
            return value
        finally:
            del self._pending[key]


def looks_like_id(ref: str) -> bool:
    """Whether ``ref`` has the shape of a cloud resource id (a name may too, rarely)."""
    return _CLOUD_ID.fullmatch(ref) is not None


def _not_found(ref: str, suggestions: Sequence[str] = ()) -> NotFound:
    # No text: the reply then says "I can't find cluster `ref`" without pretending to quote the
    # cloud (render_error adds the subject and the hint about configured folders).
    log.info("cluster %s: no such cluster the bot may show", ref)
    error = NotFound(404, "")
    error.suggestions = tuple(suggestions)
    return error


def closest_names(name: str, names: Sequence[str], n: int = _SUGGESTED) -> list[str]:
    """Up to ``n`` of ``names`` closest to ``name`` (case aside), closest first."""
    by_folded: dict[str, str] = {}
    for known in sorted(names):
        by_folded.setdefault(known.casefold(), known)
    close = difflib.get_close_matches(name.casefold(), by_folded, n=n, cutoff=_SUGGEST_CUTOFF)
    return [by_folded[c] for c in close]


NO_FOLDERS = N_("`{ref}` is not a cluster id, and no folders are configured to look names up in.")


class NoFoldersToSearch(UsageError):
    """A name was given, and the bot has no folders to look names up in."""


NO_FOLDERS_HINT = N_(
    "Use the cluster's id (20 characters, e.g. `c9qexamplecluster001`), or list folders under "
    "`watch.folders` in the bot's config."
)


async def resolve_cluster(
    cloud: ClusterSource,
    ref: str,
    *,
    folders: Sequence[str],
    allowed_folders: Sequence[str],
    cache: ClusterCache | None = None,
) -> Cluster:
    """The cluster named by ``ref``: an id (Cluster.get), else a unique name in ``folders``.

    A ``ref`` shaped like an id is asked for as an id first, then looked up as a name; any other
    ``ref`` is looked up as a name first and, when no name matches, still asked for as an id
    (ids have no shape the API promises). Raises NotFound when there is no such cluster the bot
    may show, and UsageError listing the ids when a name matches several clusters. ``cache``
    spares repeated reads.
    """
    cache = cache if cache is not None else ClusterCache(ttl=0)
    if looks_like_id(ref):
        cluster = await _by_id(cloud, ref, allowed_folders=allowed_folders, cache=cache)
        if cluster is not None:
            return cluster
        return await _find_by_name(
            cloud, ref, folders=folders, allowed_folders=allowed_folders, cache=cache
        )
    try:
        return await _find_by_name(
            cloud, ref, folders=folders, allowed_folders=allowed_folders, cache=cache
        )
    except BotError as exc:
        # No name matched, no folders to look in, or a folder could not be read: the ref may
        # still be an id. An ambiguous name stays ambiguous.
        if isinstance(exc, UsageError) and not isinstance(exc, NoFoldersToSearch):
            raise
        cluster = await _by_id(cloud, ref, allowed_folders=allowed_folders, cache=cache)
        if cluster is not None:
            return cluster
        raise


async def _by_id(
    cloud: ClusterSource, ref: str, *, allowed_folders: Sequence[str], cache: ClusterCache
) -> Cluster | None:
    """Cluster.get of ``ref``; None when there is no such cluster (or ``ref`` cannot be an id)."""
    try:
        validate_id(_(WHAT_CLUSTER_ID), ref)
    except InvalidArgument:
        return None
    try:
        cluster = await cache.get_cluster(cloud, ref)
    except NotFound:
        return None
    if folder_allowed(cluster.folder_id, allowed_folders):
        return cluster
    log.info("cluster %s is in folder %s, outside access.folders", ref, cluster.folder_id)
    raise _not_found(ref)


async def _find_by_name(
    cloud: ClusterSource,
    name: str,
    *,
    folders: Sequence[str],
    allowed_folders: Sequence[str],
    cache: ClusterCache,
) -> Cluster:
    searched = [f for f in dict.fromkeys(folders) if folder_allowed(f, allowed_folders)]
    if not searched:
        if looks_like_id(name):
            raise _not_found(name)
        raise NoFoldersToSearch(_(NO_FOLDERS).format(ref=name), hint=_(NO_FOLDERS_HINT))

    async def in_folder(folder_id: str) -> list[Cluster]:
        return await cache.clusters_in(cloud, folder_id)

    results = await asyncio.gather(*(in_folder(f) for f in searched), return_exceptions=True)
    known: list[Cluster] = []
    failure: BaseException | None = None
    for folder_id, result in zip(searched, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, BotError):
                raise result
            log.warning("cannot list clusters of folder %s: %s", folder_id, result)
            failure = failure or result
        else:
            known.extend(result)
    # The name as typed; else, as people type names, the same name in another case.
    matches = [c for c in known if c.name == name]
    if not matches:
        matches = [c for c in known if c.name.casefold() == name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        ids = ", ".join(f"`{c.id}`" for c in matches[:_AMBIGUOUS_SHOWN])
        more = len(matches) - _AMBIGUOUS_SHOWN
        if more > 0:
            ids = ngettext("{ids} and {n} more", "{ids} and {n} more", more).format(ids=ids, n=more)
        raise UsageError(
            ngettext(
                "{n} clusters are named `{name}`: {ids}.",
                "{n} clusters are named `{name}`: {ids}.",
                len(matches),
            ).format(n=len(matches), name=name, ids=ids),
            hint=_("Use the cluster id instead of its name."),
        )
    if failure is not None:
        # The cluster may be in the folder that could not be read: say why, not "not found".
        raise failure
    raise _not_found(name, closest_names(name, [c.name for c in known if c.name]))


class ClusterFinder:
    """The one way a feature finds the cluster a person named: by id or by name, among the
    folders the config lets the bot search and show, with the last minute's look-ups shared."""

    def __init__(self, cloud: ClusterSource, config: BotConfig, *, ttl: float = 60.0) -> None:
        self.cloud = cloud
        self.config = config
        self.cache = ClusterCache(ttl)

    async def find(self, ref: str) -> Cluster:
        """The cluster ``ref`` names (see :func:`resolve_cluster`). A name is looked for in the
        folders the config names and, with ``watch.clouds`` or ``watch.organization``, in the
        folders found there (the sweep's own cached listing: a config that names only clouds
        finds its clusters by name too)."""
        folders = self.config.search_folders()
        if isinstance(self.cloud, CloudClient) and not looks_like_id(ref):
            folders = await folders_with_found(
                self.cloud, self.config.watch, folders, now=clock.now()
            )
        return await resolve_cluster(
            self.cloud,
            ref,
            folders=folders,
            allowed_folders=self.config.visible_folders(),
            cache=self.cache,
        )
