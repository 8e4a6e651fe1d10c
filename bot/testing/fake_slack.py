"""A real local fake of the Slack Web API (and of Socket Mode and response URLs) on loopback.

It is an aiohttp server that answers the handful of methods the bot calls the way Slack does:
HTTP 200 with ``{"ok": false, "error": ...}`` for a refused call, 429 with ``Retry-After`` when
told to throttle. Every call is recorded in :attr:`FakeSlack.calls`; posted messages are kept with
their updates applied (:meth:`FakeSlack.messages`). The same server hands out a ``ws://`` URL from
``apps.connections.open`` and plays Slack's side of Socket Mode.

It also carries the two helpers a test needs to talk to the bot like Slack does over HTTP:
:func:`sign` (the v0 request signature) and :func:`slash_command_form`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web

#: Slack's limit on blocks in one message.
MAX_BLOCKS = 50


@dataclass(frozen=True)
class SlackCall:
    """One call that reached the fake: the Web API method (or ``response_url``) and its args."""

    method: str
    args: dict[str, Any]
    token_ok: bool


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    times: int


@dataclass
class _Socket:
    ws: web.WebSocketResponse
    acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)


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


class FakeSlack:
    """The Slack Web API, response URLs and Socket Mode, served on loopback."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",  # noqa: S107 - a fake's fixed test token
        app_token: str = "xapp-test-token",  # noqa: S107
        usergroups: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.usergroups: dict[str, list[str]] = {k: list(v) for k, v in (usergroups or {}).items()}
        self.calls: list[SlackCall] = []
        #: Calls answered by a failure set up with :meth:`fail_next` (not in ``calls``).
        self.rejected: list[SlackCall] = []
        self.api_url = ""
        self.base_url = ""
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._ephemeral: list[dict[str, Any]] = []
        self._responses: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._responded_at: dict[str, list[float]] = defaultdict(list)
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._sockets: list[_Socket] = []
        self._socket_connected = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; returns the Web API base URL (ending in ``/api/``)."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
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
        """Close open sockets and stop serving."""
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
        """Posted messages as they are now (updates applied), oldest first."""
        out = [dict(m) for m in self._messages.values()]
        if channel is not None:
            out = [m for m in out if m["channel"] == channel]
        return sorted(out, key=lambda m: float(m["ts"]))

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

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, times: int = 1
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``status`` and record nothing."""
        self._failures[method].append(_Failure(status, retry_after, times))

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
                body = json.loads(raw or b"{}")
                if isinstance(body, dict):
                    args.update(body)
            else:
                args.update(dict(parse_qsl(raw.decode(), keep_blank_values=True)))
        # Form posts carry blocks and attachments as JSON strings.
        for key in ("blocks", "attachments"):
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        return args

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.popleft()
        return failure

    @staticmethod
    def _failure_response(failure: _Failure) -> web.Response:
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        error = "ratelimited" if failure.status == 429 else "service_unavailable"
        return web.json_response(
            {"ok": False, "error": error}, status=failure.status, headers=headers
        )

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
        self.calls.append(call)
        if not token:
            return self._error("not_authed")
        if not call.token_ok:
            return self._error("invalid_auth")
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "usergroups.users.list": self._usergroup_users,
            "apps.connections.open": self._connections_open,
        }.get(method)
        if handler is None:
            return self._error("unknown_method")
        return handler(args)

    @staticmethod
    def _error(error: str, **extra: Any) -> web.Response:
        return web.json_response({"ok": False, "error": error, **extra})

    @staticmethod
    def _content_problem(args: Mapping[str, Any]) -> str | None:
        blocks = args.get("blocks")
        if not args.get("text") and not blocks:
            return "no_text"
        if blocks is not None:
            if not isinstance(blocks, list) or any(not isinstance(b, dict) for b in blocks):
                return "invalid_blocks"
            if len(blocks) > MAX_BLOCKS:
                return "invalid_blocks"
            if any("type" not in b for b in blocks):
                return "invalid_blocks"
        return None

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1700000000 + n}.{n:06d}"

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
            }
        )

    def _post_message(self, args: dict[str, Any]) -> web.Response:
        channel = str(args.get("channel") or "")
        if not channel:
            return self._error("channel_not_found")
        problem = self._content_problem(args)
        if problem:
            return self._error(problem)
        ts = self._next_ts()
        message = {
            "ts": ts,
            "channel": channel,
            "text": args.get("text", ""),
            "blocks": args.get("blocks") or [],
            "thread_ts": args.get("thread_ts"),
        }
        self._messages[(channel, ts)] = message
        return web.json_response(
            {"ok": True, "channel": channel, "ts": ts, "message": {"type": "message", **message}}
        )

    def _update(self, args: dict[str, Any]) -> web.Response:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        existing = self._messages.get((channel, ts))
        if existing is None:
            return self._error("message_not_found")
        problem = self._content_problem(args)
        if problem:
            return self._error(problem)
        existing["text"] = args.get("text", "")
        existing["blocks"] = args.get("blocks") or []
        return web.json_response(
            {"ok": True, "channel": channel, "ts": ts, "text": existing["text"]}
        )

    def _post_ephemeral(self, args: dict[str, Any]) -> web.Response:
        if not args.get("channel") or not args.get("user"):
            return self._error("channel_not_found" if not args.get("channel") else "user_not_found")
        problem = self._content_problem(args)
        if problem:
            return self._error(problem)
        self._ephemeral.append(
            {
                "channel": args["channel"],
                "user": args["user"],
                "text": args.get("text", ""),
                "blocks": args.get("blocks") or [],
            }
        )
        return web.json_response({"ok": True, "message_ts": self._next_ts()})

    def _usergroup_users(self, args: dict[str, Any]) -> web.Response:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            return self._error("no_such_subteam")
        return web.json_response({"ok": True, "users": list(self.usergroups[group])})

    def _connections_open(self, args: dict[str, Any]) -> web.Response:
        ws_base = self.base_url.replace("http://", "ws://", 1)
        return web.json_response({"ok": True, "url": f"{ws_base}/socket?ticket={uuid.uuid4()}"})

    async def _response_url(self, request: web.Request) -> web.Response:
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
        problem = self._content_problem(body)
        if problem and not body.get("delete_original"):
            return web.Response(status=400, text=problem)
        self._responses[key].append(body)
        self._responded_at[key].append(time.monotonic())
        return web.Response(text="ok")
