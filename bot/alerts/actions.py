"""The buttons of alerts: on one cluster's alert, and on a grouped alert (a storm)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.chat.actions import Action, BadButtonValue, JsonCodec, check_cluster_id
from bot.i18n.catalog import N_

#: Longest alert route key a button may carry.
MAX_ROUTE_KEY = 200
_GROUP_ID = re.compile(r"g[0-9a-f]{32}")


@dataclass(frozen=True)
class AlertRef:
    """One incident: the cluster and the alert route its alert was posted on."""

    cluster_id: str
    route_key: str


def _read_alert(data: dict[str, Any]) -> AlertRef:
    cluster_id = check_cluster_id(data.get("c"))
    route_key = data.get("r")
    if not isinstance(route_key, str) or not route_key or len(route_key) > MAX_ROUTE_KEY:
        raise BadButtonValue()
    return AlertRef(cluster_id, route_key)


def _read_group(data: dict[str, Any]) -> str:
    group_id = data.get("g")
    if not isinstance(group_id, str) or not _GROUP_ID.fullmatch(group_id):
        raise BadButtonValue()
    return group_id


ALERT_CODEC = JsonCodec(lambda ref: {"c": ref.cluster_id, "r": ref.route_key}, _read_alert)
#: A grouped alert's buttons carry its id (``g`` and 32 hex digits).
GROUP_CODEC = JsonCodec(lambda group_id: {"g": group_id}, _read_group)

# Acknowledging silences reminders, as a snooze does: the same access rule. An alert's labels
# may hold emoji shortcodes (a translation may add them).
ACKNOWLEDGE: Action[AlertRef] = Action(
    "alert_ack", N_("Acknowledge"), "snooze", ALERT_CODEC, emoji=True
)
UNACKNOWLEDGE: Action[AlertRef] = Action(
    "alert_unack", N_("Unacknowledge"), "snooze", ALERT_CODEC, emoji=True
)
UNSNOOZE: Action[AlertRef] = Action(
    "alert_unsnooze", N_("Unsnooze"), "unsnooze", ALERT_CODEC, emoji=True
)
SNOOZE_4H: Action[AlertRef] = Action(
    "alert_snooze_4h", N_("Snooze 4 h"), "snooze", ALERT_CODEC, emoji=True
)
SNOOZE_24H: Action[AlertRef] = Action(
    "alert_snooze_24h", N_("Snooze 24 h"), "snooze", ALERT_CODEC, emoji=True
)
LIST_BACKUPS: Action[AlertRef] = Action(
    "alert_list", N_("List backups"), "list", ALERT_CODEC, emoji=True
)
START_BACKUP: Action[AlertRef] = Action(
    "alert_backup", N_("Start backup now"), "backup", ALERT_CODEC, emoji=True
)
#: A link to the route's runbook (``runbook_url``): the browser opens it; the click that Slack
#: sends the bot as well is answered with nothing to say.
RUNBOOK: Action[AlertRef] = Action(
    "alert_runbook", N_("Runbook"), "list", ALERT_CODEC, reaches_cloud=False, emoji=True
)

ACKNOWLEDGE_ALL: Action[str] = Action(
    "group_ack", N_("Acknowledge all"), "snooze", GROUP_CODEC, emoji=True
)
UNACKNOWLEDGE_ALL: Action[str] = Action(
    "group_unack", N_("Unacknowledge"), "snooze", GROUP_CODEC, emoji=True
)
UNSNOOZE_ALL: Action[str] = Action(
    "group_unsnooze", N_("Unsnooze"), "unsnooze", GROUP_CODEC, emoji=True
)
SNOOZE_ALL_4H: Action[str] = Action(
    "group_snooze_4h", N_("Snooze all 4 h"), "snooze", GROUP_CODEC, emoji=True
)
SNOOZE_ALL_24H: Action[str] = Action(
    "group_snooze_24h", N_("Snooze all 24 h"), "snooze", GROUP_CODEC, emoji=True
)

ACTIONS: tuple[Action[Any], ...] = (
    ACKNOWLEDGE,
    UNACKNOWLEDGE,
    UNSNOOZE,
    SNOOZE_4H,
    SNOOZE_24H,
    LIST_BACKUPS,
    START_BACKUP,
    RUNBOOK,
    ACKNOWLEDGE_ALL,
    UNACKNOWLEDGE_ALL,
    UNSNOOZE_ALL,
    SNOOZE_ALL_4H,
    SNOOZE_ALL_24H,
)
