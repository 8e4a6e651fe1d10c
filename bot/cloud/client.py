"""The Managed OpenSearch REST API, as the bot uses it: backups, clusters, operations, backup
retention policies and versions; and Resource Manager's clouds and folders (to watch every
cluster of a cloud).

Every request goes through :meth:`CloudClient._request`, which adds the IAM token and our
``x-client-request-id``, applies the timeout and the process-wide limits, retries what is worth
retrying (:meth:`bot.cloud.retry.RetryPolicy.run`) and turns failures into the error types of
:mod:`bot.errors` (:mod:`bot.cloud.failures`: by the gRPC code the cloud's body names). Every
listing is read by one paging loop, :meth:`CloudClient._pages`. The methods above them only name
paths and models.

Retention policies and versions are not offered everywhere: where their endpoint answers 404
(for a cluster, or a folder when listed by folder) or 501 (for every one), the client remembers
it for the life of the process and answers None from then on without asking again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel
from yarl import URL

from bot.cloud.auth import TokenProvider, build_token_provider
from bot.cloud.failures import api_error
from bot.cloud.limits import RequestLimiter
from bot.cloud.models import (
    Backup,
    BackupPage,
    CloudPage,
    Cluster,
    ClusterPage,
    DecodeError,
    Folder,
    FolderPage,
    Host,
    HostPage,
    Network,
    Operation,
    OperationPage,
    PolicyPage,
    ResourceCloud,
    ResourcePreset,
    RestoreRequest,
    RetentionPolicy,
    SkippedItem,
    SlimBackup,
    SlimBackupPage,
    Subnet,
    Version,
    VersionPage,
    decode,
    decode_backup_page,
    decode_backup_page_slim,
    decode_cloud_page,
    decode_cluster_page,
    decode_folder_page,
    decode_host_page,
    decode_operation_page,
    decode_policy_page,
    decode_version_page,
)
from bot.cloud.retry import RetryPolicy, may_retry
from bot.cloud.session import (
    HttpReply,
    SessionSource,
    as_source,
    exchange,
    failure_reason,
    new_client_request_id,
)
from bot.cloud.validation import (
    MAX_ID_LENGTH,
    MAX_PAGE_TOKEN_LENGTH,
    MAX_RESOURCE_MANAGER_PAGE_TOKEN_LENGTH,
    path_segment,
    validate_id,
    validate_page_size,
    validate_page_token,
)
from bot.errors import (
    CloudRequestError,
    CloudTimeout,
    MalformedResponse,
    NotFound,
    Unimplemented,
)
from bot.i18n.catalog import _, ngettext
from bot.settings import Settings

logger = logging.getLogger(__name__)

MDB_PREFIX = "/managed-opensearch/v1"
RESOURCE_MANAGER_PREFIX = "/resource-manager/v1"
VPC_PREFIX = "/vpc/v1"

#: Called once per HTTP attempt with (API method, outcome, seconds); outcome is the status
#: ("200", "429"...), "timeout" or "error".
RequestObserver = Callable[[str, str, float], None]
#: Called once per list item that could not be read and was left out of its page, with the API
#: method and the item (for the metrics).
SkipObserver = Callable[[str, SkippedItem], None]

_Model = TypeVar("_Model", bound=BaseModel)
_Item = TypeVar("_Item")


class _Page(Protocol):
    """What the paging loop reads of any page."""

    @property
    def next_page_token(self) -> str: ...

    @property
    def skipped(self) -> tuple[SkippedItem, ...]: ...


_P = TypeVar("_P", bound=_Page)


@dataclass(frozen=True)
class _Listing(Generic[_P, _Item]):
    """One paged API method: its name, how a page is read, its items, and how pages join."""

    api_method: str
    decode: Callable[[bytes], _P]
    items: Callable[[_P], tuple[_Item, ...]]
    #: Builds the page of every page's items and skipped items (its token empty).
    join: Callable[[tuple[_Item, ...], str, tuple[SkippedItem, ...]], _P]
    #: The longest page token the request takes (the proto's ``length`` of ``page_token``).
    max_token: int = MAX_PAGE_TOKEN_LENGTH


_CLUSTER_BACKUPS: _Listing[BackupPage, Backup] = _Listing(
    "Cluster.listBackups", decode_backup_page, lambda page: page.backups, BackupPage
)
_CLUSTER_BACKUPS_SLIM: _Listing[SlimBackupPage, SlimBackup] = _Listing(
    "Cluster.listBackups", decode_backup_page_slim, lambda page: page.backups, SlimBackupPage
)
_FOLDER_BACKUPS: _Listing[BackupPage, Backup] = _Listing(
    "Backup.list", decode_backup_page, lambda page: page.backups, BackupPage
)
_CLUSTERS: _Listing[ClusterPage, Cluster] = _Listing(
    "Cluster.list", decode_cluster_page, lambda page: page.clusters, ClusterPage
)
_HOSTS: _Listing[HostPage, Host] = _Listing(
    "Cluster.listHosts", decode_host_page, lambda page: page.hosts, HostPage
)
_OPERATIONS: _Listing[OperationPage, Operation] = _Listing(
    "Cluster.listOperations", decode_operation_page, lambda page: page.operations, OperationPage
)
_POLICIES: _Listing[PolicyPage, RetentionPolicy] = _Listing(
    "BackupRetentionPolicy.list", decode_policy_page, lambda page: page.policies, PolicyPage
)
_FOLDER_POLICIES: _Listing[PolicyPage, RetentionPolicy] = _Listing(
    "BackupRetentionPolicy.listByFolder",
    decode_policy_page,
    lambda page: page.policies,
    PolicyPage,
)
_VERSIONS: _Listing[VersionPage, Version] = _Listing(
    "Versions.list", decode_version_page, lambda page: page.versions, VersionPage
)
_FOLDERS: _Listing[FolderPage, Folder] = _Listing(
    "Folder.list",
    decode_folder_page,
    lambda page: page.folders,
    FolderPage,
    MAX_RESOURCE_MANAGER_PAGE_TOKEN_LENGTH,
)
_CLOUDS: _Listing[CloudPage, ResourceCloud] = _Listing(
    "Cloud.list",
    decode_cloud_page,
    lambda page: page.clouds,
    CloudPage,
    MAX_RESOURCE_MANAGER_PAGE_TOKEN_LENGTH,
)


@dataclass(frozen=True)
class _Query(Generic[_P, _Item]):
    """A listing of one thing: the method, its URL and the request fields that are not paging."""

    listing: _Listing[_P, _Item]
    url: str
    params: Mapping[str, str] = field(default_factory=dict)


class CloudClient:
    """Async client of the Managed OpenSearch, Operation and Resource Manager REST APIs.

    One per process: it holds the aiohttp session (an injected one, or its own) and the limiter
    that bounds requests in flight for the whole bot. ``resource_manager_endpoint`` defaults to
    ``mdb_endpoint`` (the simulated cloud serves every API on one port; :meth:`from_settings`
    always names it).
    """

    def __init__(
        self,
        *,
        mdb_endpoint: str,
        operation_endpoint: str,
        auth: TokenProvider,
        resource_manager_endpoint: str | None = None,
        vpc_endpoint: str | None = None,
        session: aiohttp.ClientSession | SessionSource | None = None,
        max_in_flight: int = 16,
        background_in_flight: int | None = None,
        requests_per_second: float = 0.0,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        on_request: RequestObserver | None = None,
        on_skipped: SkipObserver | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.mdb_endpoint = mdb_endpoint.rstrip("/")
        self.operation_endpoint = operation_endpoint.rstrip("/")
        self.resource_manager_endpoint = (resource_manager_endpoint or mdb_endpoint).rstrip("/")
        self.vpc_endpoint = (vpc_endpoint or mdb_endpoint).rstrip("/")
        self._auth = auth
        self._sessions = (
            as_source(session)
            if session is not None
            else SessionSource(limit=max(100, max_in_flight))
        )
        self.limiter = RequestLimiter(
            max_in_flight, requests_per_second, background_in_flight=background_in_flight
        )
        self.timeout = timeout
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.retry = retry or RetryPolicy()
        self._on_request = on_request
        self._on_skipped = on_skipped
        self._rng = rng or random.Random()
        #: Optional endpoints found not offered ("retention_policies", "retention_policies:<id>",
        #: "retention_policies_by_folder[:<folder id>]", "versions"): asked once per process,
        #: never again.
        self._not_offered: set[str] = set()
        #: Optional endpoints that have answered once (until then, one request at a time).
        self._answered: set[str] = set()
        self._probes: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return (
            f"CloudClient(mdb_endpoint={self.mdb_endpoint!r}, "
            f"operation_endpoint={self.operation_endpoint!r}, auth={self._auth!r})"
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        session: aiohttp.ClientSession | None = None,
        on_request: RequestObserver | None = None,
        on_skipped: SkipObserver | None = None,
    ) -> CloudClient:
        """A client built from the environment; the token provider shares its session."""
        sessions = SessionSource(session, limit=max(100, settings.yc_max_in_flight))
        return cls(
            mdb_endpoint=settings.yc_mdb_endpoint,
            operation_endpoint=settings.yc_operation_endpoint,
            resource_manager_endpoint=settings.yc_resource_manager_endpoint,
            vpc_endpoint=settings.yc_vpc_endpoint,
            auth=build_token_provider(settings, sessions),
            session=sessions,
            max_in_flight=settings.yc_max_in_flight,
            background_in_flight=settings.yc_background_in_flight,
            requests_per_second=settings.yc_requests_per_second,
            timeout=settings.yc_request_timeout,
            on_request=on_request,
            on_skipped=on_skipped,
        )

    @property
    def auth(self) -> TokenProvider:
        """The token provider."""
        return self._auth

    async def aclose(self) -> None:
        """Close the session if the client made it."""
        await self._sessions.aclose()

    async def __aenter__(self) -> CloudClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- backups --------------------------------------------------------------------------------

    def _cluster_backups(self, cluster_id: str) -> _Query[BackupPage, Backup]:
        validate_id("cluster id", cluster_id)
        url = f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}/backups"
        return _Query(_CLUSTER_BACKUPS, url)

    def list_cluster_backups(
        self, cluster_id: str, *, page_size: int = 1000
    ) -> AsyncIterator[Backup]:
        """Every backup of a cluster, page after page (Cluster.listBackups), in the API's order
        (which is none: sort them, e.g. with :func:`bot.cloud.models.newest_first`)."""
        return self._items(self._cluster_backups(cluster_id), page_size)

    async def list_cluster_backups_page(
        self, cluster_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> BackupPage:
        """One page of a cluster's backups (Cluster.listBackups)."""
        return await self._page(self._cluster_backups(cluster_id), page_size, page_token)

    async def list_cluster_backups_slim_page(
        self, cluster_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> SlimBackupPage:
        """One page of a cluster's backups (Cluster.listBackups) as plain dicts, for a reader
        that keeps few of them (see :func:`bot.cloud.models.decode_backup_page_slim`)."""
        query = _Query(_CLUSTER_BACKUPS_SLIM, self._cluster_backups(cluster_id).url)
        return await self._page(query, page_size, page_token)

    async def all_cluster_backups(self, cluster_id: str, *, page_size: int = 1000) -> BackupPage:
        """Every page of a cluster's backups at once (Cluster.listBackups): all the backups, in
        no order, and every item the cloud sent that could not be read."""
        return await self._all(self._cluster_backups(cluster_id), page_size)

    def _folder_backups(self, folder_id: str) -> _Query[BackupPage, Backup]:
        validate_id("folder id", folder_id)
        url = f"{self.mdb_endpoint}{MDB_PREFIX}/backups"
        return _Query(_FOLDER_BACKUPS, url, {"folderId": folder_id})

    def list_folder_backups(
        self, folder_id: str, *, page_size: int = 1000
    ) -> AsyncIterator[Backup]:
        """Every backup of every cluster in a folder, page after page (Backup.list)."""
        return self._items(self._folder_backups(folder_id), page_size)

    async def list_folder_backups_page(
        self, folder_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> BackupPage:
        """One page of a folder's backups (Backup.list)."""
        return await self._page(self._folder_backups(folder_id), page_size, page_token)

    async def get_backup(self, backup_id: str) -> Backup:
        """One backup by id (Backup.get). The proto sets no length limit on the id."""
        return await self._get(
            Backup,
            f"{self.mdb_endpoint}{MDB_PREFIX}/backups",
            backup_id,
            what="backup id",
            api_method="Backup.get",
            max_length=None,
        )

    # --- clusters -------------------------------------------------------------------------------

    def _clusters(self, folder_id: str) -> _Query[ClusterPage, Cluster]:
        validate_id("folder id", folder_id)
        url = f"{self.mdb_endpoint}{MDB_PREFIX}/clusters"
        return _Query(_CLUSTERS, url, {"folderId": folder_id})

    def list_clusters(self, folder_id: str, *, page_size: int = 1000) -> AsyncIterator[Cluster]:
        """Every cluster in a folder, page after page (Cluster.list)."""
        return self._items(self._clusters(folder_id), page_size)

    async def list_clusters_page(
        self, folder_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> ClusterPage:
        """One page of a folder's clusters (Cluster.list)."""
        return await self._page(self._clusters(folder_id), page_size, page_token)

    async def get_cluster(self, cluster_id: str) -> Cluster:
        """One cluster by id (Cluster.get)."""
        return await self._get(
            Cluster,
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters",
            cluster_id,
            what="cluster id",
            api_method="Cluster.get",
        )

    async def backup_cluster(
        self, cluster_id: str, *, idempotency_key: str | None = None
    ) -> Operation:
        """Start a backup of a cluster now (Cluster.backup); returns the operation.

        The http rule of Cluster.backup has no body, so none is sent. The Idempotency-Key header
        (a new UUID unless given) is the same on every retry, so a retried request whose first
        try did reach the cloud does not start a second backup.
        """
        validate_id("cluster id", cluster_id)
        key = idempotency_key or str(uuid.uuid4())
        body = await self._request(
            "POST",
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}:backup",
            api_method="Cluster.backup",
            headers={"Idempotency-Key": key},
        )
        return self._parse(Operation, body, "Cluster.backup")

    async def restore_cluster(self, request: RestoreRequest, *, idempotency_key: str) -> Operation:
        """Restore a backup into a **new** cluster (Cluster.restore); returns the operation,
        whose metadata names the new cluster.

        The key is required: a restore creates a cluster that costs money while it lives, so a
        retry after a lost answer must find the first one (the API wants a UUID; a drill derives
        it from its own id, so a replica that takes the drill over sends the same one).
        """
        validate_id("backup id", request.backup_id, max_length=None)
        validate_id("folder id", request.folder_id)
        validate_id("network id", request.network_id)
        body = await self._request(
            "POST",
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters:restore",
            api_method="Cluster.restore",
            json_body=request.to_json(),
            headers={"Idempotency-Key": idempotency_key},
        )
        return self._parse(Operation, body, "Cluster.restore")

    async def delete_cluster(
        self, cluster_id: str, *, idempotency_key: str | None = None
    ) -> Operation:
        """Delete a cluster (Cluster.delete); returns the operation. Its http rule has no body.
        The cluster is gone when the operation is done and Cluster.get answers 404."""
        validate_id("cluster id", cluster_id)
        key = idempotency_key or str(uuid.uuid4())
        body = await self._request(
            "DELETE",
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}",
            api_method="Cluster.delete",
            headers={"Idempotency-Key": key},
        )
        return self._parse(Operation, body, "Cluster.delete")

    async def labelled_clusters(
        self, folder_id: str, label: str, value: str | None = None
    ) -> list[Cluster]:
        """The folder's clusters that carry ``label`` (with ``value``, if given). Cluster.list
        filters by name only, so the whole folder is read and filtered here."""
        page = await self._all(self._clusters(folder_id), 1000)
        return [
            cluster
            for cluster in page.clusters
            if label in cluster.labels and (value is None or cluster.labels[label] == value)
        ]

    def _hosts(self, cluster_id: str) -> _Query[HostPage, Host]:
        validate_id("cluster id", cluster_id)
        url = f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}/hosts"
        return _Query(_HOSTS, url)

    async def list_cluster_hosts_page(
        self, cluster_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> HostPage:
        """One page of a cluster's hosts (Cluster.listHosts)."""
        return await self._page(self._hosts(cluster_id), page_size, page_token)

    async def all_cluster_hosts(self, cluster_id: str, *, page_size: int = 1000) -> HostPage:
        """Every host of a cluster (Cluster.listHosts), in no order."""
        return await self._all(self._hosts(cluster_id), page_size)

    def _operations(self, cluster_id: str) -> _Query[OperationPage, Operation]:
        validate_id("cluster id", cluster_id)
        url = f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}/operations"
        return _Query(_OPERATIONS, url)

    async def list_cluster_operations_page(
        self, cluster_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> OperationPage:
        """One page of a cluster's operations (Cluster.listOperations)."""
        return await self._page(self._operations(cluster_id), page_size, page_token)

    async def all_cluster_operations(
        self, cluster_id: str, *, page_size: int = 1000
    ) -> OperationPage:
        """Every page of a cluster's operations at once (Cluster.listOperations), in no order."""
        return await self._all(self._operations(cluster_id), page_size)

    # --- backup retention policies --------------------------------------------------------------

    def _retention_policies(self, cluster_id: str) -> _Query[PolicyPage, RetentionPolicy]:
        validate_id("cluster id", cluster_id)
        url = (
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}"
            "/retention_policies"
        )
        return _Query(_POLICIES, url)

    async def list_retention_policies_page(
        self, cluster_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> PolicyPage:
        """One page of a cluster's backup retention policies (BackupRetentionPolicyService.List).
        Raises like any request, 404 and 501 included (see :meth:`all_retention_policies`)."""
        return await self._page(self._retention_policies(cluster_id), page_size, page_token)

    def may_offer_retention_policies(self, cluster_id: str) -> bool:
        """False once the cloud said it offers no retention policies for this cluster (or for
        any): then :meth:`all_retention_policies` answers None without a request."""
        return not {"retention_policies", f"retention_policies:{cluster_id}"} & self._not_offered

    def may_offer_versions(self) -> bool:
        """False once the cloud said it lists no versions."""
        return "versions" not in self._not_offered

    async def all_retention_policies(
        self, cluster_id: str, *, page_size: int = 1000
    ) -> PolicyPage | None:
        """Every backup retention policy of a cluster, or None where the API offers none.

        An answer of NOT_FOUND for this cluster, or UNIMPLEMENTED for any, means "not offered
        here": it is remembered for the life of the process (this cluster's, or every cluster's),
        and the cloud is not asked again. Other errors raise as usual.
        """
        query = self._retention_policies(cluster_id)
        validate_page_size(page_size)
        return await self._optional(
            "retention_policies",
            f"retention_policies:{cluster_id}",
            lambda: self._all(query, page_size),
        )

    def _folder_retention_policies(self, folder_id: str) -> _Query[PolicyPage, RetentionPolicy]:
        validate_id("folder id", folder_id)
        url = (
            f"{self.mdb_endpoint}{MDB_PREFIX}/folders/{path_segment(folder_id)}/retention_policies"
        )
        return _Query(_FOLDER_POLICIES, url)

    async def list_folder_retention_policies_page(
        self, folder_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> PolicyPage:
        """One page of the backup retention policies of every cluster in a folder
        (BackupRetentionPolicyService.ListByFolder). Raises like any request, 404 and 501
        included (see :meth:`all_folder_retention_policies`)."""
        return await self._page(self._folder_retention_policies(folder_id), page_size, page_token)

    def may_offer_folder_retention_policies(self, folder_id: str) -> bool:
        """False once the cloud said it lists no retention policies by folder (for this folder,
        or for any): then :meth:`all_folder_retention_policies` answers None without a request."""
        keys = {"retention_policies_by_folder", f"retention_policies_by_folder:{folder_id}"}
        return not keys & self._not_offered

    async def all_folder_retention_policies(
        self, folder_id: str, *, page_size: int = 1000
    ) -> PolicyPage | None:
        """Every backup retention policy of every cluster in a folder, in one listing
        (ListByFolder), or None where the API does not list them by folder: NOT_FOUND for this
        folder, or UNIMPLEMENTED for any, is remembered for the life of the process, as for
        :meth:`all_retention_policies` (whose per-cluster listing is then the way). Each
        policy names its cluster (``cluster_id``)."""
        query = self._folder_retention_policies(folder_id)
        validate_page_size(page_size)
        return await self._optional(
            "retention_policies_by_folder",
            f"retention_policies_by_folder:{folder_id}",
            lambda: self._all(query, page_size),
        )

    # --- versions -------------------------------------------------------------------------------

    def _versions(self) -> _Query[VersionPage, Version]:
        return _Query(_VERSIONS, f"{self.mdb_endpoint}{MDB_PREFIX}/versions")

    async def list_versions_page(
        self, *, page_size: int = 100, page_token: str = ""
    ) -> VersionPage:
        """One page of the OpenSearch versions the service offers (VersionsService.List)."""
        return await self._page(self._versions(), page_size, page_token)

    async def all_versions(self, *, page_size: int = 1000) -> VersionPage | None:
        """Every version the service lists, or None where it lists none: NOT_FOUND or
        UNIMPLEMENTED is remembered for the life of the process, as for retention policies."""
        validate_page_size(page_size)
        return await self._optional(
            "versions", "versions", lambda: self._all(self._versions(), page_size)
        )

    async def _optional(
        self, endpoint: str, key: str, read: Callable[[], Awaitable[_P]]
    ) -> _P | None:
        """``read()`` from an endpoint the cloud may not offer; None once it said so (501 for
        the endpoint, 404 for ``key``). Until the endpoint has answered once, one caller asks
        at a time: a sweep asking for 200 clusters at once still learns of a 501 from one
        request."""
        if endpoint not in self._answered:
            lock = self._probes.setdefault(endpoint, asyncio.Lock())
            async with lock:
                if endpoint not in self._answered:
                    if {endpoint, key} & self._not_offered:
                        return None
                    return await self._ask_optional(endpoint, key, read)
        if {endpoint, key} & self._not_offered:
            return None
        return await self._ask_optional(endpoint, key, read)

    async def _ask_optional(
        self, endpoint: str, key: str, read: Callable[[], Awaitable[_P]]
    ) -> _P | None:
        try:
            result = await read()
        except (Unimplemented, NotFound) as exc:
            self._answered.add(endpoint)
            gone = endpoint if isinstance(exc, Unimplemented) else key
            if gone not in self._not_offered:
                logger.info("%s not offered here (HTTP %s); not asked again", gone, exc.status)
            self._not_offered.add(gone)
            return None
        self._answered.add(endpoint)
        return result

    # --- Resource Manager: clouds and folders ---------------------------------------------------

    def _folders(self, cloud_id: str) -> _Query[FolderPage, Folder]:
        validate_id("cloud id", cloud_id)
        url = f"{self.resource_manager_endpoint}{RESOURCE_MANAGER_PREFIX}/folders"
        return _Query(_FOLDERS, url, {"cloudId": cloud_id})

    async def list_folders_page(
        self, cloud_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> FolderPage:
        """One page of a cloud's folders (Folder.list); its tokens may be 2,000 characters."""
        return await self._page(self._folders(cloud_id), page_size, page_token)

    async def all_folders(self, cloud_id: str, *, page_size: int = 1000) -> FolderPage:
        """Every folder of a cloud, whatever its status (Folder.list, every page)."""
        return await self._all(self._folders(cloud_id), page_size)

    async def get_folder(self, folder_id: str) -> Folder:
        """One folder by id (Folder.get): its name, cloud and status."""
        return await self._get(
            Folder,
            f"{self.resource_manager_endpoint}{RESOURCE_MANAGER_PREFIX}/folders",
            folder_id,
            what="folder id",
            api_method="Folder.get",
        )

    def _clouds(self, organization_id: str) -> _Query[CloudPage, ResourceCloud]:
        params = {}
        if organization_id:
            validate_id("organization id", organization_id)
            params["organizationId"] = organization_id
        url = f"{self.resource_manager_endpoint}{RESOURCE_MANAGER_PREFIX}/clouds"
        return _Query(_CLOUDS, url, params)

    async def list_clouds_page(
        self, organization_id: str = "", *, page_size: int = 100, page_token: str = ""
    ) -> CloudPage:
        """One page of the clouds of an organization (Cloud.list; every cloud the account may
        see when ``organization_id`` is empty)."""
        return await self._page(self._clouds(organization_id), page_size, page_token)

    async def all_clouds(self, organization_id: str = "", *, page_size: int = 1000) -> CloudPage:
        """Every cloud of an organization (Cloud.list, every page)."""
        return await self._all(self._clouds(organization_id), page_size)

    async def get_cloud(self, cloud_id: str) -> ResourceCloud:
        """One cloud by id (Cloud.get): its name and organization."""
        return await self._get(
            ResourceCloud,
            f"{self.resource_manager_endpoint}{RESOURCE_MANAGER_PREFIX}/clouds",
            cloud_id,
            what="cloud id",
            api_method="Cloud.get",
        )

    # --- what a restore drill needs: its network, subnets and resource preset --------------------

    async def get_network(self, network_id: str) -> Network:
        """One network by id (VPC Network.get)."""
        return await self._get(
            Network,
            f"{self.vpc_endpoint}{VPC_PREFIX}/networks",
            network_id,
            what="network id",
            api_method="Network.get",
        )

    async def get_subnet(self, subnet_id: str) -> Subnet:
        """One subnet by id (VPC Subnet.get): its network and zone."""
        return await self._get(
            Subnet,
            f"{self.vpc_endpoint}{VPC_PREFIX}/subnets",
            subnet_id,
            what="subnet id",
            api_method="Subnet.get",
        )

    async def get_resource_preset(self, preset_id: str) -> ResourcePreset:
        """One host class the service offers (ResourcePreset.get): its zones, cores, memory."""
        return await self._get(
            ResourcePreset,
            f"{self.mdb_endpoint}{MDB_PREFIX}/resourcePresets",
            preset_id,
            what="resource preset id",
            api_method="ResourcePreset.get",
        )

    # --- operations -----------------------------------------------------------------------------

    async def get_operation(self, operation_id: str) -> Operation:
        """One operation by id (Operation.get). The proto sets no length limit on the id."""
        return await self._get(
            Operation,
            f"{self.operation_endpoint}/operations",
            operation_id,
            what="operation id",
            api_method="Operation.get",
            max_length=None,
        )

    async def _get(
        self,
        model: type[_Model],
        collection: str,
        item_id: str,
        *,
        what: str,
        api_method: str,
        max_length: int | None = MAX_ID_LENGTH,
    ) -> _Model:
        """One resource by id: ``GET <collection>/<id>``, the id checked as ``what`` (its
        proto's length limit, None where it declares none) and the answer read as ``model``."""
        validate_id(what, item_id, max_length=max_length)
        body = await self._request(
            "GET", f"{collection}/{path_segment(item_id)}", api_method=api_method
        )
        return self._parse(model, body, api_method)

    # --- paging: one loop for every listing -----------------------------------------------------

    async def _page(self, query: _Query[_P, Any], page_size: int, page_token: str) -> _P:
        """One page of a listing, checked: its token can be sent back, its unreadable items are
        logged and counted."""
        api_method = query.listing.api_method
        params = {
            **query.params,
            **self._page_params(page_size, page_token, query.listing.max_token),
        }
        body = await self._request("GET", query.url, api_method=api_method, params=params)
        try:
            page = query.listing.decode(body)
        except DecodeError as exc:
            raise self._malformed(api_method, exc) from None
        self._check_page(page.next_page_token, page.skipped, api_method, query.listing.max_token)
        return page

    def _pages(self, query: _Query[_P, Any], page_size: int) -> AsyncIterator[_P]:
        """Every page of a listing, as it comes (the page size is checked now, not at the first
        page). The one paging loop: the cloud promises no order, and a page may be empty and
        still carry a token, so it goes on until the token is empty; a token sent twice would
        loop for ever and is the cloud's mistake."""
        validate_page_size(page_size)

        async def walk() -> AsyncIterator[_P]:
            token = ""
            seen: set[str] = set()
            while True:
                page = await self._page(query, page_size, token)
                yield page
                token = page.next_page_token
                if not token:
                    return
                if token in seen:
                    raise MalformedResponse(
                        _("the cloud sent the same page token twice while paging {method}").format(
                            method=query.listing.api_method
                        )
                    )
                seen.add(token)

        return walk()

    def _items(self, query: _Query[_P, _Item], page_size: int) -> AsyncIterator[_Item]:
        """Every item of a listing, page after page, in the cloud's order (none)."""
        pages = self._pages(query, page_size)

        async def items() -> AsyncIterator[_Item]:
            async for page in pages:
                for item in query.listing.items(page):
                    yield item

        return items()

    async def _all(self, query: _Query[_P, _Item], page_size: int) -> _P:
        """Every page of a listing joined into one: all its items and all its skipped ones."""
        pages = [page async for page in self._pages(query, page_size)]
        listing = query.listing
        return listing.join(
            tuple(item for page in pages for item in listing.items(page)),
            "",
            tuple(item for page in pages for item in page.skipped),
        )

    @staticmethod
    def _page_params(
        page_size: int, page_token: str, max_token: int = MAX_PAGE_TOKEN_LENGTH
    ) -> dict[str, str]:
        validate_page_size(page_size)
        validate_page_token(page_token, max_length=max_token)
        params = {"pageSize": str(page_size)}
        if page_token:
            params["pageToken"] = page_token
        return params

    def _check_page(
        self,
        token: str,
        skipped: tuple[SkippedItem, ...],
        api_method: str,
        max_token: int = MAX_PAGE_TOKEN_LENGTH,
    ) -> None:
        # The token goes back as a request field limited to 100 characters (2,000 for Resource
        # Manager): one longer is the cloud's mistake, and must not be blamed on whoever asks
        # for the next page.
        if len(token) > max_token:
            raise MalformedResponse(
                ngettext(
                    "the cloud answered {method} with a page token of {n} character; its "
                    "requests take at most {most}",
                    "the cloud answered {method} with a page token of {n} characters; its "
                    "requests take at most {most}",
                    len(token),
                ).format(method=api_method, n=len(token), most=max_token)
            )
        for item in skipped:
            logger.warning("%s: %s", api_method, item)
            if self._on_skipped is not None:
                try:
                    self._on_skipped(api_method, item)
                except Exception:
                    logger.exception("the skipped-item observer failed")

    # --- the choke point ------------------------------------------------------------------------

    @staticmethod
    def _malformed(api_method: str, exc: DecodeError) -> MalformedResponse:
        problem = str(exc)  # the decoder's own words, technical, as they are
        if not problem.startswith(("a body", "JSON")):
            said = _("the cloud answered {method} with an unexpected body ({problem})")
        else:
            said = _("the cloud answered {method} with {problem}")
        return MalformedResponse(said.format(method=api_method, problem=problem))

    @classmethod
    def _parse(cls, model: type[_Model], body: bytes, api_method: str) -> _Model:
        try:
            return decode(model, body)
        except DecodeError as exc:
            raise cls._malformed(api_method, exc) from None

    def _report(self, api_method: str, outcome: str, seconds: float) -> None:
        if self._on_request is None:
            return
        try:
            self._on_request(api_method, outcome, seconds)
        except Exception:
            # Metrics must never break a request.
            logger.exception("the request observer failed")

    async def _request(
        self,
        method: str,
        url: str,
        *,
        api_method: str,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """Send one API call: token, limits, timeout, retries; the body of a 2xx answer.

        Every try of the call carries the same ``x-client-request-id``: one id names the call in
        a support ticket, and the cloud's logs show all its tries under it. A call that changes
        something is tried again only with its Idempotency-Key (:func:`~bot.cloud.retry.may_retry`).
        """
        headers = headers or {}
        client_request_id = new_client_request_id()
        policy = self.retry if may_retry(method, headers) else self.retry.once()
        token = ""
        reauthenticated = False

        async def send() -> HttpReply:
            nonlocal token, reauthenticated
            while True:
                token = await self._auth.token()
                reply = await self._send(
                    method,
                    url,
                    api_method=api_method,
                    client_request_id=client_request_id,
                    params=params,
                    json_body=json_body,
                    headers={**headers, "Authorization": f"Bearer {token}"},
                )
                if reply.status != 401 or reauthenticated or not self._auth.can_refresh:
                    return reply
                # The token may have been revoked or rotated: get a new one and try once more.
                reauthenticated = True
                self._auth.invalidate(token)

        try:
            reply = await policy.run(
                send, what=f"{api_method} (client request id {client_request_id})", rng=self._rng
            )
        except TimeoutError:
            tries = policy.attempts
            raise CloudTimeout(
                ngettext(
                    "the cloud did not answer {method} within {seconds} s ({n} attempt)",
                    "the cloud did not answer {method} within {seconds} s ({n} attempts)",
                    tries,
                ).format(method=api_method, seconds=f"{self.timeout:g}", n=tries),
                client_request_id=client_request_id,
            ) from None
        except aiohttp.ClientError as exc:
            raise CloudRequestError(
                _("could not reach the cloud at {host} for {method}: {reason}").format(
                    host=urlsplit(url).netloc, method=api_method, reason=failure_reason(exc)
                ),
                client_request_id=client_request_id,
            ) from None
        if 200 <= reply.status < 300:
            return reply.body
        raise api_error(reply, token=token, client_request_id=client_request_id)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        api_method: str,
        client_request_id: str,
        params: Mapping[str, str] | None,
        json_body: Any,
        headers: Mapping[str, str],
    ) -> HttpReply:
        """One try, within the limiter; the request observer hears how it went."""
        started = time.monotonic()
        try:
            async with self.limiter.slot():
                started = time.monotonic()
                reply = await exchange(
                    self._sessions.get(),
                    method,
                    URL(url, encoded=True),  # ids are already percent-encoded
                    name=api_method,
                    client_request_id=client_request_id,
                    timeouts=self._timeout,
                    params=params,
                    json_body=json_body,
                    headers=headers,
                )
        except TimeoutError:
            self._report(api_method, "timeout", time.monotonic() - started)
            raise
        except aiohttp.ClientError:
            self._report(api_method, "error", time.monotonic() - started)
            raise
        self._report(api_method, str(reply.status), time.monotonic() - started)
        return reply
