"""``backups-bot demo``: the whole product on one machine, with no Slack and no cloud account.

A simulated cloud with a realistic fleet starts on loopback, a local fake of the Slack Web API
stands in for the workspace, the bot runs against both with SQLite in a temporary directory, and
a console takes ``/backups ...`` lines and prints the answers as Slack would render them.
``:sweep`` and ``:digest`` run the scheduled jobs now and show what they posted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.alerts.actions import ACKNOWLEDGE, AlertRef
from bot.app.wiring import Components, open_components
from bot.chat.actions import Invocation
from bot.clock import now as clock_now
from bot.cloud.client import CloudClient
from bot.commands.router import Reply
from bot.config import BotConfig, parse_config
from bot.demo.console import render_console, render_ephemeral
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud import SimCloud
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import Fleet, demo_fleet
from bot.demo.simcloud.history import SimHistory, demo_history, replay_times
from bot.errors import BotError
from bot.fleet.discovery import directory_for
from bot.fleet.lookup import resolve_cluster
from bot.fleet.reader import read_fleet
from bot.freshness.policy import max_age_for
from bot.home.messages import click_notice, is_short
from bot.i18n.catalog import SOURCE_LOCALE, available_locales, supported_locale, use_locale
from bot.i18n.units import human_duration
from bot.ledger.model import SeenBackup
from bot.ledger.policy import observation_of
from bot.ledger.reporter import MonthlyReporter
from bot.outbox.change import Change
from bot.outbox.pacing import Pace
from bot.settings import Settings
from bot.slack.blocks import SLACK
from bot.slack.views import home_view
from bot.store import Store

TEAM_CHANNEL = "C0DEMOTEAM"
ONCALL_CHANNEL = "C0DEMOONCALL"
ONCALL_GROUP = "S0DEMOONCALL"
DEMO_USER = "U0DEMOUSER"
#: The demo drill route's network and subnet (the simulated cloud has them).
DEMO_NETWORK = "enpdemonetwork000001"
DEMO_SUBNET = "e9bdemosubnet0000001"
#: How the console shows ids: channels and the on-call group by name, as Slack would.
NAMES = {
    TEAM_CHANNEL: "team-search",
    ONCALL_CHANNEL: "oncall",
    ONCALL_GROUP: "oncall",
    DEMO_USER: "you",
}

HELP = """\
Type a command as you would in Slack, e.g.  /backups help   /backups clusters   /backups status
  list search-prod-eu      get <backup-id>      folder <folder-id>     snooze <cluster> 4h
Console commands:
  :sweep    run the staleness check now and show the alerts it posts (run it twice: no repeats)
  :storm    an Object Storage outage loses two days of backups of a whole folder: :sweep then
            shows one grouped alert for it instead of one per cluster
  :newfolder  a team creates a folder with a cluster in the watched cloud: :sweep then says
            once that it watches it, and checks it like the rest
  :digest   post the daily digest now and show it
  :report   post last month's freshness report now (the ledger starts 100 days back)
  :drill <cluster>  a restore drill now: restore its backup, wait for health, delete, post
  :click <button>  press a button of the messages shown, e.g. :click Snooze 4 h, :click Next page
            (the newest message's); name the message by its [number] or a cluster in it:
            :click 3 Acknowledge, :click search-prod-asia Snooze 4 h. A button Slack asks
            about first shows its question: y confirms, anything else cancels
  :ack <cluster>   press Acknowledge on that cluster's alert
  :home     open the bot's Home tab in Slack: your incidents, snoozes and the fleet
  :folders  the simulated folders     :help  this text     :quit (or Ctrl-D)  leave
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="the bot against a simulated cloud, in this terminal",
        description="Start a simulated cloud and a fake Slack on loopback and talk to the bot "
        "in a console, as Slack would render it. Nothing leaves this machine.",
    )
    parser.add_argument("--no-color", action="store_true", help="plain text, no ANSI colours")
    parser.add_argument(
        "--locale",
        default=SOURCE_LOCALE,
        type=_locale,
        help="the language of the demo's person (their Slack profile's) and of the bot's "
        f"channels: {', '.join(sorted(available_locales()))} (default: {SOURCE_LOCALE})",
    )
    parser.set_defaults(handler=run)


def _locale(value: str) -> str:
    locale = supported_locale(value)
    if locale is None:
        speaks = ", ".join(sorted(available_locales()))
        raise argparse.ArgumentTypeError(f"{value!r}: the bot speaks {speaks}")
    return locale


def run(args: argparse.Namespace) -> int:
    color = not args.no_color and sys.stdout.isatty()
    # The demo talks to a person; library chatter would get in the way of the console.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        demo = Demo(color=color, locale=getattr(args, "locale", SOURCE_LOCALE))
        asyncio.run(_until_ctrl_c(demo.main(sys.stdin, sys.stdout)))
    print()
    return 0


async def _until_ctrl_c(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main``; Ctrl-C cancels it, even while the loop sleeps with nothing to do.

    asyncio.run's own Ctrl-C handler only sets a flag when the signal lands on another thread
    (the stdin reader, aiosqlite's worker): an idle loop, asleep in select, never looks at it,
    and the demo would hang at its prompt. A handler added to the loop writes to the loop's
    wakeup pipe, which wakes it whichever thread the signal lands on.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def on_ctrl_c() -> None:
        # The first Ctrl-C cancels; another while the demo winds down (pressed twice) would
        # cancel its cleanup half-way, and SQLAlchemy would print a traceback.
        if not task.cancelling():
            task.cancel()

    loop.add_signal_handler(signal.SIGINT, on_ctrl_c)
    try:
        await main
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def demo_config(fleet: Fleet, locale: str = SOURCE_LOCALE) -> BotConfig:
    """Watch every folder of the simulated cloud (``watch.clouds``: a folder created later is
    watched too) and name today's (where commands look clusters up by name); a digest to the
    team, alerts on production to on-call, in ``locale``."""
    clouds = f"[{fleet.clouds[0].id}]" if fleet.clouds else "[]"
    folders = ", ".join(fleet.folder_ids())
    return parse_config(
        f"""
locale: {locale}
watch:
  clouds: {clouds}
  folders: [{folders}]
digests:
  - channel: {TEAM_CHANNEL}
    schedule: "30 9 * * mon-fri"
    timezone: Europe/Moscow
alerts:
  - channel: {ONCALL_CHANNEL}
    mention: [{ONCALL_GROUP}]
    repeat: 4h
    match: {{environment: PRODUCTION}}
    group_by: [folder]
    group_after: 3
reports:
  - channel: {TEAM_CHANNEL}
    timezone: Europe/Moscow
drills:
  - match: {{environment: PRODUCTION}}
    schedule: "0 3 1 1 *"
    folder: {fleet.folder_ids()[0]}
    network: {DEMO_NETWORK}
    subnets: {{ru-central1-a: {DEMO_SUBNET}}}
    preset: s2.micro
    time_limit: 1h
    channel: {TEAM_CHANNEL}
    rto_target: 30m
access:
  rules:
    - commands: [backup, drill]
      usergroups: [{ONCALL_GROUP}]
""",
        source="demo config",
    )


#: How often the replayed bot read the fleet (besides at each stop and start).
REPLAY_EVERY = timedelta(days=1)


async def seed_ledger(
    store: Store,
    cloud: CloudClient,
    config: BotConfig,
    history: SimHistory,
    *,
    every: timedelta = REPLAY_EVERY,
) -> int:
    """Replay a bot that watched the simulated fleet since ``history.start``: at each of its
    reads, what the cloud listed then (two weeks of backups) and whether the cluster was stopped,
    kept through the sweep's own path (:meth:`Store.commit` of the observations). The maximum
    age is the one each cluster has now. Returns the reads replayed."""
    fleet = await read_fleet(cloud, config, now=history.now)
    readable = [r for r in fleet.clusters if r.error is None]
    times = replay_times(history, every=every, until=history.now)
    for at in times:
        observations = []
        for reading in readable:
            cluster = reading.cluster
            max_age = max_age_for(cluster, config.freshness, reading.policies or ())
            observations.append(
                observation_of(
                    cluster,
                    at=at,
                    backups=[
                        SeenBackup(b.id, b.created_at, b.started_at, b.size_bytes)
                        for b in history.listed_at(cluster.id, at)
                    ],
                    max_age=max_age,
                    stopped=history.stopped_at(cluster.id, at),
                    dead=False,
                )
            )
        await store.commit(Change(ledger=tuple(observations)))
    return len(times)


class Demo:
    """The console and the loopback world it talks to."""

    def __init__(self, *, color: bool, locale: str = SOURCE_LOCALE) -> None:
        self.color = color
        #: The language of the demo's person (in the fake Slack's profile) and of the channels.
        self.locale = locale
        self._seen_calls = 0
        self._sim: SimCloud | None = None
        #: Buttons of the messages shown so far, newest last, for ``:click``.
        self._buttons: list[_Button] = []
        #: Messages shown so far: the last number given, and the number of each posted one (by
        #: channel and ts), so an update in place keeps its message's number.
        self._numbered = 0
        self._numbers: dict[tuple[str, str], int] = {}
        self._home_number: int | None = None
        #: A button whose confirmation dialog is open: the next line answers it.
        self._pending: _Button | None = None

    async def main(self, stdin: TextIO, stdout: TextIO) -> None:
        now = clock_now()
        fleet = demo_fleet(now)
        with tempfile.TemporaryDirectory(prefix="backups-bot-demo-") as tmp:
            async with (
                SimCloud(
                    SimConfig(
                        latency=0.02,
                        backup_duration=20.0,
                        # A restore drill of minutes in the cloud takes seconds here.
                        restore_duration=4.0,
                        healthy_after=2.0,
                        delete_duration=1.0,
                    ),
                    fleet=fleet,
                ) as sim,
                FakeSlack(
                    usergroups={ONCALL_GROUP: [DEMO_USER]}, locales={DEMO_USER: self.locale}
                ) as slack,
            ):
                settings = Settings(
                    SLACK_BOT_TOKEN=slack.bot_token,
                    SLACK_SIGNING_SECRET="demo-signing-secret",  # noqa: S106 - a loopback fake
                    SLACK_API_URL=slack.api_url,
                    YC_MDB_ENDPOINT=sim.url,
                    YC_IAM_ENDPOINT=sim.url,
                    YC_OPERATION_ENDPOINT=sim.url,
                    YC_RESOURCE_MANAGER_ENDPOINT=sim.url,
                    YC_VPC_ENDPOINT=sim.url,
                    YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
                    DATABASE_URL=f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}",
                )
                config = demo_config(fleet, self.locale)
                # The fake Slack takes posts as fast as they come: no need to wait a second each.
                pace = Pace(posts_per_second=50, post_burst=10, updates_per_second=50)
                self._sim = sim
                # The drill route's network and subnet, so that `check` finds them.
                sim.add_network(DEMO_NETWORK, fleet.folder_ids()[0], {"ru-central1-a": DEMO_SUBNET})
                async with open_components(settings, config, role="demo", pace=pace) as parts:
                    # The ledger as a bot watching since months ago would have kept it.
                    await seed_ledger(parts.store, parts.cloud, config, demo_history(fleet, now))
                    self._print_banner(stdout, fleet, sim.url)
                    await self._loop(parts, slack, stdin, stdout)

    def _print_banner(self, out: TextIO, fleet: Fleet, url: str) -> None:
        clusters = sum(len(fleet.clusters_in(f)) for f in fleet.folder_ids())
        out.write(
            f"backups-bot demo: a simulated cloud at {url} with {len(fleet.folder_ids())} "
            f"folders and {clusters} clusters; Slack is faked locally.\n{HELP}\n"
        )
        out.flush()

    async def _loop(self, parts: Components, slack: FakeSlack, stdin: TextIO, out: TextIO) -> None:
        lines = _read_lines(stdin)
        interactive = stdin.isatty()
        while True:
            if interactive:
                out.write("/backups ")
                out.flush()
            line = await lines.get()
            if line is None:  # Ctrl-D
                return
            text = line.strip()
            if self._pending is not None:
                if not interactive:
                    out.write(f"> {text}\n")
                await self._answer_confirm(text, parts, slack, out)
                continue
            if not interactive and text:
                # Piped input: echo it, so the output reads as a transcript.
                out.write(f"/backups {text.removeprefix('/backups').strip()}\n")
            if text in (":quit", ":q", ":exit"):
                return
            if not text:
                continue
            await self._one(text, parts, slack, out)

    async def _one(self, text: str, parts: Components, slack: FakeSlack, out: TextIO) -> None:
        now = clock_now()
        if text.startswith(":"):
            await self._console_command(text, parts, slack, out, now)
            return
        inv = await self._invocation(parts, TEAM_CHANNEL, None)
        reply = await parts.router.run(text.removeprefix("/backups").strip(), inv, now=now)
        self._show_reply(reply, out)
        # A command may post to Slack too (snooze updates alerts in place, backup follows up).
        await self._deliver(parts)
        self._show_new_posts(slack, out)

    async def _deliver(self, parts: Components) -> None:
        """Let the executor send what was queued, so the console shows it now."""
        if parts.executor is not None:
            await parts.executor.deliver(timeout=30)

    async def _invocation(
        self, parts: Components, channel: str, message_ts: str | None
    ) -> Invocation:
        assert parts.notifier is not None
        groups = await parts.notifier.user_groups(DEMO_USER, parts.router.candidate_groups())
        # As the Slack handlers do: the person's language, from their profile (users.info).
        said = await parts.notifier.user_locale(DEMO_USER)
        return Invocation(
            DEMO_USER, channel, user_groups=groups, message_ts=message_ts, locale=said
        )

    def _show_reply(self, reply: Reply, out: TextIO) -> None:
        render = render_ephemeral if reply.ephemeral else render_console
        for message in reply.messages:
            with use_locale(self.locale):  # what the person reads: in their language
                payload = SLACK.render(message)
                shown = render(payload, names=NAMES, color=self.color)
            number = self._number()
            out.write(f"[{number}] {shown}\n")
            self._remember_buttons(payload, TEAM_CHANNEL, None, number)

    def _number(self, channel: str = "", ts: str | None = None) -> int:
        """The console number of a message: a new one, or the one a posted message was given."""
        if ts is not None and (channel, ts) in self._numbers:
            return self._numbers[(channel, ts)]
        self._numbered += 1
        if ts is not None:
            self._numbers[(channel, ts)] = self._numbered
        return self._numbered

    def _remember_buttons(
        self,
        payload: dict[str, Any],
        channel: str,
        ts: str | None,
        number: int,
        *,
        home: bool = False,
    ) -> None:
        # A message shown again (updated in place, the tab published anew) has only its new
        # buttons.
        self._buttons = [b for b in self._buttons if b.number != number]
        near: list[str] = []
        for block in payload.get("blocks") or []:
            if block.get("type") != "actions":
                near.append(json.dumps(block, ensure_ascii=False))
                continue
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    self._buttons.append(
                        _Button(
                            _plain_text(element.get("text")),
                            element["action_id"],
                            element.get("value", ""),
                            channel,
                            ts,
                            number=number,
                            near="\n".join(near),
                            confirm=element.get("confirm"),
                            home=home,
                        )
                    )
            near = []

    def _find_button(self, text: str) -> _Button | None:
        """The newest button whose label starts with ``text``; or, when ``text`` starts with a
        message's number or a cluster's name or id, the newest such button of that message (or
        near that cluster's name)."""
        wanted = text.strip().lower()
        if not wanted:
            return None
        newest = list(reversed(self._buttons))
        found = next((b for b in newest if b.label.lower().startswith(wanted)), None)
        if found is not None:
            return found
        which, _sep, label = wanted.partition(" ")
        label = label.strip()
        if not label:
            return None
        labelled = [b for b in newest if b.label.lower().startswith(label)]
        number = which.removeprefix("#").strip("[]")
        if number.isdigit():
            return next((b for b in labelled if b.number == int(number)), None)
        return next(
            (b for b in labelled if _names_in(b.near, which) or f'"{which}"' in b.value.lower()),
            None,
        )

    async def _click(
        self, label: str, parts: Components, slack: FakeSlack, out: TextIO, now: Any
    ) -> None:
        found = self._find_button(label)
        if found is None:
            known = ", ".join(dict.fromkeys(f"[{b.label}]" for b in self._buttons)) or "none yet"
            out.write(f"no button {label!r} on the messages shown; buttons: {known}\n")
            return
        if found.confirm is not None:
            # Slack asks before the button acts; the next line answers.
            confirm = found.confirm
            out.write(
                f"-- Slack asks first: {_plain_text(confirm.get('title'))}\n"
                f"   {_plain_text(confirm.get('text'))}\n"
                f"   [{_plain_text(confirm.get('confirm'))}] [{_plain_text(confirm.get('deny'))}]"
                "  (y confirms, anything else cancels)\n"
            )
            self._pending = found
            return
        await self._press(found, parts, slack, out, now)

    async def _answer_confirm(
        self, text: str, parts: Components, slack: FakeSlack, out: TextIO
    ) -> None:
        pressed, self._pending = self._pending, None
        assert pressed is not None
        confirm = pressed.confirm or {}
        said = text.strip().lower()
        if said in ("y", "yes", _plain_text(confirm.get("confirm")).lower()):
            await self._press(pressed, parts, slack, out, clock_now())
            await self._deliver(parts)
            self._show_new_posts(slack, out)
        else:
            out.write("-- cancelled: the button did nothing\n")

    async def _press(
        self, found: _Button, parts: Components, slack: FakeSlack, out: TextIO, now: Any
    ) -> None:
        if found.home:
            # A click on the Home tab: no channel and no message; answered on the tab.
            inv = await self._invocation(parts, "", None)
            reply = await parts.router.run_action(found.action_id, found.value, inv, now=now)
            # As the Slack handler does: a list or a table goes to the app's direct message.
            sent = not all(is_short(card) for card in reply.messages)
            if sent:
                assert parts.notifier is not None
                with use_locale(self.locale):
                    for card in reply.messages:
                        await parts.notifier.post(DEMO_USER, SLACK.render(card))
            await self._deliver(parts)
            self._show_new_posts(slack, out)
            with use_locale(self.locale):
                notice = click_notice(reply.messages, sent=sent)
            await self._home(parts, slack, out, now, notice=notice or None)
            return
        inv = await self._invocation(parts, found.channel, found.ts)
        reply = await parts.router.run_action(found.action_id, found.value, inv, now=now)
        self._show_reply(reply, out)
        await self._deliver(parts)

    async def _home(
        self,
        parts: Components,
        slack: FakeSlack,
        out: TextIO,
        now: datetime,
        *,
        notice: str | None = None,
    ) -> None:
        """Open the Home tab: rendered from the store as the bot does on app_home_opened,
        published to the fake Slack, and shown as Slack would show it."""
        assert parts.notifier is not None
        home = parts.home
        inv = await self._invocation(parts, "", None)
        with use_locale(parts.router.locale_for(inv)):
            view = home_view(await home.render(DEMO_USER, now=now, notice=notice))
        await parts.notifier.publish_home(DEMO_USER, view)
        shown = slack.home(DEMO_USER) or view
        if self._home_number is None:
            self._home_number = self._number()
        where = "opened" if notice is None else "published anew after the click"
        out.write(f"\n[{self._home_number}] Home tab of @you ({where}):\n")
        with use_locale(self.locale):
            out.write(render_console(shown, names=NAMES, color=self.color) + "\n")
        self._remember_buttons(shown, "", None, self._home_number, home=True)

    async def _console_command(
        self, text: str, parts: Components, slack: FakeSlack, out: TextIO, now: Any
    ) -> None:
        verb, _, rest = text.partition(" ")
        if verb == ":sweep":
            result = await parts.sweeper.run(now=now, manual=True)
            # The summary's first part is the run's claim key: noise for a person at a console.
            out.write(f"-- sweep: {result.summary().split(': ', 1)[-1]}\n")
        elif verb == ":digest":
            for posted in await parts.digests.run_all(now=now, force=True):
                out.write(f"-- digest: {posted.summary()}\n")
        elif verb == ":report":
            reporter = MonthlyReporter(parts.store, parts.config, owner=parts.owner)
            for route in parts.config.reports:
                made = await reporter.run(route, now=now, force=True)
                out.write(f"-- report: {made.key.split(':manual:')[0]} queued\n")
        elif verb == ":storm":
            self._storm(rest.strip(), out, now)
        elif verb == ":newfolder":
            self._new_folder(parts, out, now)
        elif verb == ":click":
            await self._click(rest, parts, slack, out, now)
        elif verb == ":ack":
            await self._ack(rest.strip(), parts, out, now)
        elif verb == ":home":
            await self._home(parts, slack, out, now)
        elif verb == ":drill":
            await self._drill(rest.strip(), parts, out, now)
        elif verb == ":folders":
            assert self._sim is not None
            for folder in self._sim.fleet.folders:
                out.write(f"  {folder.id}  {folder.name} ({folder.status.lower()})\n")
        elif verb == ":help":
            out.write(HELP)
        else:
            out.write(f"unknown console command {verb}; try :help\n")
        await self._deliver(parts)
        self._show_new_posts(slack, out)

    def _new_folder(self, parts: Components, out: TextIO, now: datetime) -> None:
        """A folder appears in the watched cloud with a cluster backed up two hours ago; the
        folder listing is read again at the next sweep (not in five minutes)."""
        assert self._sim is not None
        folder = self._sim.add_folder(now=now)
        directory_for(parts.cloud).forget()
        out.write(
            f"-- newfolder: folder {folder.name} ({folder.id}) now holds cluster search-eu; "
            "run :sweep to see it announced once\n"
        )

    def _storm(self, folder: str, out: TextIO, now: datetime) -> None:
        """Lose the last two days of backups of every cluster in ``folder`` (default: the folder
        with the most production clusters), and fail each one's last backup attempt."""
        assert self._sim is not None
        fleet = self._sim.fleet
        if not folder:
            folder = max(
                fleet.folder_ids(),
                key=lambda f: sum(c.environment == "PRODUCTION" for c in fleet.clusters_in(f)),
            )
        clusters = fleet.clusters_in(folder)
        if not clusters:
            out.write(f"no simulated folder {folder!r}; :folders lists them\n")
            return
        lost = sum(fleet.drop_backups_after(c.id, now - timedelta(days=2)) for c in clusters)
        for cluster in clusters:
            # The outage shows in each cluster's operations: its last backup attempt failed.
            self._sim.add_operation(
                cluster.id,
                created_at=now - timedelta(minutes=40),
                error="Object Storage is unavailable: the snapshot repository cannot be written",
            )
        out.write(
            f"-- storm: an Object Storage outage lost {lost} backups of the last two days in "
            f"folder {folder} ({len(clusters)} clusters); run :sweep to see the grouped alert\n"
        )

    async def _drill(self, ref: str, parts: Components, out: TextIO, now: datetime) -> None:
        """Run a restore drill of ``ref`` to its end, as ``backups-bot drill`` does."""
        if not ref:
            out.write("usage: :drill <cluster>\n")
            return
        # The simulated restore takes seconds: ask how it goes every quarter of one.
        parts.drills.runner.poll_interval = 0.25
        try:
            cluster = await parts.drills.finder.find(ref)
            out.write(f"-- drill: restoring the newest backup of {cluster.display_name}...\n")
            out.flush()
            record = await parts.drills.run_now(cluster, requested_by=DEMO_USER, now=now)
        except BotError as exc:
            out.write(f"-- drill: {exc}\n")
            return
        if record is None:
            out.write("-- drill: another replica runs it\n")
            return
        outcome = record.outcome.value if record.outcome else "unknown"
        out.write(
            f"-- drill: {outcome} (restored in {human_duration(record.restore_time)}, healthy "
            f"in {human_duration(record.healthy_time)}); drill cluster "
            f"{record.drill_cluster_id or '-'} "
            f"{'deleted' if record.deleted_at else 'left to the reaper'}\n"
        )

    async def _ack(self, ref: str, parts: Components, out: TextIO, now: Any) -> None:
        try:
            # The same look-up as the commands: an id, or a name unique in the folders.
            cluster = await resolve_cluster(
                parts.cloud,
                ref,
                folders=parts.config.search_folders(),
                allowed_folders=parts.config.visible_folders(),
            )
        except BotError:
            cluster = None
        alerts = await parts.store.incidents.list_alerts(open_only=True)
        chosen = [a for a in alerts if cluster is not None and a.cluster_id == cluster.id]
        if not chosen:
            out.write(f"no open alert for {ref!r}; run :sweep first, or check the name\n")
            return
        for alert in chosen:
            inv = await self._invocation(parts, alert.channel, alert.message_ts)
            value = ACKNOWLEDGE.value(AlertRef(alert.cluster_id, alert.route_key))
            reply = await parts.router.run_action(ACKNOWLEDGE.id, value, inv, now=now)
            self._show_reply(reply, out)

    def _show_new_posts(self, slack: FakeSlack, out: TextIO) -> None:
        calls = slack.calls[self._seen_calls :]
        self._seen_calls = len(slack.calls)
        for call in calls:
            if call.method == "files.completeUploadExternal":
                channel = NAMES.get(call.args.get("channel_id", ""), "?")
                where = "in the thread" if call.args.get("thread_ts") else "posted"
                out.write(f"\n[{self._number()}] #{channel} ({where}):\n")
                for file in slack.files(call.args.get("channel_id")):
                    if file["ts"] == _ts_of_share(slack, call):
                        size = len(file["content"])
                        out.write(f"[file {file['name']}: {file['title']}, {size:,} bytes]\n")
                out.write(str(call.args.get("initial_comment") or "") + "\n")
                continue
            if call.method not in ("chat.postMessage", "chat.update"):
                continue
            channel_id = str(call.args.get("channel", ""))
            channel = NAMES.get(channel_id, channel_id or "?")
            where = "in the thread" if call.args.get("thread_ts") else "posted"
            if call.method == "chat.update":
                where = "updated in place"
            ts = _ts_of(slack, call)
            number = self._number(channel_id, ts)
            if channel_id.startswith(("U", "W")):  # the app's direct message with the person
                out.write(f"\n[{number}] direct message to @{channel} ({where}):\n")
            else:
                out.write(f"\n[{number}] #{channel} ({where}):\n")
            payload: dict[str, Any] = {
                k: call.args[k] for k in ("text", "blocks") if k in call.args
            }
            out.write(render_console(payload, names=NAMES, color=self.color) + "\n")
            self._remember_buttons(payload, channel_id, ts, number)


@dataclass(frozen=True)
class _Button:
    label: str
    action_id: str
    value: str
    channel: str
    ts: str | None  # the message carrying it, once posted
    #: The message's number in the console ([3]), and the text of the blocks above the button
    #: (where its cluster is named), to press it by either.
    number: int = 0
    near: str = ""
    #: The question Slack asks before the button acts (its ``confirm`` object), if any.
    confirm: dict[str, Any] | None = None
    #: On the Home tab (no channel, no message): answered on the tab.
    home: bool = False


def _plain_text(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def _names_in(text: str, name: str) -> bool:
    """Whether ``name`` (a cluster's, or its id) stands in ``text`` as a whole word."""
    pattern = r"(?<![\w-])" + re.escape(name.lower()) + r"(?![\w-])"
    return re.search(pattern, text.lower()) is not None


def _ts_of_share(slack: FakeSlack, call: Any) -> str | None:
    """The ts of the message a recorded files.completeUploadExternal shared its file in."""
    ids = {str(f.get("id")) for f in call.args.get("files") or [] if isinstance(f, dict)}
    for file in slack.files(call.args.get("channel_id")):
        if file["id"] in ids:
            return str(file["ts"])
    return None


def _ts_of(slack: FakeSlack, call: Any) -> str | None:
    """The ts of the message a recorded call posted or updated."""
    if call.args.get("ts"):
        return str(call.args["ts"])
    for message in reversed(slack.messages(call.args.get("channel"))):
        if message.get("text") == call.args.get("text"):
            return str(message["ts"])
    return None


def _read_lines(stdin: TextIO) -> asyncio.Queue[str | None]:
    """Lines of ``stdin`` as they are typed, then None at end of input.

    A daemon thread reads, not the loop's executor: a thread blocked in ``readline`` must not
    hold up the exit after Ctrl-C (``asyncio.run`` waits for its executor's threads).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def hand_over(line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the demo is over
            loop.call_soon_threadsafe(queue.put_nowait, line)

    def pump() -> None:
        for line in iter(stdin.readline, ""):
            hand_over(line)
        hand_over(None)

    threading.Thread(target=pump, name="demo-stdin", daemon=True).start()
    return queue
