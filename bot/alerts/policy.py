"""The alert state machine of one (cluster, alert route): ok -> firing -> (acknowledged |
snoozed) -> resolved.

Every function is pure: it takes the persisted :class:`AlertEntry`, what happened and ``now``,
and returns the next entry with the Slack actions to take, each with a typed reason (the
alertmanager ``needsUpdate`` habit). The persisted entry is what makes an incident post once and
resolve once: an open incident never posts a second alert, and only an open incident resolves.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.alerts.model import AlertEntry, AlertStatus
from bot.config import AlertRoute
from bot.errors import UsageError
from bot.freshness.model import FreshnessReport, FreshnessState
from bot.i18n.catalog import N_, _
from bot.silences.model import Silence


class ActionKind(enum.StrEnum):
    POST_ALERT = "post_alert"  # a new alert message in the route's channel
    UPDATE_ALERT = "update_alert"  # chat.update of the alert message (entry.message_ts)
    POST_REMINDER = "post_reminder"  # a reply in the alert's thread
    POST_RESOLVED = "post_resolved"  # a reply in the alert's thread


class Reason(enum.StrEnum):
    NEW_INCIDENT = "new_incident"
    REPEAT_INTERVAL = "repeat_interval"
    SNOOZE_EXPIRED = "snooze_expired"
    STATE_CHANGED = "state_changed"  # still firing, but e.g. never -> stale or a new backup
    RECOVERED = "recovered"  # a fresh backup landed
    CLUSTER_STOPPED = "cluster_stopped"
    SCHEDULE_REMOVED = "schedule_removed"
    NO_LONGER_WATCHED = "no_longer_watched"  # deleted, moved away, or out of the route's match
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    UNSNOOZED = "unsnoozed"
    UNACKNOWLEDGED = "unacknowledged"
    SILENCED = "silenced"  # a silence holds the cluster: no page, the alert says so
    SILENCE_ENDED = "silence_ended"  # it ran out or was lifted while the incident is open
    ESCALATED = "escalated"  # nobody acknowledged or snoozed it within the route's escalate_after


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    reason: Reason


@dataclass(frozen=True, slots=True)
class Decision:
    """The entry to persist and the actions to take, in order. No actions: nothing to post."""

    entry: AlertEntry
    actions: tuple[Action, ...] = ()

    def has(self, kind: ActionKind) -> bool:
        return any(action.kind == kind for action in self.actions)


_RESOLVING_REASONS = {
    FreshnessState.FRESH: Reason.RECOVERED,
    FreshnessState.STOPPED: Reason.CLUSTER_STOPPED,
    FreshnessState.UNSCHEDULED: Reason.SCHEDULE_REMOVED,
}


def evaluate(
    entry: AlertEntry | None,
    report: FreshnessReport,
    *,
    route: AlertRoute,
    route_key: str,
    now: datetime,
    silence: Silence | None = None,
) -> Decision:
    """What the sweep does with one cluster's freshness report for one alert route.

    - STALE or NEVER with no open incident opens one (POST_ALERT). An open incident never posts
      a second alert; while FIRING it gets a reminder every ``route.repeat``; ACKNOWLEDGED gets
      none; SNOOZED gets none until ``snoozed_until``, then fires again with a reminder.
    - FRESH, STOPPED or UNSCHEDULED resolves an open incident: the alert message is updated, and a
      resolved notice is posted when ``route.send_resolved``.
    - UNKNOWN changes nothing: being blind is not a reason to open or to close an incident.
    - ``silence`` (the one holding the cluster now, bot.silences) pages nobody: an incident
      still opens, with no alert post, and an open one gets no reminder (its alert says it is
      silenced). When the silence is over and the incident still open, that is said once: in
      its thread, or by posting the alert it never had.
    """
    if entry is None:
        entry = AlertEntry(cluster_id=report.cluster_id, route_key=route_key, channel=route.channel)
    elif entry.cluster_id != report.cluster_id or entry.route_key != route_key:
        raise ValueError(
            f"alert entry {entry.cluster_id}/{entry.route_key} evaluated with a report for "
            f"{report.cluster_id}/{route_key}"
        )

    state = report.state
    if state == FreshnessState.UNKNOWN:
        return Decision(entry)

    if not entry.status.is_open:
        if state.fires:
            opened = _open_incident(entry, report, route, now)
            if silence is not None:
                return Decision(_hushed(opened, silence))
            return Decision(opened, (_act_post_new(),))
        return Decision(entry)

    if not state.fires:
        return _resolve(entry, report, route, now, _RESOLVING_REASONS[state])

    actions: list[Action] = []
    changed = entry.last_state != state or entry.newest_backup_at != report.newest_backup_at
    nxt = replace(entry, last_state=state, newest_backup_at=report.newest_backup_at)
    if nxt.stale_since is None:
        nxt = replace(nxt, stale_since=_stale_since(report, now))

    if silence is not None:
        return _while_silenced(entry, nxt, silence, changed=changed, now=now)
    if entry.silenced:
        return _silence_over(nxt, now)

    if entry.status == AlertStatus.SNOOZED and (
        entry.snoozed_until is None or now >= entry.snoozed_until
    ):
        nxt = replace(
            nxt,
            status=AlertStatus.FIRING,
            snoozed_until=None,
            snoozed_by=None,
            last_notified_at=now,
        )
        actions.append(Action(ActionKind.UPDATE_ALERT, Reason.SNOOZE_EXPIRED))
        actions.append(Action(ActionKind.POST_REMINDER, Reason.SNOOZE_EXPIRED))
        return Decision(nxt, tuple(actions))

    if _escalation_due(entry, route, now):
        # Said once, in the thread, to the route's escalation targets (the plan mentions them);
        # the reminder interval starts again from here.
        nxt = replace(nxt, escalated_at=now, last_notified_at=now)
        actions.append(Action(ActionKind.UPDATE_ALERT, Reason.ESCALATED))
        actions.append(Action(ActionKind.POST_REMINDER, Reason.ESCALATED))
        return Decision(nxt, tuple(actions))
    if changed:
        actions.append(Action(ActionKind.UPDATE_ALERT, Reason.STATE_CHANGED))
    if entry.status == AlertStatus.FIRING and _reminder_due(entry, route.repeat, now):
        nxt = replace(nxt, last_notified_at=now)
        actions.append(Action(ActionKind.POST_REMINDER, Reason.REPEAT_INTERVAL))
    return Decision(nxt, tuple(actions))


def retire(entry: AlertEntry, *, route: AlertRoute, now: datetime) -> Decision:
    """Close an open incident whose cluster the sweep no longer sees on this route: deleted,
    moved out of the watched folders, or no longer matching the route. Without this an alert
    for a deleted cluster would stay open (and remind) forever. Not for a cluster that merely
    could not be read: that is UNKNOWN, and changes nothing."""
    _require_open(entry, N_("cannot retire this alert: it is {status}, not open"))
    nxt = replace(
        entry,
        status=AlertStatus.RESOLVED,
        resolved_at=now,
        snoozed_until=None,
        silence_id=None,
        silenced_until=None,
    )
    actions = [Action(ActionKind.UPDATE_ALERT, Reason.NO_LONGER_WATCHED)]
    if route.send_resolved:
        actions.append(Action(ActionKind.POST_RESOLVED, Reason.NO_LONGER_WATCHED))
    return Decision(nxt, tuple(actions))


def acknowledge(entry: AlertEntry, *, user: str, now: datetime) -> Decision:
    """Someone owns the incident: no more reminders until it resolves. Clears a snooze.

    Acknowledging an acknowledged incident changes nothing (two people clicking at once).
    """
    _require_open(entry, N_("cannot acknowledge this alert: it is {status}, not open"))
    if entry.status == AlertStatus.ACKNOWLEDGED:
        return Decision(entry)
    nxt = replace(
        entry,
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_by=user,
        acknowledged_at=now,
        snoozed_until=None,
        snoozed_by=None,
    )
    return Decision(nxt, (Action(ActionKind.UPDATE_ALERT, Reason.ACKNOWLEDGED),))


def snooze(entry: AlertEntry, *, until: datetime, user: str, now: datetime) -> Decision:
    """Silence the incident until ``until``; then, if still stale, it fires again with a reminder.

    Snoozing an acknowledged incident replaces the acknowledgement: it will wake up.
    """
    _require_open(entry, N_("cannot snooze this alert: it is {status}, not open"))
    if until <= now:
        raise UsageError(_("a snooze must end in the future"), hint=_("for example: snooze 4h"))
    nxt = replace(
        entry,
        status=AlertStatus.SNOOZED,
        snoozed_until=until,
        snoozed_by=user,
        acknowledged_by=None,
        acknowledged_at=None,
    )
    return Decision(nxt, (Action(ActionKind.UPDATE_ALERT, Reason.SNOOZED),))


def unsnooze(entry: AlertEntry, *, now: datetime) -> Decision:
    """End a snooze early: the incident is FIRING again and reminds on the usual interval."""
    if entry.status != AlertStatus.SNOOZED:
        raise UsageError(
            _("this alert is not snoozed (it is {status}), so there is nothing to unsnooze").format(
                status=_describe_status(entry.status)
            )
        )
    nxt = replace(entry, status=AlertStatus.FIRING, snoozed_until=None, snoozed_by=None)
    return Decision(nxt, (Action(ActionKind.UPDATE_ALERT, Reason.UNSNOOZED),))


def unacknowledge(entry: AlertEntry, *, now: datetime) -> Decision:
    """Give an acknowledged incident back: it is FIRING again and reminds on the usual interval
    from now. One that is not acknowledged (two people clicking at once) changes nothing."""
    _require_open(entry, N_("cannot unacknowledge this alert: it is {status}, not open"))
    if entry.status != AlertStatus.ACKNOWLEDGED:
        return Decision(entry)
    nxt = replace(
        entry,
        status=AlertStatus.FIRING,
        acknowledged_by=None,
        acknowledged_at=None,
        last_notified_at=now,
    )
    return Decision(nxt, (Action(ActionKind.UPDATE_ALERT, Reason.UNACKNOWLEDGED),))


def outage_duration(entry: AlertEntry, now: datetime) -> timedelta:
    """How long the cluster went without a fresh backup: from when it went stale (or, if that is
    unknown, when the incident opened) to its resolution, or to ``now`` while it is open.

    When a fresh backup resolved it, the outage ends when that backup landed, not when the sweep
    noticed it.
    """
    start = entry.stale_since or entry.opened_at
    if start is None:
        return timedelta(0)
    end = entry.resolved_at if entry.resolved_at is not None else now
    if (
        entry.status == AlertStatus.RESOLVED
        and entry.last_state == FreshnessState.FRESH
        and entry.newest_backup_at is not None
        and start <= entry.newest_backup_at < end
    ):
        end = entry.newest_backup_at
    return max(timedelta(0), end - start)


# --- helpers -------------------------------------------------------------------------------------


def _act_post_new() -> Action:
    return Action(ActionKind.POST_ALERT, Reason.NEW_INCIDENT)


def _open_incident(
    entry: AlertEntry, report: FreshnessReport, route: AlertRoute, now: datetime
) -> AlertEntry:
    # A new incident starts clean: a new message (message_ts is set once it is posted), no
    # acknowledgement or snooze carried over from the previous one. Only the version stays, so
    # that the store's optimistic check still guards the row.
    return AlertEntry(
        cluster_id=entry.cluster_id,
        route_key=entry.route_key,
        status=AlertStatus.FIRING,
        channel=route.channel,
        message_ts=None,
        opened_at=now,
        stale_since=_stale_since(report, now),
        last_notified_at=now,
        last_state=report.state,
        newest_backup_at=report.newest_backup_at,
        version=entry.version,
    )


def _resolve(
    entry: AlertEntry, report: FreshnessReport, route: AlertRoute, now: datetime, reason: Reason
) -> Decision:
    nxt = replace(
        entry,
        status=AlertStatus.RESOLVED,
        resolved_at=now,
        snoozed_until=None,
        snoozed_by=None,
        silence_id=None,
        silenced_until=None,
        last_state=report.state,
        newest_backup_at=report.newest_backup_at,
    )
    actions = [Action(ActionKind.UPDATE_ALERT, reason)]
    if route.send_resolved:
        actions.append(Action(ActionKind.POST_RESOLVED, reason))
    return Decision(nxt, tuple(actions))


def _hushed(entry: AlertEntry, silence: Silence) -> AlertEntry:
    return replace(entry, silence_id=silence.id, silenced_until=silence.ends_at)


def _while_silenced(
    entry: AlertEntry, nxt: AlertEntry, silence: Silence, *, changed: bool, now: datetime
) -> Decision:
    """An open incident a silence holds: no reminder; its alert says so when the silence is
    new to it, and a snooze that runs out meanwhile just ends."""
    nxt = _hushed(nxt, silence)
    actions: list[Action] = []
    if entry.status == AlertStatus.SNOOZED and (
        entry.snoozed_until is None or now >= entry.snoozed_until
    ):
        nxt = replace(nxt, status=AlertStatus.FIRING, snoozed_until=None, snoozed_by=None)
        changed = True
    if entry.silence_id != silence.id or entry.silenced_until != silence.ends_at:
        actions.append(Action(ActionKind.UPDATE_ALERT, Reason.SILENCED))
    elif changed:
        actions.append(Action(ActionKind.UPDATE_ALERT, Reason.STATE_CHANGED))
    return Decision(nxt, tuple(actions))


def _silence_over(nxt: AlertEntry, now: datetime) -> Decision:
    """The silence that held an open incident is over: said once, in the alert's thread (the
    reminder interval starts again from here), or by the alert it never had."""
    nxt = replace(nxt, silence_id=None, silenced_until=None, last_notified_at=now)
    if nxt.status == AlertStatus.SNOOZED and (
        nxt.snoozed_until is None or now >= nxt.snoozed_until
    ):
        nxt = replace(nxt, status=AlertStatus.FIRING, snoozed_until=None, snoozed_by=None)
    if not nxt.has_message:
        # Its alert is first posted now: that is when it opened for on-call (and the escalation
        # clock starts), though it went stale before (stale_since keeps that).
        nxt = replace(nxt, opened_at=now)
        return Decision(nxt, (Action(ActionKind.POST_ALERT, Reason.SILENCE_ENDED),))
    return Decision(
        nxt,
        (
            Action(ActionKind.UPDATE_ALERT, Reason.SILENCE_ENDED),
            Action(ActionKind.POST_REMINDER, Reason.SILENCE_ENDED),
        ),
    )


def _stale_since(report: FreshnessReport, now: datetime) -> datetime:
    """When the cluster went stale: its newest backup's time plus the maximum age. A cluster that
    never had a backup has no such moment; the incident's opening stands in for it."""
    if report.newest_backup_at is None:
        return now
    return min(now, report.newest_backup_at + report.max_age.value)


def _escalation_due(entry: AlertEntry, route: AlertRoute, now: datetime) -> bool:
    """A FIRING incident (not acknowledged, snoozed or silenced) older than the route's
    ``escalate_after`` that was not escalated yet."""
    return (
        route.escalate_after is not None
        and bool(route.escalate_to)
        and entry.status == AlertStatus.FIRING
        and entry.escalated_at is None
        and not entry.silenced
        and entry.has_message
        and entry.opened_at is not None
        and now - entry.opened_at >= route.escalate_after
    )


def _reminder_due(entry: AlertEntry, repeat: timedelta, now: datetime) -> bool:
    if entry.last_notified_at is None:
        return True
    return now - entry.last_notified_at >= repeat


def _require_open(entry: AlertEntry, refusal: str) -> None:
    """Refuse (``refusal``, a catalog template naming ``{status}``) a change to a closed one."""
    if not entry.status.is_open:
        raise UsageError(_(refusal).format(status=_describe_status(entry.status)))


def _describe_status(status: AlertStatus) -> str:
    if status == AlertStatus.OK:
        return _("not firing")
    words = {
        AlertStatus.FIRING: N_("firing"),
        AlertStatus.ACKNOWLEDGED: N_("acknowledged"),
        AlertStatus.SNOOZED: N_("snoozed"),
        AlertStatus.RESOLVED: N_("resolved"),
    }
    return _(words[status])
