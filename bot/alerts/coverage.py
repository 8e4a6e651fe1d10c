"""Coverage changes, said once: a cluster the bot starts watching (a new folder, a new cluster)
is announced in the alert routes it matches, and one it stops watching (gone from the cloud,
or no longer in a watched folder) is said there once too.

Pure: :func:`plan_coverage` takes what the bot knew (``bot.store.coverage``), what the sweep
read, and which of the clusters it no longer saw are really gone (the sweep asks each of them
again first: one listing that comes back short drops nothing), and gives the one
:class:`~bot.outbox.change.Change` that saves the new coverage with its posts.

The first sweep that finds the table empty records every cluster silently: a bot started on
a fleet of 300 clusters has nothing to announce. A cluster's history before it was seen is left
to the normal first check of its freshness, which the sweep makes anyway.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.alerts.model import CoverageEntry
from bot.chat.card import Card, Chat, Note, Part, Text
from bot.chat.mrkdwn import code, escape
from bot.cloud.models import Cluster
from bot.config import AlertRoute
from bot.durations import format_duration
from bot.fleet.match import matches
from bot.fleet.reader import ClusterReading
from bot.i18n.catalog import _, ngettext
from bot.outbox.change import Change
from bot.outbox.posts import OutboundPost, PostKind, make_post


def plan_coverage(
    known: Mapping[str, CoverageEntry],
    readings: Sequence[ClusterReading],
    gone: Sequence[Cluster],
    *,
    routes: Sequence[AlertRoute],
    chat: Chat,
    folder_names: Mapping[str, str],
    now: datetime,
    retired: Collection[str] = (),
) -> Change:
    """What changed in coverage: ``readings`` are the clusters watched now, ``gone`` those the
    bot watched and, asked again, found gone or no longer watched. A gone cluster in
    ``retired`` had an open incident, whose thread the sweep already told it is no longer
    watched: it is saved, not said twice."""
    first = not known
    entries: list[CoverageEntry] = []
    posts: list[OutboundPost] = []
    for reading in readings:
        cluster = reading.cluster
        before = known.get(cluster.id)
        if before is not None and before.watching:
            continue
        entries.append(
            CoverageEntry(
                cluster_id=cluster.id,
                folder_id=cluster.folder_id,
                name=cluster.name,
                watching=True,
                first_seen=now if before is None else before.first_seen,
                last_seen=now,
                environment=cluster.environment.value,
                labels=tuple(sorted(cluster.labels.items())),
            )
        )
        if first:
            continue
        card = render_now_watching(reading, folder_names.get(cluster.folder_id, ""), now)
        posts.extend(_to_routes(routes, cluster, card, chat, "now watching"))
    for cluster in gone:
        was = known.get(cluster.id)
        if was is None or not was.watching:
            continue
        entries.append(replace(was, watching=False, last_seen=now))
        if cluster.id in retired:
            continue
        shown = (
            cluster
            if cluster.name
            else Cluster.model_validate(
                {
                    "id": was.cluster_id,
                    "folderId": was.folder_id,
                    "name": was.name,
                    "environment": was.environment or None,
                    "labels": dict(was.labels),
                }
            )
        )
        card = render_no_longer_watching(shown, folder_names.get(was.folder_id, ""), was)
        posts.extend(_to_routes(routes, shown, card, chat, "no longer watching"))
    return Change(coverage=entries, posts=posts)


def _to_routes(
    routes: Sequence[AlertRoute], cluster: Cluster, card: Card, chat: Chat, reason: str
) -> list[OutboundPost]:
    channels = [route.channel for route in routes if matches(route.match, cluster)]
    return [
        make_post(PostKind.COVERAGE, channel, card, chat=chat, subject=cluster.id, reason=reason)
        for channel in dict.fromkeys(channels)
    ]


def _where(folder_id: str, folder_name: str) -> str:
    return code(folder_name or folder_id)


def render_now_watching(reading: ClusterReading, folder_name: str, now: datetime) -> Card:
    """A cluster the bot has started to watch, and where its backups stand."""
    cluster = reading.cluster
    name = code(cluster.display_name)
    where = _where(cluster.folder_id, folder_name)
    newest = reading.newest
    if reading.error is not None:
        state = _("its backups cannot be read yet: {reason}").format(reason=escape(reading.error))
    elif newest is None or newest.created_at is None:
        state = _("it has no backup yet")
    else:
        age = format_duration(max(now - newest.created_at, timedelta(0)))
        state = _("its newest backup is {age} old").format(age=age)
    text = _(":eyes: Now watching {cluster} in folder {folder}: {state}.").format(
        cluster=name, folder=where, state=state
    )
    fallback = _("Now watching {cluster}").format(cluster=cluster.display_name)
    return Card(fallback, [Text(text), Note((_id_line(cluster.id, cluster.folder_id),))])


def render_no_longer_watching(cluster: Cluster, folder_name: str, was: CoverageEntry) -> Card:
    """A cluster the bot watched and no longer does: gone from the cloud, or from the folders
    it watches."""
    name = code(cluster.display_name)
    where = _where(was.folder_id, folder_name)
    text = _(
        ":wave: No longer watching {cluster} (folder {folder}): the cloud no longer lists it "
        "where the bot looks."
    ).format(cluster=name, folder=where)
    fallback = _("No longer watching {cluster}").format(cluster=cluster.display_name)
    return Card(fallback, [Text(text), Note((_id_line(cluster.id, was.folder_id),))])


def _id_line(cluster_id: str, folder_id: str) -> str:
    return _("cluster {cluster} · folder {folder}").format(
        cluster=code(cluster_id), folder=code(folder_id)
    )


#: The bot incident of folders it cannot read (beside ``blind``, the whole cloud).
UNREADABLE = "unreadable-folders"
#: The fact that counts each unreadable folder's sweeps in a row (JSON: folder id -> count).
UNREADABLE_FACT = "unreadable_folders"


def count_unreadable(before: Mapping[str, int], unlisted: Collection[str]) -> dict[str, int]:
    """Each folder that could not be listed this sweep, with its sweeps in a row; a folder
    listed again starts from nothing."""
    return {folder: int(before.get(folder, 0)) + 1 for folder in sorted(unlisted)}


def render_unreadable_alert(
    folders: Sequence[tuple[str, str]], sweeps: int, reasons: Sequence[str]
) -> Card:
    """The bot cannot read some folders it watches: their clusters go unwatched until it can.
    ``folders`` are (id, name) pairs."""
    shown = ", ".join(code(name or folder) for folder, name in folders)
    which = ngettext(
        "the bot could not read folder {folders}",
        "the bot could not read folders {folders}",
        len(folders),
    ).format(folders=shown)
    span = ngettext("for {n} sweep in a row", "for {n} sweeps in a row", sweeps).format(n=sweeps)
    text = _(
        ":rotating_light: *Coverage fell*: {which} {span}; the clusters in them go unwatched "
        "until it can."
    ).format(which=which, span=span)
    fallback = _("The backups bot cannot read some folders it watches.")
    parts: list[Part] = [Text(text)]
    if reasons:
        parts.append(Note(tuple(escape(reason) for reason in reasons[:5])))
    return Card(fallback, parts)


def render_unreadable_recovered() -> Card:
    """Every watched folder can be read again (posted in the alert's thread)."""
    text = _(":white_check_mark: Every watched folder can be read again.")
    return Card(_("Every watched folder can be read again."), [Text(text)])
