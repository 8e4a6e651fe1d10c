"""The delivery executor: sends the outbox's posts to the chat, once each, at the chat's pace.

One executor runs in every process that posts (``serve``, and the ``sweep`` and ``digest`` verbs
until what they queued is out). It talks to the chat through a small
:class:`~bot.outbox.sender.Sender` (``bot/slack/notifier.py`` for Slack) whose failures come as
neutral verdicts. Posts are delivered per channel in the order they were queued: a channel is
claimed in the store (the run claim ``outbox:<channel>``, with a lease it renews), so two replicas
never post to one channel at once, and a replica that dies mid-post leaves its channel to another
after one lease.

For each post:

* Before an attempt the row is marked ``sending``; after the chat's answer it is ``sent`` with
  the ts. A 5xx, a timeout, a dropped connection or an answer nobody can read (a proxy's HTML
  page with 200, JSON without ``ok``, a body cut short) leaves it *in doubt* (Slack may have
  posted), and so does a crash between the two: before the next attempt the executor looks for
  the message by the outbox id in its metadata and records the ts it finds instead of posting
  again. A token that may not read history makes this at-least-once; that is logged once and
  shown by ``backups-bot check``. Updates are idempotent and simply sent again.
* 429 pauses the channel for ``Retry-After`` and makes its pace careful for a while (no bursts,
  see :mod:`bot.outbox.pacing`); other transient failures back off (2 s doubling to 5 min). The
  rest of the channel waits behind its oldest post, so replies never overtake their alert; other
  channels go on.
* A channel that refuses the bot (not in channel, archived, gone) is parked: its posts wait,
  nothing more is attempted there for an hour (and at once after a restart), and the problem is
  reported once (log, metrics, ``/readyz`` detail, ``check``, and a notice to the bot's other
  channels). A refused token parks every channel.
* A message refused for its content (too long, bad blocks) goes once more as its text only.

Whoever waits for posts (:meth:`DeliveryExecutor.deliver`, :meth:`~DeliveryExecutor.flush`) waits
on the executor: on the channel workers that send them, on the posts they settle and on the end
of a round, never on a timer that re-reads the outbox. A post that cannot go before the caller's
deadline (its channel parked, a Retry-After past it) is not waited for: the caller hears at once
that it stays queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from bot import clock as bot_clock
from bot.errors import StoreUnavailable
from bot.outbox.change import EVERY_CHANNEL, OutboxState, QueuedPost
from bot.outbox.pacing import Pace, Pacer
from bot.outbox.posts import (
    OTHER_ATTEMPTS,
    PARKED_RETRY,
    FileUpload,
    Method,
    PostKind,
    Verdict,
    retry_delay,
)
from bot.outbox.sender import Sender, SendFailure

if TYPE_CHECKING:
    from bot.ops.metrics import Metrics
    from bot.store import Store

log = logging.getLogger(__name__)

#: How often the executor looks for posts queued by other processes or due again.
POLL_INTERVAL = 1.0
#: A post in doubt whose lookup keeps failing is posted anyway after this many tries.
FIND_TRIES = 3
#: Outcomes after which a post is settled: nothing more will be attempted for it.
_SETTLED = frozenset({"sent", "found", "failed", "superseded"})


class ChannelWatch(Protocol):
    """Who hears about channels that refuse the bot, and about their recovery."""

    async def channel_refused(self, channel: str, code: str, now: datetime) -> None: ...

    async def channel_recovered(self, channel: str, now: datetime) -> None: ...


class _Next(Enum):
    CONTINUE = "continue"  # the post is settled: on to the channel's next
    STOP = "stop"  # the channel waits (a retry later, a pause, parked)


@dataclass(frozen=True, slots=True)
class DrainResult:
    """What became of the posts a caller waited for."""

    posts: tuple[QueuedPost, ...]

    @property
    def sent(self) -> list[QueuedPost]:
        return [p for p in self.posts if p.state in (OutboxState.SENT, OutboxState.SUPERSEDED)]

    @property
    def failed(self) -> list[QueuedPost]:
        return [p for p in self.posts if p.state == OutboxState.FAILED]

    @property
    def waiting(self) -> list[QueuedPost]:
        return [p for p in self.posts if p.state in OutboxState.OPEN]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.waiting


def _open(post: QueuedPost) -> bool:
    return post.state in OutboxState.OPEN


@dataclass(slots=True)
class _Waiter:
    """A caller waiting for posts: the ids not yet settled by this process, and its bell."""

    ids: set[str]
    bell: asyncio.Event = field(default_factory=asyncio.Event)


class DeliveryExecutor:
    """Delivers the outbox; one per process. :meth:`start` runs it in the background,
    :meth:`deliver` runs it until given posts are settled."""

    def __init__(
        self,
        store: Store,
        sender: Sender,
        *,
        owner: str,
        lease: timedelta = timedelta(minutes=5),
        pace: Pace | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = bot_clock.now,
        poll_interval: float = POLL_INTERVAL,
        watch: ChannelWatch | None = None,
        verify: bool = True,
        backoff: Callable[[int, float | None], timedelta] = retry_delay,
    ) -> None:
        """``backoff(attempts, retry_after)`` is how long a post waits after a failed attempt
        (the chat's ``Retry-After`` in seconds, if it gave one); tests make it short."""
        self.store = store
        self.sender = sender
        self.owner = owner
        self.lease = lease
        self.pacer = Pacer(pace or Pace())
        self.metrics = metrics
        self.clock = clock
        self.poll_interval = poll_interval
        self.watch = watch
        self.backoff = backoff
        #: Whether posts in doubt can be looked for (False once the token may not read history).
        self.can_verify = verify
        self._wake = asyncio.Event()
        self._closed = asyncio.Event()
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        #: Whether :meth:`start` runs the loop (else a waiting caller runs it while it waits).
        self._started = False
        self._callers = 0
        #: Set to stop the running loop after its round (each loop has its own).
        self._loop_stop = asyncio.Event()
        #: One round at a time, even while a stopping loop finishes its last.
        self._round_lock = asyncio.Lock()
        self._closing = False
        self._find_failures: dict[str, int] = {}
        #: Channels (and "*", the token) parked until when, as this process last heard: a
        #: worker already running stops before its next attempt instead of trying again.
        self._parked: dict[str, datetime] = {}
        self._parkings = 0  # how many times this process parked something
        #: Channels whose oldest post waits until when (a retry's time), as this process last
        #: read it: a round does not start a worker that would only find it not due yet.
        self._resting: dict[str, datetime] = {}
        #: Rounds begun, the last round ended, and the bell rung at the end of each.
        self._rounds_begun = 0
        self._rounds_ended = 0
        self._round_bell = asyncio.Event()
        self._waiters: list[_Waiter] = []
        self._store_down_since: float | None = None
        self.last_round_ok: float | None = None

    # --- running -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Run in the background. Parked channels are tried again at once: a restart (or a
        config reload) after inviting the bot fixes a channel without waiting an hour."""
        if self._started:
            return
        self._started = True
        self._closing = False
        self._closed.clear()
        with contextlib.suppress(StoreUnavailable):
            retried = await self.store.outbox.retry_parked(now=self.clock())
            if retried:
                log.info("trying %d parked channel(s) again", retried)
        if self._loop_task is None:
            self._start_loop()

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def aclose(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Stop taking channels; posts being sent may finish within ``timeout``, then the rest
        is cancelled (a cancelled attempt stays in doubt and is looked for by whoever sends it
        next). Channel claims are handed back."""
        self._closing = True
        self._started = False
        self._closed.set()
        self._wake.set()
        self._ring_round()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        workers = [w for w in self._workers.values() if not w.done()]
        if workers:
            _, pending = await asyncio.wait(workers, timeout=timeout)
            for worker in pending:
                worker.cancel()
            if pending:
                await asyncio.wait(pending)
        self._workers.clear()

    async def deliver(
        self,
        ids: Iterable[str] | None = None,
        *,
        timeout: float = 60.0,  # noqa: ASYNC109
    ) -> DrainResult:
        """Deliver until the posts ``ids`` (default: everything waiting now) are settled, or
        ``timeout`` passes, or none of those left can go before it (their channel parked, a
        Retry-After past it); what became of them. Works with or without :meth:`start`."""
        wanted = list(ids) if ids is not None else None
        if wanted is None:
            wanted = [p.id for p in await self.store.outbox.list_posts(states=OutboxState.OPEN)]
        deadline = time.monotonic() + timeout
        latest: dict[str, QueuedPost] = {}
        waiting = list(dict.fromkeys(wanted))
        async with self._running():
            while True:
                for post in await self.store.outbox.list_posts(ids=waiting):
                    latest[post.id] = post
                waiting = [i for i in waiting if i in latest and _open(latest[i])]
                left = deadline - time.monotonic()
                if not waiting or left <= 0 or self._closing:
                    break
                if not await self._progress([latest[i] for i in waiting], deadline):
                    break
        return DrainResult(tuple(sorted(latest.values(), key=lambda p: p.seq)))

    async def flush(self, timeout: float) -> None:  # noqa: ASYNC109
        """Deliver what is due now (at shutdown: what the last sweep queued), for at most
        ``timeout`` seconds; what is left stays queued for the next process."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(StoreUnavailable):
            async with self._running():
                while not self._closing and time.monotonic() < deadline:
                    busy = self._busy()
                    if busy:
                        await asyncio.wait(busy, timeout=deadline - time.monotonic())
                        continue
                    # Nothing is being sent: a round begun now says whether anything is due.
                    if not await self._next_round(deadline) or not self._busy():
                        return

    # --- waiting on the executor ---------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        """The loop runs while a caller waits: the one :meth:`start` began, or one of the
        caller's own, stopped (after its round) when the last caller is done."""
        if self._loop_task is None and not self._closing:
            self._start_loop()
        self._callers += 1
        try:
            yield
        finally:
            self._callers -= 1
            task = self._loop_task
            if self._callers == 0 and not self._started and task is not None:
                self._loop_stop.set()
                self._wake.set()
                self._loop_task = None
                try:
                    await task
                except asyncio.CancelledError:
                    task.cancel()
                    raise

    def _start_loop(self) -> None:
        self._loop_stop = asyncio.Event()
        self._loop_task = asyncio.create_task(self._loop(self._loop_stop), name="delivery-executor")

    def _busy(self, channels: Iterable[str] | None = None) -> list[asyncio.Task[None]]:
        """The workers sending now (to ``channels`` only, if given)."""
        chosen = self._workers if channels is None else {c: self._workers.get(c) for c in channels}
        return [w for w in chosen.values() if w is not None and not w.done()]

    async def _progress(self, waiting: list[QueuedPost], deadline: float) -> bool:
        """Wait until something may have become of ``waiting`` (open posts); False when none of
        them can go before ``deadline``, after what is being sent now is out."""
        channels = {p.channel for p in waiting}
        waiter = _Waiter({p.id for p in waiting})
        self._waiters.append(waiter)
        try:
            if not self._busy(channels):
                # Nothing of them is being sent: a round begun now starts what is due.
                await self._next_round(deadline)
            ours = self._busy(channels)
            if ours:
                # Until a worker of theirs stops (done, or its channel must wait) or every one
                # of them is settled by this process, whichever comes first.
                bell = asyncio.ensure_future(waiter.bell.wait())
                try:
                    await asyncio.wait(
                        [*ours, bell],
                        timeout=max(deadline - time.monotonic(), 0.0),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    bell.cancel()
                return True
            if len(waiter.ids) < len(waiting):
                return True  # some went out during the round: read what became of them
        finally:
            self._waiters.remove(waiter)
        soonest = await self._soonest(channels)
        left = deadline - time.monotonic()
        if soonest >= left:
            # Parked, or due after the deadline: let what this process sends now finish (a
            # notice that a channel refuses the bot, say), then tell the caller.
            busy = self._busy()
            if busy and left > 0:
                await asyncio.wait(busy, timeout=left)
            return False
        # Due later within the deadline; or due now but held by another replica, which is
        # heard of by looking again after a poll.
        await self._nap(soonest if soonest > 0 else self.poll_interval, deadline)
        return True

    async def _next_round(self, deadline: float) -> bool:
        """Wake the loop and wait until a round begun after now has ended (False: the
        deadline came first, or the executor closed)."""
        target = self._rounds_begun + 1
        self.wake()
        while self._rounds_ended < target:
            bell = self._round_bell
            left = deadline - time.monotonic()
            if left <= 0 or self._closing:
                return False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await bell.wait()
        return True

    async def _nap(self, seconds: float, deadline: float) -> None:
        """Wait ``seconds`` (not past ``deadline``), or until the executor closes."""
        left = min(seconds, deadline - time.monotonic())
        if left > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._closed.wait()

    async def _soonest(self, channels: Iterable[str]) -> float:
        """Seconds until a post of ``channels`` may be attempted: its oldest post's time, or
        the end of its (or the token's) parking; 0 for now."""
        now = self.clock()
        parked = {p.channel: p.next_try for p in await self.store.outbox.channel_problems()}
        soonest = math.inf
        for channel in sorted(channels):
            head = await self.store.outbox.head_post(channel)
            at = now if head is None else max(now, head.not_before)
            for key in (channel, EVERY_CHANNEL):
                if key in parked:
                    at = max(at, parked[key])
            soonest = min(soonest, (at - now).total_seconds())
        return soonest

    def _ring_round(self) -> None:
        bell, self._round_bell = self._round_bell, asyncio.Event()
        bell.set()

    def _settle(self, post_id: str) -> None:
        """This process is done with ``post_id``: callers waiting for it hear so."""
        for waiter in self._waiters:
            waiter.ids.discard(post_id)
            if not waiter.ids:
                waiter.bell.set()

    # --- the loop ------------------------------------------------------------------------------

    async def _loop(self, stop: asyncio.Event) -> None:
        while not self._closing and not stop.is_set():
            self._rounds_begun += 1
            number = self._rounds_begun
            try:
                async with self._round_lock:
                    await self._round()
                if self._store_down_since is not None:
                    log.info("delivery: the database answers again")
                    self._store_down_since = None
            except StoreUnavailable as exc:
                if self._store_down_since is None:
                    self._store_down_since = time.monotonic()
                    log.warning("delivery: %s; posts wait until it is back", exc)
            except Exception:
                log.exception("delivery: an unexpected error; trying again shortly")
            finally:
                self._rounds_ended = number
                self._ring_round()
            if stop.is_set():
                return
            await self._idle(self.poll_interval)

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        self._wake.clear()

    async def _round(self) -> None:
        """Start a worker for every channel with something due that no one else holds."""
        now = self.clock()
        parkings = self._parkings
        due = await self.store.outbox.due_channels(now)
        # The store, which every replica writes, says these channels (and the token, if any is
        # due) are not parked (any more): what this process last heard is stale, unless it
        # parked something while the store was read.
        fresh = parkings == self._parkings
        if due and fresh:
            self._parked.pop(EVERY_CHANNEL, None)
        for channel in due:
            if self._closing:
                return
            worker = self._workers.get(channel)
            if worker is not None and not worker.done():
                continue
            resting = self._resting.get(channel)
            if resting is not None and resting > now:
                continue  # its oldest post waits; a later one being due does not make it go
            self._resting.pop(channel, None)
            if fresh:
                self._parked.pop(channel, None)
            key = f"outbox:{channel}"
            if not await self.store.claims.claim_run(key, self.owner, now=now, lease=self.lease):
                continue  # another replica delivers this channel
            self._workers[channel] = asyncio.create_task(
                self._work(channel, key), name=f"deliver-{channel}"
            )
        self.last_round_ok = time.time()
        if self.metrics is not None:
            counts = await self.store.outbox.count_posts()
            self.metrics.outbox_waiting.set(sum(counts.get(s, 0) for s in OutboxState.OPEN))
            self.metrics.channels_parked.set(len(await self.store.outbox.channel_problems()))

    async def _work(self, channel: str, key: str) -> None:
        """Deliver ``channel``'s posts in order until it is empty or must wait."""
        try:
            while not self._closing and not self._is_parked(channel):
                post = await self.store.outbox.head_post(channel)
                if post is None:
                    return
                if post.not_before > self.clock():
                    self._resting[channel] = post.not_before
                    return
                if not await self.store.claims.renew_claim(
                    key, self.owner, now=self.clock(), lease=self.lease
                ):
                    log.info("delivery to %s: another replica took the channel over", channel)
                    return
                if await self._deliver(post) is _Next.STOP:
                    return
        except StoreUnavailable as exc:
            log.warning("delivery to %s stopped: %s", channel, exc)
        except Exception:
            log.exception("delivery to %s stopped on an unexpected error", channel)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.store.claims.release_run(key, self.owner))
            self._wake.set()  # the loop may start the channel again if something is due

    def _is_parked(self, channel: str) -> bool:
        now = self.clock()
        return any(self._parked.get(key, now) > now for key in (channel, EVERY_CHANNEL))

    # --- one post ------------------------------------------------------------------------------

    async def _deliver(self, post: QueuedPost) -> _Next:
        if post.method == Method.UPDATE:
            return await self._update(post)
        return await self._post(post)

    async def _update(self, post: QueuedPost) -> _Next:
        now = self.clock()
        if await self.store.outbox.supersede(post, now=now):
            self._count(post, "superseded")
            return _Next.CONTINUE
        target = post.target_ts
        if target is None:
            if post.parent_state == OutboxState.PENDING or post.parent_state == OutboxState.SENDING:
                # Queued before its message was out (the message is in another channel's
                # queue, or was re-queued): wait for it.
                await self.store.outbox.mark_retry(
                    post.seq,
                    not_before=now + self.backoff(1, None),
                    error="waiting_for_its_message",
                )
                return _Next.STOP
            await self.store.outbox.mark_failed(post.seq, error="no_message_to_update", now=now)
            self._count(post, "failed")
            return _Next.CONTINUE
        await self.pacer.wait(post.channel, update=True)
        if self._is_parked(post.channel):
            return _Next.STOP
        try:
            await self.sender.deliver_update(
                post.channel, target, post.payload, text_only=post.text_only
            )
        except SendFailure as failure:
            return await self._failed(post, failure)
        finally:
            self.pacer.answered(post.channel, update=True)
        await self.store.outbox.mark_sent(post.seq, target, now=self.clock())
        self._count(post, "sent")
        log.info("updated %s: ts %s", post.describe(), target)
        return _Next.CONTINUE

    async def _post(self, post: QueuedPost) -> _Next:
        now = self.clock()
        thread_ts: str | None = None
        if post.parent_id is not None or post.parent_ts is not None:
            thread_ts = post.target_ts
            if thread_ts is None:
                if post.parent_state in OutboxState.OPEN:
                    await self.store.outbox.mark_retry(
                        post.seq,
                        not_before=now + self.backoff(1, None),
                        error="waiting_for_its_thread",
                    )
                    return _Next.STOP
                # Its thread's first post was given up (or is long gone): say it at top level
                # rather than not at all.
                log.warning("%s: its thread is not in Slack; posting at top level", post.describe())
        if post.in_doubt or post.state == OutboxState.SENDING:
            try:
                found = await self._find(post, thread_ts)
            except SendFailure as failure:
                return await self._failed(post, failure)
            if found is not None:
                await self.store.outbox.mark_sent(post.seq, found, now=self.clock())
                self._count(post, "found")
                log.info(
                    "%s was already in Slack (ts %s); not posted again", post.describe(), found
                )
                return await self._recovered(post)
        await self.store.outbox.mark_sending(post.seq, now=self.clock())
        # The turn is taken after the write, just before the call: the pace then spaces the
        # calls as Slack receives them, not as the database happened to answer (its jitter made
        # a strict Slack refuse a post a second).
        await self.pacer.wait(post.channel)
        if self._is_parked(post.channel):
            # Another worker of this process just found the channel (or the token) refused.
            await self.store.outbox.mark_retry(
                post.seq, not_before=self.clock(), error="parked", in_doubt=post.in_doubt
            )
            return _Next.STOP
        try:
            if post.kind.is_file:
                upload = FileUpload.from_payload(post.payload)
                ts = await self.sender.deliver_file(post.channel, upload, thread_ts=thread_ts)
            else:
                ts = await self.sender.deliver_post(
                    post.channel,
                    post.payload,
                    post_id=post.id,
                    thread_ts=thread_ts,
                    text_only=post.text_only,
                )
        except SendFailure as failure:
            return await self._failed(post, failure)
        finally:
            self.pacer.answered(post.channel)
        await self.store.outbox.mark_sent(post.seq, ts, now=self.clock())
        self._count(post, "sent")
        log.info("posted %s: ts %s", post.describe(), ts)
        self._find_failures.pop(post.id, None)
        if post.kind == PostKind.DIGEST and self.metrics is not None:
            self.metrics.record_digest_posted(time.time())
        return await self._recovered(post)

    async def _find(self, post: QueuedPost, thread_ts: str | None) -> str | None:
        """The ts of ``post`` if an attempt in doubt did go through; None to post (again)."""
        if not self.can_verify:
            return None
        since = (post.first_sent_at or post.created_at).timestamp()
        try:
            if post.kind.is_file:
                # A file carries no metadata: its name and title in that thread, since then.
                upload = FileUpload.from_payload(post.payload)
                return await self.sender.find_file(
                    post.channel, upload, since=since, thread_ts=thread_ts
                )
            return await self.sender.find_post(
                post.channel, post.id, since=since, thread_ts=thread_ts
            )
        except SendFailure as failure:
            if failure.verdict == Verdict.UNSEARCHABLE:
                self.can_verify = False
                log.warning(
                    "the bot token may not read channel history (%s): a post whose answer is "
                    "lost is posted again, so it may appear twice%s",
                    failure.code,
                    f"; {failure.hint}" if failure.hint else "",
                )
                return None
            if failure.verdict in (Verdict.CHANNEL, Verdict.AUTH):
                raise
            tries = self._find_failures.get(post.id, 0) + 1
            self._find_failures[post.id] = tries
            if tries >= FIND_TRIES:
                log.warning(
                    "%s: cannot tell whether it was posted (%s); posting it again",
                    post.describe(),
                    failure.code,
                )
                self._find_failures.pop(post.id, None)
                return None
            raise

    async def _recovered(self, post: QueuedPost) -> _Next:
        """A post went through: a channel (or the token) parked before works again."""
        now = self.clock()
        for key in (post.channel, EVERY_CHANNEL):
            self._parked.pop(key, None)
            problem = await self.store.outbox.unpark_channel(key)
            if problem is not None:
                where = "every channel" if key == EVERY_CHANNEL else key
                log.info("Slack takes posts to %s again (it refused them: %s)", where, problem.code)
                if self.watch is not None and key != EVERY_CHANNEL:
                    await self.watch.channel_recovered(key, now)
        return _Next.CONTINUE

    async def _failed(self, post: QueuedPost, failure: SendFailure) -> _Next:
        now = self.clock()
        verdict = failure.verdict
        update = post.method == Method.UPDATE
        if verdict == Verdict.RETRY:
            delay = self.backoff(post.attempts, failure.retry_after)
            self.pacer.throttled(
                post.channel,
                delay.total_seconds(),
                retry_after=failure.retry_after,
                update=update,
            )
            await self.store.outbox.mark_retry(post.seq, not_before=now + delay, error=failure.code)
            self._count(post, "retried")
            log.info("%s: %s; waiting %.0f s", post.describe(), failure.code, delay.total_seconds())
            return _Next.STOP
        if verdict == Verdict.IN_DOUBT:
            delay = self.backoff(post.attempts, None)
            await self.store.outbox.mark_retry(
                post.seq, not_before=now + delay, error=failure.code, in_doubt=not update
            )
            self._count(post, "in_doubt")
            log.warning(
                "%s: %s; %s in %.0f s",
                post.describe(),
                failure.code,
                "trying again" if update else "looking for it before posting again",
                delay.total_seconds(),
            )
            return _Next.STOP
        if verdict == Verdict.CONTENT and not post.text_only:
            await self.store.outbox.mark_text_only(post.seq)
            self._count(post, "text_only")
            log.warning(
                "%s: Slack refused it (%s); sending its text only", post.describe(), failure.code
            )
            return _Next.CONTINUE
        if verdict in (Verdict.CHANNEL, Verdict.AUTH):
            key = post.channel if verdict == Verdict.CHANNEL else EVERY_CHANNEL
            await self.store.outbox.mark_retry(
                post.seq, not_before=now, error=failure.code, in_doubt=False
            )
            fresh = await self.store.outbox.park_channel(
                key, code=failure.code, now=now, next_try=now + PARKED_RETRY
            )
            self._parked[key] = now + PARKED_RETRY
            self._parkings += 1
            self._count(post, "parked")
            if fresh:
                await self._report_parked(key, failure.code, now)
            return _Next.STOP
        # Refused for good: the content again (as text), the message to update is gone, or
        # an answer not understood three times.
        if verdict in (Verdict.GONE, Verdict.CONTENT) or post.attempts >= OTHER_ATTEMPTS:
            await self.store.outbox.mark_failed(post.seq, error=failure.code, now=now)
            self._count(post, "failed")
            log.error("%s was given up: Slack refused it (%s)", post.describe(), failure.code)
            return _Next.CONTINUE
        delay = self.backoff(post.attempts, None)
        await self.store.outbox.mark_retry(post.seq, not_before=now + delay, error=failure.code)
        self._count(post, "retried")
        log.warning(
            "%s: %s; trying again in %.0f s", post.describe(), failure.code, delay.total_seconds()
        )
        return _Next.STOP

    async def _report_parked(self, key: str, code: str, now: datetime) -> None:
        if key == EVERY_CHANNEL:
            log.error(
                "Slack refuses the bot token (%s): nothing can be posted until it is fixed; "
                "posts wait and are tried again hourly and at restart",
                code,
            )
            return
        log.error(
            "Slack refuses posts to channel %s (%s): its posts wait and are tried again hourly "
            "and at restart; invite the bot (/invite @Backups) or fix the config",
            key,
            code,
        )
        if self.watch is not None:
            await self.watch.channel_refused(key, code, now)

    def _count(self, post: QueuedPost, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.count_delivery(post.kind.value, outcome)
        if outcome in _SETTLED:
            self._settle(post.id)
