"""The Managed OpenSearch REST API, as the bot uses it: backups, clusters, operations, backup
retention policies and versions.

Every request goes through :meth:`CloudClient._request`, which adds the IAM token, applies the
timeout and the process-wide limits, retries what is worth retrying and turns failures into the
error types of :mod:`bot.errors`. The methods above it only build paths and parse models.

Retention policies and versions are not offered everywhere: where their endpoint answers 404
(for a cluster) or 501 (for every cluster), the client remembers it for the life of the process
and answers None from then on without asking again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel
from yarl import URL

from bot import clock
from bot.cloud.auth import TokenProvider, build_token_provider
from bot.cloud.limits import RequestLimiter
from bot.cloud.models import (
    Backup,
    BackupPage,
    Cluster,
    ClusterPage,
    DecodeError,
    Operation,
    OperationPage,
    PolicyPage,
    SkippedItem,
    VersionPage,
    decode,
    decode_backup_page,
    decode_cluster_page,
    decode_operation_page,
    decode_policy_page,
    decode_version_page,
)
from bot.cloud.retry import RetryPolicy, parse_retry_after
from bot.cloud.session import SessionSource, as_source
from bot.cloud.validation import (
    MAX_PAGE_TOKEN_LENGTH,
    path_segment,
    validate_id,
    validate_page_size,
    validate_page_token,
)
from bot.errors import (
    BadRequest,
    CloudAPIError,
    CloudRequestError,
    CloudTimeout,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unauthenticated,
)
from bot.settings import Settings

logger = logging.getLogger(__name__)

MDB_PREFIX = "/managed-opensearch/v1"
REQUEST_ID_HEADERS = ("x-request-id", "x-server-trace-id")

#: Called once per HTTP attempt with (API method, outcome, seconds); outcome is the status
#: ("200", "429"...), "timeout" or "error".
RequestObserver = Callable[[str, str, float], None]
#: Called once per list item that could not be read and was left out of its page, with the API
#: method and the item (for the metrics).
SkipObserver = Callable[[str, SkippedItem], None]

_Model = TypeVar("_Model", bound=BaseModel)
_Item = TypeVar("_Item")
_Page = TypeVar("_Page", OperationPage, PolicyPage, VersionPage)

#: Statuses that mean "this API is not offered here" for the optional endpoints.
NOT_OFFERED_STATUSES = frozenset({404, 501})

_DEFAULT_MESSAGES = {
    400: "the cloud refused the request's arguments",
    401: "the cloud refused the IAM token",
    403: "permission denied",
    404: "not found",
    429: "the cloud is throttling requests; try again in a minute",
}


def _error_class(status: int) -> type[CloudAPIError]:
    if status == 400:
        return BadRequest
    if status == 401:
        return Unauthenticated
    if status == 403:
        return PermissionDenied
    if status == 404:
        return NotFound
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    return CloudAPIError


def _network_reason(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.os_error.strerror or type(exc.os_error).__name__
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return type(exc).__name__


class CloudClient:
    """Async client of the Managed OpenSearch and Operation REST APIs.

    One per process: it holds the aiohttp session (an injected one, or its own) and the limiter
    that bounds requests in flight for the whole bot.
    """

    def __init__(
        self,
        *,
        mdb_endpoint: str,
        operation_endpoint: str,
        auth: TokenProvider,
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
        #: "versions"): asked once per process, never again.
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

    def list_cluster_backups(
        self, cluster_id: str, *, page_size: int = 1000
    ) -> AsyncIterator[Backup]:
        """Every backup of a cluster, page after page (Cluster.listBackups), in the API's order
        (which is none: sort them, e.g. with :func:`bot.cloud.models.newest_first`)."""
        validate_id("cluster id", cluster_id)
        validate_page_size(page_size)

        async def fetch(token: str) -> tuple[tuple[Backup, ...], str]:
            page = await self.list_cluster_backups_page(
                cluster_id, page_size=page_size, page_token=token
            )
            return page.backups, page.next_page_token

        return self._iterate("Cluster.listBackups", fetch)

    async def list_cluster_backups_page(
        self, cluster_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> BackupPage:
        """One page of a cluster's backups (Cluster.listBackups)."""
        validate_id("cluster id", cluster_id)
        params = self._page_params(page_size, page_token)
        body = await self._request(
            "GET",
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}/backups",
            api_method="Cluster.listBackups",
            params=params,
        )
        return self._backup_page(body, "Cluster.listBackups")

    async def all_cluster_backups(self, cluster_id: str, *, page_size: int = 1000) -> BackupPage:
        """Every page of a cluster's backups at once (Cluster.listBackups): all the backups, in
        no order, and every item the cloud sent that could not be read."""
        validate_id("cluster id", cluster_id)
        validate_page_size(page_size)
        backups: list[Backup] = []
        skipped: list[SkippedItem] = []
        token = ""
        seen: set[str] = set()
        while True:
            page = await self.list_cluster_backups_page(
                cluster_id, page_size=page_size, page_token=token
            )
            backups.extend(page.backups)
            skipped.extend(page.skipped)
            token = page.next_page_token
            if not token:
                return BackupPage(tuple(backups), "", tuple(skipped))
            self._check_repeat(token, seen, "Cluster.listBackups")

    def list_folder_backups(
        self, folder_id: str, *, page_size: int = 1000
    ) -> AsyncIterator[Backup]:
        """Every backup of every cluster in a folder, page after page (Backup.list)."""
        validate_id("folder id", folder_id)
        validate_page_size(page_size)

        async def fetch(token: str) -> tuple[tuple[Backup, ...], str]:
            page = await self.list_folder_backups_page(
                folder_id, page_size=page_size, page_token=token
            )
            return page.backups, page.next_page_token

        return self._iterate("Backup.list", fetch)

    async def list_folder_backups_page(
        self, folder_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> BackupPage:
        """One page of a folder's backups (Backup.list)."""
        validate_id("folder id", folder_id)
        params = {"folderId": folder_id, **self._page_params(page_size, page_token)}
        body = await self._request(
            "GET",
            f"{self.mdb_endpoint}{MDB_PREFIX}/backups",
            api_method="Backup.list",
            params=params,
        )
        return self._backup_page(body, "Backup.list")

    async def get_backup(self, backup_id: str) -> Backup:
        """One backup by id (Backup.get). The proto sets no length limit on the id."""
        validate_id("backup id", backup_id, max_length=None)
        body = await self._request(
            "GET",
            f"{self.mdb_endpoint}{MDB_PREFIX}/backups/{path_segment(backup_id)}",
            api_method="Backup.get",
        )
        return self._parse(Backup, body, "Backup.get")

    # --- clusters -------------------------------------------------------------------------------

    def list_clusters(self, folder_id: str, *, page_size: int = 1000) -> AsyncIterator[Cluster]:
        """Every cluster in a folder, page after page (Cluster.list)."""
        validate_id("folder id", folder_id)
        validate_page_size(page_size)

        async def fetch(token: str) -> tuple[tuple[Cluster, ...], str]:
            page = await self.list_clusters_page(folder_id, page_size=page_size, page_token=token)
            return page.clusters, page.next_page_token

        return self._iterate("Cluster.list", fetch)

    async def list_clusters_page(
        self, folder_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> ClusterPage:
        """One page of a folder's clusters (Cluster.list)."""
        validate_id("folder id", folder_id)
        params = {"folderId": folder_id, **self._page_params(page_size, page_token)}
        body = await self._request(
            "GET",
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters",
            api_method="Cluster.list",
            params=params,
        )
        try:
            page = decode_cluster_page(body)
        except DecodeError as exc:
            raise self._malformed("Cluster.list", exc) from None
        self._check_page(page.next_page_token, page.skipped, "Cluster.list")
        return page

    async def get_cluster(self, cluster_id: str) -> Cluster:
        """One cluster by id (Cluster.get)."""
        validate_id("cluster id", cluster_id)
        body = await self._request(
            "GET",
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}",
            api_method="Cluster.get",
        )
        return self._parse(Cluster, body, "Cluster.get")

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

    async def list_cluster_operations_page(
        self, cluster_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> OperationPage:
        """One page of a cluster's operations (Cluster.listOperations)."""
        validate_id("cluster id", cluster_id)
        params = self._page_params(page_size, page_token)
        body = await self._request(
            "GET",
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}/operations",
            api_method="Cluster.listOperations",
            params=params,
        )
        try:
            page = decode_operation_page(body)
        except DecodeError as exc:
            raise self._malformed("Cluster.listOperations", exc) from None
        self._check_page(page.next_page_token, page.skipped, "Cluster.listOperations")
        return page

    async def all_cluster_operations(
        self, cluster_id: str, *, page_size: int = 1000
    ) -> OperationPage:
        """Every page of a cluster's operations at once (Cluster.listOperations), in no order."""
        validate_id("cluster id", cluster_id)
        validate_page_size(page_size)

        async def fetch(token: str) -> OperationPage:
            return await self.list_cluster_operations_page(
                cluster_id, page_size=page_size, page_token=token
            )

        pages = await self._all_pages(fetch, "Cluster.listOperations")
        return OperationPage(
            tuple(op for page in pages for op in page.operations),
            "",
            tuple(item for page in pages for item in page.skipped),
        )

    # --- backup retention policies --------------------------------------------------------------

    async def list_retention_policies_page(
        self, cluster_id: str, *, page_size: int = 100, page_token: str = ""
    ) -> PolicyPage:
        """One page of a cluster's backup retention policies (BackupRetentionPolicyService.List).
        Raises like any request, 404 and 501 included (see :meth:`all_retention_policies`)."""
        validate_id("cluster id", cluster_id)
        params = self._page_params(page_size, page_token)
        body = await self._request(
            "GET",
            f"{self.mdb_endpoint}{MDB_PREFIX}/clusters/{path_segment(cluster_id)}"
            "/retention_policies",
            api_method="BackupRetentionPolicy.list",
            params=params,
        )
        try:
            page = decode_policy_page(body)
        except DecodeError as exc:
            raise self._malformed("BackupRetentionPolicy.list", exc) from None
        self._check_page(page.next_page_token, page.skipped, "BackupRetentionPolicy.list")
        return page

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

        An answer of 404 for this cluster, or 501 for any, means "not offered here": it is
        remembered for the life of the process (this cluster's, or every cluster's), and the
        cloud is not asked again. Other errors raise as usual.
        """
        validate_id("cluster id", cluster_id)
        validate_page_size(page_size)

        async def fetch(token: str) -> PolicyPage:
            return await self.list_retention_policies_page(
                cluster_id, page_size=page_size, page_token=token
            )

        async def read() -> PolicyPage:
            pages = await self._all_pages(fetch, "BackupRetentionPolicy.list")
            return PolicyPage(
                tuple(policy for page in pages for policy in page.policies),
                "",
                tuple(item for page in pages for item in page.skipped),
            )

        return await self._optional("retention_policies", f"retention_policies:{cluster_id}", read)

    # --- versions -------------------------------------------------------------------------------

    async def list_versions_page(
        self, *, page_size: int = 100, page_token: str = ""
    ) -> VersionPage:
        """One page of the OpenSearch versions the service offers (VersionsService.List)."""
        params = self._page_params(page_size, page_token)
        body = await self._request(
            "GET",
            f"{self.mdb_endpoint}{MDB_PREFIX}/versions",
            api_method="Versions.list",
            params=params,
        )
        try:
            page = decode_version_page(body)
        except DecodeError as exc:
            raise self._malformed("Versions.list", exc) from None
        self._check_page(page.next_page_token, page.skipped, "Versions.list")
        return page

    async def all_versions(self, *, page_size: int = 1000) -> VersionPage | None:
        """Every version the service lists, or None where it lists none: a 404 or 501 is
        remembered for the life of the process, as for retention policies."""
        validate_page_size(page_size)

        async def fetch(token: str) -> VersionPage:
            return await self.list_versions_page(page_size=page_size, page_token=token)

        async def read() -> VersionPage:
            pages = await self._all_pages(fetch, "Versions.list")
            return VersionPage(
                tuple(v for page in pages for v in page.versions),
                "",
                tuple(item for page in pages for item in page.skipped),
            )

        return await self._optional("versions", "versions", read)

    async def _optional(
        self, endpoint: str, key: str, read: Callable[[], Awaitable[_Page]]
    ) -> _Page | None:
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
        self, endpoint: str, key: str, read: Callable[[], Awaitable[_Page]]
    ) -> _Page | None:
        try:
            result = await read()
        except CloudAPIError as exc:
            if exc.status not in NOT_OFFERED_STATUSES:
                raise
            self._answered.add(endpoint)
            gone = endpoint if exc.status == 501 else key
            if gone not in self._not_offered:
                logger.info("%s not offered here (HTTP %s); not asked again", gone, exc.status)
            self._not_offered.add(gone)
            return None
        self._answered.add(endpoint)
        return result

    # --- operations -----------------------------------------------------------------------------

    async def get_operation(self, operation_id: str) -> Operation:
        """One operation by id (Operation.get). The proto sets no length limit on the id."""
        validate_id("operation id", operation_id, max_length=None)
        body = await self._request(
            "GET",
            f"{self.operation_endpoint}/operations/{path_segment(operation_id)}",
            api_method="Operation.get",
        )
        return self._parse(Operation, body, "Operation.get")

    async def wait_operation(
        self,
        operation_id: str,
        *,
        poll_interval: float = 2.0,
        timeout: float = 3600.0,  # noqa: ASYNC109 (the contract's name; it bounds polling only)
    ) -> Operation:
        """Poll an operation until it is done and return it; check ``.failed`` on the result.

        Raises :class:`~bot.errors.CloudTimeout` if it is not done within ``timeout`` seconds.
        """
        validate_id("operation id", operation_id, max_length=None)
        deadline = time.monotonic() + timeout
        while True:
            operation = await self.get_operation(operation_id)
            if operation.done:
                return operation
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CloudTimeout(
                    f"operation {operation_id} is still running after {timeout:g} s; "
                    "it may finish later"
                )
            await asyncio.sleep(min(poll_interval, remaining))

    # --- the choke point ------------------------------------------------------------------------

    @staticmethod
    def _page_params(page_size: int, page_token: str) -> dict[str, str]:
        validate_page_size(page_size)
        validate_page_token(page_token)
        params = {"pageSize": str(page_size)}
        if page_token:
            params["pageToken"] = page_token
        return params

    async def _iterate(
        self,
        api_method: str,
        fetch: Callable[[str], Awaitable[tuple[tuple[_Item, ...], str]]],
    ) -> AsyncIterator[_Item]:
        # A page may be empty and still carry a token: keep going until the token is empty.
        token = ""
        seen: set[str] = set()
        while True:
            items, token = await fetch(token)
            for item in items:
                yield item
            if not token:
                return
            self._check_repeat(token, seen, api_method)

    async def _all_pages(
        self, fetch: Callable[[str], Awaitable[_Page]], api_method: str
    ) -> list[_Page]:
        # Every page, the empty ones with a token included, until the token is empty.
        pages: list[_Page] = []
        token = ""
        seen: set[str] = set()
        while True:
            page = await fetch(token)
            pages.append(page)
            token = page.next_page_token
            if not token:
                return pages
            self._check_repeat(token, seen, api_method)

    @staticmethod
    def _check_repeat(token: str, seen: set[str], api_method: str) -> None:
        if token in seen:
            raise MalformedResponse(
                f"the cloud sent the same page token twice while paging {api_method}"
            )
        seen.add(token)

    @staticmethod
    def _malformed(api_method: str, exc: DecodeError) -> MalformedResponse:
        problem = str(exc)
        if not problem.startswith(("a body", "JSON")):
            problem = f"an unexpected body ({problem})"
        return MalformedResponse(f"the cloud answered {api_method} with {problem}")

    @classmethod
    def _parse(cls, model: type[_Model], body: bytes, api_method: str) -> _Model:
        try:
            return decode(model, body)
        except DecodeError as exc:
            raise cls._malformed(api_method, exc) from None

    def _backup_page(self, body: bytes, api_method: str) -> BackupPage:
        try:
            page = decode_backup_page(body)
        except DecodeError as exc:
            raise self._malformed(api_method, exc) from None
        self._check_page(page.next_page_token, page.skipped, api_method)
        return page

    def _check_page(self, token: str, skipped: tuple[SkippedItem, ...], api_method: str) -> None:
        # The token goes back as a request field limited to 100 characters: one longer is the
        # cloud's mistake, and must not be blamed on whoever asks for the next page.
        if len(token) > MAX_PAGE_TOKEN_LENGTH:
            raise MalformedResponse(
                f"the cloud answered {api_method} with a page token of {len(token)} characters; "
                f"its requests take at most {MAX_PAGE_TOKEN_LENGTH}"
            )
        for item in skipped:
            logger.warning("%s: %s", api_method, item)
            if self._on_skipped is not None:
                try:
                    self._on_skipped(api_method, item)
                except Exception:
                    logger.exception("the skipped-item observer failed")

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
        """Send one API call: token, limits, timeout, retries; the body of a 2xx answer."""
        attempt = 0
        reauthenticated = False
        while True:
            token = await self._auth.token()
            send_headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
            started = time.monotonic()
            try:
                async with self.limiter.slot():
                    started = time.monotonic()
                    async with self._sessions.get().request(
                        method,
                        URL(url, encoded=True),  # ids are already percent-encoded
                        params=params,
                        json=json_body,
                        headers=send_headers,
                        timeout=self._timeout,
                    ) as resp:
                        status = resp.status
                        body = await resp.read()
                        request_id = next(
                            (resp.headers[h] for h in REQUEST_ID_HEADERS if h in resp.headers),
                            None,
                        )
                        retry_after = resp.headers.get("Retry-After")
            except TimeoutError:
                self._report(api_method, "timeout", time.monotonic() - started)
                if self.retry.has_attempts_left(attempt):
                    await self._backoff(api_method, attempt, None, "timeout")
                    attempt += 1
                    continue
                raise CloudTimeout(
                    f"the cloud did not answer {api_method} within {self.timeout:g} s "
                    f"({attempt + 1} attempt{'s' if attempt else ''})"
                ) from None
            except aiohttp.ClientError as exc:
                self._report(api_method, "error", time.monotonic() - started)
                reason = _network_reason(exc)
                if self.retry.has_attempts_left(attempt):
                    await self._backoff(api_method, attempt, None, reason)
                    attempt += 1
                    continue
                host = urlsplit(url).netloc
                raise CloudRequestError(
                    f"could not reach the cloud at {host} for {api_method}: {reason}"
                ) from None

            self._report(api_method, str(status), time.monotonic() - started)
            logger.debug(
                "%s %s -> %s (request id %s)", method, api_method, status, request_id or "-"
            )
            if 200 <= status < 300:
                return body
            if status == 401 and not reauthenticated and self._auth.can_refresh:
                # The token may have been revoked or rotated: get a new one and try once more.
                reauthenticated = True
                self._auth.invalidate(token)
                continue
            if self.retry.should_retry_status(status, attempt):
                wait = parse_retry_after(retry_after, clock.now())
                await self._backoff(api_method, attempt, wait, f"HTTP {status}")
                attempt += 1
                continue
            raise self._api_error(status, body, request_id, token)

    async def _backoff(
        self, api_method: str, attempt: int, retry_after: float | None, reason: str
    ) -> None:
        delay = self.retry.delay(attempt, retry_after, self._rng)
        logger.info(
            "%s failed (%s); retrying in %.2f s (attempt %d of %d)",
            api_method,
            reason,
            delay,
            attempt + 2,
            self.retry.attempts,
        )
        await asyncio.sleep(delay)

    @staticmethod
    def _api_error(status: int, body: bytes, request_id: str | None, token: str) -> CloudAPIError:
        code: int | None = None
        message = ""
        details: list[Any] = []
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict):
            if isinstance(data.get("code"), int) and not isinstance(data.get("code"), bool):
                code = data["code"]
            if isinstance(data.get("message"), str):
                message = data["message"].strip()
            if isinstance(data.get("details"), list):
                details = data["details"]
        if not message:
            message = _DEFAULT_MESSAGES.get(status, f"the cloud answered HTTP {status}")
        # A server should never echo the token back; if one does, it stops here.
        if token:
            message = message.replace(token, "***")
            if details and token in json.dumps(details):
                details = json.loads(json.dumps(details).replace(token, "***"))
        return _error_class(status)(
            status, message, code=code, details=details, request_id=request_id
        )
