"""Following backups that people started from Slack until their operation is done.

Each started backup is recorded in the store first, so that a restart (or another replica) keeps
following it: :meth:`OperationFollower.follow` claims the operation in the store (a run claim
``operation:<id>`` with a lease it renews), polls Operation.get until the operation is done, and
then, in one transaction, marks it finished and queues the message saying how it went (in the
thread it was asked from) for the delivery executor. A follower stopped by a shutdown hands its
claim back, so that the next process to start picks the operation up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from bot import clock
from bot.alerts.messages import render_operation_outcome
from bot.backup.model import OperationOutcome
from bot.chat.card import Chat
from bot.cloud.client import CloudClient
from bot.cloud.models import Operation
from bot.errors import CloudError, NotFound
from bot.outbox.change import Change, OperationFinish
from bot.outbox.posts import PostKind, make_post
from bot.slack.blocks import SLACK
from bot.store import PendingOperation, Store

log = logging.getLogger(__name__)

#: Outcomes recorded in the store.
OUTCOME_DONE = OperationOutcome.DONE
OUTCOME_FAILED = OperationOutcome.FAILED
OUTCOME_GAVE_UP = OperationOutcome.GAVE_UP
OUTCOME_UNKNOWN = OperationOutcome.UNKNOWN

#: How often a running operation is polled.
DEFAULT_POLL_INTERVAL = 10.0
#: A backup still running after this long is no longer followed (it may still finish).
DEFAULT_GIVE_UP_AFTER = timedelta(hours=6)


class OperationFollower:
    """Background tasks that follow started backups; one per process."""

    def __init__(
        self,
        cloud: CloudClient,
        store: Store,
        *,
        owner: str,
        lease: timedelta = timedelta(minutes=5),
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        give_up_after: timedelta = DEFAULT_GIVE_UP_AFTER,
        queued: Callable[[], None] | None = None,
        chat: Chat = SLACK,
    ) -> None:
        self.cloud = cloud
        self.chat = chat
        self.store = store
        self.owner = owner
        self.lease = lease
        self.poll_interval = poll_interval
        self.give_up_after = give_up_after
        self.queued = queued
        self._tasks: dict[str, asyncio.Task[str | None]] = {}

    @property
    def following(self) -> list[str]:
        """Ids of the operations being followed now."""
        return [op_id for op_id, task in self._tasks.items() if not task.done()]

    def follow(self, pending: PendingOperation) -> asyncio.Task[str | None]:
        """Follow ``pending`` in the background (once: a second call returns the same task)."""
        task = self._tasks.get(pending.operation_id)
        if task is not None and not task.done():
            return task
        task = asyncio.create_task(
            self._follow(pending), name=f"follow-operation-{pending.operation_id}"
        )
        self._tasks[pending.operation_id] = task
        return task

    async def resume(self) -> list[str]:
        """Follow every started backup the store still has open; their ids."""
        pending = await self.store.operations.list_pending_operations()
        for item in pending:
            self.follow(item)
        return [item.operation_id for item in pending]

    async def wait(self) -> None:
        """Wait until every followed operation is reported (tests, a graceful drain)."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop following; claims are handed back so that the next process resumes them."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    # --- one operation -------------------------------------------------------------------------

    async def _follow(self, pending: PendingOperation) -> str | None:
        """The outcome recorded, or None when another process follows it."""
        key = f"operation:{pending.operation_id}"
        if not await self.store.claims.claim_run(
            key, self.owner, now=clock.now(), lease=self.lease
        ):
            log.info("operation %s is followed by another process", pending.operation_id)
            return None
        try:
            outcome, operation = await self._poll(pending, key)
            await self._finish(pending, outcome, operation)
            await self.store.claims.finish_run(key, self.owner, now=clock.now())
            return outcome
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.store.claims.release_run(key, self.owner))
            raise
        except Exception:
            log.exception("following operation %s failed", pending.operation_id)
            with contextlib.suppress(Exception):
                await self.store.claims.release_run(key, self.owner)
            return None

    async def _poll(self, pending: PendingOperation, key: str) -> tuple[str, Operation | None]:
        deadline = pending.requested_at + self.give_up_after
        last: Operation | None = None
        while True:
            try:
                last = await self.cloud.get_operation(pending.operation_id)
            except NotFound:
                return OUTCOME_UNKNOWN, last
            except CloudError as exc:
                # The cloud is having a moment: the operation goes on without us; ask again.
                log.warning("operation %s: cannot read it now: %s", pending.operation_id, exc)
            else:
                if last.done:
                    return (OUTCOME_FAILED if last.failed else OUTCOME_DONE), last
            if clock.now() >= deadline:
                return OUTCOME_GAVE_UP, last
            await asyncio.sleep(self.poll_interval)
            await self.store.claims.renew_claim(key, self.owner, now=clock.now(), lease=self.lease)

    async def _finish(
        self, pending: PendingOperation, outcome: str, operation: Operation | None
    ) -> None:
        """Mark the operation done and queue the message saying how it went, at once."""
        now = clock.now()
        change = Change(finish_operation=OperationFinish(pending.operation_id, outcome, now))
        if pending.channel:
            name = None
            if operation is not None and operation.response:
                raw = operation.response.get("name")
                name = raw if isinstance(raw, str) and raw else None
            message = render_operation_outcome(
                OperationOutcome(outcome),
                cluster_label=name or pending.cluster_id,
                requested_by=pending.requested_by,
                operation_id=pending.operation_id,
                requested_at=pending.requested_at,
                error=operation.error.message if operation and operation.error else None,
                now=now,
            )
            change.posts.append(
                make_post(
                    PostKind.OPERATION,
                    pending.channel,
                    message,
                    chat=self.chat,
                    subject=pending.operation_id,
                    parent=(None, pending.thread_ts),
                )
            )
        await self.store.commit(change, now=now)
        if change.posts and self.queued is not None:
            self.queued()
