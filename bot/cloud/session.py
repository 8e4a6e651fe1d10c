"""The one aiohttp session of the process, shared by the API client and its token provider.

aiohttp sessions must be created inside a running event loop, while the client and providers are
built from settings before the loop runs; so the session is created on first use.
"""

from __future__ import annotations

import os

import aiohttp

_PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


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
