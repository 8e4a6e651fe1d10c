"""The outbox: every post the bot sends, queued by :meth:`bot.store.Store.commit` in the
transaction of the state that calls for it, then taken by the delivery executor in ``seq`` order
per channel, with the channels that refused the bot parked until they are tried again.
See :mod:`bot.outbox.executor`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from bot.outbox.change import (
    EVERY_CHANNEL,
    ChannelProblem,
    OutboxState,
    QueuedPost,
    dump_payload,
    load_payload,
)
from bot.outbox.posts import Method, OutboundPost, PostKind
from bot.store.db import Database
from bot.store.facts import MARKER_LAST_DIGEST, write_marker
from bot.store.rows import from_row, to_row
from bot.store.sql import dialect_insert
from bot.store.tables import channel_problems, outbox

#: The parent row of a queued post (its thread parent, or the message it replaces).
_parent = outbox.alias("parent")


class Outbox:
    """The queued posts and the parked channels; each method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- reading the queue -------------------------------------------------------------------

    async def due_channels(self, now: datetime) -> list[str]:
        """Channels with a post to send by ``now``, oldest queued first; none while the token
        is parked, and not the channels parked until later."""
        o, p = outbox.c, channel_problems.c
        parked = select(p.channel).where(p.next_try > now)
        query = (
            select(o.channel)
            .where(
                o.state.in_(OutboxState.OPEN),
                o.not_before <= now,
                o.channel.not_in(parked),
                ~exists(parked.where(p.channel == EVERY_CHANNEL)),
            )
            .group_by(o.channel)
            .order_by(func.min(o.seq))
        )
        async with self._db.reading() as conn:
            return [str(channel) for channel in (await conn.scalars(query))]

    async def head_post(self, channel: str) -> QueuedPost | None:
        """The oldest post of ``channel`` not yet sent, with its parent's state and ts."""
        o = outbox.c
        query = (
            _queued_query()
            .where(o.channel == channel, o.state.in_(OutboxState.OPEN))
            .order_by(o.seq)
            .limit(1)
        )
        async with self._db.reading() as conn:
            row = (await conn.execute(query)).first()
            return None if row is None else _queued_from_row(row)

    async def get_post(self, post_id: str) -> QueuedPost | None:
        """The queued post ``post_id``, in whatever state."""
        query = _queued_query().where(outbox.c.id == post_id)
        async with self._db.reading() as conn:
            row = (await conn.execute(query)).first()
            return None if row is None else _queued_from_row(row)

    async def list_posts(
        self, *, states: tuple[str, ...] | None = None, ids: list[str] | None = None
    ) -> list[QueuedPost]:
        """Queued posts in queue order, optionally of some states or ids only."""
        query = _queued_query().order_by(outbox.c.seq)
        if states is not None:
            query = query.where(outbox.c.state.in_(states))
        if ids is not None:
            query = query.where(outbox.c.id.in_(ids))
        async with self._db.reading() as conn:
            return [_queued_from_row(row) for row in await conn.execute(query)]

    async def count_posts(self) -> dict[str, int]:
        """How many queued posts are in each state."""
        o = outbox.c
        async with self._db.reading() as conn:
            rows = await conn.execute(select(o.state, func.count()).group_by(o.state))
            return {str(state): int(count) for state, count in rows}

    # --- what an attempt did -----------------------------------------------------------------

    async def mark_sending(self, seq: int, *, now: datetime) -> None:
        """An attempt starts: from here until its answer is recorded the post is in doubt."""
        o = outbox.c
        await self._update(
            seq,
            state=OutboxState.SENDING,
            attempts=o.attempts + 1,
            first_sent_at=func.coalesce(o.first_sent_at, now),
        )

    async def mark_sent(self, seq: int, ts: str, *, now: datetime) -> None:
        """Slack has the post (at ``ts``). A digest's top post also sets ``last_digest``."""
        o = outbox.c
        async with self._db.writing() as conn:
            result = await conn.execute(
                update(outbox)
                .where(o.seq == seq)
                .values(state=OutboxState.SENT, ts=ts, finished_at=now, in_doubt=False, error=None)
                .returning(o.kind)
            )
            if result.scalar() == PostKind.DIGEST.value:
                await write_marker(conn, MARKER_LAST_DIGEST, now)

    async def mark_retry(
        self, seq: int, *, not_before: datetime, error: str, in_doubt: bool | None = None
    ) -> None:
        """Not sent this time: try again at ``not_before``. ``in_doubt`` True means it may be in
        the channel (look before posting again); None keeps what the row said."""
        values: dict[str, Any] = {
            "state": OutboxState.PENDING,
            "not_before": not_before,
            "error": error[:255],
        }
        if in_doubt is not None:
            values["in_doubt"] = in_doubt
        await self._update(seq, **values)

    async def mark_text_only(self, seq: int) -> None:
        """Slack refused the blocks: the post goes again, at once, as its text only."""
        await self._update(seq, state=OutboxState.PENDING, text_only=True)

    async def mark_failed(self, seq: int, *, error: str, now: datetime) -> None:
        """Give the post up: it is refused for good."""
        await self._update(seq, state=OutboxState.FAILED, error=error[:255], finished_at=now)

    async def supersede(self, post: QueuedPost, *, now: datetime) -> bool:
        """Drop an update if a newer one of the same message waits behind it; whether it did."""
        o = outbox.c
        n = outbox.alias("newer").c
        newer_update = select(n.seq).where(
            n.channel == post.channel,
            n.method == Method.UPDATE.value,
            n.state == OutboxState.PENDING,
            n.seq > post.seq,
            _same_target(n, post),
        )
        async with self._db.writing() as conn:
            result = await conn.execute(
                update(outbox)
                .where(o.seq == post.seq, o.method == Method.UPDATE.value, exists(newer_update))
                .values(state=OutboxState.SUPERSEDED, finished_at=now)
                .returning(o.seq)
            )
            return result.first() is not None

    async def _update(self, seq: int, **values: Any) -> None:
        async with self._db.writing() as conn:
            await conn.execute(update(outbox).where(outbox.c.seq == seq).values(**values))

    # --- channels that refuse the bot --------------------------------------------------------

    async def park_channel(
        self, channel: str, *, code: str, now: datetime, next_try: datetime
    ) -> bool:
        """Hold every post of ``channel`` (``"*"``: of every channel) until ``next_try``;
        True when it was not parked before (a new problem, to report once)."""
        c = channel_problems.c
        async with self._db.writing() as conn:
            inserted = await conn.execute(
                dialect_insert(conn, channel_problems)
                .values(channel=channel, code=code[:255], since=now, next_try=next_try)
                .on_conflict_do_nothing(index_elements=[c.channel])
                .returning(c.channel)
            )
            if inserted.first() is not None:
                return True
            await conn.execute(
                update(channel_problems)
                .where(c.channel == channel)
                .values(code=code[:255], next_try=next_try)
            )
            return False

    async def unpark_channel(self, channel: str) -> ChannelProblem | None:
        """The channel took a post again: forget its problem; the problem it had, if any."""
        c = channel_problems.c
        async with self._db.writing() as conn:
            result = await conn.execute(
                delete(channel_problems).where(c.channel == channel).returning(*channel_problems.c)
            )
            row = result.first()
        return None if row is None else from_row(ChannelProblem, row)

    async def channel_problems(self) -> list[ChannelProblem]:
        """Every parked channel (``"*"`` for the token), by channel."""
        query = select(channel_problems).order_by(channel_problems.c.channel)
        async with self._db.reading() as conn:
            return [from_row(ChannelProblem, row) for row in await conn.execute(query)]

    async def retry_parked(self, *, now: datetime) -> int:
        """Try every parked channel again now (at start, after a config reload); how many."""
        c = channel_problems.c
        async with self._db.writing() as conn:
            result = await conn.execute(
                update(channel_problems).where(c.next_try > now).values(next_try=now)
            )
            return result.rowcount or 0


async def write_posts(conn: AsyncConnection, posts: Iterable[OutboundPost], now: datetime) -> None:
    """Queue ``posts`` within ``conn``'s transaction, dated ``now``."""
    rows = [
        to_row(
            post,
            outbox,
            kind=post.kind.value,
            method=post.method.value,
            payload=dump_payload(post.payload),
            subject=post.subject[:255],
            state=OutboxState.PENDING,
            attempts=0,
            created_at=now,
            not_before=now,
            first_sent_at=None,
            in_doubt=False,
            text_only=False,
            finished_at=None,
            ts=None,
            error=None,
        )
        for post in posts
    ]
    if rows:
        await conn.execute(insert(outbox), rows)


def _queued_query() -> Select[Any]:
    """Queued posts with their parent's state and ts (named as the value's fields)."""
    return select(
        outbox,
        _parent.c.state.label("parent_state"),
        _parent.c.ts.label("parent_sent_ts"),
    ).outerjoin(_parent, _parent.c.id == outbox.c.parent_id)


def _queued_from_row(row: Row[Any]) -> QueuedPost:
    return from_row(QueuedPost, row, kind=PostKind(row.kind), payload=load_payload(row.payload))


def _same_target(columns: Any, post: QueuedPost) -> Any:
    """Rows that update the same message as ``post``."""
    if post.parent_id is not None:
        return columns.parent_id == post.parent_id
    if post.parent_ts is not None:
        return and_(columns.parent_id.is_(None), columns.parent_ts == post.parent_ts)
    return literal(False)
