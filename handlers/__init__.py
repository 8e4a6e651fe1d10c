"""Bolt listeners: the only code that knows Bolt's listener signatures.

Each listener acknowledges and returns at once (Slack allows 3 seconds; the cloud may take
longer), leaving the router's run and the reply to a task of its own: the app runs with
``process_before_response=True``, so Bolt sends the acknowledgement as soon as the listener
returns, with no polling for it. What is shared by the command and the button listeners lives
here: starting that task, delivering a reply, and tracking work still running after its
acknowledgement so that a shutdown (or a test) can wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import replace
from typing import Any

from bot.chat.actions import Invocation
from bot.commands.messages import render_error
from bot.commands.router import Reply, Router
from bot.errors import SlackError
from bot.i18n.catalog import use_locale
from bot.ops.logging import HELD_SECRETS, bind_request_id, request_id_var, response_url_forms
from bot.slack.blocks import SLACK
from bot.slack.notifier import SlackNotifier

log = logging.getLogger(__name__)

#: Slack accepts at most five posts to one response URL.
MAX_RESPONSES = 5


class InFlight:
    """Work that was acknowledged and is still running; :meth:`drain` waits for it."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Coroutine[object, object, None], *, name: str | None = None) -> None:
        """Run ``work`` in a task of its own, counted as in flight until it ends.

        The task is held here (the event loop keeps only a weak reference); an exception that
        escapes it is logged rather than left for the garbage collector to report.
        """
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("work after an acknowledgement failed", exc_info=exc)

    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        """Count the current task as in flight for the duration of the block."""
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._tasks.add(task)
        self._idle.clear()
        try:
            yield
        finally:
            self._tasks.discard(task)
            if not self._tasks:
                self._idle.set()

    async def drain(self, timeout: float = 30.0) -> bool:  # noqa: ASYNC109
        """Wait until nothing is in flight; False if work was still running after ``timeout``."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


RunReply = Callable[[Invocation], Awaitable[Reply]]
#: Where a reply goes instead of a response URL or the channel (a click from the Home tab).
Respond = Callable[[Reply, Invocation], Awaitable[None]]


def answer(
    notifier: SlackNotifier,
    router: Router,
    in_flight: InFlight,
    run: RunReply,
    *,
    user_id: str,
    channel_id: str,
    response_url: str | None,
    message_ts: str | None = None,
    respond: Respond | None = None,
) -> None:
    """Start answering, after the acknowledgement, in a task ``in_flight`` tracks; returns at
    once so that the listener (and with it the acknowledgement) is not held up. ``respond``
    takes the reply instead of the response URL or the channel."""
    in_flight.start(
        _answer(
            notifier,
            router,
            run,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            message_ts=message_ts,
            respond=respond,
        ),
        name=f"answer {user_id}",
    )


async def _answer(
    notifier: SlackNotifier,
    router: Router,
    run: RunReply,
    *,
    user_id: str,
    channel_id: str,
    response_url: str | None,
    message_ts: str | None,
    respond: Respond | None = None,
) -> None:
    """Find the user's groups, run, deliver. Never silent: a bug here still sends the person
    an error id that is in the log. The response URL is a bearer URL: while the answer is in
    flight (and a while after) no log line shows it, whatever its shape."""
    held = response_url_forms(response_url) if response_url else []
    with bind_request_id(), HELD_SECRETS.holding(held):
        started = time.monotonic()
        inv = Invocation(user_id=user_id, channel_id=channel_id, message_ts=message_ts)
        try:
            groups = await user_groups(notifier, router, user_id)
            said = await notifier.user_locale(user_id) if user_id else None
            inv = replace(inv, user_groups=groups, locale=said)
            reply = await run(inv)
        except Exception as exc:
            error_id = request_id_var.get()
            log.exception("unexpected error before a reply (error id %s)", error_id)
            with use_locale(router.locale_for(inv)):
                reply = Reply([render_error(exc, correlation_id=error_id)], ok=False)
        with use_locale(router.locale_for(inv)):  # the renderer's own words, in the reply's
            if respond is not None:
                await respond(reply, inv)
            else:
                await deliver(notifier, response_url, reply, channel_id=channel_id, user_id=user_id)
        # One closing line per command or button: how it ended, and how long it took.
        outcome = "ok" if reply.ok else ("usage error" if reply.usage_error else "error")
        log.info(
            "answered %s: %s, %d message(s), %.0f ms",
            user_id,
            outcome,
            len(reply.messages),
            (time.monotonic() - started) * 1000,
        )


async def user_groups(notifier: SlackNotifier, router: Router, user_id: str) -> frozenset[str]:
    """The user's groups among those access rules name (no Slack call when none are named)."""
    candidates = router.candidate_groups()
    if not candidates or not user_id:
        return frozenset()
    return await notifier.user_groups(user_id, candidates)


async def deliver(
    notifier: SlackNotifier,
    response_url: str | None,
    reply: Reply,
    *,
    channel_id: str,
    user_id: str,
) -> None:
    """Send a reply through the response URL (or, lacking one, as an ephemeral message).

    A message Slack refuses (bad blocks, say) is sent again as its plain-text fallback, so a
    rendering mistake still reaches the person instead of vanishing.
    """
    messages = reply.messages[:MAX_RESPONSES]
    if len(reply.messages) > MAX_RESPONSES:
        log.warning(
            "reply has %d messages; sending the first %d", len(reply.messages), MAX_RESPONSES
        )
    for index, card in enumerate(messages):
        replace = reply.replace_original and index == 0
        payload = SLACK.render(card)
        try:
            await _send(notifier, response_url, payload, reply, replace, channel_id, user_id)
        except SlackError as exc:
            log.warning("Slack refused a reply (%s); sending its text only", exc)
            try:
                await _send(
                    notifier,
                    response_url,
                    {"text": payload["text"]},
                    reply,
                    replace,
                    channel_id,
                    user_id,
                )
            except SlackError as again:
                log.error("could not deliver a reply to user %s: %s", user_id, again)
                return


async def _send(
    notifier: SlackNotifier,
    response_url: str | None,
    payload: dict[str, Any],
    reply: Reply,
    replace: bool,
    channel_id: str,
    user_id: str,
) -> None:
    if response_url:
        await notifier.respond(
            response_url, payload, ephemeral=reply.ephemeral, replace_original=replace
        )
    elif not channel_id:
        # A click from a view (no channel, no response URL): the app's direct message.
        await notifier.post(user_id, payload)
    elif reply.ephemeral:
        await notifier.post_ephemeral(channel_id, user_id, payload)
    else:
        await notifier.post(channel_id, payload)
