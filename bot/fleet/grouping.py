"""Which group a cluster falls in, for grouped alerts and the digest's sections.

A route's ``group_by`` is a list of keys: ``folder``, ``environment`` and ``label:<name>``. Two
clusters are in the same group when they agree on every key; ``[]`` puts a whole route in one
group. A cluster that lacks a key's value (no such label, no environment) goes to a named group
of its own ("(no team)"), never silently to another.

Pure: plain values in, strings out. Keys are stable (they may be stored); labels are plain text
for people in the current locale, not yet escaped for mrkdwn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from bot.cloud.models import Cluster, Environment
from bot.config import ENVIRONMENT, FOLDER, LABEL_PREFIX
from bot.i18n.catalog import N_, _

#: The key of the one group of a route grouped by nothing.
WHOLE_ROUTE = "*"
WHOLE_ROUTE_LABEL = N_("all clusters")


def _value(cluster: Cluster, key: str) -> str | None:
    """The cluster's value for one key; None when it has none."""
    if key == FOLDER:
        return cluster.folder_id or None
    if key == ENVIRONMENT:
        if cluster.environment == Environment.ENVIRONMENT_UNSPECIFIED:
            return None
        return cluster.environment.value
    return cluster.labels.get(key.removeprefix(LABEL_PREFIX))


def group_key(cluster: Cluster, group_by: Sequence[str]) -> str:
    """A stable key naming the cluster's group: ``folder=b1g...|label:team=search``.

    Values are percent-encoded so no value can fake a separator; a missing value is the key
    alone (``label:team``), which no present value can produce.
    """
    if not group_by:
        return WHOLE_ROUTE
    parts = []
    for key in group_by:
        value = _value(cluster, key)
        parts.append(key if value is None else f"{key}={quote(value, safe='')}")
    return "|".join(parts)


def group_label(
    cluster: Cluster, group_by: Sequence[str], folder_names: Mapping[str, str] | None = None
) -> str:
    """The group as a person reads it: ``folder b1g...``, ``team=search``, ``(no team)``,
    ``all clusters``; several keys are joined with `` · ``. A folder whose name is known
    (``folder_names``: found in a watched cloud) reads ``folder team-search (b1g...)``."""
    if not group_by:
        return _(WHOLE_ROUTE_LABEL)
    parts = []
    for key in group_by:
        value = _value(cluster, key)
        if key == FOLDER:
            name = (folder_names or {}).get(value or "")
            if value is None:
                parts.append(_("(no folder)"))
            elif name:
                parts.append(_("folder {name} ({id})").format(name=name, id=value))
            else:
                parts.append(_("folder {id}").format(id=value))
        elif key == ENVIRONMENT:
            parts.append(value if value is not None else _("(no environment)"))
        else:
            name = key.removeprefix(LABEL_PREFIX)
            absent = _("(no {label})").format(label=name)
            parts.append(f"{name}={value}" if value is not None else absent)
    return " · ".join(parts)
