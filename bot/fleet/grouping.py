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
from urllib.parse import quote, unquote

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
    """The group as a person reads it: ``folder team-search``, ``team=search``, ``(no team)``,
    ``all clusters``; several keys are joined with `` · ``. A folder is named by its name where
    ``folder_names`` knows it (its id is then said beside the title: :func:`group_folder_id`),
    else by its id, ``folder b1g...``."""
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
                parts.append(_("folder {name}").format(name=name))
            else:
                parts.append(_("folder {id}").format(id=value))
        elif key == ENVIRONMENT:
            parts.append(value if value is not None else _("(no environment)"))
        else:
            name = key.removeprefix(LABEL_PREFIX)
            absent = _("(no {label})").format(label=name)
            parts.append(f"{name}={value}" if value is not None else absent)
    return " · ".join(parts)


def group_folder_id(key: str) -> str | None:
    """The folder id a group key names (``folder=b1g...``), or None when it is not grouped by
    folder or names no folder: what a message says beside a title that names the folder."""
    for part in key.split("|"):
        name, eq, value = part.partition("=")
        if name == FOLDER and eq:
            return unquote(value)
    return None


def folder_context(key: str, label: str) -> str | None:
    """The folder id of a group whose ``label`` names its folder by name (the id is not in
    it), for a context line beside the title; None when there is nothing to add."""
    folder_id = group_folder_id(key)
    if folder_id is None or folder_id in label:
        return None
    return folder_id
