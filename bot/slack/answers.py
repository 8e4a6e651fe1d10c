"""What Slack's answers mean for the outbox's posts, and the text-only fallback of a message.

:func:`judge` is the one place that reads a Slack failure code into the executor's neutral
:class:`~bot.outbox.posts.Verdict`: done, try again later (and whether the post may already be in
the channel), refused for this channel or for the whole token, or refused for its content (sent
again as :func:`text_only`). Pure: plain strings in, a verdict out.
"""

from __future__ import annotations

from typing import Any

from bot.outbox.posts import Verdict

#: The code of an answer that is not Slack's JSON answer (a proxy's HTML page with 200, JSON
#: without ``ok``, a body cut short, a wrong content type): Slack may have posted, so it is an
#: answer in doubt, looked for before posting again.
UNREADABLE = "unreadable_answer"
#: The code of an ``ok`` answer to a post that names no ts: posted, but not where.
NO_TS = "no_ts_in_answer"

#: Codes of a history read that mean "this token may not read it": looking is impossible.
NO_HISTORY = frozenset({"missing_scope", "not_allowed_token_type", "no_permission"})
#: What a person does about :data:`NO_HISTORY`.
HISTORY_HINT = (
    "add the channels:history and groups:history scopes to the Slack app to deliver exactly once"
)

#: Slack's error codes by verdict (chat.postMessage and chat.update references).
_BY_CODE: dict[str, Verdict] = {
    "ratelimited": Verdict.RETRY,
    "rate_limited": Verdict.RETRY,
    "service_unavailable": Verdict.RETRY,
    "request_timeout": Verdict.IN_DOUBT,
    "internal_error": Verdict.IN_DOUBT,
    "fatal_error": Verdict.IN_DOUBT,
    "timeout": Verdict.IN_DOUBT,
    UNREADABLE: Verdict.IN_DOUBT,
    NO_TS: Verdict.IN_DOUBT,
    "msg_too_long": Verdict.CONTENT,
    "msg_blocks_too_long": Verdict.CONTENT,
    "invalid_blocks": Verdict.CONTENT,
    "invalid_blocks_format": Verdict.CONTENT,
    "invalid_attachments": Verdict.CONTENT,
    "too_many_attachments": Verdict.CONTENT,
    "invalid_metadata_format": Verdict.CONTENT,
    "invalid_metadata_schema": Verdict.CONTENT,
    "metadata_too_large": Verdict.CONTENT,
    "no_text": Verdict.CONTENT,
    "channel_not_found": Verdict.CHANNEL,
    "not_in_channel": Verdict.CHANNEL,
    "is_archived": Verdict.CHANNEL,
    "channel_is_archived": Verdict.CHANNEL,
    "restricted_action": Verdict.CHANNEL,
    "restricted_action_read_only_channel": Verdict.CHANNEL,
    "restricted_action_thread_only_channel": Verdict.CHANNEL,
    "restricted_action_non_threadable_channel": Verdict.CHANNEL,
    "team_access_not_granted": Verdict.CHANNEL,
    "ekm_access_denied": Verdict.CHANNEL,
    "invalid_auth": Verdict.AUTH,
    "not_authed": Verdict.AUTH,
    "account_inactive": Verdict.AUTH,
    "token_revoked": Verdict.AUTH,
    "token_expired": Verdict.AUTH,
    "no_permission": Verdict.AUTH,
    "missing_scope": Verdict.AUTH,
    "not_allowed_token_type": Verdict.AUTH,
    "message_not_found": Verdict.GONE,
    "cant_update_message": Verdict.GONE,
    "edit_window_closed": Verdict.GONE,
}


def judge(code: str) -> Verdict:
    """The verdict for a failure code as :class:`bot.slack.notifier.SlackAPIFailure` carries it:
    Slack's ``error``, ``http_<status>`` for an answer without one, :data:`UNREADABLE` for an
    answer that is not Slack's JSON, ``timeout`` or ``unreachable (...)`` for a transport
    failure."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code.startswith("http_"):
        status = code.removeprefix("http_")
        if status == "429":
            return Verdict.RETRY
        if status.startswith("5"):
            return Verdict.IN_DOUBT
        return Verdict.OTHER
    if code.startswith("unreachable"):
        # A connection refused before anything was sent cannot have posted, but a reset after the
        # request went out may have: without knowing which, look before posting again.
        return Verdict.IN_DOUBT
    return Verdict.OTHER


def judge_search(code: str) -> Verdict:
    """The verdict for a failed history read made to find a post in doubt: a token that may
    not read history makes looking impossible (:attr:`Verdict.UNSEARCHABLE`); the rest is read
    as for a post."""
    if code in NO_HISTORY:
        return Verdict.UNSEARCHABLE
    return judge(code)


def text_only(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its blocks dropped: the plain-text fallback, for a refused message."""
    return {key: value for key, value in payload.items() if key != "blocks"}
