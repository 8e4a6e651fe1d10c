"""A real local fake of the Slack Web API (and of Socket Mode and response URLs) on loopback.

It is an aiohttp server that answers the methods the bot calls the way Slack does, refusals
included, so that tests prove the bot copes with Slack rather than with our idea of it. Every call
is recorded in :attr:`FakeSlack.calls`; posted messages are kept with their updates applied
(:meth:`FakeSlack.messages`). The same server hands out a ``ws://`` URL from
``apps.connections.open`` and plays Slack's side of Socket Mode.

What it does as Slack does, and where that was learned (the numbers are Slack's):

- **Refused messages** answer HTTP 200 ``{"ok": false, "error": ...}``: ``no_text``;
  ``msg_too_long`` for ``text`` over 40,000 characters (chat.postMessage reference: "provide no
  more than 40,000 characters"); ``invalid_blocks`` with ``errors`` and
  ``response_metadata.messages`` (``[ERROR] ... [json-pointer:/blocks/0/text/text]``) for more
  than 50 blocks, a section text over 3,000, more than 10 fields or one over 2,000, a header over
  150, a button text over 75 or value over 2,000, an action_id over 255, more than 25 actions or
  10 context elements (Block Kit reference); ``msg_blocks_too_long`` when the blocks hold more
  than about 12,000 characters of text in all. That budget is undocumented but real:
  slackapi/bolt-js#2509 found refusals from about 13,200 characters, and refusals are seen as low
  as ~11,300, so :attr:`SlackLimits.block_text` is configurable (12,000 when on).
- **Pacing**: chat.postMessage takes "one message per second per channel", short bursts allowed
  (docs.slack.dev, "Rate limits", special tier); other methods have per-workspace tiers (Tier 3,
  "50+ per minute", for conversations.history and .replies). :meth:`FakeSlack.pace` turns on a
  token bucket per channel (or per workspace), or the stricter model a real workspace was seen
  to keep, :data:`STRICT_PACE`: at most three posts in any three seconds per channel (a
  :class:`WindowPace`), which refuses a fourth post a token bucket of burst 3 would take; past
  either Slack answers HTTP 429 ``{"ok": false, "error": "ratelimited"}`` with a
  ``Retry-After`` in whole seconds, and does nothing.
- **A 5xx or a timeout does not mean the post did not happen** (the method references list
  ``internal_error``/``fatal_error``: "it's possible some aspect of the operation succeeded").
  :meth:`FakeSlack.lose_next` posts and then answers 500/503 (JSON or an HTML page), answers
  late, or drops the connection; or answers 200 with what a proxy or a broken hop in between
  makes of the answer: an HTML page, JSON without ``ok``, Slack's JSON cut short, Slack's JSON
  under another content type, or a body that stops half-way. :meth:`FakeSlack.fail_next` refuses
  without posting, with a JSON or a non-JSON body.
- **Channels and tokens**: ``channel_not_found``, ``not_in_channel``, ``is_archived`` (and
  ``is_inactive`` for chat.update in an archived channel), ``message_not_found`` and
  ``cant_update_message`` from Slack's method references (as mirrored in
  slack-ruby/slack-api-ref); a bot not in a channel can be invited (``not_in_channel`` then goes
  away); a revoked token answers ``token_revoked``, ``invalid_auth`` or ``account_inactive`` to
  every call, with HTTP 200 like every Web API refusal.
- **Message metadata** (docs.slack.dev "Using message metadata"): chat.postMessage keeps
  ``metadata`` ``{"event_type": ..., "event_payload": {...}}`` (``invalid_metadata_format``
  otherwise); chat.update keeps it when the field is absent and drops it for ``{}``.
  conversations.history and conversations.replies return it only with
  ``include_all_metadata=true``.
- **History**: conversations.history returns top-level messages (and broadcast replies) newest
  first, ``oldest``/``latest`` exclusive unless ``inclusive``, ``limit`` 100 by default and at
  most 999, ``has_more`` and ``response_metadata.next_cursor`` (docs.slack.dev reference); a
  bot token reads only conversations the bot is a member of (``not_in_channel``, same page);
  thread replies are only in conversations.replies, which takes the parent's ts (or a reply's)
  and returns the parent first, then the replies oldest first, ``thread_not_found`` for a ts
  that is no message (the fake always leads with the parent, even when ``oldest`` is later than
  it: what Slack does there is not documented). Both answer ``missing_scope`` with ``needed`` and
  ``provided`` when the
  token lacks ``channels:history`` (``groups:history`` for a private channel): that is the shape
  Slack sends (``{'ok': False, 'error': 'missing_scope', 'needed': ..., 'provided': ...}``, as
  quoted in apache/superset#15904). Every answer carries ``X-OAuth-Scopes``, which Bolt reads
  from auth.test (slack_bolt ``middleware/authorization/internals.py``).
- **Files** (docs.slack.dev, "Uploading files": the external upload that replaced
  ``files.upload``): ``files.getUploadURLExternal`` takes ``filename`` and ``length`` and gives an
  ``upload_url`` (on this server) and a ``file_id``; the bytes are POSTed to that URL (200);
  ``files.completeUploadExternal`` takes ``files`` (JSON ``[{"id", "title"}]``), ``channel_id``,
  ``thread_ts`` and ``initial_comment`` and shares each uploaded file in one message that
  history and replies show with its ``files`` (``id``, ``name``, ``title``); a file not
  uploaded (or of another length) is ``file_not_found``/``file_upload_size_mismatch``... as
  ``invalid_arguments``. Both take ``files:write``. :meth:`FakeSlack.files` reads what was shared.
- **ts**: ``<seconds>.<6 digits>`` from the fake's clock, unique and increasing. A malformed
  ``thread_ts`` is ``invalid_thread_ts`` (``"0"``: jenkinsci/slack-plugin#584, ``""``:
  vercel/chat#268); a well-formed one that is no message is accepted and the reply is visible
  nowhere in the channel (python-slack-sdk#840).
- **The Home tab** (docs.slack.dev, views.publish): ``user_id`` and ``view`` (an object, or
  JSON text as a form sends it) are required, the view's ``type`` must be ``home``, and it holds
  at most 100 blocks (Block Kit reference, "Views"), each within the same limits as a
  message's, with no two sharing a ``block_id``; otherwise ``invalid_arguments`` with
  ``response_metadata.messages`` (``[ERROR] ... [json-pointer:/view/blocks]``). A user id that
  is not one (``U...``/``W...``) is ``user_not_found``. :meth:`FakeSlack.home` reads what a
  person's tab shows.
- **response_url** refusals answer HTTP 4xx with the error as a plain-text body. Slack takes at
  most 5 posts to one response URL in 30 minutes; so does the fake
  (:attr:`FakeSlack.response_url_uses`, per URL, not timed). The answer past the limit (404
  ``used_url`` here) is not documented.

Defaults: everything above is on except where today's bot does not cope yet or a test would pay
for it: the undocumented block-text budget is off (:data:`STRICT_LIMITS` turns it on; today's
digest renders 32,000 characters of block text a message) and so is pacing (:meth:`FakeSlack.pace`;
with it on the suite still passes but waits out every 429).

It also carries the helpers a test needs to talk to the bot like Slack does over HTTP:
:func:`sign` (the v0 request signature) and :func:`slash_command_form`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import hashlib
import hmac
import json
import math
import re
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web

#: Slack's limit on blocks in one message.
MAX_BLOCKS = 50
#: Slack's limit on blocks in a view (a modal or the Home tab).
MAX_VIEW_BLOCKS = 100

#: A server error page as a load balancer in front of Slack sends it: not JSON.
HTML_ERROR_PAGE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
#: What a proxy between the bot and Slack answers with 200 instead of Slack's answer: not JSON.
HTML_PROXY_PAGE = (
    "<html><head><title>Request accepted</title></head>"
    "<body><p>Your request is being processed by the gateway.</p></body></html>"
)
#: JSON a proxy answers with 200 that is not Slack's: no ``ok``.
PROXY_JSON = '{"status": "accepted", "message": "forwarded upstream"}'

#: The scopes the fake's bot token has unless a test takes some away.
DEFAULT_SCOPES = frozenset(
    {
        "chat:write",
        "commands",
        "usergroups:read",
        "users:read",
        "channels:history",
        "groups:history",
        "files:write",
        "im:history",
        "mpim:history",
    }
)

#: The errors a revoked or broken bot token answers to every call.
TokenError = Literal["invalid_auth", "token_revoked", "account_inactive"]
#: How a channel refuses posts.
ChannelError = Literal["channel_not_found", "not_in_channel", "is_archived"]
#: How an answer is lost after (or while) Slack does what was asked.
LossMode = Literal[
    "500_html",
    "500_json",
    "503_html",
    "503_json",
    "late",
    "slow",
    "reset",
    "200_html",
    "200_no_ok",
    "200_truncated",
    "200_wrong_type",
    "200_cut",
]

_LOSS_MODES = frozenset(get_args(LossMode))
_CHANNEL_ERRORS = frozenset(get_args(ChannelError))
_TOKEN_ERRORS = frozenset(get_args(TokenError))
# A thread_ts Slack takes: digits, a dot, digits ("0" and "" are refused as invalid_thread_ts).
_TS_FORMAT = re.compile(r"^\d+\.\d+$")
_MENTION = re.compile(r"<(@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+|!here|!channel|!everyone)")
# Slack's rate limiter runs on Slack's time, not on a test's frozen clock. freezegun swaps
# module attributes that are time.monotonic, not functions held in a tuple: this one stays real.
_REAL_MONOTONIC = (time.monotonic,)


def elapsed() -> float:
    """Real monotonic seconds, which freezegun does not stop: the clock of pacing and of
    :attr:`Post.at`."""
    return _REAL_MONOTONIC[0]()


@dataclass(frozen=True)
class SlackLimits:
    """What Slack refuses in a message; ``None`` switches one check off."""

    #: Characters of text in all the blocks together (``msg_blocks_too_long``; undocumented).
    block_text: int | None = 12_000
    #: Characters of the top-level ``text`` (``msg_too_long``).
    text: int | None = 40_000
    # The rest answer invalid_blocks (Block Kit reference).
    blocks: int | None = 50
    section_text: int | None = 3_000
    fields: int | None = 10
    field_text: int | None = 2_000
    header_text: int | None = 150
    button_text: int | None = 75
    button_value: int | None = 2_000
    action_id: int | None = 255
    actions_elements: int | None = 25
    context_elements: int | None = 10


#: Everything Slack refuses, the ~12,000-character block text budget included.
STRICT_LIMITS = SlackLimits()
#: The default: every documented limit; the undocumented block text budget is off, since today's
#: renderers exceed it (issue "Fleet scale in Slack"); turn it on with :data:`STRICT_LIMITS`.
DEFAULT_LIMITS = SlackLimits(block_text=None)


@dataclass(frozen=True)
class Pace:
    """A token bucket: ``rate`` calls a second, ``burst`` at once."""

    rate: float = 1.0
    burst: int = 3
    #: One bucket per channel (chat.postMessage) or one for the workspace (the tiers).
    per_channel: bool = True


@dataclass(frozen=True)
class WindowPace:
    """A sliding window: at most ``calls`` calls in any ``seconds`` seconds. Stricter than a
    token bucket of the same burst: after three posts at once, a token bucket of rate 1 takes a
    fourth a second later; this window not before three seconds have passed."""

    calls: int = 3
    seconds: float = 3.0
    #: One window per channel (chat.postMessage) or one for the workspace.
    per_channel: bool = True


#: The stricter pace model of chat.postMessage: three posts in any three seconds per channel.
STRICT_PACE = WindowPace(calls=3, seconds=3.0)


@dataclass(frozen=True)
class SlackCall:
    """One call that reached the fake: the Web API method (or ``response_url``) and its args."""

    method: str
    args: dict[str, Any]
    token_ok: bool


@dataclass(frozen=True)
class Post:
    """A chat.postMessage Slack accepted: where, its ts, and when (:func:`elapsed` seconds)."""

    channel: str
    ts: str
    at: float
    thread_ts: str | None
    mentions: tuple[str, ...]


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    times: int
    error: str | None = None
    body: str | None = None
    content_type: str = "text/html"


@dataclass
class _Loss:
    mode: LossMode
    times: int
    delay: float


@dataclass
class _Refusal:
    error: ChannelError
    fixed_by_invite: bool


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class _Socket:
    ws: web.WebSocketResponse
    acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Problem:
    """Why Slack refuses a message: the error code and the ``[ERROR]`` lines it explains it by."""

    error: str
    details: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error": self.error}
        if self.details:
            out["errors"] = list(self.details)
            out["response_metadata"] = {"messages": [f"[ERROR] {d}" for d in self.details]}
        return out


def block_text_length(blocks: Iterable[Any]) -> int:
    """Characters of text in ``blocks`` in all: every ``text`` string at any depth (section
    texts, fields, context elements, headers, button labels, markdown blocks)."""

    def walk(node: Any) -> int:
        if isinstance(node, dict):
            total = 0
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    total += len(value)
                else:
                    total += walk(value)
            return total
        if isinstance(node, list):
            return sum(walk(item) for item in node)
        return 0

    return walk(list(blocks))


def _text_of(node: Any) -> str:
    if isinstance(node, dict):
        value = node.get("text")
        return value if isinstance(value, str) else ""
    return ""


def _block_problems(blocks: list[Any], limits: SlackLimits) -> list[str]:
    """The ``[ERROR]`` lines Slack would give for these blocks (empty: Block Kit accepts them)."""
    problems: list[str] = []

    def over(value: str, limit: int | None, pointer: str) -> None:
        if limit is not None and len(value) > limit:
            problems.append(f"must be less than {limit + 1} characters [json-pointer:{pointer}]")

    def too_many(items: list[Any], limit: int | None, pointer: str) -> None:
        if limit is not None and len(items) > limit:
            problems.append(f"must provide no more than {limit} items [json-pointer:{pointer}]")

    too_many(blocks, limits.blocks, "/blocks")
    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:{at}]")
            continue
        kind = block["type"]
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                problems.append(f"must provide text or fields [json-pointer:{at}]")
            if text is not None:
                if not _text_of(text):
                    problems.append(f"must be more than 0 characters [json-pointer:{at}/text/text]")
                over(_text_of(text), limits.section_text, f"{at}/text/text")
            if isinstance(fields, list):
                too_many(fields, limits.fields, f"{at}/fields")
                for j, item in enumerate(fields):
                    over(_text_of(item), limits.field_text, f"{at}/fields/{j}/text")
        elif kind == "header":
            over(_text_of(block.get("text")), limits.header_text, f"{at}/text/text")
        elif kind == "context":
            elements = block.get("elements")
            if isinstance(elements, list):
                too_many(elements, limits.context_elements, f"{at}/elements")
        elif kind == "actions":
            elements = block.get("elements")
            if isinstance(elements, list):
                too_many(elements, limits.actions_elements, f"{at}/elements")
                for j, element in enumerate(elements):
                    if not isinstance(element, dict):
                        continue
                    where = f"{at}/elements/{j}"
                    if element.get("type") == "button":
                        over(_text_of(element.get("text")), limits.button_text, f"{where}/text")
                        over(str(element.get("value", "")), limits.button_value, f"{where}/value")
                    over(str(element.get("action_id", "")), limits.action_id, f"{where}/action_id")
    return problems


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def _ts_value(ts: str) -> Decimal:
    return Decimal(ts)


def _encode_cursor(ts: str) -> str:
    # Slack's cursors are opaque base64; its history cursors decode to "next_ts:<digits>".
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> str | None:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    ts = raw.removeprefix("next_ts:")
    return ts if raw.startswith("next_ts:") and _TS_FORMAT.match(ts) else None


def _mentions_in(text: str, blocks: list[Any]) -> tuple[str, ...]:
    """Who a message pings (``U...``, ``S...``, ``here``...), each once."""
    found: dict[str, None] = {}
    sources = [text, *_all_texts(blocks)]
    for source in sources:
        for match in _MENTION.finditer(source):
            token = match.group(1)
            name = token.removeprefix("@").removeprefix("!subteam^").removeprefix("!")
            found.setdefault(name, None)
    return tuple(found)


def _all_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        out: list[str] = []
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                out.append(value)
            else:
                out.extend(_all_texts(value))
        return out
    if isinstance(node, list):
        return [t for item in node for t in _all_texts(item)]
    return []


def sign(secret: str, body: str | bytes, timestamp: int | str) -> str:
    """The ``X-Slack-Signature`` Slack computes: v0 HMAC-SHA256 of ``v0:<ts>:<body>``."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: str | bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """Headers of a signed request from Slack (content type of a form post)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(secret, body, ts),
    }


def slash_command_payload(
    text: str,
    *,
    response_url: str,
    user_id: str = "U0TESTUSER",
    channel_id: str = "C0TESTCHAN",
    command: str = "/backups",
    team_id: str = "T0TESTTEAM",
) -> dict[str, str]:
    """The fields Slack sends for a slash command (HTTP form fields; Socket Mode payload)."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "example",
        "channel_id": channel_id,
        "channel_name": "backups",
        "user_id": user_id,
        "user_name": "tester",
        "command": command,
        "text": text,
        "api_app_id": "A0TESTAPP",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.1.{uuid.uuid4().hex[:16]}",
    }


def slash_command_form(text: str, *, response_url: str, **fields: str) -> str:
    """A slash command as Slack posts it over HTTP: an urlencoded form."""
    return urlencode(slash_command_payload(text, response_url=response_url, **fields))


def block_action_payload(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user_id: str = "U0TESTUSER",
    channel_id: str = "C0TESTCHAN",
    message_ts: str = "1700000000.000100",
    team_id: str = "T0TESTTEAM",
) -> dict[str, Any]:
    """A ``block_actions`` payload for a button click, as Slack sends it."""
    return {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "example"},
        "user": {"id": user_id, "username": "tester", "team_id": team_id},
        "api_app_id": "A0TESTAPP",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": f"{int(time.time())}.1.{uuid.uuid4().hex[:16]}",
        "channel": {"id": channel_id, "name": "backups"},
        "message": {"type": "message", "ts": message_ts, "text": "", "blocks": []},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "text": {"type": "plain_text", "text": "button"},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def block_action_form(action_id: str, value: str, *, response_url: str, **kw: Any) -> str:
    """A button click as Slack posts it over HTTP: ``payload=<json>`` urlencoded."""
    payload = block_action_payload(action_id, value, response_url=response_url, **kw)
    return urlencode({"payload": json.dumps(payload)})


def home_action_payload(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0TESTUSER",
    view_id: str = "V0TESTHOME",
    team_id: str = "T0TESTTEAM",
) -> dict[str, Any]:
    """A ``block_actions`` payload for a click on the app's Home tab, as Slack sends it: the
    container is the view, and there is no channel, message or response URL."""
    return {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "example"},
        "user": {"id": user_id, "username": "tester", "team_id": team_id},
        "api_app_id": "A0TESTAPP",
        "token": "deprecated-verification-token",
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": f"{int(time.time())}.1.{uuid.uuid4().hex[:16]}",
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "home",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "backups_home",
            "state": {"values": {}},
            "hash": "1700000000.abcdef",
            "app_id": "A0TESTAPP",
            "bot_id": "B0TESTBOT",
        },
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "text": {"type": "plain_text", "text": "button"},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def home_action_form(action_id: str, value: str, **kw: Any) -> str:
    """A click on the Home tab as Slack posts it over HTTP: ``payload=<json>`` urlencoded."""
    return urlencode({"payload": json.dumps(home_action_payload(action_id, value, **kw))})


def home_opened_event(
    user_id: str = "U0TESTUSER", *, tab: str = "home", team_id: str = "T0TESTTEAM"
) -> dict[str, Any]:
    """The Events API body Slack sends when a person opens the app's Home (or Messages) tab."""
    now = time.time()
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "api_app_id": "A0TESTAPP",
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D0TESTDM",
            "tab": tab,
            "event_ts": f"{now:.6f}",
        },
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(now),
        "authorizations": [
            {
                "team_id": team_id,
                "user_id": "U0TESTBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }


class FakeSlack:
    """The Slack Web API, response URLs and Socket Mode, served on loopback."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",  # noqa: S107 - a fake's fixed test token
        app_token: str = "xapp-test-token",  # noqa: S107
        usergroups: Mapping[str, Sequence[str]] | None = None,
        locales: Mapping[str, str] | None = None,
        limits: SlackLimits = DEFAULT_LIMITS,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        clock: Callable[[], float] | None = None,
        pace_clock: Callable[[], float] = elapsed,
    ) -> None:
        """``limits``: what messages Slack refuses (:data:`STRICT_LIMITS` for all of it).
        ``clock``: epoch seconds for message ts; by default ``time.time()``, looked up at each
        call (so freezegun moves it, and ts agree with a frozen bot's clock). ``pace_clock``:
        seconds for pacing and :attr:`Post.at`; by default real time, which freezegun does not
        stop (Slack's limiter does not wait for a test's clock)."""
        self.bot_token = bot_token
        self.app_token = app_token
        self.usergroups: dict[str, list[str]] = {k: list(v) for k, v in (usergroups or {}).items()}
        #: Each user's Slack language (``ru-RU``), as users.info with include_locale says it; a
        #: user not named here is known, in ``en-US``.
        self.locales: dict[str, str] = dict(locales or {})
        #: What messages are refused; tests may replace it at any time.
        self.limits = limits
        #: The bot token's scopes (``X-OAuth-Scopes``; history needs ``channels:history``).
        self.scopes: set[str] = set(scopes)
        #: Channels whose history needs ``groups:history`` rather than ``channels:history``.
        self.private_channels: set[str] = set()
        #: Posts allowed to one response URL (Slack: 5 in 30 minutes); ``None``: no limit.
        self.response_url_uses: int | None = 5
        #: When set, every bot-token call answers this error (see :meth:`revoke_token`).
        self.token_error: TokenError | None = None
        self.calls: list[SlackCall] = []
        #: Calls answered by a failure set up with :meth:`fail_next` (not in ``calls``).
        self.rejected: list[SlackCall] = []
        #: Calls answered 429 by the pacing of :meth:`pace` (not in ``calls``).
        self.throttled: list[SlackCall] = []
        #: Calls whose answer was lost by :meth:`lose_next` (also in ``calls``: Slack did them).
        self.lost: list[SlackCall] = []
        self.api_url = ""
        self.base_url = ""
        self._clock = clock if clock is not None else (lambda: time.time())
        self._pace_clock = pace_clock
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._posts: list[Post] = []
        self._ephemeral: list[dict[str, Any]] = []
        self._responses: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._responded_at: dict[str, list[float]] = defaultdict(list)
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._losses: dict[str, deque[_Loss]] = defaultdict(deque)
        self._paces: dict[str, Pace | WindowPace] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._refusals: dict[str, _Refusal] = {}
        #: Upload tickets by file id: (filename, length, bytes once uploaded).
        self._uploads: dict[str, tuple[str, int, bytes | None]] = {}
        self._shared: list[dict[str, Any]] = []
        #: Each person's Home tab as last published (views.publish).
        self._home: dict[str, dict[str, Any]] = {}
        self._last_ts = 0
        self._stopping = asyncio.Event()
        self._sockets: list[_Socket] = []
        self._socket_connected = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; returns the Web API base URL (ending in ``/api/``)."""
        self._stopping.clear()
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        assert hasattr(server, "sockets")
        bound_port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://{host}:{bound_port}"
        self.api_url = f"{self.base_url}/api/"
        return self.api_url

    async def stop(self) -> None:
        """Close open sockets and stop serving (answers held back by ``lose_next`` go at once)."""
        self._stopping.set()
        for sock in self._sockets:
            await sock.ws.close()
        self._sockets.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- what tests read -----------------------------------------------------------------------

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Posted messages as they are now (updates applied), oldest first, replies included.

        Each has ``ts``, ``channel``, ``text``, ``blocks``, ``thread_ts`` (``None`` at top
        level), ``metadata`` (``None`` if none), ``unfurl_links``/``unfurl_media`` as sent
        (``None`` if not sent) and ``user``."""
        out = [self._public(m) for m in self._messages.values()]
        if channel is not None:
            out = [m for m in out if m["channel"] == channel]
        return sorted(out, key=lambda m: _ts_value(m["ts"]))

    def top_level(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages that are not thread replies, oldest first."""
        return [m for m in self.messages(channel) if not m["thread_ts"]]

    def replies(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread of ``ts`` (not the parent), oldest first."""
        return [m for m in self.messages(channel) if m["thread_ts"] == ts]

    def files(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files shared by files.completeUploadExternal, in order: ``id``, ``name``, ``title``,
        ``content`` (bytes), ``channel``, ``ts`` and ``thread_ts`` of the message sharing it."""
        return [dict(f) for f in self._shared if channel is None or f["channel"] == channel]

    def posts(self, channel: str | None = None) -> list[Post]:
        """Every chat.postMessage Slack accepted, in order (lost answers included)."""
        return [p for p in self._posts if channel is None or p.channel == channel]

    def mentions(self, channel: str | None = None) -> list[str]:
        """Who was pinged, once per post that pings them: ``S...`` for a user group, ``U...``
        for a person, ``here``/``channel``. Edits ping nobody, as in Slack."""
        return [name for post in self.posts(channel) for name in post.mentions]

    def max_posts_in_window(self, channel: str | None = None, window: float = 1.0) -> int:
        """The most posts one channel (or ``channel``) accepted within any ``window`` seconds
        (of ``pace_clock``): at most the burst when a pace of one a second was respected."""
        by_channel: dict[str, list[float]] = defaultdict(list)
        for post in self.posts(channel):
            by_channel[post.channel].append(post.at)
        best = 0
        for times in by_channel.values():
            times.sort()
            first = 0
            for last, at in enumerate(times):
                while at - times[first] >= window:
                    first += 1
                best = max(best, last - first + 1)
        return best

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab ``user_id`` sees: the view last published for them, if any."""
        view = self._home.get(user_id)
        return dict(view) if view is not None else None

    def ephemeral_messages(self) -> list[dict[str, Any]]:
        """Messages sent with chat.postEphemeral."""
        return [dict(m) for m in self._ephemeral]

    def response_url(self, key: str = "r1") -> str:
        """A response URL on this server; what is posted to it is kept under ``key``."""
        return f"{self.base_url}/response/{key}"

    def responses(self, key: str = "r1") -> list[dict[str, Any]]:
        """Bodies posted to :meth:`response_url` ``key``, in order."""
        return list(self._responses.get(key, []))

    def responded_at(self, key: str = "r1") -> list[float]:
        """When each body reached response URL ``key`` (``time.monotonic()``), for benches."""
        return list(self._responded_at.get(key, []))

    async def wait_responses(self, key: str = "r1", count: int = 1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``count`` bodies have been posted to response URL ``key``."""
        deadline = time.monotonic() + timeout
        while len(self._responses.get(key, [])) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {count} response(s) posted to {key!r} within {timeout}s")
            await asyncio.sleep(0.005)

    def calls_to(self, method: str) -> list[SlackCall]:
        """Recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    # --- what tests set up ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        error: str | None = None,
        body: str | None = None,
        content_type: str = "text/html",
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``status`` and do and record
        nothing else. The body is JSON ``{"ok": false, "error": error}`` (by default
        ``ratelimited`` for 429, ``service_unavailable`` otherwise), or ``body`` when given (e.g.
        :data:`HTML_ERROR_PAGE`), sent as ``content_type`` (say ``application/json`` for a body
        that claims to be JSON and is not, as a truncated answer does)."""
        self._failures[method].append(
            _Failure(status, retry_after, times, error, body, content_type)
        )

    def lose_next(
        self,
        method: str,
        *,
        mode: LossMode,
        times: int = 1,
        delay: float = 15.0,
    ) -> None:
        """Do the next ``times`` calls of ``method`` but lose their answers.

        ``500_html``/``503_html``/``500_json``/``503_json``: Slack does it, then answers that
        status with an HTML page or a JSON error. ``late``: Slack does it at once and answers
        ``delay`` seconds later (past the client's timeout). ``slow``: Slack waits ``delay``
        seconds, then does it and answers. ``reset``: Slack does it and drops the connection.

        An answer nobody can read, with HTTP 200 (Slack does it each time): ``200_html`` a
        proxy's HTML page (:data:`HTML_PROXY_PAGE`); ``200_no_ok`` JSON that is not Slack's
        (:data:`PROXY_JSON`); ``200_truncated`` the first half of Slack's JSON answer, complete
        as sent; ``200_wrong_type`` Slack's JSON answer as ``text/plain``; ``200_cut`` Slack's
        answer announced in full (``Content-Length``) and the connection closed half-way."""
        if mode not in _LOSS_MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {sorted(_LOSS_MODES)}")
        self._losses[method].append(_Loss(mode, times, delay))

    def pace(self, method: str = "chat.postMessage", pace: Pace | WindowPace | None = None) -> None:
        """Hold ``method`` to ``pace`` per channel (by default Slack's one a second with a burst
        of 3; :data:`STRICT_PACE` for three in any three seconds); past it, answer 429
        ``ratelimited`` with ``Retry-After`` (see ``throttled``)."""
        self._paces[method] = pace if pace is not None else Pace()

    def unpace(self, method: str = "chat.postMessage") -> None:
        """Stop pacing ``method``."""
        self._paces.pop(method, None)

    def refuse_channel(
        self, channel: str, error: ChannelError, *, fixed_by_invite: bool | None = None
    ) -> None:
        """Make ``channel`` refuse posts with ``error``. ``fixed_by_invite``: whether
        :meth:`invite` cures it (by default only ``not_in_channel``; say True for
        ``channel_not_found`` to model a private channel the bot is not in)."""
        if error not in _CHANNEL_ERRORS:
            raise ValueError(f"unknown channel error {error!r}")
        cured = error == "not_in_channel" if fixed_by_invite is None else fixed_by_invite
        self._refusals[channel] = _Refusal(error, cured)

    def invite(self, channel: str) -> None:
        """Someone invites the bot to ``channel``: a refusal the invite cures goes away."""
        refusal = self._refusals.get(channel)
        if refusal is not None and refusal.fixed_by_invite:
            del self._refusals[channel]

    def unarchive(self, channel: str) -> None:
        """``channel`` is unarchived: ``is_archived`` goes away."""
        refusal = self._refusals.get(channel)
        if refusal is not None and refusal.error == "is_archived":
            del self._refusals[channel]

    def allow_channel(self, channel: str) -> None:
        """``channel`` takes posts again, whatever it refused."""
        self._refusals.pop(channel, None)

    def revoke_token(self, error: TokenError = "token_revoked") -> None:
        """The bot token stops working: every call answers ``error`` (HTTP 200, as Slack)."""
        if error not in _TOKEN_ERRORS:
            raise ValueError(f"unknown token error {error!r}")
        self.token_error = error

    def restore_token(self) -> None:
        """The bot token works again."""
        self.token_error = None

    def remove_scopes(self, *scopes: str) -> None:
        """Take scopes from the bot token (e.g. ``channels:history``, ``groups:history``)."""
        self.scopes.difference_update(scopes)

    def seed_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0SOMEONE",
        thread_ts: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """A message someone else posted (not a call; the bot cannot update it); its ts."""
        ts = self._next_ts()
        self._messages[(channel, ts)] = {
            "ts": ts,
            "channel": channel,
            "text": text,
            "blocks": [],
            "thread_ts": thread_ts,
            "metadata": dict(metadata) if metadata is not None else None,
            "unfurl_links": None,
            "unfurl_media": None,
            "user": user,
            "bot_id": None,
            "reply_broadcast": False,
        }
        return ts

    # --- Socket Mode ---------------------------------------------------------------------------

    async def wait_socket_connected(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a Socket Mode client holds an open connection."""
        await asyncio.wait_for(self._socket_connected.wait(), timeout)

    async def send_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - the contract names it
    ) -> dict[str, Any]:
        """Send an envelope to the connected client and return its acknowledgement."""
        await self.wait_socket_connected(timeout)
        sock = self._sockets[-1]
        envelope_id = str(uuid.uuid4())
        ack: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        sock.acks[envelope_id] = ack
        await sock.ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": type_,
                "payload": payload,
                "accepts_response_payload": type_ in ("slash_commands", "interactive"),
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        try:
            return await asyncio.wait_for(ack, timeout)
        finally:
            sock.acks.pop(envelope_id, None)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        sock = _Socket(ws)
        self._sockets.append(sock)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                "connection_info": {"app_id": "A0TESTAPP"},
            }
        )
        self._socket_connected.set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                fut = sock.acks.get(str(data.get("envelope_id", "")))
                if fut is not None and not fut.done():
                    fut.set_result(data)
        finally:
            if sock in self._sockets:
                self._sockets.remove(sock)
            if not self._sockets:
                self._socket_connected.clear()
        return ws

    # --- HTTP handlers -------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            raw = await request.read()
            if ctype == "application/json":
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    args.update(body)
            else:
                args.update(dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True)))
        # Form posts carry blocks, attachments and metadata as JSON strings.
        for key in ("blocks", "attachments", "metadata", "files"):
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        return args

    @staticmethod
    def _take(queue: deque[Any] | None) -> Any:
        if not queue:
            return None
        item = queue[0]
        item.times -= 1
        if item.times <= 0:
            queue.popleft()
        return item

    def _take_failure(self, method: str) -> _Failure | None:
        failure: _Failure | None = self._take(self._failures.get(method))
        return failure

    def _take_loss(self, method: str) -> _Loss | None:
        loss: _Loss | None = self._take(self._losses.get(method))
        return loss

    @staticmethod
    def _failure_response(failure: _Failure) -> web.Response:
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        if failure.body is not None:
            headers["Content-Type"] = f"{failure.content_type}; charset=utf-8"
            return web.Response(status=failure.status, text=failure.body, headers=headers)
        error = failure.error or ("ratelimited" if failure.status == 429 else "service_unavailable")
        return web.json_response(
            {"ok": False, "error": error}, status=failure.status, headers=headers
        )

    def _throttle(self, method: str, args: Mapping[str, Any]) -> int | None:
        """Seconds to wait if ``method`` to this channel is over its pace now, else None (and
        the call takes a token)."""
        pace = self._paces.get(method)
        if pace is None:
            return None
        channel = args.get("channel") or args.get("channel_id") or ""
        key = (method, str(channel) if pace.per_channel else "")
        now = self._pace_clock()
        if isinstance(pace, WindowPace):
            return self._window_wait(key, pace, now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(pace.burst), now)
        bucket.tokens = min(
            float(pace.burst), bucket.tokens + max(0.0, now - bucket.at) * pace.rate
        )
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / pace.rate))

    def _window_wait(self, key: tuple[str, str], pace: WindowPace, now: float) -> int | None:
        """As :meth:`_throttle`, for a sliding window: the calls of the last ``pace.seconds``."""
        taken = self._windows.setdefault(key, deque())
        while taken and taken[0] <= now - pace.seconds:
            taken.popleft()
        if len(taken) < pace.calls:
            taken.append(now)
            return None
        return max(1, math.ceil(taken[0] + pace.seconds - now))

    def _with_scopes(self, response: web.StreamResponse) -> web.StreamResponse:
        response.headers["X-OAuth-Scopes"] = ",".join(sorted(self.scopes))
        return response

    async def _hold(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the fake is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._args(request)
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header else str(args.pop("token", ""))
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        call = SlackCall(method, args, token_ok=token == expected)
        failure = self._take_failure(method)
        if failure is not None:
            self.rejected.append(call)
            return self._failure_response(failure)
        wait = self._throttle(method, args)
        if wait is not None:
            self.throttled.append(call)
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        self.calls.append(call)
        if not token:
            return self._error("not_authed")
        if not call.token_ok:
            return self._error("invalid_auth")
        if self.token_error is not None and method != "apps.connections.open":
            return self._error(self.token_error)
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "usergroups.users.list": self._usergroup_users,
            "users.info": self._users_info,
            "apps.connections.open": self._connections_open,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "views.publish": self._views_publish,
        }.get(method)
        if handler is None:
            return self._error("unknown_method")
        loss = self._take_loss(method)
        if loss is not None and loss.mode == "slow":
            await self._hold(loss.delay)
        response = self._with_scopes(handler(args))
        if loss is None or loss.mode == "slow":
            return response
        self.lost.append(call)
        return await self._lose(request, response, loss)

    async def _lose(
        self, request: web.Request, response: web.StreamResponse, loss: _Loss
    ) -> web.StreamResponse:
        if loss.mode == "late":
            await self._hold(loss.delay)
            return response
        if loss.mode == "reset":
            if request.transport is not None:
                request.transport.abort()
            return response
        if loss.mode.startswith("200_"):
            return await self._unreadable(request, response, loss.mode)
        status = 500 if loss.mode.startswith("500") else 503
        if loss.mode.endswith("_html"):
            return web.Response(status=status, text=HTML_ERROR_PAGE, content_type="text/html")
        error = "internal_error" if status == 500 else "service_unavailable"
        return web.json_response({"ok": False, "error": error}, status=status)

    @staticmethod
    async def _unreadable(
        request: web.Request, response: web.StreamResponse, mode: LossMode
    ) -> web.StreamResponse:
        """Slack's answer as a proxy or a broken hop hands it on, with HTTP 200."""
        body = response.body if isinstance(response, web.Response) else None
        answer = bytes(body) if isinstance(body, bytes | bytearray) else b"{}"
        if mode == "200_html":
            return web.Response(text=HTML_PROXY_PAGE, content_type="text/html")
        if mode == "200_no_ok":
            return web.Response(text=PROXY_JSON, content_type="application/json")
        if mode == "200_truncated":
            return web.Response(body=answer[: len(answer) // 2], content_type="application/json")
        if mode == "200_wrong_type":
            return web.Response(body=answer, content_type="text/plain")
        # 200_cut: the whole answer announced, half of it sent, then the connection closed.
        cut = web.StreamResponse(headers={"Content-Type": "application/json"})
        cut.content_length = len(answer)
        await cut.prepare(request)
        await cut.write(answer[: len(answer) // 2])
        if request.transport is not None:
            request.transport.abort()
        return cut

    @staticmethod
    def _error(error: str, **extra: Any) -> web.Response:
        return web.json_response({"ok": False, "error": error, **extra})

    def _content_problem(self, args: Mapping[str, Any]) -> _Problem | None:
        """Why Slack would refuse this message body, or None."""
        blocks = args.get("blocks")
        text = args.get("text")
        if not text and not blocks and not args.get("attachments"):
            return _Problem("no_text")
        limits = self.limits
        if isinstance(text, str) and limits.text is not None and len(text) > limits.text:
            return _Problem("msg_too_long")
        if blocks is not None:
            if not isinstance(blocks, list):
                return _Problem("invalid_blocks_format")
            problems = _block_problems(blocks, limits)
            if problems:
                return _Problem("invalid_blocks", tuple(problems))
            if limits.block_text is not None and block_text_length(blocks) > limits.block_text:
                return _Problem("msg_blocks_too_long")
        return None

    def _channel_refusal(self, method: str, channel: str) -> str | None:
        refusal = self._refusals.get(channel)
        if refusal is None:
            return None
        if method == "chat.update" and refusal.error == "is_archived":
            return "is_inactive"
        if method in ("conversations.history", "conversations.replies"):
            # An archived channel can still be read.
            return None if refusal.error == "is_archived" else refusal.error
        return refusal.error

    def _next_ts(self) -> str:
        micros = max(round(self._clock() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    @staticmethod
    def _metadata_problem(metadata: Any) -> bool:
        if not isinstance(metadata, dict):
            return True
        if not metadata:
            return False  # {} means "no metadata" (chat.update: remove it)
        event_type = metadata.get("event_type")
        payload = metadata.get("event_payload", {})
        return not (isinstance(event_type, str) and event_type and isinstance(payload, dict))

    def _public(self, message: Mapping[str, Any]) -> dict[str, Any]:
        keys = (
            "ts",
            "channel",
            "text",
            "blocks",
            "thread_ts",
            "metadata",
            "unfurl_links",
            "unfurl_media",
            "user",
        )
        out = {k: message[k] for k in keys}
        if message.get("files"):
            out["files"] = [dict(f) for f in message["files"]]
        return out

    def _api_message(self, message: Mapping[str, Any], *, metadata: bool) -> dict[str, Any]:
        """``message`` as the Web API shows it (chat.postMessage answer, history, replies)."""
        out: dict[str, Any] = {
            "type": "message",
            "user": message["user"],
            "text": message["text"],
            "ts": message["ts"],
            "team": "T0TESTTEAM",
        }
        if message["bot_id"]:
            out["bot_id"] = message["bot_id"]
            out["app_id"] = "A0TESTAPP"
        if message["blocks"]:
            out["blocks"] = message["blocks"]
        parent = message["thread_ts"]
        if parent:
            out["thread_ts"] = parent
            if message["reply_broadcast"]:
                out["subtype"] = "thread_broadcast"
            origin = self._messages.get((message["channel"], parent))
            if origin is not None:
                out["parent_user_id"] = origin["user"]
        else:
            thread = self.replies(message["channel"], message["ts"])
            if thread:
                out["thread_ts"] = message["ts"]
                out["reply_count"] = len(thread)
                out["reply_users"] = sorted({str(m["user"]) for m in thread})
                out["reply_users_count"] = len(out["reply_users"])
                out["latest_reply"] = thread[-1]["ts"]
        if metadata and message["metadata"]:
            out["metadata"] = message["metadata"]
        if message.get("files"):
            out["files"] = [dict(f) for f in message["files"]]
            out["upload"] = True
        return out

    def _auth_test(self, args: dict[str, Any]) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "backups-bot",
                "team_id": "T0TESTTEAM",
                "user_id": "U0BACKUPSBOT",
                "bot_id": "B0BACKUPSBOT",
                "is_enterprise_install": False,
            }
        )

    def _post_message(self, args: dict[str, Any]) -> web.Response:
        channel = str(args.get("channel") or "")
        if not channel:
            return self._error("channel_not_found")
        refused = self._channel_refusal("chat.postMessage", channel)
        if refused:
            return self._error(refused)
        thread_ts = args.get("thread_ts")
        if thread_ts is not None:
            thread_ts = str(thread_ts)
            if not _TS_FORMAT.match(thread_ts):
                return self._error("invalid_thread_ts")
        problem = self._content_problem(args)
        if problem:
            return web.json_response(problem.body())
        metadata = args.get("metadata")
        if metadata is not None and self._metadata_problem(metadata):
            return self._error("invalid_metadata_format")
        ts = self._next_ts()
        text = str(args.get("text") or "")
        blocks = args.get("blocks") or []
        message = {
            "ts": ts,
            "channel": channel,
            "text": text,
            "blocks": blocks,
            "thread_ts": thread_ts or None,
            "metadata": dict(metadata) if metadata else None,
            "unfurl_links": _as_bool(args["unfurl_links"]) if "unfurl_links" in args else None,
            "unfurl_media": _as_bool(args["unfurl_media"]) if "unfurl_media" in args else None,
            "user": "U0BACKUPSBOT",
            "bot_id": "B0BACKUPSBOT",
            "reply_broadcast": bool(thread_ts) and _as_bool(args.get("reply_broadcast", False)),
        }
        self._messages[(channel, ts)] = message
        self._posts.append(
            Post(channel, ts, self._pace_clock(), thread_ts or None, _mentions_in(text, blocks))
        )
        return web.json_response(
            {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": self._api_message(message, metadata=True),
            }
        )

    def _upload_url(self, args: dict[str, Any]) -> web.Response:
        if "files:write" not in self.scopes:
            return self._error(
                "missing_scope", needed="files:write", provided=",".join(sorted(self.scopes))
            )
        filename = str(args.get("filename") or "")
        try:
            length = int(args.get("length") or 0)
        except (TypeError, ValueError):
            length = 0
        if not filename or length <= 0:
            return self._error("invalid_arguments")
        file_id = f"F{len(self._uploads) + 1:010d}"
        self._uploads[file_id] = (filename, length, None)
        return web.json_response(
            {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        )

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        ticket = self._uploads.get(file_id)
        if ticket is None:
            return web.Response(status=404, text="not found")
        content = await request.read()
        self._uploads[file_id] = (ticket[0], ticket[1], content)
        return web.Response(text=f"OK - {len(content)}")

    def _complete_upload(self, args: dict[str, Any]) -> web.Response:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return self._error("invalid_arguments")
        channel = str(args.get("channel_id") or "")
        refused = self._channel_refusal("chat.postMessage", channel) if channel else None
        if refused:
            return self._error(refused)
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        if thread_ts is not None and not _TS_FORMAT.match(thread_ts):
            return self._error("invalid_thread_ts")
        shared = []
        for item in files:
            file_id = str(item.get("id") or "") if isinstance(item, dict) else ""
            ticket = self._uploads.get(file_id)
            if ticket is None or ticket[2] is None:
                return self._error("file_not_found")
            if len(ticket[2]) != ticket[1]:
                return self._error("file_upload_size_mismatch")
            title = str(item.get("title") or ticket[0])
            shared.append({"id": file_id, "name": ticket[0], "title": title, "content": ticket[2]})
        answer: dict[str, Any] = {"ok": True, "files": []}
        if channel:
            ts = self._next_ts()
            comment = str(args.get("initial_comment") or "")
            message = {
                "ts": ts,
                "channel": channel,
                "text": comment,
                "blocks": [],
                "thread_ts": thread_ts,
                "metadata": None,
                "unfurl_links": None,
                "unfurl_media": None,
                "user": "U0BACKUPSBOT",
                "bot_id": "B0BACKUPSBOT",
                "reply_broadcast": False,
                "files": [{k: f[k] for k in ("id", "name", "title")} for f in shared],
            }
            self._messages[(channel, ts)] = message
            self._posts.append(Post(channel, ts, self._pace_clock(), thread_ts, ()))
            for file in shared:
                self._shared.append({**file, "channel": channel, "ts": ts, "thread_ts": thread_ts})
        # As Slack: the shares are filled in later, so the answer names the files only.
        answer["files"] = [{"id": f["id"], "title": f["title"]} for f in shared]
        return web.json_response(answer)

    def _update(self, args: dict[str, Any]) -> web.Response:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        if not channel:
            return self._error("channel_not_found")
        refused = self._channel_refusal("chat.update", channel)
        if refused:
            return self._error(refused)
        existing = self._messages.get((channel, ts))
        if existing is None:
            return self._error("message_not_found")
        if not existing["bot_id"]:
            return self._error("cant_update_message")
        problem = self._content_problem(args)
        if problem:
            return web.json_response(problem.body())
        metadata = args.get("metadata")
        if metadata is not None and self._metadata_problem(metadata):
            return self._error("invalid_metadata_format")
        existing["text"] = str(args.get("text") or "")
        existing["blocks"] = args.get("blocks") or []
        if metadata is not None:
            existing["metadata"] = dict(metadata) or None
        return web.json_response(
            {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "text": existing["text"],
                "message": self._api_message(existing, metadata=True),
            }
        )

    def _post_ephemeral(self, args: dict[str, Any]) -> web.Response:
        if not args.get("channel") or not args.get("user"):
            return self._error("channel_not_found" if not args.get("channel") else "user_not_found")
        refused = self._channel_refusal("chat.postEphemeral", str(args["channel"]))
        if refused:
            return self._error(refused)
        problem = self._content_problem(args)
        if problem:
            return web.json_response(problem.body())
        self._ephemeral.append(
            {
                "channel": args["channel"],
                "user": args["user"],
                "text": args.get("text", ""),
                "blocks": args.get("blocks") or [],
            }
        )
        return web.json_response({"ok": True, "message_ts": self._next_ts()})

    def _views_publish(self, args: dict[str, Any]) -> web.Response:
        user_id = args.get("user_id")
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                view = None
        problems: list[str] = []
        if not isinstance(user_id, str) or not user_id:
            problems.append("missing required field: user_id")
        if not isinstance(view, dict):
            problems.append("missing required field: view [json-pointer:/view]")
        elif view.get("type") != "home":
            problems.append("must be 'home' [json-pointer:/view/type]")
        elif not isinstance(view.get("blocks"), list):
            problems.append("missing required field: blocks [json-pointer:/view/blocks]")
        else:
            blocks = view["blocks"]
            limits = dataclasses.replace(self.limits, blocks=MAX_VIEW_BLOCKS)
            problems += [
                p.replace("[json-pointer:/blocks", "[json-pointer:/view/blocks")
                for p in _block_problems(blocks, limits)
            ]
            ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and "block_id" in b]
            if len(ids) != len(set(ids)):
                problems.append("duplicate block_id [json-pointer:/view/blocks]")
        if problems:
            return web.json_response(_Problem("invalid_arguments", tuple(problems)).body())
        assert isinstance(user_id, str)
        assert isinstance(view, dict)
        if not user_id.startswith(("U", "W")):
            return self._error("user_not_found")
        view_id = f"V{uuid.uuid4().hex[:10].upper()}"
        self._home[user_id] = {**view, "id": view_id}
        return web.json_response({"ok": True, "view": {**view, "id": view_id}})

    def _read_problem(self, method: str, args: Mapping[str, Any]) -> web.Response | None:
        """The refusal of a history read before any message is looked at, or None."""
        channel = str(args.get("channel") or "")
        needed = "groups:history" if channel in self.private_channels else "channels:history"
        if needed not in self.scopes:
            return self._error(
                "missing_scope", needed=needed, provided=",".join(sorted(self.scopes))
            )
        if not channel:
            return self._error("channel_not_found")
        refused = self._channel_refusal(method, channel)
        if refused:
            return self._error(refused)
        return None

    @staticmethod
    def _window(args: Mapping[str, Any]) -> tuple[Decimal, Decimal, bool] | str:
        """``oldest``, ``latest`` and ``inclusive`` of a history read, or the error for them."""
        try:
            oldest = Decimal(str(args.get("oldest") or "0"))
        except InvalidOperation:
            return "invalid_ts_oldest"
        try:
            latest = Decimal(str(args["latest"])) if args.get("latest") else Decimal("Infinity")
        except InvalidOperation:
            return "invalid_ts_latest"
        return oldest, latest, _as_bool(args.get("inclusive", False))

    @staticmethod
    def _in_window(ts: str, window: tuple[Decimal, Decimal, bool]) -> bool:
        oldest, latest, inclusive = window
        value = _ts_value(ts)
        if inclusive:
            return oldest <= value <= latest
        return oldest < value < latest

    @staticmethod
    def _limit(args: Mapping[str, Any], default: int) -> int | None:
        try:
            limit = int(args.get("limit") or default)
        except (TypeError, ValueError):
            return None
        return min(max(limit, 1), 999)

    def _page(
        self,
        ordered: list[dict[str, Any]],
        args: Mapping[str, Any],
        *,
        default_limit: int,
        newest_first: bool,
    ) -> dict[str, Any] | str:
        """One page of ``ordered`` (already in answer order) per ``limit`` and ``cursor``."""
        limit = self._limit(args, default_limit)
        if limit is None:
            return "invalid_arguments"
        start = 0
        cursor = str(args.get("cursor") or "")
        if cursor:
            at = _decode_cursor(cursor)
            if at is None:
                return "invalid_cursor"
            mark = _ts_value(at)
            start = next(
                (
                    i
                    for i, m in enumerate(ordered)
                    if (_ts_value(m["ts"]) <= mark if newest_first else _ts_value(m["ts"]) >= mark)
                ),
                len(ordered),
            )
        page = ordered[start : start + limit]
        include = _as_bool(args.get("include_all_metadata", False))
        out: dict[str, Any] = {
            "ok": True,
            "messages": [self._api_message(m, metadata=include) for m in page],
            "has_more": start + limit < len(ordered),
        }
        if out["has_more"]:
            out["response_metadata"] = {"next_cursor": _encode_cursor(ordered[start + limit]["ts"])}
        return out

    def _history(self, args: dict[str, Any]) -> web.Response:
        refused = self._read_problem("conversations.history", args)
        if refused is not None:
            return refused
        window = self._window(args)
        if isinstance(window, str):
            return self._error(window)
        channel = str(args["channel"])
        visible = [
            m
            for m in self._messages.values()
            if m["channel"] == channel
            and (not m["thread_ts"] or m["reply_broadcast"])
            and self._in_window(m["ts"], window)
        ]
        visible.sort(key=lambda m: _ts_value(m["ts"]), reverse=True)
        page = self._page(visible, args, default_limit=100, newest_first=True)
        if isinstance(page, str):
            return self._error(page)
        page.update({"pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0})
        if args.get("latest"):
            page["latest"] = str(args["latest"])
        if args.get("oldest"):
            page["oldest"] = str(args["oldest"])
        return web.json_response(page)

    def _replies(self, args: dict[str, Any]) -> web.Response:
        refused = self._read_problem("conversations.replies", args)
        if refused is not None:
            return refused
        channel, ts = str(args["channel"]), str(args.get("ts") or "")
        parent = self._messages.get((channel, ts))
        if parent is not None and parent["thread_ts"]:
            parent = self._messages.get((channel, parent["thread_ts"]))
        if parent is None:
            return self._error("thread_not_found")
        window = self._window(args)
        if isinstance(window, str):
            return self._error(window)
        thread = [
            m for m in self.replies(channel, parent["ts"]) if self._in_window(m["ts"], window)
        ]
        ordered = [self._messages[(channel, parent["ts"])]] + [
            self._messages[(channel, m["ts"])] for m in thread
        ]
        page = self._page(ordered, args, default_limit=1000, newest_first=False)
        if isinstance(page, str):
            return self._error(page)
        return web.json_response(page)

    def _usergroup_users(self, args: dict[str, Any]) -> web.Response:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            return self._error("no_such_subteam")
        return web.json_response({"ok": True, "users": list(self.usergroups[group])})

    def _users_info(self, args: dict[str, Any]) -> web.Response:
        if "users:read" not in self.scopes:
            return self._error("missing_scope")
        user_id = str(args.get("user") or "")
        if not user_id.startswith(("U", "W")):
            return self._error("user_not_found")
        user: dict[str, Any] = {"id": user_id, "name": user_id.lower(), "is_bot": False}
        if str(args.get("include_locale") or "").lower() in ("true", "1"):
            user["locale"] = self.locales.get(user_id, "en-US")
        return web.json_response({"ok": True, "user": user})

    def _connections_open(self, args: dict[str, Any]) -> web.Response:
        ws_base = self.base_url.replace("http://", "ws://", 1)
        return web.json_response({"ok": True, "url": f"{ws_base}/socket?ticket={uuid.uuid4()}"})

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        try:
            body = await request.json()
        except ValueError:
            body = None
        call = SlackCall("response_url", body if isinstance(body, dict) else {}, token_ok=True)
        failure = self._take_failure("response_url")
        if failure is not None:
            self.rejected.append(call)
            return self._failure_response(failure)
        self.calls.append(call)
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload")
        if self.response_url_uses is not None and len(self._responses[key]) >= (
            self.response_url_uses
        ):
            return web.Response(status=404, text="used_url")
        problem = self._content_problem(body)
        if problem and not body.get("delete_original"):
            return web.Response(status=400, text=problem.error)
        loss = self._take_loss("response_url")
        if loss is not None and loss.mode == "slow":
            await self._hold(loss.delay)
        self._responses[key].append(body)
        self._responded_at[key].append(time.monotonic())
        response = web.Response(text="ok")
        if loss is None or loss.mode == "slow":
            return response
        self.lost.append(call)
        return await self._lose(request, response, loss)
