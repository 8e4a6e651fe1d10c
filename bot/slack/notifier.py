"""The one choke-point for everything the bot sends to Slack.

Posts, updates, response-URL replies and the few reads (``auth.test``, user group members) go
through :class:`SlackNotifier`. Retries live in slack_sdk's retry handlers: 429 waits for
``Retry-After`` (Slack did not post, so a retry cannot double-post), 500/503 and dropped
connections are retried a couple of times with backoff. Whatever still fails becomes a
:class:`SlackAPIFailure` carrying Slack's error code and never a token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.errors import SlackError
from bot.render.message import Message
from bot.settings import Settings, reveal

if TYPE_CHECKING:
    from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

#: How long the members of a user group are trusted before asking Slack again.
USERGROUP_CACHE_SECONDS = 60.0
#: Seconds one Slack request may take (slack_sdk's unit is whole seconds).
REQUEST_TIMEOUT = 10


class SlackAPIFailure(SlackError):
    """A Slack call failed for good; ``code`` is Slack's error (``channel_not_found``, ...)."""

    def __init__(self, method: str, code: str) -> None:
        super().__init__(f"Slack refused {method}: {code}")
        self.method = method
        self.code = code


def retry_handlers() -> list[AsyncRetryHandler]:
    """Retries worth making: rate limits (honouring Retry-After), 500/503, dropped connections."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


class SlackNotifier:
    """Sends messages to Slack and reads the little the bot needs from it."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        metrics: Metrics | None = None,
        keep_alive: bool = False,
    ) -> None:
        """``keep_alive``: hold one connection pool for every call (the serving process wants
        it: a busy bot then does not open a connection per post); :meth:`aclose` must then be
        awaited. Without it each call opens and closes its own connection."""
        self.client = client
        self._metrics = metrics
        self._keep_alive = keep_alive
        self._session: aiohttp.ClientSession | None = None
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, metrics: Metrics | None = None, keep_alive: bool = False
    ) -> SlackNotifier:
        """A notifier for the bot token and API URL in ``settings``, with retries."""
        token = reveal(settings.slack_bot_token) or None
        client = AsyncWebClient(
            token=token,
            base_url=settings.slack_api_url,
            timeout=REQUEST_TIMEOUT,
            retry_handlers=retry_handlers(),
        )
        return cls(client, metrics=metrics, keep_alive=keep_alive)

    def _shared_session(self) -> aiohttp.ClientSession | None:
        if not self._keep_alive:
            return None
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            )
            # The Web API client (also Bolt's) uses the pool from now on; it falls back to a
            # connection per call once the pool is closed.
            self.client.session = self._session
        return self._session

    # --- writes --------------------------------------------------------------------------------

    async def post(self, channel: str, message: Message, *, thread_ts: str | None = None) -> str:
        """Post ``message`` to ``channel`` (in a thread if ``thread_ts``); returns its ts."""
        kwargs: dict[str, Any] = {"channel": channel, **message.payload()}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        data = await self._call("chat.postMessage", kwargs)
        ts = str(data.get("ts", ""))
        where = f" in thread {thread_ts}" if thread_ts else ""
        log.info("posted to %s%s: ts %s", channel, where, ts)
        return ts

    async def update(self, channel: str, ts: str, message: Message) -> None:
        """Replace the message at ``ts`` in ``channel``."""
        await self._call("chat.update", {"channel": channel, "ts": ts, **message.payload()})
        log.info("updated %s in %s", ts, channel)

    async def post_ephemeral(self, channel: str, user: str, message: Message) -> None:
        """Show ``message`` to one person in ``channel`` (when there is no response URL)."""
        await self._call(
            "chat.postEphemeral", {"channel": channel, "user": user, **message.payload()}
        )

    async def respond(
        self,
        response_url: str,
        message: Message,
        *,
        ephemeral: bool = True,
        replace_original: bool = False,
    ) -> None:
        """Answer through a slash command's or button's response URL."""
        body: dict[str, Any] = {
            **message.payload(),
            "response_type": "ephemeral" if ephemeral else "in_channel",
            "replace_original": replace_original,
        }
        webhook = AsyncWebhookClient(
            response_url,
            timeout=REQUEST_TIMEOUT,
            session=self._shared_session(),
            retry_handlers=self.client.retry_handlers,
            logger=log,
        )
        method = "response_url"
        try:
            resp = await webhook.send_dict(body)
        except (aiohttp.ClientError, TimeoutError, SlackClientError) as exc:
            self._count(method, "error")
            raise SlackAPIFailure(method, _transport_code(exc)) from None
        if resp.status_code != 200:
            self._count(method, "error")
            code = (resp.body or "").strip()[:100] or f"http_{resp.status_code}"
            raise SlackAPIFailure(method, code)
        self._count(method, "ok")

    # --- reads ---------------------------------------------------------------------------------

    async def user_groups(self, user_id: str, candidate_groups: Iterable[str]) -> frozenset[str]:
        """Which of ``candidate_groups`` the user belongs to (members cached briefly).

        A group Slack will not list (deleted, missing scope, Slack down) counts as one the user
        is not in: access rules then deny, which is the safe side, and the reason is logged.
        """
        groups = sorted({g for g in candidate_groups if g})
        members = await asyncio.gather(*(self._members(g) for g in groups))
        return frozenset(g for g, users in zip(groups, members, strict=True) if user_id in users)

    async def _members(self, group: str) -> frozenset[str]:
        cached = self._groups.get(group)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            data = await self._call("usergroups.users.list", {"usergroup": group})
        except SlackError as exc:
            log.warning("cannot list the members of user group %s: %s", group, exc)
            return frozenset()
        users = frozenset(str(u) for u in data.get("users") or [])
        self._groups[group] = (now + USERGROUP_CACHE_SECONDS, users)
        return users

    async def auth_test(self) -> dict[str, Any]:
        """Who the bot token belongs to (``user_id``, ``team_id``...)."""
        return await self._call("auth.test", {})

    async def aclose(self) -> None:
        """Close the connection pool, if one is held (``keep_alive``)."""
        if self._session is not None:
            if self.client.session is self._session:
                self.client.session = None
            await self._session.close()
            self._session = None

    # --- the choke-point -----------------------------------------------------------------------

    async def _call(self, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        self._shared_session()
        try:
            if method == "usergroups.users.list":
                resp = await self.client.api_call(method, http_verb="GET", params=kwargs)
            else:
                resp = await self.client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            self._count(method, "error")
            code = str(exc.response.get("error") or f"http_{exc.response.status_code}")
            raise SlackAPIFailure(method, code) from None
        except (aiohttp.ClientError, TimeoutError, SlackClientError) as exc:
            self._count(method, "error")
            raise SlackAPIFailure(method, _transport_code(exc)) from None
        self._count(method, "ok")
        data = resp.data
        return dict(data) if isinstance(data, dict) else {}

    def _count(self, method: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.count_slack_call(method, outcome)


def _transport_code(exc: BaseException) -> str:
    # Only the exception's type: its text can echo a URL, and response URLs are bearer secrets.
    if isinstance(exc, TimeoutError):
        return "timeout"
    return f"unreachable ({type(exc).__name__})"
