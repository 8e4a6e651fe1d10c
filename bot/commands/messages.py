"""Replies to ``/backups`` commands, as cards.

Every renderer is pure: it takes plain values and an explicit ``now``. Everything that came from
the cloud or from a person is clipped to a bound and escaped, so that no row can outgrow a
paragraph and an index named ``<!channel>`` notifies nobody. Rows are packed whole into
paragraphs (never cut mid-way) with :func:`bot.chat.pack.pack`, within the chat's limits less
what each reply adds under its rows (a footer, a Next page button).
"""

from __future__ import annotations

from bot.chat.card import Card, Note, Part, Text
from bot.chat.mrkdwn import escape
from bot.chat.pack import clip, escape_clipped
from bot.commands import strings as s
from bot.commands.access import CommandDenied, denial_text
from bot.errors import (
    AccessDenied,
    AuthError,
    BadRequest,
    BotError,
    CloudAPIError,
    CloudError,
    CloudRequestError,
    CloudTimeout,
    ConfigError,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    SlackError,
    StoreUnavailable,
    Unauthenticated,
    UsageError,
)
from bot.i18n.catalog import _

#: Characters of a reply's notification text, well within any chat's.
FALLBACK_BUDGET = 3000
#: What a page of ``list`` keeps back for its footer and its Next page button (whose value the
#: packer does not count: up to ``limits.value`` more), and ``get`` and ``folder`` for their notes.
_LIST_RESERVE_PARTS, _LIST_RESERVE_TEXT = 2, 1000
_NOTES_RESERVE_PARTS, _GET_RESERVE_TEXT, _FOLDER_RESERVE_TEXT = 1, 500, 1000

#: Longest value shown from the cloud, before escaping (which can grow it five times).
_ID_CLIP = 100
_NAME_CLIP = 80
_VERSION_CLIP = 24
_INDEX_CLIP = 255  # OpenSearch's own limit on an index name
_CLOUD_MESSAGE_CLIP = 300
_MESSAGE_CLIP = 1200
#: An error's message and hint, measured after escaping: together well within a section.
_ERROR_ESCAPED = 1800
_HINT_ESCAPED = 1000


# --- small builders -----------------------------------------------------------------------------


def one_line(value: object, limit: int) -> str:
    """Bound a value to ``limit`` characters and make it one line; the result is not escaped."""
    text = " ".join(str(value).split()) if value is not None else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def esc(value: object, limit: int) -> str:
    """A value bounded to ``limit`` characters on one line, escaped for mrkdwn."""
    return escape(one_line(value, limit))


def code_text(value: object, limit: int = _ID_CLIP) -> str:
    """Escaped text for use inside backticks: a backtick in the value cannot end the span."""
    return esc(value, limit).replace("`", "'")


def say(template: str, **values: object) -> str:
    """Translate a strings template and fill it for mrkdwn: the template is escaped (so
    ``<cluster>`` shows as typed); the values must already be escaped by the caller."""
    return fill(_(template), **values)


def fill(template: str, **values: object) -> str:
    """Fill a template already in the reader's language (a count's form) as :func:`_t` does."""
    return escape(template).format(**values)


def reply_fallback(text: str) -> str:
    """A reply's notification text, within its budget."""
    return clip(text, FALLBACK_BUDGET)


# --- help ---------------------------------------------------------------------------------------


def render_help(topic: str | None = None) -> Card:
    """Usage of every command, or the full help of one, with examples."""
    entry = s.HELP_BY_NAME.get(topic) if topic else None
    if entry is None:
        lines = [f"*{escape(_(s.HELP_TITLE))}*"]
        lines += [
            f"`{escape(s.usage_line(h.name))}` {escape(_(h.summary))}" for h in s.COMMAND_HELP
        ]
        examples = ", ".join(
            f"`{escape(s.PREFIX)} {escape(h.examples[0])}`"
            for h in s.COMMAND_HELP
            if h.name in ("list", "clusters", "snooze")
        )
        parts: list[Part] = [
            Text("\n".join(lines)),
            Note([f"{_(s.HELP_EXAMPLES)}: {examples}"]),
            Note([escape(_(s.HELP_SHARE_NOTE).format(prefix=s.PREFIX))]),
        ]
        plain = [_(s.HELP_TITLE)]
        plain += [f"{s.usage_line(h.name)}: {_(h.summary)}" for h in s.COMMAND_HELP]
        return Card(escape("\n".join(plain)), parts)
    summary = _(entry.summary)
    body = [f"*{escape(s.usage_line(entry.name))}*", escape(summary.capitalize()) + "."]
    if entry.details:
        body.append(escape(_(entry.details)))
    examples = "\n".join(f"`{escape(s.PREFIX)} {escape(e)}`" for e in entry.examples)
    parts = [Text("\n".join(body)), Text(f"*{_(s.HELP_EXAMPLES)}*\n{examples}")]
    return Card(escape(f"{s.usage_line(entry.name)}: {summary}"), parts)


# --- list ---------------------------------------------------------------------------------------


# --- get ----------------------------------------------------------------------------------------


# --- folder -------------------------------------------------------------------------------------


# --- clusters -----------------------------------------------------------------------------------


# --- errors, acknowledgements, confirmations ----------------------------------------------------


def _cloud_says(err: BaseException) -> str:
    return one_line(str(err), _CLOUD_MESSAGE_CLIP) or s.UNKNOWN_VALUE


def _describe(
    err: BaseException, correlation_id: str | None, subject: str | None
) -> tuple[str, str, str | None, str | None]:
    """(icon, message, hint, detail) in plain text; the caller escapes."""
    if isinstance(err, UsageError):
        return s.ERROR_ICON_USAGE, one_line(str(err), _MESSAGE_CLIP), err.hint, None
    if isinstance(err, AccessDenied):
        return s.ERROR_ICON_DENIED, one_line(str(err), _MESSAGE_CLIP), _(s.ACCESS_HINT), None
    if isinstance(err, CloudAPIError):
        detail = _(s.REQUEST_ID).format(id=one_line(err.request_id, 64)) if err.request_id else None
        if isinstance(err, NotFound):
            what = subject or _(s.NOT_FOUND_SUBJECT)
            message = (
                _(s.NOT_FOUND_CLOUD_SAYS).format(subject=what, cloud=_cloud_says(err))
                if str(err)
                else _(s.NOT_FOUND).format(subject=what)
            )
            hint = _(s.NOT_FOUND_HINT).format(prefix=s.PREFIX)
            if err.suggestions:
                names = ", ".join(f"`{one_line(n, 100)}`" for n in err.suggestions)
                hint = _("Did you mean {names}?").format(names=names)
            return s.ERROR_ICON_USAGE, message, hint, detail
        if isinstance(err, PermissionDenied):
            message = _(s.PERMISSION_DENIED).format(cloud=_cloud_says(err))
            return s.ERROR_ICON_DENIED, message, _(s.PERMISSION_DENIED_HINT), detail
        if isinstance(err, Unauthenticated):
            return s.ERROR_ICON_CLOUD, _(s.UNAUTHENTICATED), _(s.UNAUTHENTICATED_HINT), detail
        if isinstance(err, RateLimited):
            return s.ERROR_ICON_CLOUD, _(s.CLOUD_RATE_LIMITED), _(s.TRY_AGAIN), detail
        if isinstance(err, ServerError):
            message = _(s.CLOUD_SERVER_ERROR).format(status=err.status)
            return s.ERROR_ICON_CLOUD, message, _(s.TRY_AGAIN), detail
        if isinstance(err, BadRequest):
            message = _(s.CLOUD_BAD_REQUEST).format(cloud=_cloud_says(err))
            return s.ERROR_ICON_CLOUD, message, None, detail
        message = _(s.CLOUD_OTHER).format(status=err.status, cloud=_cloud_says(err))
        return s.ERROR_ICON_CLOUD, message, _(s.TRY_AGAIN), detail
    if isinstance(err, CloudTimeout):
        return s.ERROR_ICON_CLOUD, _(s.CLOUD_TIMEOUT), _(s.TRY_AGAIN), None
    if isinstance(err, CloudRequestError):
        return s.ERROR_ICON_CLOUD, _(s.CLOUD_UNREACHABLE), _(s.TRY_AGAIN), None
    if isinstance(err, AuthError):
        return s.ERROR_ICON_CLOUD, _(s.UNAUTHENTICATED), _(s.UNAUTHENTICATED_HINT), None
    if isinstance(err, MalformedResponse):
        detail = _(s.UNEXPECTED).format(id=correlation_id) if correlation_id else None
        return s.ERROR_ICON_CLOUD, _(s.CLOUD_MALFORMED), _(s.TRY_AGAIN), detail
    if isinstance(err, CloudError):
        return s.ERROR_ICON_CLOUD, _(s.CLOUD_UNREACHABLE), _(s.TRY_AGAIN), None
    if isinstance(err, ConfigError):
        message = _(s.CONFIG_ERROR).format(detail=one_line(str(err), _MESSAGE_CLIP))
        return s.ERROR_ICON_BUG, message, _(s.CONFIG_HINT), None
    if isinstance(err, SlackError):
        message = _(s.SLACK_ERROR).format(detail=one_line(str(err), _CLOUD_MESSAGE_CLIP))
        return s.ERROR_ICON_BUG, message, _(s.TRY_AGAIN), None
    if isinstance(err, StoreUnavailable):
        return s.ERROR_ICON_BUG, _(s.STORE_UNAVAILABLE), _(s.STORE_HINT), None
    if isinstance(err, BotError) and str(err):
        return s.ERROR_ICON_USAGE, one_line(str(err), _MESSAGE_CLIP), None, None
    # An unexpected error: its text may hold anything, so only the id is shown.
    if correlation_id:
        message = _(s.UNEXPECTED).format(id=one_line(correlation_id, 64).replace("`", "'"))
    else:
        message = _(s.UNEXPECTED_NO_ID)
    return s.ERROR_ICON_BUG, message, _(s.UNEXPECTED_HINT), None


def render_error(
    err: BaseException, *, correlation_id: str | None = None, subject: str | None = None
) -> Card:
    """What went wrong, for a person: typed errors say what and what to do; anything else
    only says it was our fault, with the correlation id that is in the log.

    ``subject`` names what was looked for in a NotFound reply, e.g. "cluster `c9q...`"; it is
    plain text and is escaped here.
    """
    icon, message, hint, detail = _describe(err, correlation_id, subject)
    if isinstance(err, CommandDenied):
        text = f"{icon} {denial_text(err, mrkdwn=True)}"
    else:
        text = f"{icon} {escape_clipped(message, _ERROR_ESCAPED)}"
    if hint:
        text += "\n" + escape_clipped(one_line(hint, _MESSAGE_CLIP), _HINT_ESCAPED)
    parts: list[Part] = [Text(text)]
    if detail:
        parts.append(Note([escape_clipped(detail, _HINT_ESCAPED)]))
    plain = message if not hint else f"{message} {hint}"
    fallback = reply_fallback(escape(plain))
    return Card(fallback if fallback.strip() else icon, parts)


def render_ack(text: str) -> Card:
    """A short confirmation. ``text`` is plain (backticks and asterisks allowed) and escaped."""
    escaped = escape_clipped(one_line(text, _MESSAGE_CLIP), _ERROR_ESCAPED)
    return Card(escaped if escaped.strip() else _("Done."), [Text(f":white_check_mark: {escaped}")])
