"""From the sweep's decisions to the posts they call for: the plan, pure.

The sweep reads the cloud and decides, per incident, with :mod:`bot.alerts.policy`; this module
turns those decisions into :class:`~bot.outbox.change.Change` values, each one incident (or one
grouped alert with its members) and the posts it calls for, to be committed in one transaction
each. It takes plain values and ``now`` and does no I/O, so a dry run is the same plan, printed.

Grouping: when more than ``route.group_after`` clusters of one group (``route.group_by``) open an
incident in the same sweep, they get one grouped alert: one post, one mention, the rows that fit
and the rest in its thread. Each cluster keeps its own incident; the group's post is updated as
they recover or join, reminders and recoveries are collected into one thread reply per sweep,
and the group is resolved when its last member is.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.alerts.group_messages import (
    GroupMember,
    render_group_alert,
    render_group_joined,
    render_group_recovered,
    render_group_reminder,
    render_group_resolved,
)
from bot.alerts.messages import render_alert, render_reminder, render_resolved, render_retired
from bot.alerts.model import AlertEntry, AlertGroup, AlertStatus, BotIncident, Seen
from bot.alerts.policy import ActionKind, Decision, Reason
from bot.alerts.self_policy import Announce, SelfDecision
from bot.chat.card import Card, Chat
from bot.cloud.models import Cluster
from bot.config import AlertRoute
from bot.fleet.grouping import group_key, group_label
from bot.freshness.model import FreshnessReport, FreshnessState
from bot.i18n.catalog import SOURCE_LOCALE, use_locale
from bot.outbox.change import Change
from bot.outbox.posts import OutboundPost, PostKind, make_post, new_post_id


@dataclass(frozen=True, slots=True)
class Step:
    """One incident's move in this sweep: the cluster as read, its report (None when it is
    retired: no longer watched on the route), the incident as stored, the decision."""

    cluster: Cluster
    report: FreshnessReport | None
    before: AlertEntry | None
    decision: Decision

    @property
    def cluster_id(self) -> str:
        return self.decision.entry.cluster_id

    @property
    def reason(self) -> str:
        return ",".join(sorted({action.reason.value for action in self.decision.actions}))


@dataclass(slots=True)
class RouteView:
    """What the planner knows of a route: every incident as stored, what this sweep read of
    each cluster, and the open grouped alerts."""

    route: AlertRoute
    route_key: str
    entries: dict[str, AlertEntry]
    seen: dict[str, tuple[Cluster, FreshnessReport]]
    groups: dict[str, AlertGroup] = field(default_factory=dict)
    #: Names of folders found in watched clouds, for the groups' titles.
    folder_names: dict[str, str] = field(default_factory=dict)
    #: The language of the route's posts (config ``locale`` of the route, else the bot's).
    locale: str = SOURCE_LOCALE


class Pings:
    """On-call is mentioned once per route per plan (a sweep): the first post that would mention
    them does; every later one says it belongs to the same sweep instead."""

    def __init__(self, mention: Sequence[str]) -> None:
        self.mention = tuple(mention)
        self.used = False

    def take(self) -> tuple[str, ...]:
        """The mentions for the next post that pings: all of them the first time, then none."""
        if self.used or not self.mention:
            return ()
        self.used = True
        return self.mention

    @property
    def quiet(self) -> bool:
        """Whether a post that would ping is to say instead that on-call was pinged already."""
        return self.used and bool(self.mention)


def plan_route(
    view: RouteView, steps: Iterable[Step], *, chat: Chat, console_url: str, now: datetime
) -> list[Change]:
    """Every change the route's steps call for, in the order they should be committed, with
    their posts rendered for ``chat`` in the route's language. On-call is mentioned in the first
    post that pings (a new alert, a grouped alert or a reminder), not in the others
    (:class:`Pings`)."""
    with use_locale(view.locale):
        return _plan_route(view, steps, chat=chat, console_url=console_url, now=now)


def _plan_route(
    view: RouteView, steps: Iterable[Step], *, chat: Chat, console_url: str, now: datetime
) -> list[Change]:
    route = view.route
    pings = Pings(route.mention)
    steps = [_remembering(step) for step in steps]
    new = [s for s in steps if s.decision.has(ActionKind.POST_ALERT)]
    rest = [s for s in steps if not s.decision.has(ActionKind.POST_ALERT)]

    open_groups = {g.id: g for g in view.groups.values() if g.is_open}
    by_key = {g.group_key: g for g in open_groups.values()}
    joins: dict[str, list[Step]] = defaultdict(list)
    storms: dict[str, list[Step]] = defaultdict(list)
    labels: dict[str, str] = {}
    singles: list[Step] = []
    for step in new:
        key = group_key(step.cluster, route.group_by)
        labels[key] = group_label(step.cluster, route.group_by, view.folder_names)
        if key in by_key:
            joins[by_key[key].id].append(step)
        else:
            storms[key].append(step)
    for key, members in list(storms.items()):
        if len(members) <= route.group_after:
            singles.extend(members)
            del storms[key]

    member_steps: dict[str, list[Step]] = defaultdict(list)
    changes: list[Change] = []
    for step in rest:
        group_id = step.before.group_id if step.before is not None else None
        if group_id is not None and group_id in open_groups:
            member_steps[group_id].append(step)
        else:
            change = _plan_single(
                view, step, chat=chat, console_url=console_url, now=now, pings=pings
            )
            if change:
                changes.append(change)
    for step in singles:
        changes.append(
            _plan_new_single(view, step, chat=chat, console_url=console_url, now=now, pings=pings)
        )

    for group_id in sorted(set(member_steps) | set(joins)):
        change = _plan_group(
            view,
            open_groups[group_id],
            member_steps.get(group_id, []),
            joins.get(group_id, []),
            chat=chat,
            console_url=console_url,
            now=now,
            pings=pings,
        )
        if change:
            changes.append(change)
    for key, members in storms.items():
        changes.append(
            _plan_storm(
                view,
                key,
                labels[key],
                members,
                chat=chat,
                console_url=console_url,
                now=now,
                pings=pings,
            )
        )
    return changes


# --- one incident --------------------------------------------------------------------------------


def _remembering(step: Step) -> Step:
    """The step with its incident remembering what was read: the cluster's name and folder,
    and what its freshness was (but not a reading that could not see it: UNKNOWN changes
    nothing)."""
    entry = step.decision.entry
    report = step.report
    read = report is not None and report.state != FreshnessState.UNKNOWN
    remembered = replace(
        entry,
        cluster_name=step.cluster.name or entry.cluster_name,
        folder_id=step.cluster.folder_id or entry.folder_id,
        seen=Seen.of(report) if read and report is not None else entry.seen,
    )
    if remembered == entry:
        return step
    return replace(step, decision=replace(step.decision, entry=remembered))


def cluster_of(entry: AlertEntry) -> Cluster:
    """The cluster as its incident remembers it (for a row shown without reading the cloud)."""
    return Cluster(id=entry.cluster_id, name=entry.cluster_name, folder_id=entry.folder_id)


def _message_of(entry: AlertEntry) -> tuple[str | None, str | None]:
    """How to name an incident's own message: its outbox id, or its ts from before the outbox."""
    return entry.message_id, entry.message_ts


def _plan_new_single(
    view: RouteView,
    step: Step,
    *,
    chat: Chat,
    console_url: str,
    now: datetime,
    pings: Pings | None = None,
) -> Change:
    assert step.report is not None
    pings = pings or Pings(view.route.mention)
    post_id = new_post_id()
    entry = replace(step.decision.entry, message_id=post_id, message_ts=None, group_id=None)
    mention = pings.take()
    message = render_alert(
        entry,
        cluster=step.cluster,
        report=step.report,
        route=view.route,
        console_url=console_url,
        limits=chat.limits,
        now=now,
        mention=mention,
        same_sweep=pings.quiet and not mention,
    )
    post = make_post(
        PostKind.ALERT,
        view.route.channel,
        message,
        chat=chat,
        subject=step.cluster_id,
        reason=step.reason,
        post_id=post_id,
    )
    posts = [post]
    over = _silence_over(step)
    if over is not None:
        # Opened while silenced: the alert it never had is posted now, and its thread says why.
        notice = render_reminder(
            entry, cluster=step.cluster, report=step.report, now=now, silence_over=over
        )
        posts.append(
            make_post(
                PostKind.REMINDER,
                view.route.channel,
                notice,
                chat=chat,
                subject=step.cluster_id,
                reason=Reason.SILENCE_ENDED.value,
                parent=(post_id, None),
            )
        )
    return Change(alerts=[entry], posts=posts)


def _escalating(step: Step) -> bool:
    return any(a.reason == Reason.ESCALATED for a in step.decision.actions)


def _reminder_mentions(
    route: AlertRoute, entry: AlertEntry, pings: Pings, *, escalating: bool
) -> tuple[str, ...]:
    """Whom a reminder mentions: the escalation targets alone when it escalates (once); after
    that, on-call (once per sweep) and the targets; before, on-call while it fires."""
    if escalating:
        return tuple(route.escalate_to)
    if entry.status != AlertStatus.FIRING or entry.silenced:
        return ()
    mention = pings.take()
    if entry.escalated_at is not None:
        mention += tuple(m for m in route.escalate_to if m not in mention)
    return mention


def _silence_over(step: Step) -> int | None:
    """The id of the silence whose end this step says, if it says one."""
    if step.before is None or step.before.silence_id is None:
        return None
    if not any(a.reason == Reason.SILENCE_ENDED for a in step.decision.actions):
        return None
    return step.before.silence_id


def _plan_single(
    view: RouteView,
    step: Step,
    *,
    chat: Chat,
    console_url: str,
    now: datetime,
    pings: Pings | None = None,
) -> Change:
    """An incident with its own message: update it in place, and reply in its thread."""
    pings = pings or Pings(view.route.mention)
    entry = step.decision.entry
    kinds = {action.kind for action in step.decision.actions}
    channel = entry.channel or view.route.channel
    parent = _message_of(entry)
    has_message = parent != (None, None)

    def about(kind: PostKind, message: Card) -> OutboundPost:
        """A post about this incident, on its message: the update, or a reply in its thread."""
        return make_post(
            kind,
            channel,
            message,
            chat=chat,
            subject=step.cluster_id,
            reason=step.reason,
            parent=parent,
        )

    if step.report is None:  # retired: the cluster is no longer watched on this route
        message = render_retired(entry, now=now)
        posts = []
        if has_message:
            posts.append(about(PostKind.ALERT_UPDATE, message))
            if ActionKind.POST_RESOLVED in kinds:
                posts.append(about(PostKind.RESOLVED, message))
        return Change(alerts=[entry], posts=posts)

    if entry.status.is_open and not has_message and entry.group_id is None and not entry.silenced:
        # An incident whose alert never reached Slack (opened by a version of the bot that
        # posted before it saved, and killed in between): post it now.
        return _plan_new_single(
            view, step, chat=chat, console_url=console_url, now=now, pings=pings
        )

    reply: OutboundPost | None = None
    if ActionKind.POST_RESOLVED in kinds and has_message:
        resolved = render_resolved(entry, cluster=step.cluster, report=step.report, now=now)
        reply = about(PostKind.RESOLVED, resolved)
    elif ActionKind.POST_REMINDER in kinds and has_message:
        escalating = _escalating(step)
        reminder = render_reminder(
            entry,
            cluster=step.cluster,
            report=step.report,
            now=now,
            mention_ids=_reminder_mentions(view.route, entry, pings, escalating=escalating),
            silence_over=_silence_over(step),
            escalated_after=view.route.escalate_after if escalating else None,
        )
        reply = about(PostKind.REMINDER, reminder)
    posts = []
    if has_message and (reply is not None or ActionKind.UPDATE_ALERT in kinds):
        alert = render_alert(
            entry,
            cluster=step.cluster,
            report=step.report,
            route=view.route,
            console_url=console_url,
            limits=chat.limits,
            now=now,
        )
        posts.append(about(PostKind.ALERT_UPDATE, alert))
    if reply is not None:
        posts.append(reply)
    if not posts and step.before == entry:
        return Change()
    return Change(alerts=[entry], posts=posts)


# --- grouped alerts ------------------------------------------------------------------------------


def new_group_id() -> str:
    return "g" + uuid.uuid4().hex


def _member(view: RouteView, entry: AlertEntry, step: Step | None, now: datetime) -> GroupMember:
    """A grouped alert's row: the cluster as read in this sweep, else as its incident remembers
    it (a click, or a member not read this time), so the row reads the same either way."""
    if step is not None and step.report is not None:
        return GroupMember(step.cluster, step.report, entry)
    seen = view.seen.get(entry.cluster_id)
    if seen is not None:
        return GroupMember(seen[0], seen[1], entry)
    cluster = step.cluster if step is not None and step.cluster.name else cluster_of(entry)
    remembered = entry.seen.report(entry, now) if entry.seen is not None else None
    return GroupMember(cluster, remembered, entry)


def _plan_storm(
    view: RouteView,
    key: str,
    label: str,
    steps: list[Step],
    *,
    chat: Chat,
    console_url: str,
    now: datetime,
    pings: Pings,
) -> Change:
    """A new grouped alert for ``steps``, the new incidents of one group in this sweep."""
    route = view.route
    group = AlertGroup(
        id=new_group_id(),
        route_key=view.route_key,
        group_key=key,
        label=label,
        channel=route.channel,
        message_id=new_post_id(),
        opened_at=now,
        last_reminded_at=now,
    )
    entries = [
        replace(s.decision.entry, group_id=group.id, message_id=None, message_ts=None)
        for s in steps
    ]
    members = [_member(view, e, s, now) for e, s in zip(entries, steps, strict=True)]
    mention = pings.take()
    top, thread = render_group_alert(
        group,
        members,
        route=route,
        console_url=console_url,
        limits=chat.limits,
        now=now,
        mention=mention,
        same_sweep=pings.quiet and not mention,
    )
    posts = [
        make_post(
            PostKind.GROUP_ALERT,
            route.channel,
            top,
            chat=chat,
            subject=f"group {label}",
            reason=Reason.NEW_INCIDENT.value,
            post_id=group.message_id,
        )
    ]
    posts += [
        make_post(
            PostKind.GROUP_REPLY,
            route.channel,
            part,
            chat=chat,
            subject=f"group {label}",
            parent=(group.message_id, None),
        )
        for part in thread
    ]
    return Change(alerts=entries, groups=[group], posts=posts)


def _plan_group(
    view: RouteView,
    group: AlertGroup,
    steps: list[Step],
    joins: list[Step],
    *,
    chat: Chat,
    console_url: str,
    now: datetime,
    pings: Pings,
) -> Change:
    """An open grouped alert whose members moved, or that clusters joined, in this sweep."""
    route = view.route
    by_id = {s.cluster_id: s for s in steps}
    # Every member, recovered ones too: the post counts the whole storm ("20 of 22"), not only
    # what is still open, and its resolution names them all. A recovered member going stale
    # again joins anew (below), so it is counted once.
    rejoining = {s.cluster_id for s in joins}
    stored = [
        e for e in view.entries.values() if e.group_id == group.id and e.cluster_id not in rejoining
    ]
    after = [by_id[e.cluster_id].decision.entry if e.cluster_id in by_id else e for e in stored]
    joined = [
        replace(s.decision.entry, group_id=group.id, message_id=None, message_ts=None)
        for s in joins
    ]
    changed_entries = [s.decision.entry for s in steps if s.decision.entry != s.before] + joined

    recovered = [
        _member(view, s.decision.entry, s, now)
        for s in steps
        if not s.decision.entry.status.is_open
    ]
    reminders = [s for s in steps if s.decision.has(ActionKind.POST_REMINDER)]
    snooze_over = any(
        a.reason in (Reason.SNOOZE_EXPIRED, Reason.SILENCE_ENDED)
        for s in reminders
        for a in s.decision.actions
    )
    escalating = any(_escalating(s) for s in reminders)
    reminder_due = bool(reminders) and (
        snooze_over
        or escalating
        or group.last_reminded_at is None
        or now - group.last_reminded_at >= route.repeat
    )
    moved = any(s.decision.actions for s in steps) or bool(joined)
    if not moved and not changed_entries:
        return Change()

    members_after = [_member(view, e, by_id.get(e.cluster_id), now) for e in after + joined]
    still_open = [m for m in members_after if m.entry.status.is_open]
    nxt = group
    if reminder_due:
        nxt = replace(nxt, last_reminded_at=now)
    if not still_open:
        nxt = replace(nxt, resolved_at=now)

    parent = (group.message_id, None)
    subject = f"group {group.label}"
    posts: list[OutboundPost] = []
    if moved:
        top, _ = render_group_alert(
            nxt, members_after, route=route, console_url=console_url, limits=chat.limits, now=now
        )
        posts.append(
            make_post(
                PostKind.GROUP_UPDATE,
                group.channel,
                top,
                chat=chat,
                subject=subject,
                parent=parent,
            )
        )
    for part in render_group_joined(
        nxt,
        [_member(view, e, s, now) for e, s in zip(joined, joins, strict=True)],
        console_url=console_url,
        limits=chat.limits,
        now=now,
    ):
        posts.append(
            make_post(
                PostKind.GROUP_REPLY,
                group.channel,
                part,
                chat=chat,
                subject=subject,
                reason="joined",
                parent=parent,
            )
        )
    if recovered and route.send_resolved:
        for part in render_group_recovered(
            nxt, recovered, left=len(still_open), limits=chat.limits, now=now
        ):
            posts.append(
                make_post(
                    PostKind.RESOLVED,
                    group.channel,
                    part,
                    chat=chat,
                    subject=subject,
                    reason=Reason.RECOVERED.value,
                    parent=parent,
                )
            )
    if reminder_due and still_open:
        firing = any(
            m.entry.status == AlertStatus.FIRING and not m.entry.silenced for m in still_open
        )
        mention = pings.take() if firing else ()
        if any(m.entry.escalated_at is not None for m in still_open):
            # A member escalated (now or before): its targets hear every reminder after it.
            mention += tuple(m for m in route.escalate_to if m not in mention)
        message = render_group_reminder(nxt, still_open, mention_ids=mention, now=now)
        posts.append(
            make_post(
                PostKind.REMINDER,
                group.channel,
                message,
                chat=chat,
                subject=subject,
                reason=Reason.REPEAT_INTERVAL.value,
                parent=parent,
            )
        )
    if not still_open and route.send_resolved:
        message = render_group_resolved(nxt, members_after, now=now)
        posts.append(
            make_post(
                PostKind.RESOLVED,
                group.channel,
                message,
                chat=chat,
                subject=subject,
                reason=Reason.RECOVERED.value,
                parent=parent,
            )
        )
    return Change(alerts=changed_entries, groups=[nxt], posts=posts)


# --- the bot about itself ------------------------------------------------------------------------


def plan_self(
    decision: SelfDecision,
    *,
    chat: Chat,
    channels: Sequence[str],
    opened: Card,
    closed: Card,
) -> Change:
    """The change a self-incident decision calls for: the incident, and a notice in each of
    ``channels`` when it opens (remembered, so the all-clear goes in their threads), rendered
    for ``chat``."""
    if not decision.changed:
        return Change()
    incident: BotIncident = decision.incident
    posts: list[OutboundPost] = []
    if decision.announce == Announce.OPENED:
        pairs = []
        for channel in dict.fromkeys(channels):
            post = make_post(PostKind.SELF_ALERT, channel, opened, chat=chat, subject=incident.key)
            posts.append(post)
            pairs.append((channel, post.id))
        incident = replace(incident, messages=tuple(pairs))
    elif decision.announce == Announce.CLOSED:
        for channel, post_id in incident.messages:
            posts.append(
                make_post(
                    PostKind.SELF_REPLY,
                    channel,
                    closed,
                    chat=chat,
                    subject=incident.key,
                    parent=(post_id, None),
                )
            )
        incident = replace(incident, messages=())
    return Change(incidents=[incident], posts=posts)
