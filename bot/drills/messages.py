"""What a person reads about restore drills: a drill's result, a leftover drill cluster deleted,
the list of drills, and what a drill would create and cost. Pure: values in, cards out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.chat.card import Buttons, Card, Confirm, Fields, Note, Text
from bot.chat.mrkdwn import code, escape
from bot.chat.pack import escape_clipped
from bot.cloud.models import Cluster, RestoreRequest
from bot.drills.actions import DRILL_CANCEL, DRILL_CONFIRM
from bot.drills.model import DrillOutcome, DrillRecord, DrillStep
from bot.drills.plan import DrillCost
from bot.i18n.catalog import _, ngettext
from bot.i18n.units import human_duration, utc_time

_NAME = 80
_ERROR = 300


def _name(record: DrillRecord) -> str:
    return f"*{escape_clipped(record.cluster_name or record.cluster_id, _NAME)}*"


def _step_words(step: str) -> str:
    words = {
        "backup": _("finding a backup"),
        "restore": _("restoring"),
        "health": _("waiting for a healthy cluster"),
        "verify": _("checking the data"),
        "delete": _("deleting the drill cluster"),
    }
    return words.get(step, escape(step))


def cost_line(cost: DrillCost) -> str:
    """At most hosts × preset × time limit, in the preset's own terms."""
    return ngettext(
        "at most {hours} host-hours: {hosts} host of {preset} with {disk} GiB of {disk_type}, "
        "for up to {limit}",
        "at most {hours} host-hours: {hosts} hosts of {preset} with {disk} GiB of {disk_type} "
        "each, for up to {limit}",
        cost.hosts,
    ).format(
        hours=f"{cost.host_hours:g}",
        hosts=cost.hosts,
        preset=code(escape(cost.preset)),
        disk=cost.disk_gib,
        disk_type=escape(cost.disk_type),
        limit=human_duration(cost.time_limit),
    )


def render_drill_result(
    record: DrillRecord, *, rto_target: timedelta | None = None, incident: bool = False
) -> Card:
    """A drill's result, for its route's channel: passed (restore and healthy times, the
    backup's indices) or failed (the step and the cloud's words), and whether its cluster is
    gone."""
    values = {
        "cluster": _name(record),
        "backup": code(escape_clipped(record.backup_id or "—", 100)),
        "restore": human_duration(record.restore_time),
        "healthy": human_duration(record.healthy_time),
    }
    if record.outcome == DrillOutcome.PASSED:
        said = _(
            ":white_check_mark: Restore drill of {cluster} passed: backup {backup} restored in "
            "{restore}, healthy in {healthy}."
        ).format(**values)
    else:
        said = _(
            ":x: Restore drill of {cluster} failed while {step}: {error} (backup {backup})."
        ).format(
            step=_step_words(record.failed_step),
            error=escape_clipped(record.error or _("no reason given"), _ERROR),
            **values,
        )
    parts: list[Text | Fields | Note] = [Text(said)]
    facts = []
    if incident:
        facts.append(
            _(
                ":rotating_light: The cluster's backups cannot be trusted until a drill passes: "
                "this stays open until then."
            )
        )
    if record.backup_indices is not None:
        facts.append(
            ngettext(
                "The backup holds {count} index.",
                "The backup holds {count} indices.",
                record.backup_indices,
            ).format(count=record.backup_indices)
        )
    restore_time = record.restore_time
    if rto_target is not None and restore_time is not None:
        if restore_time > rto_target:
            facts.append(
                _(":warning: The restore took longer than the target of {target}.").format(
                    target=human_duration(rto_target)
                )
            )
        else:
            facts.append(
                _("Within the restore target of {target}.").format(
                    target=human_duration(rto_target)
                )
            )
    if record.deleted_at is not None or not record.drill_cluster_id:
        facts.append(_("Nothing of the drill is left running."))
    else:
        facts.append(
            _(
                ":warning: The drill cluster {id} could not be deleted yet; it is deleted at the "
                "next sweep."
            ).format(id=code(escape(record.drill_cluster_id)))
        )
    parts.append(Note(facts))
    return Card(said, parts)


def render_drill_resolved(record: DrillRecord) -> Card:
    """In the thread of the drill that failed: a drill passed again, the incident is over."""
    said = _(
        ":white_check_mark: Resolved: a restore drill of {cluster} passed again (backup {backup} "
        "restored in {restore})."
    ).format(
        cluster=_name(record),
        backup=code(escape_clipped(record.backup_id or "—", 100)),
        restore=human_duration(record.restore_time),
    )
    return Card(said, [Text(said)])


def render_reaped(cluster: Cluster, *, age: timedelta | None) -> Card:
    """A leftover drill cluster (a drill that crashed, or whose delete failed) deleted."""
    said = _(
        ":wastebasket: Deleting a leftover restore drill cluster {name} ({id}), {age} old."
    ).format(
        name=f"*{escape_clipped(cluster.name or cluster.id, _NAME)}*",
        id=code(escape(cluster.id)),
        age=human_duration(age),
    )
    return Card(said, [Text(said)])


def drill_line(record: DrillRecord, now: datetime) -> str:
    """One drill in a list: when, whose, and how it went."""
    values = {
        "when": utc_time(record.started_at),
        "cluster": _name(record),
        "restore": human_duration(record.restore_time),
    }
    if record.outcome == DrillOutcome.PASSED:
        return _("{when}: {cluster} passed, restored in {restore}").format(**values)
    if record.outcome == DrillOutcome.FAILED:
        return _("{when}: {cluster} failed while {step}").format(
            step=_step_words(record.failed_step), **values
        )
    return _("{when}: {cluster} running ({step})").format(
        step=escape(record.step.value if record.step != DrillStep.DONE else "done"), **values
    )


def render_drill_list(records: Sequence[DrillRecord], *, now: datetime) -> Card:
    """``/backups drills [<cluster>]``: the drills, the newest first."""
    if not records:
        said = _("No restore drill has run yet.")
        return Card(said, [Text(said)])
    title = _("Restore drills, the newest first:")
    return Card(title, [Text(title), Note([drill_line(r, now) for r in records])])


def render_drill_confirm(
    cluster_label: str, cluster_id: str, cost: DrillCost, *, backup_id: str, channel: str
) -> Card:
    """Ask before a drill: what it restores, where it reports, and the most it may cost; the
    Start drill button asks once more, with the cost."""
    values = {
        "cluster": f"*{escape_clipped(cluster_label, _NAME)}*",
        "backup": code(escape_clipped(backup_id, 100)),
        "cost": cost_line(cost),
        "channel": f"<#{escape(channel)}>",
    }
    said = _(
        "Run a restore drill of {cluster} now? It restores backup {backup} into a new cluster, "
        "checks it, deletes it and posts the result in {channel}. It costs {cost}."
    ).format(**values)
    confirm = Confirm(
        _("Start a restore drill?"),
        _("It creates a cluster that costs {cost}, and deletes it.").format(
            cost=cost_line(cost).replace("`", "")
        ),
        _("Start drill"),
        _("Cancel"),
    )
    buttons = [
        DRILL_CONFIRM.button(cluster_id, style="primary", confirm=confirm),
        DRILL_CANCEL.button(cluster_id),
    ]
    return Card(said, [Text(said), Buttons(buttons)])


def render_drill_started(cluster_label: str, channel: str) -> Card:
    said = _(
        "Restore drill of {cluster} started; the result is posted in {channel} when it is over."
    ).format(cluster=f"*{escape_clipped(cluster_label, _NAME)}*", channel=f"<#{escape(channel)}>")
    return Card(said, [Text(said)])


def render_drill_cancelled() -> Card:
    said = _("Restore drill not started.")
    return Card(said, [Text(said)])


def render_dry_run(request: RestoreRequest, cost: DrillCost, *, cluster_label: str) -> str:
    """What ``backups-bot drill --dry-run`` prints: what would be created, and what it costs."""
    group = request.node_groups[0]
    lines = [
        _("backup: {backup}").format(backup=request.backup_id),
        _("cluster: {name} in folder {folder}, network {network}").format(
            name=request.name, folder=request.folder_id, network=request.network_id
        ),
        _("hosts: {count} × {preset}, {disk} GiB {disk_type}, zones {zones}").format(
            count=group.hosts_count,
            preset=group.preset,
            disk=group.disk_size // 1024**3,
            disk_type=group.disk_type,
            zones=", ".join(group.zone_ids),
        ),
        _("labels: {labels}").format(
            labels=", ".join(f"{k}={v}" for k, v in sorted(request.labels.items()))
        ),
        _("cost: {cost}").format(cost=cost_line(cost).replace("`", "")),
    ]
    title = _("Restore drill of {cluster} (dry run: nothing is created)").format(
        cluster=cluster_label
    )
    return "\n".join([title, *("  " + line for line in lines)])
