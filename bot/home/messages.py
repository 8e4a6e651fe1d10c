"""The Home tab as a card: the person's open incidents with their alert's buttons, their own
snoozes, a place for their silences, the fleet's counts by state and when the bot last swept
and posted a digest.

However large the fleet, the card stays within a view's block budget: at most
:data:`~bot.home.model.MAX_INCIDENTS` incidents and :data:`~bot.home.model.MAX_SNOOZES` snoozes
are shown with buttons, the rest are counted, and :data:`~bot.home.model.SILENCE_BLOCKS` are
kept for the silences.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.alerts.actions import START_BACKUP, UNSNOOZE, AlertRef
from bot.alerts.messages import alert_buttons
from bot.alerts.model import AlertEntry, AlertStatus
from bot.alerts.plan import cluster_of
from bot.chat.card import Buttons, Card, Divider, Fields, Header, Note, Part, Text
from bot.chat.mrkdwn import escape, mention
from bot.chat.pack import clip, cut_escaped, escape_clipped
from bot.commands import strings as s
from bot.digest.model import STATE_ORDER
from bot.freshness.messages import slack_date, state_count
from bot.freshness.model import FreshnessState
from bot.home.model import MAX_INCIDENTS, MAX_SNOOZES, SILENCE_BLOCKS, HomeData
from bot.i18n.catalog import _, ngettext
from bot.silences.messages import silenced_marker

_NAME_ESCAPED = 120
_WHY_ESCAPED = 120
#: A notice (what a click from the tab did) at the top: one short paragraph.
_NOTICE_ESCAPED = 600


def render_home(
    data: HomeData, *, notice: str | None = None, silences: Sequence[Part] = ()
) -> Card:
    """The Home tab of ``data.user_id``. ``notice`` (mrkdwn) says what their last click did;
    ``silences`` are the parts the silences feature renders for them (at most
    :data:`SILENCE_BLOCKS`; more are dropped)."""
    parts: list[Part] = [Header(_("Backups: your on-call view"))]
    if notice:
        parts.append(Text(clip(notice, _NOTICE_ESCAPED)))
    parts += [Text(_fleet_line(data)), Note([_runs_line(data)]), Divider()]
    parts += _incident_parts(data)
    parts.append(Divider())
    parts += _snooze_parts(data)
    parts.append(Divider())
    parts += _silence_parts(silences)
    parts.append(
        Note(
            [
                _(
                    "As the bot's store had it {when}; refreshed each time you open this tab."
                ).format(when=slack_date(data.now))
            ]
        )
    )
    return Card(_("Backups: your open incidents and snoozes"), parts)


def _fleet_line(data: HomeData) -> str:
    counts = " · ".join(
        f"{s.STATE_ICON[state.value]} {state_count(state, data.counts[state])}"
        for state in STATE_ORDER
        if data.counts[state] or state in (FreshnessState.FRESH, FreshnessState.STALE)
    )
    watched = ngettext(
        "*The fleet:* {n} cluster watched", "*The fleet:* {n} clusters watched", data.watched
    ).format(n=data.watched)
    return f"{watched}\n{counts}"


def _runs_line(data: HomeData) -> str:
    sweep = (
        _("last sweep {when}").format(when=slack_date(data.last_sweep))
        if data.last_sweep is not None
        else _("no sweep has run yet")
    )
    digest = (
        _("last digest {when}").format(when=slack_date(data.last_digest))
        if data.last_digest is not None
        else _("no digest has been posted yet")
    )
    return f":alarm_clock: {sweep} · {digest}"


def _incident_parts(data: HomeData) -> list[Part]:
    incidents = list(data.incidents)
    n = len(incidents)
    if data.routes_mention_user:
        title = ngettext(
            "*Open incidents on your routes* ({n})", "*Open incidents on your routes* ({n})", n
        )
    else:
        title = ngettext(
            "*Open incidents on every route* ({n}): no alert route mentions you by name",
            "*Open incidents on every route* ({n}): no alert route mentions you by name",
            n,
        )
    parts: list[Part] = [Text(title.format(n=n))]
    if not incidents:
        parts.append(Text(_(":white_check_mark: Nothing is open.")))
        return parts
    for entry in incidents[:MAX_INCIDENTS]:
        parts.append(Text(_incident_line(entry)))
        parts.append(_buttons_of(entry))
    if n > MAX_INCIDENTS:
        more = n - MAX_INCIDENTS
        parts.append(
            Note(
                [
                    ngettext(
                        "and {n} more: see the alert channels",
                        "and {n} more: see the alert channels",
                        more,
                    ).format(n=more)
                ]
            )
        )
    return parts


def _name(entry: AlertEntry) -> str:
    return escape(cut_escaped(entry.cluster_name or entry.cluster_id, _NAME_ESCAPED))


def _where(entry: AlertEntry) -> str:
    return f"<#{escape(entry.channel)}>" if entry.channel else ""


def _incident_line(entry: AlertEntry) -> str:
    if entry.status == AlertStatus.ACKNOWLEDGED:
        who = mention(entry.acknowledged_by) if entry.acknowledged_by else ""
        status = (
            _(":eyes: *acknowledged* by {who}").format(who=who)
            if who
            else _(":eyes: *acknowledged*")
        )
    elif entry.status == AlertStatus.SNOOZED and entry.snoozed_until is not None:
        status = _(":zzz: *snoozed* until {until}").format(until=slack_date(entry.snoozed_until))
    elif entry.silenced:
        # Held by a silence: nobody was paged, and the tab says so rather than "firing".
        status = silenced_marker(entry.silence_id, entry.silenced_until)
    else:
        status = _(":rotating_light: *firing*")
    state = entry.last_state or FreshnessState.UNKNOWN
    if state == FreshnessState.STALE and entry.stale_since is not None:
        what = _("stale since {when}").format(when=slack_date(entry.stale_since))
    else:
        what = _(s.STATE_WORD[state.value])
    items = [status, f"*{_name(entry)}*", what]
    why = _why(entry)
    if why:
        items.append(why)
    where = _where(entry)
    if where:
        items.append(where)
    return " · ".join(items)


def _why(entry: AlertEntry) -> str:
    seen = entry.seen
    if seen is None:
        return ""
    if seen.blocking:
        return _("cluster is {condition}").format(condition=escape_clipped(seen.blocking, 40))
    if seen.attempt_error:
        return escape_clipped(seen.attempt_error, _WHY_ESCAPED)
    return ""


def _buttons_of(entry: AlertEntry) -> Buttons:
    """The alert's own buttons (the same declarations, answered by the same handlers), without
    *Start backup now* where the sweep saw the cluster cannot back up; no anchor, since one
    view holds many of them."""
    buttons = alert_buttons(entry, cluster_of(entry)).buttons
    blocked = entry.seen is not None and bool(entry.seen.blocking)
    return Buttons([b for b in buttons if not (blocked and b.action == START_BACKUP.id)])


def _snooze_parts(data: HomeData) -> list[Part]:
    snoozes = list(data.snoozes)
    n = len(snoozes)
    if not snoozes:
        return [Text(_("*Your snoozes*: none."))]
    parts: list[Part] = [
        Text(ngettext("*Your snoozes* ({n})", "*Your snoozes* ({n})", n).format(n=n))
    ]
    for entry in snoozes[:MAX_SNOOZES]:
        until = slack_date(entry.snoozed_until) if entry.snoozed_until is not None else ""
        line = _(":zzz: *{cluster}* until {until}").format(cluster=_name(entry), until=until)
        where = _where(entry)
        parts.append(Text(f"{line} · {where}" if where else line))
        parts.append(Buttons([UNSNOOZE.button(AlertRef(entry.cluster_id, entry.route_key))]))
    if n > MAX_SNOOZES:
        more = n - MAX_SNOOZES
        parts.append(Note([ngettext("and {n} more", "and {n} more", more).format(n=more)]))
    return parts


def _silence_parts(silences: Sequence[Part]) -> list[Part]:
    """YOUR SILENCES: where the silences feature shows the person's own silences (its parts,
    within :data:`SILENCE_BLOCKS`); with none, the tab says so."""
    if silences:
        return list(silences)[:SILENCE_BLOCKS]
    return [Text(_("*Your silences*: none."))]


def is_short(card: Card) -> bool:
    """Whether an answer to a click from the tab can be said at the top of the tab: a line or
    two (an acknowledgement, a refusal with its hint), not a list, a table or buttons."""
    return not any(isinstance(part, Buttons | Fields | Header) for part in card.parts)


def click_notice(cards: Sequence[Card], *, sent: bool) -> str:
    """What the tab says at its top after a click: the answer's own words (mrkdwn), and, when
    the full answer was sent as a message (``sent``), where to find it."""
    said = "\n".join(card.text for card in cards if card.text)
    if sent:
        said += "\n" + _(":envelope: The full answer is in the bot's Messages tab.")
    return said.strip()
