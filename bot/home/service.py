"""The Home tab, read from the store: the incidents on the routes that mention the person, their
snoozes, the fleet's counts from the freshness ledger, and the last sweep and digest.

Nothing here reads the cloud or Slack: opening the tab costs a few reads of the database, however
large the fleet. A route that mentions a user group is not taken to mention its members (the
store does not know them, and the tab asks Slack nothing); a person no route names by id sees
every route's incidents, and the tab says why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from bot.alerts.model import AlertStatus
from bot.alerts.sweep import alert_route_key
from bot.chat.card import Card, Part
from bot.config import BotConfig
from bot.home.messages import render_home
from bot.home.model import HomeData, fleet_counts, incident_order
from bot.store import Store
from bot.store.facts import MARKER_LAST_DIGEST, MARKER_LAST_SWEEP

#: What the silences feature shows one person on their Home tab (their own silences), as parts;
#: The wiring passes bot.silences' ``SilenceService.home_parts``; None shows none.
SilenceParts = Callable[[str, datetime], Awaitable[Sequence[Part]]]


class HomeService:
    """Renders one person's Home tab from the store."""

    def __init__(
        self, store: Store, config: BotConfig, *, silences: SilenceParts | None = None
    ) -> None:
        self.store = store
        self.config = config
        #: YOUR SILENCES: the silences feature's parts for the person.
        self.silences = silences

    async def read(self, user_id: str, *, now: datetime) -> HomeData:
        """What the tab shows ``user_id`` at ``now``, from the store alone."""
        mine = {alert_route_key(route) for route in self.config.alerts if user_id in route.mention}
        open_entries = await self.store.incidents.list_alerts(open_only=True)
        shown = [e for e in open_entries if e.route_key in mine] if mine else open_entries
        snoozes = [
            e for e in open_entries if e.status == AlertStatus.SNOOZED and e.snoozed_by == user_id
        ]
        latest = await self.store.ledger.latest()
        coverage = await self.store.coverage.list()
        counts, watched = fleet_counts(latest, coverage, now)
        return HomeData(
            user_id=user_id,
            now=now,
            incidents=sorted(shown, key=incident_order),
            routes_mention_user=bool(mine),
            snoozes=sorted(snoozes, key=lambda e: (e.snoozed_until or now, e.cluster_id)),
            counts=counts,
            watched=watched,
            last_sweep=await self.store.facts.get_marker(MARKER_LAST_SWEEP),
            last_digest=await self.store.facts.get_marker(MARKER_LAST_DIGEST),
        )

    async def render(self, user_id: str, *, now: datetime, notice: str | None = None) -> Card:
        """The tab of ``user_id`` as a card, in the current locale; ``notice`` (mrkdwn) says
        what their last click from the tab did."""
        data = await self.read(user_id, now=now)
        silences = await self.silences(user_id, now) if self.silences is not None else ()
        return render_home(data, notice=notice, silences=silences)
