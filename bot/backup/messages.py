"""What asking for a backup says: the confirmation, with its Start backup and Cancel buttons."""

from __future__ import annotations

from bot.backup.actions import CANCEL, CONFIRM
from bot.chat.card import Buttons, Card, Text
from bot.commands import strings as s
from bot.commands.messages import code_text, esc, one_line, say

_ID_CLIP = 100
_NAME_CLIP = 80


def render_backup_confirm(cluster_label: str, cluster_id: str) -> Card:
    """Ask before starting a backup: a Start backup and a Cancel button, value the cluster id."""
    question = say(
        s.BACKUP_CONFIRM, cluster=esc(cluster_label, _NAME_CLIP), id=code_text(cluster_id)
    )
    value = one_line(cluster_id, _ID_CLIP)
    buttons = [CONFIRM.button(value, style="primary"), CANCEL.button(value)]
    return Card(
        say(s.BACKUP_CONFIRM_FALLBACK, cluster=esc(cluster_label, _NAME_CLIP)),
        [Text(question), Buttons(buttons)],
    )
