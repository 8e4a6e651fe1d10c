"""Which clusters a config rule applies to, and stable keys for digest and alert routes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence

from bot.cloud.models import Cluster
from bot.config import BotConfig, Match
from bot.drills.model import DRILL_LABEL


def matches(match: Match, cluster: Cluster) -> bool:
    """True when every key given in ``match`` fits the cluster; an empty match fits every cluster.

    ``cluster`` is compared with the cluster's id and with its name, so either may be written.
    """
    if match.folder is not None and match.folder != cluster.folder_id:
        return False
    if match.cluster is not None and not (
        match.cluster == cluster.id or (cluster.name and match.cluster == cluster.name)
    ):
        return False
    if match.environment is not None and match.environment != cluster.environment:
        return False
    return all(cluster.labels.get(key) == value for key, value in match.labels.items())


def parse_match(text: str) -> Match:
    """A match as a person writes it, in the config's own terms: ``folder:<id>``,
    ``label:<name>=<value>``, ``environment:<ENV>``, or a bare cluster id or name. Raises
    ValueError for one it cannot read (an unknown environment, a label without ``=``)."""
    kind, sep, rest = text.partition(":")
    if not sep:
        return Match(cluster=text)
    if not rest:
        raise ValueError(f"nothing after {kind}:")
    if kind == "folder":
        return Match(folder=rest)
    if kind == "cluster":
        return Match(cluster=rest)
    if kind == "environment":
        try:
            return Match.model_validate({"environment": rest})
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ValueError(f"unknown environment {rest}") from exc
    if kind == "label":
        name, eq, value = rest.partition("=")
        if not eq or not name:
            raise ValueError("a label is written name=value")
        return Match(labels={name: value})
    raise ValueError(f"unknown match kind {kind}")


def route_key(kind: str, channel: str, match: Match) -> str:
    """A short key that names a route as long as its kind, channel and match stay the same.

    Persisted alert incidents are keyed by it, so it must not depend on anything but the route's
    meaning: the match is serialised with sorted keys, unset keys dropped, before hashing.
    """
    canonical = json.dumps(
        match.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
    return f"{kind}:{channel}:{digest}"


def watched(config: BotConfig, cluster: Cluster, found: Collection[str] | None = None) -> bool:
    """True when the cluster is in a watched folder (``watch.folders``, or ``found``: the
    folders found in ``watch.clouds``) or listed by id or name, passes ``watch.only`` when that
    is given, and is not left out by ``watch.exclude``. A restore drill's throwaway cluster is
    never watched (no alert, no digest row about it).

    ``found`` None means the clouds' folders are not known here: a cluster of any folder counts
    as found when the config watches clouds (a re-read must not retire a cluster for that)."""
    if DRILL_LABEL in cluster.labels:
        return False
    watch = config.watch
    in_found = (watch.finds_folders if found is None else cluster.folder_id in found) and bool(
        cluster.folder_id
    )
    listed = (
        cluster.folder_id in watch.folders
        or in_found
        or cluster.id in watch.clusters
        or (bool(cluster.name) and cluster.name in watch.clusters)
    )
    if not listed:
        return False
    if watch.exclude is not None and matches(watch.exclude, cluster):
        return False
    return not watch.only or any(matches(only, cluster) for only in watch.only)


def excluded_folder(config: BotConfig, folder_id: str) -> bool:
    """Whether ``watch.exclude`` leaves out a whole folder (a match on the folder alone): then
    its clusters are not even listed."""
    exclude = config.watch.exclude
    return (
        exclude is not None
        and exclude.folder == folder_id
        and exclude.cluster is None
        and not exclude.labels
        and exclude.environment is None
    )


def folder_allowed(folder_id: str, allowed: Sequence[str]) -> bool:
    """Whether the bot may show a folder's clusters: an empty ``allowed`` means every folder."""
    return not allowed or folder_id in allowed
