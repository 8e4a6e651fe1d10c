"""Which folders ``watch.clouds`` and ``watch.organization`` stand for: every ACTIVE folder of
those clouds, found anew on every sweep (Resource Manager's Folder.list), the listing of each
cloud kept for a few minutes so that a digest and a sweep close together ask once.

A listing is doubted as incidents are: a folder that was there and is missing from the next
listing is asked for by itself (Folder.get) before it is dropped, so one listing that comes back
short (or empty) drops nothing; a folder the cloud says is gone, being deleted, or no longer
readable is dropped. A cloud that cannot be listed keeps the folders it had last (and says why):
blind is no reason to stop watching.

The names of folders named by id (``watch.folders``) are read one by one (Folder.get) and kept
for as long (:meth:`FolderDirectory.folder_names`): messages show a folder by its name, its id
beside it.

One :class:`FolderDirectory` per client (so per process), got with :func:`directory_for`.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.cloud.client import CloudClient
from bot.cloud.models import Folder, FolderStatus
from bot.config import Watch
from bot.errors import BotError, NotFound, PermissionDenied
from bot.i18n.catalog import _

#: How long a cloud's folders, once listed, stand for it.
CACHE_TTL = timedelta(minutes=5)
PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class FoundFolder:
    """A folder found in a watched cloud: its id, name and cloud."""

    id: str
    name: str
    cloud_id: str


@dataclass(frozen=True, slots=True)
class CloudFolders:
    """What one cloud gave: its ACTIVE folders, how many others it lists (being deleted), and
    why it could not be listed ("" when it was; then ``folders`` are the last ones known)."""

    cloud_id: str
    name: str
    folders: tuple[FoundFolder, ...]
    inactive: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True)
class Discovery:
    """Every watched cloud's folders, and what could not be listed."""

    clouds: tuple[CloudFolders, ...] = ()
    #: Problems beyond one cloud's (the organization's clouds could not be listed).
    errors: tuple[str, ...] = ()
    requests: int = 0

    @property
    def folders(self) -> tuple[FoundFolder, ...]:
        """Every found folder once, in the clouds' order."""
        seen: dict[str, FoundFolder] = {}
        for cloud in self.clouds:
            for folder in cloud.folders:
                seen.setdefault(folder.id, folder)
        return tuple(seen.values())

    def folder_ids(self) -> frozenset[str]:
        return frozenset(f.id for f in self.folders)

    def problems(self) -> tuple[str, ...]:
        """Every reason something could not be listed, for a person."""
        return (*self.errors, *(c.error for c in self.clouds if c.error))


@dataclass(frozen=True, slots=True)
class FolderNames:
    """Folder names by id (a folder whose name could not be read is not there), and how many
    requests reading them made."""

    names: Mapping[str, str]
    requests: int = 0


@dataclass
class _Listed:
    at: datetime
    cloud: CloudFolders


@dataclass
class FolderDirectory:
    """The folders of the watched clouds, cached for ``ttl``; see the module docstring."""

    ttl: timedelta = CACHE_TTL
    _clouds: dict[str, _Listed] = field(default_factory=dict)
    _organization: dict[str, tuple[datetime, tuple[tuple[str, str], ...]]] = field(
        default_factory=dict
    )
    _names: dict[str, str] = field(default_factory=dict)
    #: Names of folders read by themselves (Folder.get): when, and the name ("" when the
    #: folder could not be read).
    _folder_names: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def forget(self) -> None:
        """Drop every cached listing (the next discovery lists again)."""
        self._clouds.clear()
        self._organization.clear()
        self._folder_names.clear()

    async def folder_names(
        self, cloud: CloudClient, folder_ids: Iterable[str], *, now: datetime
    ) -> FolderNames:
        """The names of folders named by id (``watch.folders``, a command's folder), each read
        by itself (Folder.get) and kept for ``ttl``; a folder found in a watched cloud has its
        name from the listing. A folder whose name cannot be read (denied, gone, an outage) has
        none, so it is shown by its id: that is no problem of the reading's, and no alert."""
        wanted = list(dict.fromkeys(folder_ids))
        names: dict[str, str] = {}
        ask: list[str] = []
        for folder_id in wanted:
            found = self.folder(folder_id)
            cached = self._folder_names.get(folder_id)
            if found is not None and found.name:
                names[folder_id] = found.name
            elif cached is not None and now - cached[0] < self.ttl:
                if cached[1]:
                    names[folder_id] = cached[1]
            else:
                ask.append(folder_id)
        got = await asyncio.gather(*(self._folder_name(cloud, f) for f in ask))
        for folder_id, name in zip(ask, got, strict=True):
            self._folder_names[folder_id] = (now, name)
            if name:
                names[folder_id] = name
        return FolderNames(names, len(ask))

    async def _folder_name(self, cloud: CloudClient, folder_id: str) -> str:
        try:
            got = await cloud.get_folder(folder_id)
        except BotError:
            return ""
        return got.name

    def folder(self, folder_id: str) -> FoundFolder | None:
        """A folder found in some cloud (by the last listing), or None."""
        for listed in self._clouds.values():
            for folder in listed.cloud.folders:
                if folder.id == folder_id:
                    return folder
        return None

    async def discover(self, cloud: CloudClient, watch: Watch, *, now: datetime) -> Discovery:
        """The folders of ``watch.clouds`` and of every cloud of ``watch.organization``."""
        if not watch.finds_folders:
            return Discovery()
        async with self._lock:
            counter = [0]
            errors: list[str] = []
            cloud_ids = list(dict.fromkeys(watch.clouds))
            if watch.organization:
                found, error = await self._organization_clouds(
                    cloud, watch.organization, now, counter
                )
                if error:
                    errors.append(error)
                cloud_ids.extend(c for c in found if c not in cloud_ids)
            clouds = await asyncio.gather(
                *(self._cloud(cloud, cloud_id, now, counter) for cloud_id in cloud_ids)
            )
            return Discovery(tuple(clouds), tuple(errors), counter[0])

    async def _organization_clouds(
        self, cloud: CloudClient, organization: str, now: datetime, counter: list[int]
    ) -> tuple[list[str], str]:
        cached = self._organization.get(organization)
        if cached is not None and now - cached[0] < self.ttl:
            return [c for c, _ in cached[1]], ""
        try:
            counter[0] += 1
            page = await cloud.all_clouds(organization, page_size=PAGE_SIZE)
        except BotError as exc:
            known = [c for c, _ in cached[1]] if cached is not None else []
            said = _("the clouds of organization {organization} could not be listed: {reason}")
            return known, said.format(organization=organization, reason=_reason(exc))
        pairs = tuple((c.id, c.name) for c in page.clouds)
        self._organization[organization] = (now, pairs)
        self._names.update({c.id: c.name for c in page.clouds if c.name})
        return [c for c, _ in pairs], ""

    async def _cloud(
        self, cloud: CloudClient, cloud_id: str, now: datetime, counter: list[int]
    ) -> CloudFolders:
        before = self._clouds.get(cloud_id)
        if before is not None and now - before.at < self.ttl:
            return before.cloud
        name = await self._cloud_name(cloud, cloud_id, counter)
        try:
            counter[0] += 1
            page = await cloud.all_folders(cloud_id, page_size=PAGE_SIZE)
        except BotError as exc:
            kept = before.cloud.folders if before is not None else ()
            said = _("the folders of cloud {cloud} could not be listed: {reason}")
            reason = said.format(cloud=name or cloud_id, reason=_reason(exc))
            # Not cached: the next discovery asks again.
            return CloudFolders(cloud_id, name, kept, error=reason)
        active = {f.id: _found(f, cloud_id) for f in page.folders if f.active}
        inactive = sum(1 for f in page.folders if not f.active)
        if before is not None:
            # A folder the listing shows being deleted is gone; one it does not show at all is
            # asked for by itself.
            listed = {f.id for f in page.folders}
            missing = [f for f in before.cloud.folders if f.id not in listed]
            rechecked = await asyncio.gather(
                *(self._still_there(cloud, f, counter) for f in missing)
            )
            for folder in rechecked:
                if folder is not None:
                    active[folder.id] = folder
        result = CloudFolders(cloud_id, name, tuple(active.values()), inactive)
        self._clouds[cloud_id] = _Listed(now, result)
        return result

    async def _still_there(
        self, cloud: CloudClient, folder: FoundFolder, counter: list[int]
    ) -> FoundFolder | None:
        """A folder the last listing had and this one lacks, asked for by itself: kept while
        the cloud says it is ACTIVE or cannot say (any error but "gone" or "denied")."""
        try:
            counter[0] += 1
            got = await cloud.get_folder(folder.id)
        except (NotFound, PermissionDenied):
            return None
        except BotError:
            return folder
        if got.status is not FolderStatus.ACTIVE:
            return None
        return FoundFolder(folder.id, got.name or folder.name, got.cloud_id or folder.cloud_id)

    async def _cloud_name(self, cloud: CloudClient, cloud_id: str, counter: list[int]) -> str:
        known = self._names.get(cloud_id)
        if known is not None:
            return known
        try:
            counter[0] += 1
            got = await cloud.get_cloud(cloud_id)
        except BotError:
            return ""
        self._names[cloud_id] = got.name
        return got.name


def _found(folder: Folder, cloud_id: str) -> FoundFolder:
    return FoundFolder(folder.id, folder.name, folder.cloud_id or cloud_id)


def _reason(exc: BotError) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


_DIRECTORIES: weakref.WeakKeyDictionary[CloudClient, FolderDirectory] = weakref.WeakKeyDictionary()


def directory_for(cloud: CloudClient) -> FolderDirectory:
    """The client's folder directory (one per client, made on first use)."""
    directory = _DIRECTORIES.get(cloud)
    if directory is None:
        directory = FolderDirectory()
        _DIRECTORIES[cloud] = directory
    return directory


async def folders_with_found(
    cloud: CloudClient, watch: Watch, named: list[str], *, now: datetime
) -> list[str]:
    """``named`` folders, then those found in ``watch.clouds`` and ``watch.organization`` (the
    sweep's own cached listing), each once: where a command looks when a config names clouds."""
    if not watch.finds_folders:
        return list(dict.fromkeys(named))
    found = await directory_for(cloud).discover(cloud, watch, now=now)
    return list(dict.fromkeys([*named, *sorted(found.folder_ids())]))
