"""Buttons are declared once: every button a message shows is answered, and every answered
button is shown by some message."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from bot.app.wiring import DECLARED_ACTIONS, build_features
from bot.cloud.auth import StaticTokenProvider
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.slack.blocks import SLACK
from bot.store import Store
from tests.golden.scenario import RECORDED
from tests.source import parse

ROOT = Path(__file__).resolve().parents[1]


def _shown_in(payload: Any) -> set[str]:
    """Action ids of every button in a payload, at any depth."""
    if isinstance(payload, dict):
        found = {payload["action_id"]} if payload.get("type") == "button" else set()
        return found.union(*(_shown_in(v) for v in payload.values()))
    if isinstance(payload, list):
        return set().union(*(_shown_in(v) for v in payload))
    return set()


def _made_by_messages() -> set[str]:
    """Ids of the declared actions whose ``.button(`` some module of bot/ calls."""
    names: dict[str, str] = {}
    for path in (ROOT / "bot").rglob("actions.py"):
        tree = parse(path)
        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        module = __import__(dotted, fromlist=["_"])
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                value = getattr(module, node.target.id)
                if value in DECLARED_ACTIONS:
                    names[node.target.id] = value.id
    called = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(parse(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "button"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in names
            ):
                called.add(names[node.func.value.id])
    return called


async def test_every_button_shown_is_answered_and_every_answered_button_is_shown(
    tmp_path: Path,
) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'buttons.db'}")
    # Nothing is read: the router is only asked what it answers.
    cloud = CloudClient(
        mdb_endpoint="http://127.0.0.1:9",
        operation_endpoint="http://127.0.0.1:9",
        auth=StaticTokenProvider("unused"),
    )
    try:
        router = build_features(cloud, BotConfig(), store=store, chat=SLACK).router
        answered = set(router.answered_ids)
    finally:
        await cloud.aclose()
        await store.close()
    shown = _shown_in([e["payload"] for e in json.loads(RECORDED.read_text(encoding="utf-8"))])
    made = _made_by_messages()

    # The golden scenario really shows buttons, and the scan really finds the messages' calls.
    assert {"alert_ack", "group_ack", "list_next_page"} <= shown
    assert {"alert_ack", "clusters_next_page", "backup_confirm"} <= made
    assert shown <= answered, "a message shows a button no feature answers"
    assert answered == made, "a button is answered that no message shows, or the other way"
    assert answered == {action.id for action in DECLARED_ACTIONS}
    assert len(DECLARED_ACTIONS) == len(answered), "an action id is declared twice"
