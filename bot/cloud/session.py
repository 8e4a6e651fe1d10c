"""The one aiohttp session of the process, and the one way a request is sent on it.

The API client and the IAM token providers share the session and send every request through
:func:`exchange`, so every request carries an ``x-client-request-id`` and is logged the same way.

aiohttp sessions must be created inside a running event loop, while the client and providers are
built from settings before the loop runs; so the session is created on first use.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from bot.i18n.catalog import _

logger = logging.getLogger(__name__)

_PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
#: Our own id of a call, for a support ticket to name it (Yandex Cloud's troubleshooting
#: headers); one per call, the same on each of its retries (see :func:`new_client_request_id`).
CLIENT_REQUEST_ID_HEADER = "x-client-request-id"
#: Where the cloud puts its own id of a request when the body does not say it.
REQUEST_ID_HEADERS = ("x-request-id", "x-server-trace-id")
#: What a try may raise that another try may not: no answer in time, or no answer at all.
#: (aiohttp's ServerTimeoutError is both; it is a timeout.)
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, aiohttp.ClientError)


def proxy_configured() -> bool:
    """Whether the environment names a proxy, so the session must honour it.

    ``trust_env`` costs a hop to a worker thread on every request (aiohttp looks up proxies and
    netrc there), about a tenth of a listing's client time; pay it only when a proxy is set.
    """
    return any(os.environ.get(name) or os.environ.get(name.lower()) for name in _PROXY_VARIABLES)


class SessionSource:
    """Hands out one :class:`aiohttp.ClientSession`: an injected one, or its own made lazily."""

    def __init__(self, session: aiohttp.ClientSession | None = None, *, limit: int = 100) -> None:
        self._session = session
        self._limit = limit
        #: Whether :meth:`aclose` closes the session (only one it made itself).
        self.owned = session is None

    def get(self) -> aiohttp.ClientSession:
        """The session, created now if this source owns it and has none yet."""
        if self._session is None or (self.owned and self._session.closed):
            connector = aiohttp.TCPConnector(limit=self._limit)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=proxy_configured())
        return self._session

    async def aclose(self) -> None:
        """Close the session if this source made it; an injected one belongs to its owner."""
        if self.owned and self._session is not None and not self._session.closed:
            await self._session.close()


def as_source(session: aiohttp.ClientSession | SessionSource | None) -> SessionSource:
    """Wrap an injected session (or none) as a :class:`SessionSource`."""
    if isinstance(session, SessionSource):
        return session
    return SessionSource(session)


@dataclass(frozen=True)
class HttpReply:
    """An HTTP answer, read whole. ``headers`` are case-insensitive (aiohttp's)."""

    status: int
    body: bytes
    headers: Mapping[str, str]

    @property
    def retry_after(self) -> str | None:
        """The Retry-After header as sent, if any."""
        return self.headers.get("Retry-After")

    @property
    def request_id(self) -> str | None:
        """The cloud's id of this request from its headers, if it sent one."""
        return next((self.headers[h] for h in REQUEST_ID_HEADERS if h in self.headers), None)


def new_client_request_id() -> str:
    """A fresh id for one call: a UUID, as the cloud's troubleshooting guide asks."""
    return str(uuid.uuid4())


def failure_reason(exc: BaseException) -> str:
    """A few words on why a try got no answer, for logs and errors; never a URL or a header."""
    if isinstance(exc, TimeoutError):
        return _("timeout")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.os_error.strerror or type(exc.os_error).__name__  # the system's own words
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return _("the server closed the connection")
    return type(exc).__name__


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    *,
    name: str,
    client_request_id: str,
    timeouts: aiohttp.ClientTimeout,
    params: Mapping[str, str] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> HttpReply:
    """Send one request with our ``x-client-request-id`` and read its whole answer.

    ``name`` says what is called ("Cluster.listBackups", "IAM endpoint"); it, the status and both
    request ids are logged at DEBUG, never the URL or a header (they may carry a token). Raises
    what aiohttp raises: a member of :data:`TRANSIENT_ERRORS` when no answer came.
    """
    send_headers = {**(headers or {}), CLIENT_REQUEST_ID_HEADER: client_request_id}
    try:
        async with session.request(
            method, url, params=params, json=json_body, headers=send_headers, timeout=timeouts
        ) as resp:
            reply = HttpReply(resp.status, await resp.read(), resp.headers.copy())
    except TRANSIENT_ERRORS as exc:
        logger.debug(
            "%s %s -> %s (client request id %s)",
            method,
            name,
            failure_reason(exc),
            client_request_id,
        )
        raise
    logger.debug(
        "%s %s -> %s (request id %s, client request id %s)",
        method,
        name,
        reply.status,
        reply.request_id or "-",
        client_request_id,
    )
    return reply
