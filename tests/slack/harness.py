"""A running bot for scenario tests: the real Bolt app over HTTP or Socket Mode, the fake Slack
Web API and the simulated cloud, all on loopback. Requests are signed as Slack signs them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app.wiring import DECLARED_ACTIONS
from bot.backup.service import BackupService
from bot.cloud.client import CloudClient
from bot.commands.router import Feature, Router
from bot.config import Access, AccessRule, BotConfig, Watch
from bot.demo.fake_slack import FakeSlack, block_action_form, signed_headers, slash_command_form
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN
from bot.demo.simcloud.fleet import GIB, Fleet, SimBackup, SimCluster, SimFolder
from bot.home.service import HomeService
from bot.ops.http import ServerLimits
from bot.queries.service import Queries
from bot.settings import Settings
from bot.slack.app import HttpServer, RoutesHook, start_http, start_socket_mode
from bot.slack.blocks import SLACK
from bot.slack.budget import MAX_BLOCKS, MAX_BUTTON_VALUE, MAX_MESSAGE_TEXT, MAX_SECTION_TEXT
from bot.slack.notifier import SlackNotifier
from handlers import InFlight
from handlers.app import build_bolt_app

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"

FOLDER = "b1gfolderaaaaaaaaaaa"
OTHER_FOLDER = "b1gfolderbbbbbbbbbbb"
LOGS = "c9qlogsprod000000001"
SEARCH = "c9qsearchprod0000001"
SECRET = "c9qsecretprod0000001"
TWIN_1 = "c9qtwin0000000000001"
TWIN_2 = "c9qtwin0000000000002"
OUTSIDE = "c9qotherfolder000001"
LOGS_BACKUPS = 25
#: The newest backup of logs-prod holds an index whose name would notify a whole channel.
CHANNEL_INDEX = "<!channel>"

LEAD = "U0LEAD"
ONCALLER = "U0ONCALLER"
ONCALL_GROUP = "S0ONCALL"
USER = "U0TESTUSER"

CONFIG = BotConfig(
    watch=Watch(folders=[FOLDER]),
    access=Access(
        folders=[FOLDER],
        rules=[AccessRule(commands=["backup"], users=[LEAD], usergroups=[ONCALL_GROUP])],
    ),
)


def backup_id(cluster_id: str, n: int) -> str:
    return f"{cluster_id}:snapshot-{n:04d}"


def make_fleet(now: datetime) -> Fleet:
    """Two folders; in the bot's folder: logs-prod (25 backups), search-prod, secret-prod (the
    bot may not read it), two clusters both named twin; in the other folder: outside."""
    fleet = Fleet(folders=[SimFolder(FOLDER, "team"), SimFolder(OTHER_FOLDER, "elsewhere")])
    created = now - timedelta(days=200)
    for cid, folder, name in (
        (LOGS, FOLDER, "logs-prod"),
        (SEARCH, FOLDER, "search-prod"),
        (SECRET, FOLDER, "secret-prod"),
        (TWIN_1, FOLDER, "twin"),
        (TWIN_2, FOLDER, "twin"),
        (OUTSIDE, OTHER_FOLDER, "outside"),
    ):
        fleet.add_cluster(
            SimCluster(
                id=cid,
                folder_id=folder,
                name=name,
                created_at=created,
                unreadable=cid == SECRET,
            )
        )
    counts = {LOGS: LOGS_BACKUPS, SEARCH: 3, SECRET: 2, TWIN_1: 1, TWIN_2: 1, OUTSIDE: 2}
    for cid, count in counts.items():
        folder = OTHER_FOLDER if cid == OUTSIDE else FOLDER
        for n in range(count):
            finished = now - timedelta(hours=6 * n + 1)
            indices = (CHANNEL_INDEX, "logs-2026.11.01") if (cid, n) == (LOGS, 0) else ("idx",)
            fleet.add_backup(
                SimBackup(
                    id=backup_id(cid, n),
                    folder_id=folder,
                    cluster_id=cid,
                    started_at=finished - timedelta(minutes=12),
                    created_at=finished,
                    indices=indices,
                    size_bytes=(40 + n) * GIB,
                    indices_total=len(indices),
                    total_size_bytes=(40 + n) * GIB,
                )
            )
    return fleet


def make_settings(slack_api_url: str, cloud_url: str, *, socket_mode: bool = False) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "YC_MDB_ENDPOINT": cloud_url,
        "YC_RESOURCE_MANAGER_ENDPOINT": cloud_url,
        "YC_OPERATION_ENDPOINT": cloud_url,
        "YC_IAM_ENDPOINT": cloud_url,
        "YC_IAM_TOKEN": DEFAULT_STATIC_TOKEN,
        "YC_REQUEST_TIMEOUT": 5.0,
    }
    if socket_mode:
        values["SLACK_APP_TOKEN"] = APP_TOKEN
    return Settings(_env_file=None, **values)


@dataclass
class Answer:
    """The HTTP acknowledgement of one request, and how long it took."""

    status: int
    body: str
    seconds: float


@dataclass
class RunningBot:
    fake: FakeSlack
    settings: Settings
    router: Router
    in_flight: InFlight
    session: aiohttp.ClientSession
    server: HttpServer | None = None
    socket: AsyncSocketModeHandler | None = None
    _keys: int = field(default=0)

    @property
    def events_url(self) -> str:
        assert self.server is not None
        return f"{self.server.url}/slack/events"

    def new_key(self) -> str:
        self._keys += 1
        return f"k{self._keys}"

    async def post(self, body: str, headers: Mapping[str, str]) -> Answer:
        start = time.monotonic()
        async with self.session.post(self.events_url, data=body, headers=dict(headers)) as resp:
            text = await resp.text()
            return Answer(resp.status, text, time.monotonic() - start)

    async def command(
        self, text: str, *, key: str = "r1", user_id: str = USER, channel_id: str = "C0TESTCHAN"
    ) -> Answer:
        """Send ``/backups <text>`` signed, as Slack does; the answer goes to response URL key."""
        body = slash_command_form(
            text, response_url=self.fake.response_url(key), user_id=user_id, channel_id=channel_id
        )
        return await self.post(body, signed_headers(SIGNING_SECRET, body))

    async def click(
        self, action_id: str, value: str, *, key: str = "r1", user_id: str = USER
    ) -> Answer:
        body = block_action_form(
            action_id, value, response_url=self.fake.response_url(key), user_id=user_id
        )
        return await self.post(body, signed_headers(SIGNING_SECRET, body))

    async def reply(
        self,
        key: str = "r1",
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The last body posted to response URL ``key`` (waiting for ``count`` of them)."""
        await self.fake.wait_responses(key, count, timeout=timeout)
        return self.fake.responses(key)[-1]

    async def ask(self, text: str, **kw: Any) -> dict[str, Any]:
        """Send a command, check it was acknowledged, and return its answer."""
        key = self.new_key()
        ack = await self.command(text, key=key, **kw)
        assert ack.status == 200, ack
        body = await self.reply(key)
        assert_within_limits(body)
        return body


@asynccontextmanager
async def running_bot(
    fake: FakeSlack,
    cloud_url: str,
    *,
    config: BotConfig = CONFIG,
    features: Sequence[Feature] = (),
    socket_mode: bool = False,
    routes: RoutesHook | None = None,
    limits: ServerLimits | None = None,
    home: HomeService | None = None,
) -> AsyncIterator[RunningBot]:
    """Start the real app (HTTP mode on a free port, or Socket Mode to the fake) and stop it;
    ``routes`` adds routes to the HTTP server (as serve adds /healthz)."""
    settings = make_settings(fake.api_url, cloud_url, socket_mode=socket_mode)
    cloud = CloudClient.from_settings(settings)
    notifier = SlackNotifier.from_settings(settings, keep_alive=True)
    # What a process without a watcher answers (the queries, asking for a backup), and
    # ``features`` beside them.
    asking = BackupService(cloud, None, config)
    router = Router(
        config, [Queries(cloud, config, chat=SLACK), asking, *features], declared=DECLARED_ACTIONS
    )
    in_flight = InFlight()
    app = build_bolt_app(settings, router=router, notifier=notifier, in_flight=in_flight, home=home)
    session = aiohttp.ClientSession()
    bot = RunningBot(fake, settings, router, in_flight, session)
    try:
        if socket_mode:
            bot.socket = await start_socket_mode(app, settings)
        else:
            bot.server = await start_http(
                app,
                host="127.0.0.1",
                port=0,
                signing_secret=SIGNING_SECRET,
                extra_routes_hook=routes,
                limits=limits,
            )
        yield bot
    finally:
        assert await in_flight.drain(15), "answers still running at teardown"
        await session.close()
        if bot.server is not None:
            await bot.server.stop()
        if bot.socket is not None:
            await bot.socket.close_async()  # type: ignore[no-untyped-call]
        await notifier.aclose()
        await cloud.aclose()


def assert_within_limits(payload: Mapping[str, Any]) -> None:
    """A message Slack would accept: text present, blocks and their text within the limits."""
    text = payload.get("text") or ""
    blocks = payload.get("blocks") or []
    assert text or blocks
    assert len(text) <= MAX_MESSAGE_TEXT
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        section = block.get("text")
        if isinstance(section, dict):
            assert len(section.get("text", "")) <= MAX_SECTION_TEXT
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element.get("value", "")) <= MAX_BUTTON_VALUE


def all_text(payload: Mapping[str, Any]) -> str:
    """Every piece of text in a payload: fallback and blocks."""
    parts = [str(payload.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload.get("blocks") or [])
    return "\n".join(parts)


def buttons(payload: Mapping[str, Any]) -> dict[str, str]:
    """Action id -> value of every button in a payload."""
    out: dict[str, str] = {}
    for block in payload.get("blocks") or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            out[element["action_id"]] = element.get("value", "")
    return out


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
