"""The buttons of a drill asked for by command: start it, or do not."""

from __future__ import annotations

from typing import Any

from bot.chat.actions import Action, TextCodec, check_cluster_id
from bot.commands import strings
from bot.i18n.catalog import N_

#: The value is the cluster's id, as the confirmation shows it.
CLUSTER_CODEC = TextCodec(check_cluster_id)

DRILL_CONFIRM: Action[str] = Action("drill_confirm", N_("Start drill"), "drill", CLUSTER_CODEC)
#: Cancelling reaches no cloud: it counts against no rate limit.
DRILL_CANCEL: Action[str] = Action(
    "drill_cancel", strings.BUTTON_CANCEL, "drill", CLUSTER_CODEC, reaches_cloud=False
)

ACTIONS: tuple[Action[Any], ...] = (DRILL_CONFIRM, DRILL_CANCEL)
