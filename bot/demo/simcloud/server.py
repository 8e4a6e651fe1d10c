"""The simulated cloud: one aiohttp server on loopback speaking the MDB, Operation, IAM and
metadata REST APIs with their real paths, paging, encodings and error bodies.

It is a test double of the network, not of our code: the client talks to it over real HTTP.
Time is read from :func:`bot.clock.now`, so tests can move it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

import jwt
from aiohttp import web

from bot import clock
from bot.demo.simcloud.config import SimConfig
from bot.demo.simcloud.encoding import (
    MDB_TYPE,
    encode_backup,
    encode_cluster,
    encode_folder,
    encode_host,
    encode_operation,
    encode_policy,
    encode_resource_cloud,
    encode_timestamp,
    encode_version,
    error_body,
)
from bot.demo.simcloud.fleet import (
    GIB,
    Fleet,
    SimBackup,
    SimCluster,
    SimClusterOperation,
    SimFolder,
    SimHost,
    SimNodeGroup,
    SimResourceCloud,
    backup_id_for,
    generate_fleet,
    make_id,
    new_folder,
)
from bot.demo.simcloud.opensearch import OpenSearchEndpoint

MDB = "/managed-opensearch/v1"
RESOURCE_MANAGER = "/resource-manager/v1"
VPC = "/vpc/v1"

#: The resource presets the simulated service offers: id -> (cores, memory in GiB); each in
#: every zone of :data:`PRESET_ZONES`.
PRESETS = {"s2.micro": (2, 8), "s2.small": (4, 16), "s2.medium": (8, 32), "s3-c2-m8": (2, 8)}
PRESET_ZONES = ("ru-central1-a", "ru-central1-b", "ru-central1-d")
METADATA_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"  # noqa: S105
MAX_ID = 50
MAX_TOKEN = 100
#: Resource Manager's listings take page tokens of up to 2,000 characters, and its tokens are
#: long: the simulator's are this long, so that a client held to 100 fails.
MAX_RM_TOKEN = 2000
RM_TOKEN_LENGTH = 600
_PERMISSION_DENIED = "Permission denied"
#: gRPC codes by HTTP status, as the gateway pairs them (the default where a status has
#: several: 400 is also FAILED_PRECONDITION and OUT_OF_RANGE, 409 also ABORTED).
GRPC_CODES = {
    400: 3,
    401: 16,
    403: 7,
    404: 5,
    409: 6,
    429: 8,
    500: 13,
    501: 12,
    502: 14,
    503: 14,
    504: 4,
}
_FAULT_MESSAGES = {
    400: "Request validation error",
    401: "The token is invalid",
    501: "Method not implemented",
    403: "Permission denied",
    404: "Not found",
    409: "Conflict",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "The service is temporarily unavailable",
    504: "Deadline exceeded",
}

_T = TypeVar("_T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after: str | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        #: The gRPC code of the body, where it is not the one the gateway pairs with ``status``.
        self.code = code


@dataclass
class SimRequest:
    """One request the simulated cloud received. The Authorization value is never kept."""

    method: str
    path: str
    query: dict[str, str]
    at: datetime
    idempotency_key: str | None = None
    #: Our ``x-client-request-id``, as the cloud's logs would keep it for a support ticket.
    client_request_id: str | None = None
    metadata_flavor: str | None = None
    had_authorization: bool = False
    status: int = 0
    #: Bytes of the request body (its content is not kept: an IAM exchange carries secrets).
    body_size: int = 0


@dataclass
class Fault:
    """An injected answer for requests whose path matches ``pattern``."""

    pattern: re.Pattern[str]
    status: int
    times: int | None = 1
    retry_after: str | None = None
    body: Any = None
    delay: float | None = None
    method: str | None = None
    code: int | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return self.pattern.search(path) is not None


@dataclass
class SimOperation:
    """An operation started through the API: a Cluster.backup, a Cluster.restore (``backup_id``
    is its source, ``cluster_id`` the new cluster) or a Cluster.delete."""

    id: str
    cluster_id: str
    created_at: datetime
    done_at: datetime
    created_by: str
    done: bool = False
    modified_at: datetime | None = None
    backup_id: str = ""
    kind: str = "backup"
    #: The error it ends with when done (code 0: none).
    error_code: int = 0
    error_message: str = ""


#: The label every drill cluster carries (the bot's, but the simulator counts by it).
DRILL_LABEL = "backups-bot-drill"
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,63}")
_LABEL_KEY = re.compile(r"[a-z][-_0-9a-z]{0,62}")
_LABEL_VALUE = re.compile(r"[-_0-9a-z]{0,63}")
_DESCRIPTIONS = {
    "backup": ("Create backup for OpenSearch cluster", "BackupClusterMetadata"),
    "restore": ("Restore OpenSearch cluster from backup", "RestoreClusterMetadata"),
    "delete": ("Delete OpenSearch cluster", "DeleteClusterMetadata"),
}


@dataclass
class _Issued:
    expires_at: datetime
    source: str


@dataclass
class _Counters:
    in_flight: int = 0
    peak_in_flight: int = 0
    api_requests: int = 0
    burst_left: int = 0
    iam_exchanges: int = 0
    metadata_requests: int = 0
    empty_pages: int = 0
    issued: dict[str, _Issued] = field(default_factory=dict)


class SimCloud:
    """A simulated Yandex Cloud on one loopback port; use :attr:`url` for all four endpoints."""

    def __init__(self, config: SimConfig | None = None, fleet: Fleet | None = None) -> None:
        self.config = config or SimConfig()
        self.fleet = fleet if fleet is not None else generate_fleet(self.config, clock.now())
        #: Every request received, oldest first.
        self.requests: list[SimRequest] = []
        self.operations: dict[str, SimOperation] = {}
        self._by_key: dict[str, str] = {}
        #: Backups whose restore fails, with the cloud's error text.
        self.bad_backups: dict[str, str] = {}
        self.cluster_quota = self.config.cluster_quota
        #: Deletes that fail for each cluster restored from now on (a delete that fails once).
        self.restored_delete_failures = 0
        #: Clusters restored, and clusters deleted, through the API (ids, in order).
        self.restored: list[str] = []
        self.deleted: list[str] = []
        #: The networks (id -> folder) and subnets (id -> (network, zone)) that exist; nothing
        #: else does (``GET /vpc/v1/...`` of another id is NOT_FOUND). See :meth:`add_network`.
        self.networks: dict[str, str] = {}
        self.subnets: dict[str, tuple[str, str]] = {}
        #: The restored clusters' OpenSearch REST API, once :meth:`serve_opensearch` started it.
        self.opensearch: OpenSearchEndpoint | None = None
        self._faults: list[Fault] = []
        self._encoded: dict[str, str] = {}
        self._orders: dict[str, list[str]] = {}
        self._rng = random.Random(self.config.seed)
        self._stats = _Counters()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.app = self._build_app()

    def __repr__(self) -> str:
        return f"SimCloud(url={self.url!r}, clusters={len(self.fleet.clusters)})"

    def add_network(self, network_id: str, folder_id: str, subnets: dict[str, str]) -> None:
        """Make a network in ``folder_id`` with ``subnets`` (zone -> subnet id) exist."""
        self.networks[network_id] = folder_id
        for zone, subnet_id in subnets.items():
            self.subnets[subnet_id] = (network_id, zone)

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: any free port); return the base URL."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        """Stop listening."""
        if self.opensearch is not None:
            await self.opensearch.stop()
            self.opensearch = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def serve_opensearch(self) -> OpenSearchEndpoint:
        """Give clusters restored from now on an OpenSearch REST API on 127.0.0.1 (their hosts
        are named ``127.0.0.1``), over HTTPS under a CA of its own (``ca_file``)."""
        if self.opensearch is None:
            endpoint = OpenSearchEndpoint()
            await endpoint.start()
            self.opensearch = endpoint
        return self.opensearch

    async def __aenter__(self) -> SimCloud:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- test hooks -----------------------------------------------------------------------------

    def inject_fault(
        self,
        path_regex: str,
        status: int,
        times: int | None = 1,
        retry_after: float | str | None = None,
        body: Any = None,
        delay: float | None = None,
        *,
        method: str | None = None,
        code: int | None = None,
    ) -> Fault:
        """Answer the next ``times`` requests matching ``path_regex`` (None: all) with ``status``.

        ``body``: None for the cloud's error body (with the gRPC ``code`` given, else the one the
        gateway pairs with ``status``); a dict or list is sent as JSON; str or bytes as is (to
        send malformed JSON). ``delay`` seconds pass before the answer. A 200 fault with a body
        serves any payload, to test encodings.
        """
        fault = Fault(
            pattern=re.compile(path_regex),
            status=status,
            times=times,
            retry_after=None if retry_after is None else _header_number(retry_after),
            body=body,
            delay=delay,
            method=method,
            code=code,
        )
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        self._faults.clear()

    def add_backup(
        self, cluster_id: str, *, created_at: datetime | None = None, **fields: Any
    ) -> SimBackup:
        """Add a backup to a cluster, finished at ``created_at`` (default: now)."""
        cluster = self.fleet.clusters[cluster_id]
        created = created_at or clock.now()
        previous = self.fleet.newest_backup(cluster_id)
        backup_id = backup_id_for(cluster_id, created)
        while self.fleet.backup(backup_id) is not None:
            backup_id = backup_id[:45] + secrets.token_hex(2)
        values: dict[str, Any] = {
            "id": backup_id,
            "folder_id": cluster.folder_id,
            "cluster_id": cluster_id,
            "started_at": created - timedelta(minutes=7),
            "created_at": created,
            "indices": previous.indices if previous else ("products-v4",),
            "opensearch_version": cluster.version,
            "size_bytes": previous.size_bytes if previous else 10 * GIB,
        }
        values["indices_total"] = len(values["indices"])
        values.update(fields)
        return self.fleet.add_backup(SimBackup(**values))

    def set_unreadable(self, cluster_id: str, unreadable: bool = True) -> None:
        """Make a cluster's backups answer 403 (the bot's account lacks a role on it)."""
        self.fleet.clusters[cluster_id].unreadable = unreadable

    def set_state(
        self, cluster_id: str, *, status: str | None = None, health: str | None = None
    ) -> None:
        """Put a cluster in a status (RUNNING, ERROR, UPDATING...) and health (ALIVE, DEAD...)."""
        cluster = self.fleet.clusters[cluster_id]
        if status is not None:
            cluster.status = status
        if health is not None:
            cluster.health = health

    def add_operation(
        self,
        cluster_id: str,
        *,
        created_at: datetime | None = None,
        error: str = "",
        code: int = 13,
        done: bool = True,
        took: timedelta = timedelta(minutes=4),
        description: str = "Create backup for OpenSearch cluster",
        metadata_type: str = "BackupClusterMetadata",
    ) -> SimClusterOperation:
        """Add an operation to a cluster (by default a backup that succeeded without leaving a
        backup; with ``error`` one that failed; with ``done=False`` one still running)."""
        created = created_at or clock.now()
        operation = SimClusterOperation(
            id=make_id("c9q", self._rng),
            created_at=created,
            description=description,
            metadata_type=metadata_type,
            done=done,
            modified_at=created + took if done else created,
            error_code=code if error else 0,
            error_message=error,
        )
        self.fleet.clusters[cluster_id].operations.append(operation)
        return operation

    def mark_backup_bad(
        self, backup_id: str, error: str = "Snapshot is corrupted: cannot read shard data"
    ) -> None:
        """Make restores of a backup fail: the new cluster ends in ERROR with ``error``."""
        self.bad_backups[backup_id] = error

    def fail_delete(self, cluster_id: str, times: int = 1) -> None:
        """Make the next ``times`` deletes of a cluster fail (their operation ends in an error
        and the cluster stays)."""
        self.fleet.clusters[cluster_id].delete_failures = times

    def labelled(self, label: str = DRILL_LABEL) -> list[SimCluster]:
        """The clusters that exist now and carry ``label`` (by default, the drill clusters)."""
        self._advance(clock.now())
        return [c for c in self.fleet.clusters.values() if label in c.labels]

    def stop_cluster(self, cluster_id: str) -> None:
        """Stop a cluster: it stays listed, but backups of it cannot start."""
        cluster = self.fleet.clusters[cluster_id]
        cluster.status = "STOPPED"
        cluster.health = "HEALTH_UNKNOWN"

    def revoke_tokens(self) -> None:
        """Revoke every token the simulated IAM and metadata service issued."""
        self._stats.issued.clear()

    def encode_all(self) -> int:
        """Encode every backup now rather than on first listing; returns how many.

        For benchmarks: the simulator's own CPU then stays out of the client's measurements.
        """
        for backups in self.fleet.backups.values():
            for backup in backups:
                self._backup_text(backup)
        return len(self._encoded)

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.requests.clear()

    @property
    def peak_in_flight(self) -> int:
        """The most requests ever in flight at once."""
        return self._stats.peak_in_flight

    @property
    def empty_pages_served(self) -> int:
        """Pages served empty: with a token to go on, or last after a last page that still
        carried one (the freedoms a bound on requests must allow for)."""
        return self._stats.empty_pages

    @property
    def iam_exchanges(self) -> int:
        """Successful token exchanges at the simulated IAM."""
        return self._stats.iam_exchanges

    @property
    def issued_tokens(self) -> int:
        """Tokens issued (by IAM and the metadata service) and not revoked."""
        return len(self._stats.issued)

    def requests_to(self, path_regex: str) -> list[SimRequest]:
        """Logged requests whose path matches ``path_regex``."""
        pattern = re.compile(path_regex)
        return [r for r in self.requests if pattern.search(r.path)]

    # --- the application ------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post(MDB + "/clusters/{clusterId}:backup", self._backup_cluster)
        app.router.add_post(MDB + "/clusters:restore", self._restore_cluster)
        app.router.add_get(MDB + "/clusters/{clusterId}/hosts", self._list_hosts)
        app.router.add_delete(MDB + "/clusters/{clusterId}", self._delete_cluster)
        app.router.add_get(MDB + "/clusters/{clusterId}/backups", self._list_cluster_backups)
        app.router.add_get(MDB + "/clusters/{clusterId}/operations", self._list_cluster_operations)
        app.router.add_get(
            MDB + "/clusters/{clusterId}/retention_policies", self._list_retention_policies
        )
        app.router.add_get(
            MDB + "/folders/{folderId}/retention_policies", self._list_folder_retention_policies
        )
        app.router.add_get(MDB + "/versions", self._list_versions)
        app.router.add_get(MDB + "/clusters/{clusterId}", self._get_cluster)
        app.router.add_get(MDB + "/clusters", self._list_clusters)
        app.router.add_get(MDB + "/backups/{backupId}", self._get_backup)
        app.router.add_get(MDB + "/backups", self._list_folder_backups)
        app.router.add_get("/operations/{operationId}", self._get_operation)
        app.router.add_get(RESOURCE_MANAGER + "/folders/{folderId}", self._get_folder)
        app.router.add_get(RESOURCE_MANAGER + "/folders", self._list_folders)
        app.router.add_get(RESOURCE_MANAGER + "/clouds/{cloudId}", self._get_resource_cloud)
        app.router.add_get(RESOURCE_MANAGER + "/clouds", self._list_resource_clouds)
        app.router.add_get(VPC + "/networks/{networkId}", self._get_network)
        app.router.add_get(VPC + "/subnets/{subnetId}", self._get_subnet)
        app.router.add_get(MDB + "/resourcePresets/{presetId}", self._get_resource_preset)
        app.router.add_post("/iam/v1/tokens", self._iam_tokens)
        app.router.add_get(METADATA_TOKEN_PATH, self._metadata_token)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        now = clock.now()
        entry = SimRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            at=now,
            idempotency_key=request.headers.get("Idempotency-Key"),
            client_request_id=request.headers.get("x-client-request-id"),
            metadata_flavor=request.headers.get("Metadata-Flavor"),
            had_authorization="Authorization" in request.headers,
            body_size=len(await request.read()) if request.can_read_body else 0,
        )
        self.requests.append(entry)
        request_id = str(uuid.uuid4())
        stats = self._stats
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
        try:
            response = await self._answer(request, handler, request_id)
        finally:
            stats.in_flight -= 1
        response.headers["X-Request-Id"] = request_id
        entry.status = response.status
        return response

    async def _answer(
        self, request: web.Request, handler: Handler, request_id: str
    ) -> web.StreamResponse:
        if self.config.latency > 0:
            await asyncio.sleep(self.config.latency)
        fault = next((f for f in self._faults if f.matches(request.method, request.path)), None)
        if fault is not None:
            fault.hits += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return self._fault_response(fault, request_id)
        api = request.path.startswith((MDB, "/operations/", RESOURCE_MANAGER))
        try:
            if api:
                self._chaos()
                self._authenticate(request)
                self._advance(clock.now())
            return await handler(request)
        except _ApiError as exc:
            return self._error(exc.status, exc.message, request_id, exc.retry_after, exc.code)
        except web.HTTPNotFound:
            return self._error(404, "Not Found", request_id)
        except web.HTTPMethodNotAllowed:
            return self._error(405, "Method Not Allowed", request_id)

    def _chaos(self) -> None:
        stats = self._stats
        stats.api_requests += 1
        cfg = self.config
        if stats.burst_left > 0:
            stats.burst_left -= 1
            raise _ApiError(429, _FAULT_MESSAGES[429], retry_after=str(cfg.burst_retry_after))
        if cfg.burst_every and stats.api_requests % cfg.burst_every == 0:
            stats.burst_left = max(0, cfg.burst_length - 1)
            raise _ApiError(429, _FAULT_MESSAGES[429], retry_after=str(cfg.burst_retry_after))
        if cfg.error_rate and self._rng.random() < cfg.error_rate:
            raise _ApiError(503, _FAULT_MESSAGES[503])

    def _fault_response(self, fault: Fault, request_id: str) -> web.Response:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        if fault.body is None:
            if fault.status < 400:
                return web.json_response({}, status=fault.status, headers=headers)
            return self._error(
                fault.status,
                _FAULT_MESSAGES.get(fault.status, "Error"),
                request_id,
                fault.retry_after,
                fault.code,
            )
        if isinstance(fault.body, bytes | str):
            return web.Response(
                body=fault.body.encode() if isinstance(fault.body, str) else fault.body,
                status=fault.status,
                headers=headers,
                content_type="application/json",
            )
        return web.json_response(fault.body, status=fault.status, headers=headers)

    @staticmethod
    def _error(
        status: int,
        message: str,
        request_id: str,
        retry_after: str | None = None,
        code: int | None = None,
    ) -> web.Response:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        grpc_code = code if code is not None else GRPC_CODES.get(status, 2)
        return web.json_response(
            error_body(grpc_code, message, request_id),
            status=status,
            headers=headers,
        )

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            raise _ApiError(401, "Authentication required")
        if token in self.config.static_tokens:
            return
        issued = self._stats.issued.get(token)
        if issued is None or clock.now() >= issued.expires_at:
            raise _ApiError(401, "The token is invalid")

    # --- paging and checks ----------------------------------------------------------------------

    @staticmethod
    def _check_id(field_name: str, value: str, max_length: int | None = MAX_ID) -> str:
        # The limits of the request messages' protos: GetBackupRequest.backup_id and
        # GetOperationRequest.operation_id are only required.
        if not value:
            raise _ApiError(400, f"Request validation error: {field_name}: Required field")
        if max_length is not None and len(value) > max_length:
            raise _ApiError(
                400,
                f"Request validation error: {field_name}: "
                f"The maximum string length in characters is {MAX_ID}",
            )
        return value

    def _page(
        self,
        request: web.Request,
        items: Sequence[_T],
        scope: str,
        *,
        max_token: int = MAX_TOKEN,
        token_length: int = 0,
    ) -> tuple[list[_T], str]:
        raw_size = request.query.get("pageSize", "0")
        try:
            size = int(raw_size)
        except ValueError:
            raise _ApiError(400, "Request validation error: page_size: invalid value") from None
        if not 0 <= size <= 1000:
            raise _ApiError(
                400, "Request validation error: page_size: Acceptable values are 0 to 1000"
            )
        size = size or 100
        if self.config.max_page_size is not None:
            size = min(size, self.config.max_page_size)
        token = request.query.get("pageToken", "")
        if len(token) > max_token:
            raise _ApiError(
                400,
                "Request validation error: page_token: "
                f"The maximum string length in characters is {max_token}",
            )
        offset, empties = _decode_token(token, scope) if token else (0, 0)
        cfg = self.config
        if empties < cfg.empty_pages or self._random_empty(scope, offset, empties):
            self._stats.empty_pages += 1
            return [], _encode_token(scope, offset, empties + 1, token_length)
        ordered = self._ordered(scope, items)
        chunk = list(ordered[offset : offset + size])
        end = offset + len(chunk)
        if not chunk and token and offset:
            # The empty last page after a last page that still carried a token: the freedom's
            # cost too.
            self._stats.empty_pages += 1
        if end < len(ordered):
            return chunk, _encode_token(scope, end, empties, token_length)
        if chunk and self._random_empty(scope, -1, empties):
            # A last page that still carries a token: the page after it is empty and final.
            return chunk, _encode_token(scope, end, empties + 1, token_length)
        return chunk, ""

    def _random_empty(self, scope: str, offset: int, empties: int) -> bool:
        cfg = self.config
        if cfg.empty_page_rate <= 0 or empties >= cfg.empty_pages + cfg.max_random_empty_pages:
            return False
        return _chance(cfg.seed, "empty", scope, offset, empties) < cfg.empty_page_rate

    def _ordered(self, scope: str, items: Sequence[_T]) -> Sequence[_T]:
        """``items`` in the order this listing serves them: shuffled by the seed unless told
        otherwise, the same order for every page while the listing does not change.

        What is cached is the order of the items' ids, never the items: a listing is built anew
        for each request (an operation that finished since is a new object with ``done`` set),
        so the items served are always the current ones, in the first order while the ids stay.
        """
        if not self.config.shuffle or len(items) < 2:
            return items
        seed = self.config.seed
        current = {_item_key(item): item for item in items}
        if len(current) != len(items):  # ids repeated: nothing to cache by
            return sorted(items, key=lambda item: _digest(seed, "order", scope, _item_key(item)))
        cached = self._orders.get(scope)
        if cached is None or len(cached) != len(current) or not current.keys() >= set(cached):
            cached = sorted(current, key=lambda key: _digest(seed, "order", scope, key))
            self._orders[scope] = cached
        return [current[key] for key in cached]

    def _cluster(self, cluster_id: str) -> SimCluster:
        self._check_id("cluster_id", cluster_id)
        cluster = self.fleet.clusters.get(cluster_id)
        if cluster is None:
            raise _ApiError(404, f"Cluster {cluster_id} not found")
        return cluster

    def _folder(self, request: web.Request) -> str:
        folder_id = self._check_id("folder_id", request.query.get("folderId", ""))
        folder = self.fleet.folder(folder_id)
        if folder is None or folder.unreadable:
            raise _ApiError(403, f"Permission denied to folder {folder_id}")
        return folder_id

    def _backup_text(self, backup: SimBackup) -> str:
        # Backups never change once made, so each is encoded once: a listing of 60 backups then
        # costs the simulator a string join, and benchmarks measure the client, not the sim.
        text = self._encoded.get(backup.id)
        if text is None:
            cfg = self.config
            encoded = encode_backup(
                backup,
                unknown_fields=cfg.unknown_fields,
                int64_as_numbers=_chance(cfg.seed, "int64", backup.id) < cfg.int64_number_rate,
                nanos=_chance(cfg.seed, "nanos", backup.id) < cfg.nanos_rate,
            )
            text = _dumps(encoded)
            self._encoded[backup.id] = text
        return text

    def _cluster_json(self, cluster: SimCluster) -> dict[str, Any]:
        cfg = self.config
        return encode_cluster(
            cluster,
            unknown_fields=cfg.unknown_fields,
            int64_as_numbers=_chance(cfg.seed, "int64", cluster.id) < cfg.int64_number_rate,
            enums_as_numbers=_chance(cfg.seed, "enum", cluster.id) < cfg.enum_number_rate,
            future_health=_chance(cfg.seed, "future", cluster.id) < cfg.future_enum_rate,
        )

    # --- handlers -------------------------------------------------------------------------------

    async def _list_cluster_backups(self, request: web.Request) -> web.Response:
        cluster = self._cluster(request.match_info["clusterId"])
        if cluster.unreadable:
            raise _ApiError(403, "You do not have permission to access the requested object")
        items, token = self._page(request, self.fleet.backups[cluster.id], "c:" + cluster.id)
        return _page_response("backups", [self._backup_text(b) for b in items], token)

    async def _list_cluster_operations(self, request: web.Request) -> web.Response:
        cluster = self._cluster(request.match_info["clusterId"])
        if cluster.unreadable:
            raise _ApiError(403, "You do not have permission to access the requested object")
        items, token = self._page(request, self._operations_of(cluster), "o:" + cluster.id)
        cfg = self.config
        encoded = [
            _dumps(
                encode_operation(
                    op,
                    cluster.id,
                    unknown_fields=cfg.unknown_fields,
                    nanos=_chance(cfg.seed, "nanos", op.id) < cfg.nanos_rate,
                )
            )
            for op in items
        ]
        return _page_response("operations", encoded, token)

    def _operations_of(self, cluster: SimCluster) -> list[SimClusterOperation]:
        """The cluster's operations: one done backup per backup, those added by hand, and the
        backups started with Cluster.backup."""
        # A backup made by a started operation is that operation's, not one of its own.
        by_started = {
            op.backup_id for op in self.operations.values() if op.backup_id and op.kind == "backup"
        }
        made = [
            SimClusterOperation(
                id="c9q" + _scope_hash("op:" + backup.id)[:10] + "0000000",
                created_at=backup.started_at,
                modified_at=backup.created_at,
            )
            for backup in self.fleet.backups[cluster.id]
            if backup.id not in by_started
        ]
        started = [
            SimClusterOperation(
                id=op.id,
                created_at=op.created_at,
                done=op.done,
                modified_at=op.modified_at or op.created_at,
            )
            for op in self.operations.values()
            if op.cluster_id == cluster.id and op.kind == "backup"
        ]
        return [*made, *cluster.operations, *started]

    async def _list_retention_policies(self, request: web.Request) -> web.Response:
        if not self.config.retention_policies:
            raise _ApiError(501, "Method not implemented")
        cluster = self._cluster(request.match_info["clusterId"])
        if cluster.policies is None:
            raise _ApiError(404, f"Retention policies are not available for cluster {cluster.id}")
        items, token = self._page(request, cluster.policies, "p:" + cluster.id)
        cfg = self.config
        encoded = [
            _dumps(
                encode_policy(
                    policy,
                    cluster.id,
                    int64_as_numbers=_chance(cfg.seed, "int64", policy.policy_id)
                    < cfg.int64_number_rate,
                )
            )
            for policy in items
        ]
        return _page_response("policies", encoded, token)

    async def _list_folder_retention_policies(self, request: web.Request) -> web.Response:
        if not (self.config.retention_policies and self.config.retention_policies_by_folder):
            raise _ApiError(501, "Method not implemented")
        folder_id = self._check_id("folder_id", request.match_info["folderId"])
        folder = self.fleet.folder(folder_id)
        if folder is None or folder.unreadable:
            raise _ApiError(403, f"Permission denied to folder {folder_id}")
        owned = [
            (cluster.id, policy)
            for cluster in self.fleet.clusters.values()
            if cluster.folder_id == folder_id and cluster.policies is not None
            for policy in cluster.policies
        ]
        items, token = self._page(request, owned, "pf:" + folder_id)
        cfg = self.config
        encoded = [
            _dumps(
                encode_policy(
                    policy,
                    cluster_id,
                    int64_as_numbers=_chance(cfg.seed, "int64", policy.policy_id)
                    < cfg.int64_number_rate,
                )
            )
            for cluster_id, policy in items
        ]
        return _page_response("policies", encoded, token)

    async def _list_versions(self, request: web.Request) -> web.Response:
        versions = self.fleet.versions
        if versions is None:
            raise _ApiError(404, "Not Found")
        items, token = self._page(request, versions, "v:")
        cfg = self.config
        encoded = [
            _dumps(
                encode_version(
                    v, enums_as_numbers=_chance(cfg.seed, "enum", v.id) < cfg.enum_number_rate
                )
            )
            for v in items
        ]
        return _page_response("version", encoded, token)

    async def _list_folder_backups(self, request: web.Request) -> web.Response:
        folder_id = self._folder(request)
        everything = [
            backup
            for cluster in self.fleet.clusters_in(folder_id)
            for backup in self.fleet.backups[cluster.id]
        ]
        items, token = self._page(request, everything, "f:" + folder_id)
        return _page_response("backups", [self._backup_text(b) for b in items], token)

    async def _get_backup(self, request: web.Request) -> web.Response:
        backup_id = self._check_id("backup_id", request.match_info["backupId"], None)
        backup = self.fleet.backup(backup_id)
        if backup is None:
            raise _ApiError(404, f"Backup {backup_id} not found")
        if self.fleet.clusters[backup.cluster_id].unreadable:
            raise _ApiError(403, "You do not have permission to access the requested object")
        return web.json_response(text=self._backup_text(backup))

    async def _list_clusters(self, request: web.Request) -> web.Response:
        folder_id = self._folder(request)
        clusters = self.fleet.clusters_in(folder_id)
        flt = request.query.get("filter", "").strip()
        if flt:
            match = re.fullmatch(r'name\s*=\s*"([^"]*)"', flt)
            if match is None:
                raise _ApiError(400, 'Request validation error: filter: expected name = "<name>"')
            clusters = [c for c in clusters if c.name == match.group(1)]
        items, token = self._page(request, clusters, f"l:{folder_id}:{flt}")
        return _page_response("clusters", [_dumps(self._cluster_json(c)) for c in items], token)

    async def _get_cluster(self, request: web.Request) -> web.Response:
        cluster = self._cluster(request.match_info["clusterId"])
        return web.json_response(self._cluster_json(cluster))

    async def _backup_cluster(self, request: web.Request) -> web.Response:
        cluster = self._cluster(request.match_info["clusterId"])
        key = request.headers.get("Idempotency-Key")
        if key and key in self._by_key:
            return web.json_response(self._operation_json(self.operations[self._by_key[key]]))
        if cluster.unreadable:
            raise _ApiError(403, "You do not have permission to access the requested object")
        if cluster.status != "RUNNING":
            # The cloud refuses by the cluster's state, not by the request: FAILED_PRECONDITION.
            raise _ApiError(
                400, f"Cluster {cluster.id} is not running (status {cluster.status})", code=9
            )
        now = clock.now()
        operation = SimOperation(
            id=make_id("c9q", self._rng),
            cluster_id=cluster.id,
            created_at=now,
            done_at=now + timedelta(seconds=self.config.backup_duration),
            created_by="aje" + cluster.id[3:],
        )
        self.operations[operation.id] = operation
        if key:
            self._by_key[key] = operation.id
        self._advance(now)
        return web.json_response(self._operation_json(operation))

    async def _get_operation(self, request: web.Request) -> web.Response:
        operation_id = self._check_id("operation_id", request.match_info["operationId"], None)
        operation = self.operations.get(operation_id)
        if operation is None:
            raise _ApiError(404, f"Operation {operation_id} not found")
        return web.json_response(self._operation_json(operation))

    def _advance(self, now: datetime) -> None:
        """Finish the operations whose time has come (adding a backup's backup, bringing a
        restored cluster up, taking a deleted one away), and bring restored hosts up."""
        for operation in self.operations.values():
            if operation.done or now < operation.done_at:
                continue
            operation.done = True
            operation.modified_at = operation.done_at
            if operation.kind == "backup":
                backup = self.add_backup(
                    operation.cluster_id,
                    created_at=operation.done_at,
                    started_at=operation.created_at,
                )
                operation.backup_id = backup.id
            elif operation.kind == "restore":
                self._restored(operation)
            elif operation.kind == "delete":
                self._deleted(operation)
        for cluster in self.fleet.clusters.values():
            for host in cluster.hosts:
                if (
                    host.alive_at is not None
                    and now >= host.alive_at
                    and cluster.status == "RUNNING"
                ):
                    host.health = "ALIVE"
                    host.alive_at = None
            if cluster.hosts and cluster.status == "RUNNING":
                alive = all(h.health == "ALIVE" for h in cluster.hosts)
                cluster.health = "ALIVE" if alive else "DEGRADED"

    def _restored(self, operation: SimOperation) -> None:
        cluster = self.fleet.clusters.get(operation.cluster_id)
        if cluster is None:
            return
        if operation.error_code:
            cluster.status = "ERROR"
            cluster.health = "DEAD"
            for host in cluster.hosts:
                host.health = "DEAD"
                host.alive_at = None
            return
        cluster.status = "RUNNING"
        cluster.health = "HEALTH_UNKNOWN"

    def _deleted(self, operation: SimOperation) -> None:
        cluster = self.fleet.clusters.get(operation.cluster_id)
        if cluster is None:
            return
        if cluster.delete_failures > 0:
            cluster.delete_failures -= 1
            operation.error_code = 13
            operation.error_message = f"Internal error while deleting cluster {cluster.id}"
            cluster.status = "ERROR"
            return
        del self.fleet.clusters[cluster.id]
        self.fleet.backups.pop(cluster.id, None)
        self.deleted.append(cluster.id)

    async def _restore_cluster(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        if key and key in self._by_key:
            return web.json_response(self._operation_json(self.operations[self._by_key[key]]))
        try:
            body = await request.json()
        except ValueError:
            raise _ApiError(400, "Request validation error: the body is not JSON") from None
        if not isinstance(body, dict):
            raise _ApiError(400, "Request validation error: the body is not an object")
        backup_id = self._check_id("backup_id", str(body.get("backupId", "")), None)
        name = str(body.get("name", ""))
        if not _NAME.fullmatch(name):
            raise _ApiError(400, "Request validation error: name: must match [a-zA-Z0-9_-]{1,63}")
        folder_id = self._check_id("folder_id", str(body.get("folderId", "")))
        network_id = self._check_id("network_id", str(body.get("networkId", "")))
        labels = body.get("labels") or {}
        if not isinstance(labels, dict) or not all(
            _LABEL_KEY.fullmatch(str(k)) and _LABEL_VALUE.fullmatch(str(v))
            for k, v in labels.items()
        ):
            raise _ApiError(400, "Request validation error: labels: invalid key or value")
        spec = body.get("configSpec")
        groups = (spec or {}).get("opensearchSpec", {}).get("nodeGroups") or []
        if not isinstance(spec, dict) or not groups:
            raise _ApiError(400, "Request validation error: config_spec: Required field")
        if not spec.get("adminPassword"):
            raise _ApiError(
                400, "Request validation error: config_spec.admin_password: Required field"
            )
        if folder_id not in self.fleet.folder_ids():
            raise _ApiError(403, f"Permission denied to folder {folder_id}")
        backup = self.fleet.backup(backup_id)
        if backup is None:
            raise _ApiError(404, f"Backup {backup_id} not found")
        if any(c.name == name for c in self.fleet.clusters_in(folder_id)):
            raise _ApiError(409, f"Cluster with name {name} already exists", code=6)
        quota = self.cluster_quota
        if quota is not None and len(self.fleet.clusters_in(folder_id)) >= quota:
            raise _ApiError(
                400,
                'Quota limits exceeded, not enough "mdb.opensearch.clusters.count": 1',
                code=9,
            )
        now = clock.now()
        ready_at = now + timedelta(seconds=self.config.restore_duration)
        alive_at = ready_at + timedelta(seconds=self.config.healthy_after)
        cluster_id = make_id("c9q", self._rng)
        node_groups: list[SimNodeGroup] = []
        hosts: list[SimHost] = []
        for group in groups:
            resources = group.get("resources") or {}
            count = int(group.get("hostsCount") or 1)
            zones = group.get("zoneIds") or ["ru-central1-a"]
            subnets = group.get("subnetIds") or []
            node_groups.append(
                SimNodeGroup(
                    name=str(group.get("name", "")),
                    disk_size=int(resources.get("diskSize") or 0),
                    hosts=count,
                    roles=tuple(group.get("roles") or ("DATA",)),
                    preset=str(resources.get("resourcePresetId", "")),
                    disk_type=str(resources.get("diskTypeId", "")),
                )
            )
            for index in range(count):
                zone = str(zones[index % len(zones)])
                host_name = f"rc1{zone[-1]}-{make_id('', self._rng)[:16]}.mdb.yandexcloud.net"
                hosts.append(
                    SimHost(
                        name="127.0.0.1" if self.opensearch is not None else host_name,
                        zone_id=zone,
                        node_group=node_groups[-1].name,
                        preset=node_groups[-1].preset,
                        disk_size=node_groups[-1].disk_size,
                        subnet_id=str(subnets[index % len(subnets)]) if subnets else "",
                        health="UNKNOWN",
                        alive_at=alive_at + timedelta(seconds=index),
                    )
                )
        self.fleet.add_cluster(
            SimCluster(
                id=cluster_id,
                folder_id=folder_id,
                name=name,
                created_at=now,
                description=str(body.get("description", "")),
                environment=str(body.get("environment") or "PRODUCTION"),
                labels={str(k): str(v) for k, v in labels.items()},
                status="CREATING",
                health="HEALTH_UNKNOWN",
                version=str(spec.get("version") or backup.opensearch_version),
                node_groups=node_groups,
                policies=None,
                hosts=hosts,
                deletion_protection=bool(body.get("deletionProtection", False)),
                network_id=network_id,
                delete_failures=self.restored_delete_failures,
            )
        )
        error = self.bad_backups.get(backup_id, "")
        operation = SimOperation(
            id=make_id("c9q", self._rng),
            cluster_id=cluster_id,
            created_at=now,
            done_at=ready_at,
            created_by="aje" + cluster_id[3:],
            backup_id=backup_id,
            kind="restore",
            error_code=13 if error else 0,
            error_message=error,
        )
        self.operations[operation.id] = operation
        if self.opensearch is not None:
            self.opensearch.restored(
                str(spec["adminPassword"]), backup_id, int(backup.indices_total)
            )
        self.restored.append(cluster_id)
        if key:
            self._by_key[key] = operation.id
        return web.json_response(self._operation_json(operation))

    async def _list_hosts(self, request: web.Request) -> web.Response:
        cluster = self._cluster(request.match_info["clusterId"])
        hosts = cluster.hosts or [
            SimHost(
                name=f"rc1a-{_scope_hash(cluster.id + group.name)[:8]}{index}.mdb.yandexcloud.net",
                zone_id="ru-central1-a",
                node_group=group.name,
                preset=group.preset,
                disk_size=group.disk_size,
                health="ALIVE" if cluster.health == "ALIVE" else "UNKNOWN",
            )
            for group in cluster.node_groups
            for index in range(group.hosts)
        ]
        items, token = self._page(request, hosts, "h:" + cluster.id)
        encoded = [_dumps(encode_host(host, cluster.id)) for host in items]
        return _page_response("hosts", encoded, token)

    async def _delete_cluster(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        if key and key in self._by_key:
            return web.json_response(self._operation_json(self.operations[self._by_key[key]]))
        cluster = self._cluster(request.match_info["clusterId"])
        protected = (
            cluster.environment == "PRODUCTION"
            if cluster.deletion_protection is None
            else cluster.deletion_protection
        )
        if protected:
            raise _ApiError(400, f"Cluster {cluster.id} is protected from deletion", code=9)
        running = any(
            op.kind == "delete" and op.cluster_id == cluster.id and not op.done
            for op in self.operations.values()
        )
        if running:
            raise _ApiError(409, f"Conflicting operation on cluster {cluster.id}", code=10)
        now = clock.now()
        operation = SimOperation(
            id=make_id("c9q", self._rng),
            cluster_id=cluster.id,
            created_at=now,
            done_at=now + timedelta(seconds=self.config.delete_duration),
            created_by="aje" + cluster.id[3:],
            kind="delete",
        )
        self.operations[operation.id] = operation
        # The status enum has no "deleting": a newer API's value, as the contract warns.
        cluster.status = "DELETING"
        cluster.health = "HEALTH_UNKNOWN"
        if key:
            self._by_key[key] = operation.id
        self._advance(now)
        return web.json_response(self._operation_json(operation))

    def _operation_json(self, operation: SimOperation) -> dict[str, Any]:
        description, metadata_type = _DESCRIPTIONS[operation.kind]
        metadata: dict[str, Any] = {
            "@type": f"{MDB_TYPE}.{metadata_type}",
            "clusterId": operation.cluster_id,
        }
        if operation.kind == "restore":
            metadata["backupId"] = operation.backup_id
        out: dict[str, Any] = {
            "id": operation.id,
            "description": description,
            "createdAt": encode_timestamp(operation.created_at),
            "createdBy": operation.created_by,
            "modifiedAt": encode_timestamp(operation.modified_at or operation.created_at),
            "metadata": metadata,
        }
        if operation.done:
            out["done"] = True
            cluster = self.fleet.clusters.get(operation.cluster_id)
            if operation.error_code:
                out["error"] = {"code": operation.error_code, "message": operation.error_message}
            elif operation.kind == "delete" or cluster is None:
                out["response"] = {"@type": "type.googleapis.com/google.protobuf.Empty"}
            else:
                out["response"] = {"@type": f"{MDB_TYPE}.Cluster", **self._cluster_json(cluster)}
        return out

    # --- Resource Manager -----------------------------------------------------------------------

    def add_folder(
        self, *, cloud_id: str = "", name: str = "", now: datetime | None = None
    ) -> SimFolder:
        """A folder appears in a cloud (default: the first), with a cluster whose newest backup
        is two hours old at ``now`` (default: the clock): what the demo's ``:newfolder`` does."""
        return new_folder(self.fleet, now or clock.now(), cloud_id=cloud_id, name=name)

    def set_folder(
        self, folder_id: str, *, status: str | None = None, unreadable: bool | None = None
    ) -> None:
        """Put a folder in a status (ACTIVE, DELETING, PENDING_DELETION), or make it unreadable
        (403 PERMISSION_DENIED on Folder.get, Cluster.list and Backup.list)."""
        folder = self.fleet.folder(folder_id)
        if folder is None:
            raise KeyError(folder_id)
        if status is not None:
            folder.status = status
        if unreadable is not None:
            folder.unreadable = unreadable

    def _rm_cloud(self, cloud_id: str) -> SimResourceCloud:
        self._check_id("cloud_id", cloud_id)
        cloud = next((c for c in self.fleet.clouds if c.id == cloud_id), None)
        if cloud is None:
            # Resource Manager does not say whether a cloud it will not show exists.
            raise _ApiError(403, _PERMISSION_DENIED)
        return cloud

    def _folder_json(self, folder: SimFolder) -> dict[str, Any]:
        cfg = self.config
        return encode_folder(
            folder,
            enums_as_numbers=_chance(cfg.seed, "enum", folder.id) < cfg.enum_number_rate,
            nanos=_chance(cfg.seed, "nanos", folder.id) < cfg.nanos_rate,
        )

    async def _list_folders(self, request: web.Request) -> web.Response:
        cloud = self._rm_cloud(request.query.get("cloudId", ""))
        items, token = self._page(
            request,
            self.fleet.folders_of(cloud.id),
            "rf:" + cloud.id,
            max_token=MAX_RM_TOKEN,
            token_length=RM_TOKEN_LENGTH,
        )
        return _page_response("folders", [_dumps(self._folder_json(f)) for f in items], token)

    async def _get_network(self, request: web.Request) -> web.Response:
        network_id = self._check_id("network_id", request.match_info["networkId"])
        folder_id = self.networks.get(network_id)
        if folder_id is None:
            raise _ApiError(404, f"Network {network_id} not found")
        return web.json_response(
            {"id": network_id, "folderId": folder_id, "name": f"net-{network_id[-4:]}"}
        )

    async def _get_subnet(self, request: web.Request) -> web.Response:
        subnet_id = self._check_id("subnet_id", request.match_info["subnetId"])
        found = self.subnets.get(subnet_id)
        if found is None:
            raise _ApiError(404, f"Subnet {subnet_id} not found")
        network_id, zone = found
        return web.json_response(
            {
                "id": subnet_id,
                "folderId": self.networks.get(network_id, ""),
                "name": f"subnet-{zone}",
                "networkId": network_id,
                "zoneId": zone,
                "v4CidrBlocks": ["10.1.0.0/24"],
            }
        )

    async def _get_resource_preset(self, request: web.Request) -> web.Response:
        preset_id = self._check_id("resource_preset_id", request.match_info["presetId"])
        figures = PRESETS.get(preset_id)
        if figures is None:
            raise _ApiError(404, f"Resource preset {preset_id} not found")
        cores, memory_gib = figures
        return web.json_response(
            {
                "id": preset_id,
                "zoneIds": list(PRESET_ZONES),
                "cores": str(cores),
                "memory": str(memory_gib * 1024**3),
            }
        )

    async def _get_folder(self, request: web.Request) -> web.Response:
        folder_id = self._check_id("folder_id", request.match_info["folderId"])
        folder = self.fleet.folder(folder_id)
        if folder is None or folder.unreadable:
            raise _ApiError(403, _PERMISSION_DENIED)
        return web.json_response(self._folder_json(folder))

    async def _list_resource_clouds(self, request: web.Request) -> web.Response:
        organization = request.query.get("organizationId", "")
        if len(organization) > MAX_ID:
            self._check_id("organization_id", organization)
        clouds = self.fleet.clouds_of(organization)
        items, token = self._page(
            request,
            clouds,
            "rc:" + organization,
            max_token=MAX_RM_TOKEN,
            token_length=RM_TOKEN_LENGTH,
        )
        cfg = self.config
        encoded = [
            _dumps(
                encode_resource_cloud(c, nanos=_chance(cfg.seed, "nanos", c.id) < cfg.nanos_rate)
            )
            for c in items
        ]
        return _page_response("clouds", encoded, token)

    async def _get_resource_cloud(self, request: web.Request) -> web.Response:
        cloud = self._rm_cloud(request.match_info["cloudId"])
        cfg = self.config
        return web.json_response(
            encode_resource_cloud(
                cloud, nanos=_chance(cfg.seed, "nanos", cloud.id) < cfg.nanos_rate
            )
        )

    # --- IAM and metadata -----------------------------------------------------------------------

    def _issue(self, ttl: timedelta, source: str) -> tuple[str, datetime]:
        token = "t1.sim." + secrets.token_urlsafe(24)
        expires_at = clock.now() + ttl
        self._stats.issued[token] = _Issued(expires_at=expires_at, source=source)
        return token, expires_at

    async def _iam_tokens(self, request: web.Request) -> web.Response:
        try:
            payload = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise _ApiError(400, "Request body is not JSON") from None
        if not isinstance(payload, dict):
            raise _ApiError(400, "Request body is not a JSON object")
        if "jwt" in payload:
            # The audience is this IAM's own token URL, as the real IAM expects its own.
            audience = f"{request.url.origin()}{request.path}"
            source = self._verify_jwt(str(payload["jwt"]), audience)
        elif "yandexPassportOauthToken" in payload:
            if payload["yandexPassportOauthToken"] not in self.config.oauth_tokens:
                raise _ApiError(401, "The OAuth token is invalid or expired")
            source = "oauth"
        else:
            raise _ApiError(400, "Request validation error: one of jwt, yandexPassportOauthToken")
        token, expires_at = self._issue(self.config.iam_token_ttl, source)
        self._stats.iam_exchanges += 1
        return web.json_response({"iamToken": token, "expiresAt": encode_timestamp(expires_at)})

    def _verify_jwt(self, token: str, audience: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _ApiError(400, "The JWT is malformed") from None
        if header.get("alg") != "PS256":
            raise _ApiError(400, "The JWT must be signed with PS256")
        key = self.config.service_account_keys.get(str(header.get("kid", "")))
        if key is None:
            raise _ApiError(401, "Unknown key id")
        try:
            claims = jwt.decode(
                token,
                key.public_key_pem,
                algorithms=["PS256"],
                audience=audience,
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.PyJWTError as exc:
            raise _ApiError(401, f"The JWT is invalid: {type(exc).__name__}") from None
        if claims["iss"] != key.service_account_id:
            raise _ApiError(401, "The JWT issuer does not own the key")
        if int(claims["exp"]) - int(claims["iat"]) > 3600:
            raise _ApiError(400, "The JWT lifetime must not exceed one hour")
        return "jwt"

    async def _metadata_token(self, request: web.Request) -> web.Response:
        self._stats.metadata_requests += 1
        if request.headers.get("Metadata-Flavor") != "Google":
            # The real metadata service refuses requests without the header (SSRF protection).
            return web.Response(status=403, text="Missing Metadata-Flavor:Google header")
        ttl = self.config.metadata_token_ttl
        token, _ = self._issue(timedelta(seconds=ttl), "metadata")
        return web.json_response({"access_token": token, "expires_in": ttl, "token_type": "Bearer"})


def _page_response(name: str, items: list[str], token: str) -> web.Response:
    """A list response from already encoded items; empty lists and tokens are left out."""
    parts = []
    if items:
        parts.append(f'"{name}":[' + ",".join(items) + "]")
    if token:
        parts.append('"nextPageToken":' + json.dumps(token))
    return web.json_response(text="{" + ",".join(parts) + "}")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _header_number(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def _digest(*parts: object) -> int:
    text = "|".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _chance(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``: the simulator's seeded coin."""
    return _digest(*parts) / 2**64


def _item_key(item: object) -> str:
    return str(getattr(item, "id", item))


def _scope_hash(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:10]


def _encode_token(scope: str, offset: int, empties: int, length: int = 0) -> str:
    """An opaque page token; with ``length``, padded to about that many characters (Resource
    Manager's are long)."""
    raw = f"{_scope_hash(scope)}.{offset}.{empties}"
    if length:
        raw += "." + _scope_hash(f"{scope}:{offset}") * (length * 3 // 4 // 10 + 1)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str, scope: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        digest, offset, empties = raw.split(".")[:3]
        if digest != _scope_hash(scope):
            raise ValueError(digest)
        return int(offset), int(empties)
    except (ValueError, UnicodeDecodeError):
        raise _ApiError(400, "Request validation error: page_token: invalid page token") from None
