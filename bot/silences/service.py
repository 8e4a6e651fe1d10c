"""The silence commands: ``silence``, ``silences``, ``unsilence``; a feature of the router.

A silence is written to the store and read by every sweep of every replica
(:meth:`bot.store.silences.Silences.active`), so it holds across restarts and replicas and
ends by itself; the sweep (:func:`bot.alerts.policy.evaluate`) is what pages nobody while it
holds and says its end once. Nothing here reads the cloud.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.chat.actions import Answer, BoundAction, Invocation
from bot.chat.card import Card, Part
from bot.chat.mrkdwn import escape
from bot.cloud.models import Cluster
from bot.commands.grammar import SilenceCmd, SilencesCmd, UnsilenceCmd
from bot.commands.router import CommandRoute
from bot.commands.strings import PREFIX
from bot.config import BotConfig
from bot.errors import UsageError
from bot.fleet.match import matches, parse_match
from bot.i18n.catalog import _
from bot.silences.messages import (
    render_home_silences,
    render_silenced,
    render_silences,
    render_unsilenced,
)
from bot.silences.model import MAX_REASON, Silence

if TYPE_CHECKING:
    from bot.store.store import Store

log = logging.getLogger(__name__)


class SilenceService:
    """Sets, lists and lifts silences."""

    def __init__(self, store: Store, config: BotConfig) -> None:
        self.store = store
        self.config = config

    def commands(self) -> Iterable[CommandRoute[Any]]:
        async def silence(command: SilenceCmd, inv: Invocation, now: datetime) -> Answer:
            card = await self.silence(
                command.match,
                now + command.duration,
                reason=command.reason,
                user=inv.user_id,
                now=now,
            )
            return Answer([card], ephemeral=False)

        async def silences(command: SilencesCmd, inv: Invocation, now: datetime) -> Answer:
            return Answer([await self.listing(now=now)], ephemeral=not command.share)

        async def unsilence(command: UnsilenceCmd, inv: Invocation, now: datetime) -> Answer:
            card = await self.unsilence(command.silence_id, user=inv.user_id, now=now)
            return Answer([card], ephemeral=False)

        yield CommandRoute(SilenceCmd, silence, reaches_cloud=False)
        yield CommandRoute(SilencesCmd, silences, reaches_cloud=False)
        yield CommandRoute(UnsilenceCmd, unsilence, reaches_cloud=False)

    def actions(self) -> Iterable[BoundAction]:
        return ()

    async def silence(
        self, match: str, ends_at: datetime, *, reason: str, user: str, now: datetime
    ) -> Card:
        """Record a silence of ``match`` until ``ends_at``; say how many watched clusters it
        holds now (from what the sweeps saw: no cloud read)."""
        try:
            parsed = parse_match(match)
        except ValueError:
            raise UsageError(
                _("`{match}` is not a match I can read.").format(match=escape(match)),
                hint=_(
                    "Write `folder:<id>`, `label:<name>=<value>`, `environment:<ENV>` or a "
                    "cluster id or name."
                ),
            ) from None
        stored = await self.store.silences.add(
            match, by=user, now=now, ends_at=ends_at, reason=reason[:MAX_REASON]
        )
        log.info("%s silenced %s until %s (silence %d)", user, match, ends_at, stored.id)
        watched = [e for e in (await self.store.coverage.list()).values() if e.watching]
        holding = sum(
            1
            for e in watched
            if matches(
                parsed,
                Cluster.model_validate(
                    {
                        "id": e.cluster_id,
                        "name": e.name,
                        "folderId": e.folder_id,
                        "labels": dict(e.labels),
                        "environment": e.environment or "ENVIRONMENT_UNSPECIFIED",
                    }
                ),
            )
        )
        return render_silenced(stored, matching=holding if watched else None)

    async def listing(self, *, now: datetime) -> Card:
        return render_silences(await self.active(now))

    async def active(self, now: datetime) -> list[Silence]:
        """The silences that hold at ``now``, the soonest to end first."""
        return await self.store.silences.active(now)

    async def home_parts(self, user_id: str, now: datetime) -> Sequence[Part]:
        """What ``user_id``'s Home tab shows of their own silences (bot.home's ``silences``)."""
        mine = [s for s in await self.store.silences.active(now) if s.created_by == user_id]
        return render_home_silences(mine)

    async def unsilence(self, silence_id: int, *, user: str, now: datetime) -> Card:
        lifted = await self.store.silences.lift(silence_id, by=user, now=now)
        if lifted is not None:
            log.info("%s lifted silence %d (%s)", user, silence_id, lifted.match)
            return render_unsilenced(lifted)
        known = await self.store.silences.get(silence_id)
        hint = _("Type `{command}` to see the silences that hold.").format(
            command=" ".join((PREFIX, "silences"))
        )
        if known is None:
            raise UsageError(_("There is no silence {id}.").format(id=silence_id), hint=hint)
        raise UsageError(_("Silence {id} is over already.").format(id=silence_id), hint=hint)
