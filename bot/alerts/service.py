"""People acting on incidents: the ``snooze`` and ``unsnooze`` commands, an alert's buttons and a
grouped alert's.

A click goes the way a sweep goes: one pure step of the state machine (:mod:`bot.alerts.policy`)
decides, the sweep's own plan (:func:`bot.alerts.plan.plan_route`) turns the decision into a
Change (the incident and the update of its alert, or of its grouped alert), and the Change is
committed with its posts, guarded by the version the incident was read at: a click racing a
sweep, or two clicks, never both win; the loser tries again on the fresh incident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.alerts import policy
from bot.alerts.actions import (
    ACKNOWLEDGE,
    ACKNOWLEDGE_ALL,
    RUNBOOK,
    SNOOZE_4H,
    SNOOZE_24H,
    SNOOZE_ALL_4H,
    SNOOZE_ALL_24H,
    UNACKNOWLEDGE,
    UNACKNOWLEDGE_ALL,
    UNSNOOZE,
    UNSNOOZE_ALL,
    AlertRef,
)
from bot.alerts.model import AlertEntry, AlertGroup, AlertStatus
from bot.alerts.plan import RouteView, Step, cluster_of, plan_route
from bot.alerts.policy import Decision
from bot.alerts.sweep import alert_route_key
from bot.chat.actions import Answer, BoundAction, Handler, Invocation
from bot.chat.card import Card, Chat
from bot.chat.mrkdwn import escape
from bot.cloud.client import CloudClient
from bot.cloud.models import Cluster
from bot.commands import strings
from bot.commands.grammar import SnoozeCmd, UnsnoozeCmd
from bot.commands.messages import render_ack
from bot.commands.router import CommandRoute
from bot.config import AlertRoute, BotConfig, Match
from bot.errors import BotError, UsageError
from bot.fleet.lookup import ClusterFinder
from bot.fleet.reader import ClusterReading, read_cluster
from bot.freshness.memory import had_schedule_ids
from bot.freshness.messages import utc_text
from bot.freshness.model import FreshnessReport
from bot.freshness.policy import classify, max_age_for
from bot.i18n.catalog import N_, _, ngettext
from bot.outbox.change import Change
from bot.store import Store

log = logging.getLogger(__name__)

#: A change to an incident: the pure step of the state machine applied to the entry as read.
_Step = Callable[[AlertEntry], Decision]

#: Tries of a read-decide-commit of one incident before giving up (each loser re-reads).
_SAVE_TRIES = 5

NO_LONGER_OPEN = N_("this alert is no longer open; nothing to change")
STORM_OVER = N_("this storm is over: every cluster in it has recovered")


class AlertService:
    """Answers what people do to incidents."""

    def __init__(
        self,
        cloud: CloudClient,
        store: Store,
        config: BotConfig,
        *,
        chat: Chat,
        finder: ClusterFinder | None = None,
        console_url: str = "",
        queued: Callable[[], None] | None = None,
    ) -> None:
        self.cloud = cloud
        self.store = store
        self.config = config
        self.chat = chat
        self.finder = finder or ClusterFinder(cloud, config)
        self.console_url = console_url
        #: Called after posts were queued in the outbox, so the executor sends them at once.
        self.queued = queued

    def commands(self) -> Iterable[CommandRoute[Any]]:
        async def snooze(command: SnoozeCmd, inv: Invocation, now: datetime) -> Answer:
            message = await self.snooze(
                command.cluster, command.duration, user=inv.user_id, now=now
            )
            return Answer([message])

        async def unsnooze(command: UnsnoozeCmd, inv: Invocation, now: datetime) -> Answer:
            return Answer([await self.unsnooze(command.cluster, user=inv.user_id, now=now)])

        yield CommandRoute(SnoozeCmd, snooze)
        yield CommandRoute(UnsnoozeCmd, unsnooze)

    def actions(self) -> Iterable[BoundAction]:
        async def acknowledge(ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
            message = await self.acknowledge(
                ref.cluster_id, ref.route_key, user=inv.user_id, now=now
            )
            return Answer([message])

        async def unacknowledge(ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
            message = await self.unacknowledge(
                ref.cluster_id, ref.route_key, user=inv.user_id, now=now
            )
            return Answer([message])

        async def unsnooze(ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
            _decision, cluster = await self._move(
                ref.cluster_id, ref.route_key, lambda e: policy.unsnooze(e, now=now), now=now
            )
            log.info("%s unsnoozed the alert of %s", inv.user_id, ref.cluster_id)
            return Answer([render_ack(_(strings.UNSNOOZED).format(cluster=cluster.display_name))])

        def snoozing(duration: timedelta) -> Handler[AlertRef]:
            async def snooze(ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
                message = await self.snooze_alert(
                    ref.cluster_id, ref.route_key, duration, user=inv.user_id, now=now
                )
                return Answer([message])

            return snooze

        async def acknowledge_all(group_id: str, inv: Invocation, now: datetime) -> Answer:
            return Answer([await self.acknowledge_group(group_id, user=inv.user_id, now=now)])

        async def unacknowledge_all(group_id: str, inv: Invocation, now: datetime) -> Answer:
            return Answer([await self.unacknowledge_group(group_id, user=inv.user_id, now=now)])

        async def unsnooze_all(group_id: str, inv: Invocation, now: datetime) -> Answer:
            def step(entry: AlertEntry) -> Decision:
                if entry.status != AlertStatus.SNOOZED:
                    return Decision(entry)
                return policy.unsnooze(entry, now=now)

            group, changed = await self.move_group(group_id, step, now=now)
            said = ngettext(
                "Unsnoozed {n} cluster of the storm in {group}: it fires again.",
                "Unsnoozed {n} clusters of the storm in {group}: they fire again.",
                changed,
            )
            log.info("%s unsnoozed %d clusters of group %s", inv.user_id, changed, group_id)
            return Answer([render_ack(said.format(n=changed, group=escape(group.label)))])

        def snoozing_all(duration: timedelta) -> Handler[str]:
            async def snooze_all(group_id: str, inv: Invocation, now: datetime) -> Answer:
                message = await self.snooze_group(group_id, duration, user=inv.user_id, now=now)
                return Answer([message])

            return snooze_all

        yield ACKNOWLEDGE.bind(acknowledge)
        yield UNACKNOWLEDGE.bind(unacknowledge)
        yield UNSNOOZE.bind(unsnooze)
        yield SNOOZE_4H.bind(snoozing(timedelta(hours=4)))
        yield SNOOZE_24H.bind(snoozing(timedelta(hours=24)))
        yield ACKNOWLEDGE_ALL.bind(acknowledge_all)
        yield UNACKNOWLEDGE_ALL.bind(unacknowledge_all)
        yield UNSNOOZE_ALL.bind(unsnooze_all)
        yield SNOOZE_ALL_4H.bind(snoozing_all(timedelta(hours=4)))
        yield SNOOZE_ALL_24H.bind(snoozing_all(timedelta(hours=24)))

        async def runbook(ref: AlertRef, inv: Invocation, now: datetime) -> Answer:
            # The link opened in the person's browser; nothing more to say.
            return Answer([])

        yield RUNBOOK.bind(runbook)

    # --- one cluster, all its routes: the commands ----------------------------------------------

    async def snooze(
        self, cluster_ref: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card:
        """Snooze every open incident of a cluster (all alert routes) for ``duration``."""
        cluster = await self.finder.find(cluster_ref)
        until = now + duration
        entries = await self._open_entries(cluster.id)
        if not entries:
            raise UsageError(
                _("{cluster} has no open alert to snooze").format(cluster=cluster.display_name)
            )
        for entry in entries:
            await self._move(
                entry.cluster_id,
                entry.route_key,
                lambda e: policy.snooze(e, until=until, user=user, now=now),
                now=now,
                cluster=cluster,
            )
        return render_ack(
            _(strings.SNOOZED).format(cluster=cluster.display_name, until=utc_text(until))
        )

    async def unsnooze(self, cluster_ref: str, *, user: str, now: datetime) -> Card:
        """End the snooze of every snoozed incident of a cluster."""
        cluster = await self.finder.find(cluster_ref)
        entries = [
            e for e in await self._open_entries(cluster.id) if e.status == AlertStatus.SNOOZED
        ]
        if not entries:
            raise UsageError(
                _("alerts for {cluster} are not snoozed").format(cluster=cluster.display_name)
            )
        for entry in entries:
            await self._move(
                entry.cluster_id,
                entry.route_key,
                lambda e: policy.unsnooze(e, now=now),
                now=now,
                cluster=cluster,
            )
        log.info("%s unsnoozed the alerts of %s", user, cluster.id)
        return render_ack(_(strings.UNSNOOZED).format(cluster=cluster.display_name))

    # --- one incident: an alert's buttons ------------------------------------------------------

    async def acknowledge(
        self, cluster_id: str, route_key: str, *, user: str, now: datetime
    ) -> Card:
        """Acknowledge: no more reminders until the incident resolves."""
        decision, cluster = await self._move(
            cluster_id, route_key, lambda e: policy.acknowledge(e, user=user, now=now), now=now
        )
        name = cluster.display_name
        if not decision.actions:
            said = _("The alert for `{cluster}` was already acknowledged by {who}.")
            return render_ack(said.format(cluster=name, who=decision.entry.acknowledged_by))
        said = _("Acknowledged the alert for `{cluster}`: no more reminders until it resolves.")
        return render_ack(said.format(cluster=name))

    async def unacknowledge(
        self, cluster_id: str, route_key: str, *, user: str, now: datetime
    ) -> Card:
        """Unacknowledge: the incident fires again, with its reminders."""
        decision, cluster = await self._move(
            cluster_id, route_key, lambda e: policy.unacknowledge(e, now=now), now=now
        )
        name = cluster.display_name
        if not decision.actions:
            said = _("The alert for `{cluster}` is not acknowledged; nothing to undo.")
            return render_ack(said.format(cluster=name))
        log.info("%s unacknowledged the alert of %s", user, cluster_id)
        said = _("Unacknowledged the alert for `{cluster}`: it fires again, with its reminders.")
        return render_ack(said.format(cluster=name))

    async def snooze_alert(
        self, cluster_id: str, route_key: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card:
        """Snooze: silence one incident for ``duration``."""
        until = now + duration
        _decision, cluster = await self._move(
            cluster_id,
            route_key,
            lambda e: policy.snooze(e, until=until, user=user, now=now),
            now=now,
        )
        return render_ack(
            _(strings.SNOOZED).format(cluster=cluster.display_name, until=utc_text(until))
        )

    # --- a storm: a grouped alert's buttons ----------------------------------------------------

    async def acknowledge_group(self, group_id: str, *, user: str, now: datetime) -> Card:
        """Acknowledge all: every open cluster of the storm."""
        group, changed = await self.move_group(
            group_id, lambda e: policy.acknowledge(e, user=user, now=now), now=now
        )
        label = escape(group.label)
        if not changed:
            said = _("Every cluster of the storm in {group} was already acknowledged.")
            return render_ack(said.format(group=label))
        said = ngettext(
            "Acknowledged {n} cluster of the storm in {group}: no more reminders until they "
            "resolve.",
            "Acknowledged {n} clusters of the storm in {group}: no more reminders until they "
            "resolve.",
            changed,
        )
        return render_ack(said.format(n=changed, group=label))

    async def unacknowledge_group(self, group_id: str, *, user: str, now: datetime) -> Card:
        """Unacknowledge all: every acknowledged cluster of the storm fires again."""
        group, changed = await self.move_group(
            group_id, lambda e: policy.unacknowledge(e, now=now), now=now
        )
        label = escape(group.label)
        if not changed:
            said = _("No cluster of the storm in {group} is acknowledged; nothing to undo.")
            return render_ack(said.format(group=label))
        log.info("%s unacknowledged %d clusters of group %s", user, changed, group_id)
        said = ngettext(
            "Unacknowledged {n} cluster of the storm in {group}: it fires again, with its "
            "reminders.",
            "Unacknowledged {n} clusters of the storm in {group}: they fire again, with their "
            "reminders.",
            changed,
        )
        return render_ack(said.format(n=changed, group=label))

    async def snooze_group(
        self, group_id: str, duration: timedelta, *, user: str, now: datetime
    ) -> Card:
        """Snooze all: every open cluster of the storm, for ``duration``."""
        until = now + duration
        group, changed = await self.move_group(
            group_id, lambda e: policy.snooze(e, until=until, user=user, now=now), now=now
        )
        said = ngettext(
            "Snoozed {n} cluster of the storm in {group} until {until}.",
            "Snoozed {n} clusters of the storm in {group} until {until}.",
            changed,
        )
        return render_ack(said.format(n=changed, group=escape(group.label), until=utc_text(until)))

    # --- one decision, planned and committed ---------------------------------------------------

    async def _move(
        self,
        cluster_id: str,
        route_key: str,
        step: _Step,
        *,
        now: datetime,
        cluster: Cluster | None = None,
    ) -> tuple[Decision, Cluster]:
        """Read the incident, decide with ``step``, plan and commit the change (again on a lost
        race); the decision as committed and the cluster as known."""
        reading: ClusterReading | None = None
        for _attempt in range(_SAVE_TRIES):
            entry = await self.store.incidents.get_alert(cluster_id, route_key)
            if entry is None or not entry.status.is_open:
                raise UsageError(_(NO_LONGER_OPEN))
            decision = step(entry)
            if not decision.actions:
                return decision, cluster or cluster_of(entry)
            if entry.group_id is not None:
                known = cluster or cluster_of(entry)
                view = await self._group_view(entry.group_id, entry.route_key, entry.channel)
                steps = [Step(known, None, entry, decision)]
            else:
                if reading is None:
                    reading = await read_cluster(
                        self.cloud, cluster_id, freshness=self.config.freshness, now=now
                    )
                known = reading.cluster if reading.error is None else cluster or cluster_of(entry)
                report = await self._report(entry, reading, known, now)
                route = self._route(entry.route_key, entry.channel)
                view = RouteView(
                    route,
                    entry.route_key,
                    entries={entry.cluster_id: entry},
                    seen={entry.cluster_id: (known, report)},
                    locale=self.config.locale_of(route),
                )
                steps = [Step(known, report, entry, decision)]
            committed = await self._commit(view, steps, now)
            if committed is None:
                continue  # a sweep or another click moved it meanwhile: redo on the new entry
            moved = next((e for e in committed if e.cluster_id == cluster_id), decision.entry)
            return replace(decision, entry=moved), known
        raise BotError(_("the alert kept changing while I tried to update it; try again"))

    async def move_group(
        self, group_id: str, step: _Step, *, now: datetime
    ) -> tuple[AlertGroup, int]:
        """Decide with ``step`` for every open incident of a grouped alert, plan and commit the
        change at once; the group and how many incidents changed."""
        for _attempt in range(_SAVE_TRIES):
            group = await self.store.incidents.get_group(group_id)
            if group is None or not group.is_open:
                raise UsageError(_(STORM_OVER))
            view = await self._group_view(group_id, group.route_key, group.channel)
            steps = []
            for entry in view.entries.values():
                if not entry.status.is_open:
                    continue
                decision = step(entry)
                if decision.actions:
                    steps.append(Step(cluster_of(entry), None, entry, decision))
            if not steps:
                return group, 0
            if await self._commit(view, steps, now) is None:
                continue
            return group, len(steps)
        raise BotError(_("the storm kept changing while I tried to update it; try again"))

    async def _commit(
        self, view: RouteView, steps: list[Step], now: datetime
    ) -> list[AlertEntry] | None:
        """The plan of ``steps`` committed (one Change: a click moves one incident or one
        grouped alert); the incidents as saved, or None when another writer came first."""
        planned = plan_route(view, steps, chat=self.chat, console_url=self.console_url, now=now)
        changes = [c for c in planned if c]
        if not changes:
            return []
        change = _one(changes)
        committed = await self.store.commit(change, now=now)
        if committed is None:
            return None
        if change.posts and self.queued is not None:
            self.queued()
        return list(committed.alerts)

    async def _group_view(self, group_id: str, route_key: str, channel: str) -> RouteView:
        """The grouped alert and every member (recovered ones too: its post counts the whole
        storm), as stored: a click reads no cluster of a storm of 300 again."""
        group = await self.store.incidents.get_group(group_id)
        members = await self.store.incidents.list_alerts(group_id=group_id)
        route = self._route(route_key, channel)
        return RouteView(
            route,
            route_key,
            entries={e.cluster_id: e for e in members},
            seen={},
            groups={group.id: group} if group is not None else {},
            locale=self.config.locale_of(route),
        )

    async def _open_entries(self, cluster_id: str) -> list[AlertEntry]:
        return [
            e
            for e in await self.store.incidents.list_alerts(open_only=True)
            if e.cluster_id == cluster_id
        ]

    def _route(self, route_key: str, channel: str) -> AlertRoute:
        # A route that left the config since the incident opened renders as its channel alone.
        for route in self.config.alerts:
            if alert_route_key(route) == route_key:
                return route
        return AlertRoute(channel=channel, match=Match())

    async def _report(
        self, entry: AlertEntry, reading: ClusterReading, cluster: Cluster, now: datetime
    ) -> FreshnessReport:
        """The cluster's freshness for its alert: read now, or as the sweep last saw it."""
        if reading.error is None:
            had = await had_schedule_ids(self.store)
            return reading.report(
                self.config.freshness, now=now, had_schedule=reading.cluster.id in had
            )
        max_age = max_age_for(cluster, self.config.freshness)
        if entry.last_state is None:
            return classify(cluster, None, max_age=max_age, now=now, read_error=reading.error)
        newest_at = entry.newest_backup_at
        return FreshnessReport(
            cluster_id=entry.cluster_id,
            state=entry.last_state,
            max_age=max_age,
            newest_backup_at=newest_at,
            age=max(now - newest_at, timedelta(0)) if newest_at is not None else None,
        )


def _one(changes: list[Change]) -> Change:
    if len(changes) != 1:
        raise AssertionError(f"a click planned {len(changes)} changes, not one")
    return changes[0]
