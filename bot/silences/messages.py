"""What the silence commands answer, as cards: the silence set, the list, the one lifted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.chat.card import Card, Note, Part, Text
from bot.chat.mrkdwn import code, escape, mention
from bot.chat.pack import escape_clipped
from bot.commands.strings import PREFIX
from bot.freshness.messages import slack_date, utc_text
from bot.i18n.catalog import _, ngettext
from bot.silences.model import Silence

#: The most silences the list shows (a few is what holds at once; more is a mistake to see).
LIST_MAX = 40
_REASON_ESCAPED = 300


def silenced_marker(silence_id: int | None, until: datetime | None) -> str:
    """``🔕 silenced until <when> (silence 3)``: what an alert or a digest row of a silenced
    cluster says in place of paging."""
    if until is None:
        return ":no_bell: " + _("silenced (silence {id})").format(id=silence_id)
    return ":no_bell: " + _("silenced until {until} (silence {id})").format(
        until=slack_date(until), id=silence_id
    )


def _reason(silence: Silence) -> str:
    return escape_clipped(silence.reason, _REASON_ESCAPED) if silence.reason else ""


def silence_line(silence: Silence) -> str:
    """``#3 folder:b1g… by @ann until <date>: planned maintenance``: one silence, one line."""
    said = _("{id} {match} by {who} until {until}").format(
        id=f"*#{silence.id}*",
        match=code(silence.match),
        who=mention(escape(silence.created_by)),
        until=slack_date(silence.ends_at),
    )
    reason = _reason(silence)
    return f"{said}: {reason}" if reason else said


def render_silenced(silence: Silence, *, matching: int | None) -> Card:
    """The answer to ``silence``: what is silenced, until when, how to lift it."""
    head = ":no_bell: " + _("Silence {id} set: {match} until {until}.").format(
        id=f"*#{silence.id}*",
        match=code(silence.match),
        until=slack_date(silence.ends_at),
    )
    lines = [head]
    reason = _reason(silence)
    if reason:
        lines.append(_("Reason: {reason}").format(reason=reason))
    if matching is not None:
        if matching:
            lines.append(
                ngettext(
                    "It holds {n} watched cluster now: its incidents still open, but page nobody.",
                    "It holds {n} watched clusters now: their incidents still open, but page "
                    "nobody.",
                    matching,
                ).format(n=matching)
            )
        else:
            lines.append(
                _("No watched cluster matches it now; it holds any that matches until it ends.")
            )
    hint = _("End it early with `{command}`.").format(
        command=" ".join((PREFIX, "unsilence", str(silence.id)))
    )
    text = _("Silence {id} set: {match} until {until}.").format(
        id=f"#{silence.id}", match=silence.match, until=utc_text(silence.ends_at)
    )
    return Card(text, [Text("\n".join(lines)), Note([hint])])


def render_silences(silences: Sequence[Silence]) -> Card:
    """The answer to ``silences``: every silence that holds now, the soonest to end first."""
    if not silences:
        text = _("No silence holds now: every alert pages as its route says.")
        return Card(text, [Text(text)])
    title = ngettext("{n} silence holds now", "{n} silences hold now", len(silences)).format(
        n=len(silences)
    )
    lines = [f":no_bell: *{title}*"]
    lines += [silence_line(s) for s in silences[:LIST_MAX]]
    if len(silences) > LIST_MAX:
        more = len(silences) - LIST_MAX
        lines.append(ngettext("and {n} more", "and {n} more", more).format(n=more))
    hint = _("End one early with `{command}`.").format(
        command=" ".join((PREFIX, "unsilence", "<id>"))
    )
    return Card(title, [Text("\n".join(lines)), Note([escape(hint)])])


def render_unsilenced(silence: Silence) -> Card:
    """The answer to ``unsilence``: which silence ended; alerts resume at the next check."""
    said = _("Silence {id} ({match}) ended: its clusters page again from the next check.")
    text = said.format(id=f"#{silence.id}", match=silence.match)
    shown = said.format(id=f"*#{silence.id}*", match=code(silence.match))
    return Card(text, [Text(f":bell: {shown}")])


#: The most of a person's silences their Home tab lists, one line each (the tab keeps room for
#: this many parts and a heading and a count).
HOME_MAX = 8


def render_home_silences(silences: Sequence[Silence]) -> list[Part]:
    """A person's own silences on their Home tab: a heading with their count, one line each
    (soonest to end first, as given), and how many more; nothing when they have none (the tab
    says so itself). ``/backups unsilence <id>`` lifts one."""
    if not silences:
        return []
    n = len(silences)
    parts: list[Part] = [
        Text(ngettext("*Your silences* ({n})", "*Your silences* ({n})", n).format(n=n))
    ]
    parts += [Text(":no_bell: " + silence_line(s)) for s in silences[:HOME_MAX]]
    notes = []
    if n > HOME_MAX:
        more = n - HOME_MAX
        notes.append(ngettext("and {n} more", "and {n} more", more).format(n=more))
    hint = _("End one early with `{command}`.").format(
        command=" ".join((PREFIX, "unsilence", "<id>"))
    )
    notes.append(escape(hint))
    parts.append(Note(notes))
    return parts
