"""HomeService.read: the fleet's counts from the ledger and coverage, the last runs, and the
person's snoozes, all from the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.alerts.model import CoverageEntry
from bot.config import BotConfig, Watch
from bot.freshness.model import FreshnessState
from bot.home.service import HomeService
from bot.ledger.model import ClusterState, Observation, SeenBackup
from bot.outbox.change import Change
from bot.silences.service import SilenceService
from bot.slack.views import home_view
from bot.store import Store
from bot.store.facts import MARKER_LAST_DIGEST, MARKER_LAST_SWEEP
from tests.home.test_home_view import texts

NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


def seen(cluster_id: str, newest: datetime | None, *, stopped: bool = False) -> Observation:
    return Observation(
        cluster_id=cluster_id,
        name=cluster_id,
        folder_id="b1g",
        at=NOW - timedelta(minutes=10),
        backups=(SeenBackup(f"{cluster_id}-1", newest),) if newest else (),
        max_age=timedelta(hours=26),
        max_age_source="default",
        state=ClusterState.STOPPED if stopped else ClusterState.RUNNING,
    )


async def test_the_fleet_is_counted_by_state_from_the_ledger(home_store: Store) -> None:
    await home_store.commit(
        Change(
            ledger=(
                seen("fresh", NOW - timedelta(hours=2)),
                seen("stale", NOW - timedelta(days=3)),
                seen("never", None),
                seen("stopped", NOW - timedelta(days=9), stopped=True),
                seen("gone", NOW - timedelta(hours=1)),
            ),
            coverage=[
                CoverageEntry("gone", watching=False),
                CoverageEntry("unread", watching=True),
                CoverageEntry("fresh", watching=True),
            ],
            markers={
                MARKER_LAST_SWEEP: NOW - timedelta(minutes=10),
                MARKER_LAST_DIGEST: NOW - timedelta(hours=20),
            },
        ),
        now=NOW,
    )
    data = await HomeService(home_store, BotConfig(watch=Watch(folders=["b1g"]))).read(
        "U1", now=NOW
    )
    assert data.counts == {
        FreshnessState.FRESH: 1,
        FreshnessState.STALE: 1,
        FreshnessState.NEVER: 1,
        FreshnessState.STOPPED: 1,
        FreshnessState.UNKNOWN: 1,
    }
    assert data.watched == 5
    assert data.last_sweep == NOW - timedelta(minutes=10)
    assert data.last_digest == NOW - timedelta(hours=20)
    assert not data.incidents
    assert not data.routes_mention_user


async def test_the_tab_lists_the_persons_own_silences_and_no_one_elses(home_store: Store) -> None:
    config = BotConfig(watch=Watch(folders=["b1g"]))
    home = HomeService(home_store, config, silences=SilenceService(home_store, config).home_parts)
    later = NOW + timedelta(hours=4)
    await home_store.silences.add(
        "folder:b1g", by="U1", now=NOW, ends_at=later, reason="planned *maintenance*"
    )
    await home_store.silences.add("label:team=search", by="U2", now=NOW, ends_at=later)
    await home_store.silences.add("cluster:gone", by="U1", now=NOW - timedelta(days=2), ends_at=NOW)

    mine = texts(home_view(await home.render("U1", now=NOW)))
    assert "*Your silences* (1)" in mine
    assert "`folder:b1g`" in mine
    assert "maintenance" in mine  # the reason
    assert "label:team=search" not in mine  # U2's
    assert "cluster:gone" not in mine  # over
    assert "/backups unsilence &lt;id&gt;" in mine
    theirs = texts(home_view(await home.render("U3", now=NOW)))
    assert "*Your silences*: none." in theirs
