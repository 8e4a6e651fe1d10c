"""The one choke-point for everything the bot sends to Slack.

Posts, updates, response-URL replies and the few reads (``auth.test``, user group members,
channel history) go through :class:`SlackNotifier`. Two kinds of sending:

* the watcher's posts (alerts, digests, notices) are delivered by the outbox's executor through
  the executor's :class:`~bot.outbox.sender.Sender` interface: :meth:`SlackNotifier.deliver_post`
  and :meth:`~SlackNotifier.deliver_update` make exactly one attempt each, since a 5xx, a timeout
  or an answer nobody can read does not mean Slack did not post: retrying is the executor's
  decision (it first looks for the post by its metadata, :meth:`~SlackNotifier.find_post`). Their
  failures are :class:`~bot.outbox.sender.SendFailure` with a neutral verdict, read from Slack's
  code by :func:`bot.slack.answers.judge`;
* replies to people (response URLs, ephemeral messages) and reads use slack_sdk's retry handlers:
  429 waits for ``Retry-After``, 500/503 and dropped connections are retried with backoff (a
  rare repeated reply to one person beats a lost one).

Whatever fails becomes a :class:`SlackAPIFailure` carrying Slack's error code (``http_<status>``
for a 4xx or 5xx without one, ``unreadable_answer`` for any other answer that is not Slack's
JSON), never a token, a URL or a body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
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
from bot.outbox.posts import EVENT_TYPE, FileUpload, Verdict
from bot.outbox.sender import SendFailure
from bot.settings import Settings, reveal
from bot.slack.answers import HISTORY_HINT, NO_TS, UNREADABLE, judge, judge_search
from bot.slack.answers import text_only as without_blocks

if TYPE_CHECKING:
    from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

#: How long the members of a user group are trusted before asking Slack again.
USERGROUP_CACHE_SECONDS = 60.0
#: A person's Slack language is asked once a day (users.info with include_locale).
USER_LOCALE_CACHE_SECONDS = 86400.0
#: A person whose language Slack would not tell is asked again after this long.
USER_LOCALE_RETRY_SECONDS = 300.0
#: Seconds one Slack request may take (slack_sdk's unit is whole seconds).
REQUEST_TIMEOUT = 10
#: How far back of a post's first attempt its lost answer is looked for (clocks differ).
FIND_MARGIN_SECONDS = 300
#: Pages of history (of 200 messages) read when looking for a post; a channel busier than that
#: within the window is not searched further, and the post is treated as not found.
FIND_PAGES = 5


class SlackAPIFailure(SlackError):
    """A Slack call failed; ``code`` is Slack's error (``channel_not_found``, ...), or
    ``http_<status>``, ``timeout``, ``unreachable (...)`` when there was no answer from Slack;
    ``retry_after`` the seconds Slack asked to wait (429)."""

    def __init__(self, method: str, code: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"Slack refused {method}: {code}")
        self.method = method
        self.code = code
        self.retry_after = retry_after


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
        self._single: AsyncWebClient | None = None
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._locales: dict[str, tuple[float, str | None]] = {}

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

    def _sender(self) -> AsyncWebClient:
        """A client like :attr:`client` without retry handlers: one attempt per call."""
        if self._single is None or self._single.token != self.client.token:
            self._single = AsyncWebClient(
                token=self.client.token,
                base_url=self.client.base_url,
                timeout=self.client.timeout,
                retry_handlers=[],
            )
        self._single.session = self.client.session
        return self._single

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

    async def post(
        self, channel: str, payload: dict[str, Any], *, thread_ts: str | None = None
    ) -> str:
        """Post ``payload`` (text and blocks) to ``channel`` (in a thread if ``thread_ts``);
        returns its ts."""
        kwargs: dict[str, Any] = {"channel": channel, **payload}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        data = await self._call("chat.postMessage", kwargs)
        ts = str(data.get("ts", ""))
        where = f" in thread {thread_ts}" if thread_ts else ""
        log.info("posted to %s%s: ts %s", channel, where, ts)
        return ts

    async def deliver_post(
        self,
        channel: str,
        payload: dict[str, Any],
        *,
        post_id: str,
        thread_ts: str | None = None,
        text_only: bool = False,
    ) -> str:
        """One attempt at an outbox post (its text alone if ``text_only``); its ts. The message
        carries ``post_id`` in its metadata, so that :meth:`find_post` can tell whether an
        attempt in doubt went through. Links are not unfurled: a console link's preview is noise
        in an alert. Raises :class:`~bot.outbox.sender.SendFailure`."""
        kwargs: dict[str, Any] = {
            "channel": channel,
            **(without_blocks(payload) if text_only else payload),
            "unfurl_links": False,
            "unfurl_media": False,
            "metadata": {"event_type": EVENT_TYPE, "event_payload": {"outbox_id": post_id}},
        }
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        try:
            data = await self._call("chat.postMessage", kwargs, client=self._sender())
        except SlackAPIFailure as failure:
            raise _judged(failure) from None
        ts = data.get("ts")
        if not isinstance(ts, str) or not ts:
            # Slack said ok, so the post is in the channel, but not where: look for it.
            raise _judged(SlackAPIFailure("chat.postMessage", NO_TS))
        return ts

    async def deliver_update(
        self, channel: str, ts: str, payload: dict[str, Any], *, text_only: bool = False
    ) -> None:
        """One attempt at replacing the message at ``ts`` (idempotent: safe to repeat). Raises
        :class:`~bot.outbox.sender.SendFailure`."""
        body = without_blocks(payload) if text_only else payload
        try:
            await self._call(
                "chat.update", {"channel": channel, "ts": ts, **body}, client=self._sender()
            )
        except SlackAPIFailure as failure:
            raise _judged(failure) from None

    async def deliver_file(
        self, channel: str, upload: FileUpload, *, thread_ts: str | None = None
    ) -> str:
        """One attempt at sharing ``upload`` in ``channel`` (in the thread of ``thread_ts``),
        by Slack's external upload: ``files.getUploadURLExternal``, the bytes to the URL it
        gives, then ``files.completeUploadExternal``, which shares it. Only the last step can
        leave the file shared with its answer lost (the executor then looks for it,
        :meth:`find_file`); a failure before it shared nothing. Returns the share's ts when
        Slack says it, else the file's id. Raises :class:`~bot.outbox.sender.SendFailure`."""
        try:
            ticket = await self._call(
                "files.getUploadURLExternal",
                {"filename": upload.filename, "length": len(upload.content)},
                client=self._sender(),
                form=True,
            )
            url, file_id = ticket.get("upload_url"), ticket.get("file_id")
            if not isinstance(url, str) or not url or not isinstance(file_id, str):
                raise SlackAPIFailure("files.getUploadURLExternal", UNREADABLE)
        except SlackAPIFailure as failure:
            raise _before_sharing(failure) from None
        await self._upload_bytes(url, upload.content)
        args: dict[str, Any] = {
            "files": json.dumps([{"id": file_id, "title": upload.title}]),
            "channel_id": channel,
        }
        if upload.comment:
            args["initial_comment"] = upload.comment
        if thread_ts:
            args["thread_ts"] = thread_ts
        try:
            data = await self._call(
                "files.completeUploadExternal", args, client=self._sender(), form=True
            )
        except SlackAPIFailure as failure:
            raise _judged(failure) from None
        return _share_ts(data, channel) or file_id

    async def _upload_bytes(self, url: str, content: bytes) -> None:
        """The file's bytes to the upload URL Slack gave (a bearer URL: never logged). Nothing
        is shared yet, so any failure here is worth one more try."""
        method = "file_upload"
        session = self._shared_session()
        own = session is None
        if session is None:
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
        try:
            async with session.post(url, data=content) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._count(method, "error")
            raise SendFailure(Verdict.RETRY, _transport_code(exc)) from None
        finally:
            if own:
                await session.close()
        if status != 200:
            self._count(method, "error")
            raise SendFailure(Verdict.RETRY, f"upload http_{status}")
        self._count(method, "ok")

    async def find_file(
        self, channel: str, upload: FileUpload, *, since: float, thread_ts: str | None = None
    ) -> str | None:
        """The ts of the message that shared a file named and titled as ``upload`` in
        ``channel`` (in the thread of ``thread_ts``) after ``since`` less a margin; None if it
        is not there. Raises :class:`~bot.outbox.sender.SendFailure`."""

        def shares(message: dict[str, Any]) -> bool:
            files = message.get("files")
            return isinstance(files, list) and any(
                isinstance(f, dict)
                and f.get("name") == upload.filename
                and f.get("title") == upload.title
                for f in files
            )

        try:
            return await self._find(channel, shares, since=since, thread_ts=thread_ts)
        except SlackAPIFailure as failure:
            verdict = judge_search(failure.code)
            hint = HISTORY_HINT if verdict == Verdict.UNSEARCHABLE else ""
            raise SendFailure(
                verdict, failure.code, retry_after=failure.retry_after, hint=hint
            ) from None

    async def find_post(
        self, channel: str, post_id: str, *, since: float, thread_ts: str | None = None
    ) -> str | None:
        """The ts of the message carrying outbox id ``post_id`` in ``channel`` (in the thread
        of ``thread_ts``), posted after ``since`` (Unix seconds) less a margin; None if it is
        not there. Raises :class:`~bot.outbox.sender.SendFailure` (``unsearchable`` when the
        token may not read the channel's history)."""
        try:
            return await self._find_post(channel, post_id, since=since, thread_ts=thread_ts)
        except SlackAPIFailure as failure:
            verdict = judge_search(failure.code)
            hint = HISTORY_HINT if verdict == Verdict.UNSEARCHABLE else ""
            raise SendFailure(
                verdict, failure.code, retry_after=failure.retry_after, hint=hint
            ) from None

    async def _find_post(
        self, channel: str, post_id: str, *, since: float, thread_ts: str | None
    ) -> str | None:
        return await self._find(
            channel, lambda message: _carries(message, post_id), since=since, thread_ts=thread_ts
        )

    async def _find(
        self,
        channel: str,
        wanted: Callable[[dict[str, Any]], bool],
        *,
        since: float,
        thread_ts: str | None,
    ) -> str | None:
        """The ts of the first message that is ``wanted``, in the channel's history (or the
        thread's replies) since ``since`` less a margin."""
        method = "conversations.history" if thread_ts is None else "conversations.replies"
        params: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{max(since - FIND_MARGIN_SECONDS, 0):.6f}",
            "include_all_metadata": "true",
            "inclusive": "true",
            "limit": 200,
        }
        if thread_ts is not None:
            params["ts"] = thread_ts
        for _ in range(FIND_PAGES):
            data = await self._call(method, params, http_verb="GET")
            messages = data.get("messages")
            if not isinstance(messages, list):
                # Not a history page (a proxy's JSON): nothing can be told from it.
                raise SlackAPIFailure(method, UNREADABLE)
            for message in messages:
                if isinstance(message, dict) and wanted(message):
                    return str(message.get("ts") or "") or None
            meta = data.get("response_metadata")
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            if not data.get("has_more") or not cursor:
                return None
            params["cursor"] = cursor
        log.warning("%s of %s: over %d pages to search; not found", method, channel, FIND_PAGES)
        return None

    async def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None:
        """Replace the message at ``ts`` in ``channel`` with ``payload``."""
        await self._call("chat.update", {"channel": channel, "ts": ts, **payload})
        log.info("updated %s in %s", ts, channel)

    async def publish_home(self, user: str, view: dict[str, Any]) -> None:
        """Show ``view`` as ``user``'s Home tab of the app (views.publish), replacing it."""
        await self._call("views.publish", {"user_id": user, "view": view})
        log.info("published the Home tab of %s", user)

    async def post_ephemeral(self, channel: str, user: str, payload: dict[str, Any]) -> None:
        """Show ``payload`` to one person in ``channel`` (when there is no response URL)."""
        await self._call("chat.postEphemeral", {"channel": channel, "user": user, **payload})

    async def respond(
        self,
        response_url: str,
        payload: dict[str, Any],
        *,
        ephemeral: bool = True,
        replace_original: bool = False,
    ) -> None:
        """Answer through a slash command's or button's response URL."""
        body: dict[str, Any] = {
            **payload,
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

    async def user_locale(self, user_id: str) -> str | None:
        """The person's Slack language (``ru-RU``), cached for a day; None when Slack does not
        say (no ``users:read`` scope, an unknown user, Slack down): the reply then takes the
        channel's or the bot's language, and the reason is logged."""
        now = time.monotonic()
        cached = self._locales.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            data = await self._call(
                "users.info", {"user": user_id, "include_locale": "true"}, http_verb="GET"
            )
        except SlackError as exc:
            log.warning("cannot read the language of user %s: %s", user_id, exc)
            self._locales[user_id] = (now + USER_LOCALE_RETRY_SECONDS, None)
            return None
        user = data.get("user")
        locale = user.get("locale") if isinstance(user, dict) else None
        said = locale if isinstance(locale, str) and locale else None
        self._locales[user_id] = (now + USER_LOCALE_CACHE_SECONDS, said)
        return said

    async def auth_test(self) -> dict[str, Any]:
        """Who the bot token belongs to (``user_id``, ``team_id``...)."""
        return await self._call("auth.test", {})

    async def granted_scopes(self) -> frozenset[str] | None:
        """The bot token's scopes, as Slack lists them in every answer's ``X-OAuth-Scopes``
        header; None when the answer does not say."""
        self._shared_session()
        try:
            resp = await self.client.api_call("auth.test", json={})
        except (SlackApiError, aiohttp.ClientError, TimeoutError, SlackClientError):
            return None
        raw = None
        for key, value in dict(resp.headers or {}).items():
            if str(key).lower() == "x-oauth-scopes":
                raw = value[0] if isinstance(value, list) and value else value
        if not isinstance(raw, str):
            return None
        return frozenset(s.strip() for s in raw.split(",") if s.strip())

    async def aclose(self) -> None:
        """Close the connection pool, if one is held (``keep_alive``)."""
        if self._session is not None:
            if self.client.session is self._session:
                self.client.session = None
            await self._session.close()
            self._session = None

    # --- the choke-point -----------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        kwargs: dict[str, Any],
        *,
        client: AsyncWebClient | None = None,
        http_verb: str | None = None,
        form: bool = False,
    ) -> dict[str, Any]:
        self._shared_session()
        client = client or self.client
        try:
            if http_verb == "GET" or method == "usergroups.users.list":
                resp = await client.api_call(method, http_verb="GET", params=kwargs)
            elif form:
                # The files.* methods take a form, not JSON.
                resp = await client.api_call(method, data=kwargs)
            else:
                resp = await client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            self._count(method, "error")
            raise _failure(method, exc) from None
        except (aiohttp.ClientError, TimeoutError, SlackClientError) as exc:
            self._count(method, "error")
            raise SlackAPIFailure(method, _transport_code(exc)) from None
        except (AttributeError, TypeError, ValueError):
            # slack_sdk trips over a body that is JSON but no object (a list, a string: what a
            # wrong content type makes of Slack's own answer): not an answer anyone can read.
            self._count(method, "error")
            raise SlackAPIFailure(method, UNREADABLE) from None
        data = resp.data
        if not isinstance(data, dict):
            self._count(method, "error")
            raise SlackAPIFailure(method, UNREADABLE)
        self._count(method, "ok")
        return dict(data)

    def _count(self, method: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.count_slack_call(method, outcome)


def _failure(method: str, exc: SlackApiError) -> SlackAPIFailure:
    """Slack's answer as a failure with a code, whatever its body was (JSON or an HTML page)."""
    response = exc.response
    data = getattr(response, "data", None)
    # slack_sdk hands a SlackResponse, or the raw aiohttp response when the body claims to be
    # JSON and is not: either way, the status is all that can be trusted.
    status = getattr(response, "status_code", None) or getattr(response, "status", 0) or 0
    error = data.get("error") if isinstance(data, dict) else None
    readable = isinstance(data, dict) and data.get("ok") is False and isinstance(error, str)
    if status == 429:
        code = "ratelimited"
    elif status >= 500:
        # A 5xx's body says nothing reliable (Slack may have posted anyway); keep the status.
        code = f"http_{status}"
    elif readable and error:
        code = str(error)[:100]
    elif status >= 400:
        code = f"http_{status}"
    else:
        # A 2xx (or stranger) that is not Slack's JSON refusal: a proxy's page, JSON without
        # ``ok``, a body cut short. Slack may well have done what was asked.
        code = UNREADABLE
    headers = getattr(response, "headers", None) or {}
    return SlackAPIFailure(method, code, retry_after=_retry_after(headers))


def _judged(failure: SlackAPIFailure) -> SendFailure:
    """A failed post or update in the executor's words."""
    return SendFailure(judge(failure.code), failure.code, retry_after=failure.retry_after)


def _before_sharing(failure: SlackAPIFailure) -> SendFailure:
    """A failed step before the file is shared: nothing is in the channel, so an answer that
    would leave a post in doubt only means "try again"."""
    sent = _judged(failure)
    if sent.verdict == Verdict.IN_DOUBT:
        return SendFailure(Verdict.RETRY, failure.code, retry_after=failure.retry_after)
    return sent


def _share_ts(data: dict[str, Any], channel: str) -> str | None:
    """The ts of the message that shared the file in ``channel``, when the answer says it."""
    for file in data.get("files") or []:
        shares = file.get("shares") if isinstance(file, dict) else None
        for kind in ("public", "private"):
            where = shares.get(kind) if isinstance(shares, dict) else None
            found = where.get(channel) if isinstance(where, dict) else None
            if isinstance(found, list) and found and isinstance(found[0], dict):
                ts = found[0].get("ts")
                if isinstance(ts, str) and ts:
                    return ts
    return None


def _retry_after(headers: Any) -> float | None:
    raw = None
    for key, value in dict(headers).items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
    try:
        seconds = float(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None
    return seconds if seconds is not None and seconds >= 0 else None


def _carries(message: dict[str, Any], post_id: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("outbox_id") == post_id


def _transport_code(exc: BaseException) -> str:
    # Only the exception's type: its text can echo a URL, and response URLs are bearer secrets.
    if isinstance(exc, TimeoutError):
        return "timeout"
    return f"unreachable ({type(exc).__name__})"
