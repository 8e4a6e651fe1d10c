"""A fixed scenario of the demo fleet, recorded as every Slack payload it makes.

The same inputs at the same frozen instant always make the same messages, so the recorded
payloads pin what people read, byte for byte, while the code behind them is reshaped. Run
``python -m tests.golden.scenario --write`` to record them anew after a deliberate change (and
say why in the commit).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from freezegun import freeze_time

from bot.app.demo import DEMO_USER, ONCALL_GROUP, demo_config
from bot.app.wiring import Components, open_components
from bot.chat.actions import Invocation
from bot.config import parse_config
from bot.demo.simcloud import SimCloud
from bot.demo.simcloud.config import DEFAULT_STATIC_TOKEN, SimConfig
from bot.demo.simcloud.fleet import demo_fleet
from bot.settings import Settings
from bot.slack.blocks import SLACK

NOW = datetime(2026, 12, 2, 5, 39, tzinfo=UTC)
RECORDED = Path(__file__).with_name("payloads.json")

#: Ids made afresh at each run (outbox posts, grouped alerts, operations), replaced by their
#: order of appearance so that two runs compare equal.
_FRESH_IDS = re.compile(
    r"\b(p[0-9a-f]{32}|g[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
)

COMMANDS = (
    "help",
    "help list",
    "help snooze",
    "nonsense",
    "lst traces-prod",
    "list traces-prod",
    "list traces-prod --limit 2",
    "list vector-search-prod",
    "list search-dev",
    "list payments-audit",
    "list no-such-cluster",
    "list c9qnosuchcluster0000",
    "clusters",
    "status",
    "status traces-prod",
    "status catalog-prod-eu",
    "snooze traces-prod 4h",
    "unsnooze traces-prod",
    "unsnooze search-prod-eu",
    "snooze traces-prod 99d",
    "backup traces-prod",
    "backup logs-archive",
)


def _normalise(value: Any) -> Any:
    seen: dict[str, str] = {}

    def stable(match: re.Match[str]) -> str:
        kind = "uuid" if "-" in match.group(0) else match.group(0)[0]
        return seen.setdefault(match.group(0), f"<{kind}{len(seen) + 1}>")

    return json.loads(_FRESH_IDS.sub(stable, json.dumps(value, ensure_ascii=False)))


def _buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in payload.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


class _Recorder:
    def __init__(self, parts: Components, sim: SimCloud) -> None:
        self.parts = parts
        self.sim = sim
        self.entries: list[dict[str, Any]] = []

    def add(self, label: str, payload: dict[str, Any], **about: Any) -> None:
        self.entries.append({"label": label, **about, "payload": payload})

    async def command(self, text: str, now: datetime) -> list[dict[str, Any]]:
        inv = Invocation(DEMO_USER, "C0DEMOTEAM", user_groups=frozenset({ONCALL_GROUP}))
        reply = await self.parts.router.run(text, inv, now=now)
        payloads = [SLACK.render(m) for m in reply.messages]
        for payload in payloads:
            self.add(f"/backups {text}", payload, ephemeral=reply.ephemeral)
        return payloads

    async def click(self, button: dict[str, Any], now: datetime, label: str) -> None:
        inv = Invocation(
            DEMO_USER, "C0DEMOONCALL", user_groups=frozenset({ONCALL_GROUP}), message_ts="1.2"
        )
        reply = await self.parts.router.run_action(
            button["action_id"], button.get("value", ""), inv, now=now
        )
        for message in reply.messages:
            self.add(f"click {label}", SLACK.render(message), replace=reply.replace_original)

    async def queued(self, label: str, since: int) -> int:
        posts = await self.parts.store.outbox.list_posts()
        for post in posts[since:]:
            self.add(label, post.payload, kind=str(post.kind), channel=post.channel)
        return len(posts)

    async def sweep(self, label: str, now: datetime) -> list[dict[str, Any]]:
        result = await self.parts.sweeper.run(now=now, manual=True)
        for post in result.posts:
            self.add(label, post.payload, kind=str(post.kind), channel=post.channel)
        return [dict(p.payload) for p in result.posts]


async def _scenario(parts: Components, sim: SimCloud) -> list[dict[str, Any]]:
    rec = _Recorder(parts, sim)
    now = NOW
    dry = await parts.sweeper.run(now=now, dry_run=True)
    for post in dry.posts:
        rec.add("sweep --dry-run", post.payload, kind=str(post.kind), channel=post.channel)
    for result in await parts.digests.run_all(now=now, dry_run=True):
        for message in result.messages:
            rec.add("digest --dry-run", SLACK.render(message))

    posted = await rec.sweep("sweep", now)
    seen = len(await parts.store.outbox.list_posts())
    for text in COMMANDS:
        await rec.command(text, now)
    seen = await rec.queued("after commands", seen)

    alerts = [p for p in posted if any(b["action_id"] == "alert_ack" for b in _buttons(p))]
    first, second = alerts[0], alerts[1]
    by_id = {b["action_id"]: b for b in _buttons(first)}
    await rec.click(by_id["alert_ack"], now, "Acknowledge")
    await rec.click(by_id["alert_ack"], now, "Acknowledge again")
    await rec.click(by_id["alert_list"], now, "List backups")
    await rec.click(by_id["alert_backup"], now, "Start backup now")
    seen = await rec.queued("after clicks", seen)
    snooze = {b["action_id"]: b for b in _buttons(second)}["alert_snooze_4h"]
    await rec.click(snooze, now, "Snooze 4 h")
    seen = await rec.queued("after snooze", seen)

    listed = await rec.command("list traces-prod --limit 1", now)
    for button in _buttons(listed[-1]):
        await rec.click(button, now, "Next page")
    status = await rec.command("status", now)
    for button in _buttons(status[-1]):
        await rec.click(button, now, "Next page of status")
    confirm = await rec.command("backup search-prod-eu", now)
    for button in _buttons(confirm[-1]):
        if button["action_id"] == "backup_cancel":
            await rec.click(button, now, "Cancel")

    # A storm: an Object Storage outage loses two days of one folder's backups.
    fleet = sim.fleet
    folder = max(
        fleet.folder_ids(),
        key=lambda f: sum(c.environment == "PRODUCTION" for c in fleet.clusters_in(f)),
    )
    later = now + timedelta(minutes=15)
    for cluster in fleet.clusters_in(folder):
        fleet.drop_backups_after(cluster.id, now - timedelta(days=2))
        sim.add_operation(
            cluster.id,
            created_at=now - timedelta(minutes=40),
            error="Object Storage is unavailable: the snapshot repository cannot be written",
        )
    stormy = await rec.sweep("storm sweep", later)
    seen = len(await parts.store.outbox.list_posts())
    groups = [p for p in stormy if any(b["action_id"] == "group_ack" for b in _buttons(p))]
    for group in groups[:1]:
        buttons = {b["action_id"]: b for b in _buttons(group)}
        await rec.click(buttons["group_ack"], later, "Acknowledge all")
        await rec.click(buttons["group_ack"], later, "Acknowledge all again")
    seen = await rec.queued("after Acknowledge all", seen)

    # Hours on: reminders; then fresh backups land and incidents resolve.
    await rec.sweep("sweep 5 h later", now + timedelta(hours=5))
    for cluster in fleet.clusters_in(folder):
        sim.add_backup(cluster.id, created_at=now + timedelta(hours=5, minutes=30))
    await rec.sweep("sweep after fresh backups", now + timedelta(hours=6))
    for result in await parts.digests.run_all(now=now + timedelta(hours=6), dry_run=True):
        for message in result.messages:
            rec.add("digest --dry-run later", SLACK.render(message))
    return rec.entries


async def record() -> list[dict[str, Any]]:
    """Every payload of the scenario, in order, with fresh ids normalised."""
    with (
        freeze_time(NOW, real_asyncio=True),
        tempfile.TemporaryDirectory(prefix="golden-") as tmp,
    ):
        fleet = demo_fleet(NOW)
        async with SimCloud(SimConfig(latency=0.0, backup_duration=20.0), fleet=fleet) as sim:
            settings = Settings(
                SLACK_BOT_TOKEN="xoxb-golden",
                YC_MDB_ENDPOINT=sim.url,
                YC_IAM_ENDPOINT=sim.url,
                YC_OPERATION_ENDPOINT=sim.url,
                YC_RESOURCE_MANAGER_ENDPOINT=sim.url,
                YC_VPC_ENDPOINT=sim.url,
                YC_IAM_TOKEN=DEFAULT_STATIC_TOKEN,
                DATABASE_URL=f"sqlite+aiosqlite:///{Path(tmp) / 'golden.db'}",
            )
            config = demo_config(fleet)
            config = parse_config(_with_extra_routes(config), source="golden config")
            async with open_components(settings, config, role="golden", slack=False) as parts:
                entries = await _scenario(parts, sim)
    return _normalise(entries)


def _with_extra_routes(config: Any) -> str:
    """The demo's config as YAML, plus a grouped digest route."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    data["digests"].append(
        {"channel": "C0GROUPED", "schedule": "0 9 * * *", "group_by": ["folder"]}
    )
    return json.dumps(data)


def main() -> int:
    entries = asyncio.run(record())
    if "--write" in sys.argv:
        RECORDED.write_text(
            json.dumps(entries, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        print(f"recorded {len(entries)} payloads in {RECORDED}")
    else:
        print(json.dumps(entries, ensure_ascii=False, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
