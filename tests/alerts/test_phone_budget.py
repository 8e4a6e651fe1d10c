"""An alert fits a phone: what it says before its first button is short enough to read without
scrolling (about 400 characters a person sees), for every alert the demo fleet makes.

The alerts are the golden scenario's (``tests/golden/payloads.json``: the demo fleet's first
sweep and a storm), which ``tests/golden`` keeps equal to what the code makes.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from tests.golden.scenario import RECORDED

BUDGET = 400
_LINK = re.compile(r"<(?:https?://|mailto:)[^|>]*\|([^>]*)>")
_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_MENTION = re.compile(r"<!subteam\^([A-Z0-9]+)>|<@([A-Z0-9]+)>")


def visible(mrkdwn: str) -> str:
    """The characters a person sees of ``mrkdwn``: a link's label, a date's fallback, a mention
    as ``@id``, no markup."""
    text = _LINK.sub(r"\1", mrkdwn)
    text = _DATE.sub(r"\1", text)
    text = _MENTION.sub(lambda m: "@" + (m.group(1) or m.group(2)), text)
    text = re.sub(r"[*_~`]", "", text)
    return html.unescape(text)


def _texts(block: dict[str, Any]) -> list[str]:
    if block["type"] in ("section", "header"):
        texts = [block["text"]["text"]] if "text" in block else []
        return texts + [f["text"] for f in block.get("fields", [])]
    if block["type"] == "context":
        return [e["text"] for e in block["elements"] if "text" in e]
    return []


def before_first_button(payload: dict[str, Any]) -> str:
    """What a person reads of ``payload`` before its first row of buttons."""
    seen: list[str] = []
    for block in payload["blocks"]:
        if block["type"] == "actions":
            return "\n".join(seen)
        seen += [visible(t) for t in _texts(block)]
    raise AssertionError("no buttons")


def _alerts() -> list[dict[str, Any]]:
    entries = json.loads(RECORDED.read_text(encoding="utf-8"))
    alerts = []
    for entry in entries:
        actions = [
            e["action_id"]
            for b in entry["payload"].get("blocks", [])
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        # An alert or a grouped alert as posted or updated (not a reply to a command that
        # shows an alert's buttons, such as status <cluster>).
        is_alert = entry.get("kind") in ("alert", "alert_update", "group_alert", "group_update")
        if is_alert and {"alert_ack", "group_ack", "alert_snooze_4h", "group_snooze_4h"} & set(
            actions
        ):
            alerts.append(entry)
    return alerts


def test_the_measure_counts_what_a_person_sees() -> None:
    said = visible("*<https://x.example/a|orders>* <!date^1^{time}|05:00 UTC> <!subteam^S0ON> &lt;")
    assert said == "orders 05:00 UTC @S0ON <"


def test_the_demo_makes_single_and_grouped_alerts() -> None:
    alerts = [e for e in _alerts() if e["label"] in ("sweep", "storm sweep")]
    anchors = [b.get("block_id") for e in alerts for b in e["payload"]["blocks"]]
    assert anchors.count("alert_actions") >= 4
    assert anchors.count("group_actions") >= 1


@pytest.mark.parametrize("entry", _alerts(), ids=lambda e: e["label"])
def test_an_alert_says_what_matters_within_a_phone_screen_before_its_buttons(
    entry: dict[str, Any],
) -> None:
    head = before_first_button(entry["payload"])
    assert len(head) <= BUDGET, head
    # And it still says the cluster and why: never only a status line.
    assert len(head.splitlines()) >= 2, head
