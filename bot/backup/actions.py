"""The buttons of a backup asked for by command: start it, or do not."""

from __future__ import annotations

from typing import Any

from bot.chat.actions import Action, TextCodec, check_cluster_id
from bot.commands import strings

#: The value is the cluster's id, as the confirmation shows it.
CLUSTER_CODEC = TextCodec(check_cluster_id)

CONFIRM: Action[str] = Action(
    "backup_confirm", strings.BUTTON_CONFIRM_BACKUP, "backup", CLUSTER_CODEC
)
#: Cancelling reaches no cloud: it counts against no rate limit.
CANCEL: Action[str] = Action(
    "backup_cancel", strings.BUTTON_CANCEL, "backup", CLUSTER_CODEC, reaches_cloud=False
)

ACTIONS: tuple[Action[Any], ...] = (CONFIRM, CANCEL)
