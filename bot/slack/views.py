"""Views as Slack gets them: the Home tab, published with ``views.publish``.

A view takes up to 100 blocks (a message 50) of the same kinds a message does, each within the
same limits; :func:`home_view` renders a card with the one renderer of blocks
(:func:`bot.slack.blocks.render_block`) and checks it against that budget before it leaves: a
view over it is a bug of ours (:class:`~bot.slack.budget.OverBudget`).
"""

from __future__ import annotations

from typing import Any

from bot.chat.card import Card
from bot.slack.blocks import render_block
from bot.slack.budget import OverBudget, _block_problems

#: Slack's limit on blocks in a modal or Home tab view.
MAX_VIEW_BLOCKS = 100
#: The Home tab's callback id: the bot's clicks from it are told by it.
HOME_CALLBACK = "backups_home"


def home_view(card: Card) -> dict[str, Any]:
    """``card`` as the ``view`` of a views.publish; :class:`OverBudget` if Slack would refuse
    it."""
    view: dict[str, Any] = {
        "type": "home",
        "callback_id": HOME_CALLBACK,
        "blocks": [render_block(part) for part in card.parts],
    }
    problems = view_violations(view)
    if problems:
        raise OverBudget(problems)
    return view


def view_violations(view: dict[str, Any]) -> list[str]:
    """Every way ``view`` breaks Slack's limits for a view, one line each."""
    blocks = view.get("blocks") or []
    problems = []
    if not blocks:
        problems.append("a view without blocks")
    if len(blocks) > MAX_VIEW_BLOCKS:
        problems.append(f"{len(blocks)} blocks (max {MAX_VIEW_BLOCKS})")
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(ids) != len(set(ids)):
        problems.append("two blocks share a block_id")
    for number, block in enumerate(blocks, start=1):
        problems += [f"block {number} ({block.get('type')}): {p}" for p in _block_problems(block)]
    return problems
