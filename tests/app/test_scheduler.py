"""The watcher's scheduler: digests at the right local time across DST changes, catch-up after a
restart, a digest held by a dead replica taken over, the periodic sweep, and a clean shutdown.
Real SimCloud, FakeSlack and store; each process runs a delivery executor, as ``serve`` does."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from bot import clock
from bot.alerts.sweep import Sweeper, slot_key
from bot.app.scheduler import (
    SWEEP_JOB,
    WatchScheduler,
    due_catch_up,
    latest_fire,
    next_fire,
    retry_delay,
)
from bot.cloud.client import CloudClient
from bot.config import BotConfig
from bot.cron import (
    cron_trigger,
    crontab_trigger,
    crontab_weekdays,
    fires_between,
    first_fire_after,
    last_fire_within,
    times_of_day,
)
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.server import SimCloud
from bot.digest.runner import DigestRunner, DigestStatus, digest_route_key, run_key
from bot.ops.metrics import Metrics
from bot.ops.outages import Dependency
from bot.outbox.executor import DeliveryExecutor
from bot.outbox.posts import PostKind
from bot.slack.notifier import SlackNotifier
from bot.store import Store, db
from tests.digest.test_runner import top_posts
from tests.store.conftest import OpenStore
from tests.waiting import wait_until
from tests.world import (
    CONSOLE_URL,
    NOW,
    TEAM_CHANNEL,
    deliver,
    deliver_with,
    make_cloud,
    make_config,
    make_executor,
    make_notifier,
)

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = "30 9 * * mon-fri"


# --- the calendar ------------------------------------------------------------------------------


def walk(schedule: str, tz: ZoneInfo, start: datetime, count: int) -> list[datetime]:
    fires, at = [], start
    for _ in range(count):
        at = next_fire(schedule, tz, at)
        fires.append(at)
    return fires


@pytest.mark.parametrize(
    ("tz", "start", "utc_hours"),
    [
        # New York leaves daylight saving time on Sunday 1 November 2026.
        pytest.param(NEW_YORK, datetime(2026, 10, 28, 12, tzinfo=UTC), (13, 14), id="new-york"),
        # London does on Sunday 25 October 2026.
        pytest.param(LONDON, datetime(2026, 10, 21, 12, tzinfo=UTC), (8, 9), id="london"),
    ],
)
def test_weekday_digests_fire_at_half_past_nine_local_on_both_sides_of_the_dst_change(
    tz: ZoneInfo, start: datetime, utc_hours: tuple[int, int]
) -> None:
    fires = walk(WEEKDAYS, tz, start, 8)

    local = [f.astimezone(tz) for f in fires]
    assert all((t.hour, t.minute) == (9, 30) for t in local)
    assert all(t.weekday() < 5 for t in local)  # never on the weekend of the change
    assert len({t.date() for t in local}) == 8
    utc = [f.astimezone(UTC).hour for f in fires]
    before, after = utc_hours
    change = utc.index(after)
    assert utc[:change] == [before] * change
    assert utc[change:] == [after] * (8 - change)
    assert 0 < change < 8  # the walk crossed the change


def test_crontab_weekday_numbers_mean_what_they_mean_in_crontab() -> None:
    # APScheduler 3 alone would read 0 as Monday; crontab reads it as Sunday.
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("0,6") == "sun,sat"
    assert crontab_weekdays("7") == "sun"
    assert crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert crontab_weekdays("mon-fri") == "mon-fri"
    friday = datetime(2026, 3, 6, 12, tzinfo=UTC)
    assert next_fire("30 9 * * 1-5", "UTC", friday) == datetime(2026, 3, 9, 9, 30, tzinfo=UTC)
    assert next_fire("0 8 * * 0", "UTC", friday) == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)


def test_crontab_weekday_names_and_ranges_through_sunday_mean_what_they_mean_in_crontab() -> None:
    # APScheduler 3 counts Sunday last, so sun-wed would be a range running backwards.
    assert crontab_weekdays("sun-wed") == "sun,mon,tue,wed"
    assert crontab_weekdays("Mon-Fri/2") == "mon,wed,fri"
    assert crontab_weekdays("sat-sun,SUN") == "sat-sun,sun"
    assert crontab_weekdays("5-7") == "fri,sat,sun"
    monday = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert next_fire("0 8 * * sun-wed", "UTC", monday) == datetime(2026, 3, 3, 8, tzinfo=UTC)
    assert next_fire("0 8 * * sat-sun", "UTC", monday) == datetime(2026, 3, 7, 8, tzinfo=UTC)
    for wrong in ("8", "fri-mon", "someday", "*/0"):
        with pytest.raises(ValueError, match=r"^weekday: "):
            cron_trigger(f"0 8 * * {wrong}", "UTC")


def test_the_config_s_day_and_weekday_both_match_and_the_cloud_s_either() -> None:
    """``0 10 1-7 * mon`` is the first Monday of the month in the config (as APScheduler and
    the config's documentation read it); the cloud's crontabs are read as cron reads them."""
    first_monday = datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert next_fire("0 10 1-7 * mon", "UTC", first_monday) == datetime(2026, 4, 6, 10, tzinfo=UTC)
    either = crontab_trigger("0", "10", "1-7", "*", "mon", UTC, either_day=True)
    assert first_fire_after(either, first_monday) == datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert first_fire_after(either, datetime(2026, 3, 7, 10, tzinfo=UTC)) == datetime(
        2026, 3, 9, 10, tzinfo=UTC
    )


def test_the_engine_lists_fire_times_within_a_window_at_both_of_its_ends() -> None:
    trigger = cron_trigger("0 */6 * * *", "UTC")
    start = datetime(2026, 3, 2, tzinfo=UTC)
    assert list(fires_between(trigger, start, start + timedelta(hours=12))) == [
        start,
        start + timedelta(hours=6),
        start + timedelta(hours=12),
    ]
    assert last_fire_within(trigger, start, start + timedelta(hours=11)) == start + timedelta(
        hours=6
    )
    assert last_fire_within(trigger, start + timedelta(hours=1), start + timedelta(hours=5)) is None
    days = cron_trigger("0 0 * * *", "UTC")
    assert list(fires_between(days, start, start + timedelta(days=2), apart=timedelta(days=1))) == [
        start,
        start + timedelta(days=1),
        start + timedelta(days=2),
    ]


def test_the_times_of_day_of_a_minute_and_an_hour_field() -> None:
    assert times_of_day("0,30", "*/6") == (0, 30, 360, 390, 720, 750, 1080, 1110)
    assert times_of_day("15", "9") == (555,)
    assert len(times_of_day("*", "*")) == 1440
    with pytest.raises(ValueError, match=r"^hour: "):
        times_of_day("0", "25")


def test_next_fire_is_strictly_after_the_given_time() -> None:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert next_fire(WEEKDAYS, "UTC", at) == at + timedelta(days=1)


def test_catch_up_honours_the_last_fire_within_the_grace_only() -> None:
    fire = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday
    grace = timedelta(hours=2)
    assert due_catch_up(WEEKDAYS, "UTC", grace, fire - timedelta(minutes=1)) is None
    assert due_catch_up(WEEKDAYS, "UTC", grace, fire) == fire
    assert due_catch_up(WEEKDAYS, "UTC", grace, fire + timedelta(hours=2)) == fire
    assert due_catch_up(WEEKDAYS, "UTC", grace, fire + timedelta(hours=2, seconds=1)) is None
    # Over the weekend nothing is due, whatever the grace.
    saturday = datetime(2026, 3, 7, 10, tzinfo=UTC)
    assert due_catch_up(WEEKDAYS, "UTC", grace, saturday) is None
    assert latest_fire(WEEKDAYS, "UTC", saturday, within=timedelta(days=2)) == (
        datetime(2026, 3, 6, 9, 30, tzinfo=UTC)
    )


def test_failed_digests_are_retried_sooner_then_later() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4, 5, 50)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15)
    ]


# --- the scheduler -----------------------------------------------------------------------------


@dataclass
class Process:
    """One bot process: its own client, notifier, store connection, owner, and a delivery
    executor running in the background that the sweep and the digests wake."""

    cloud: CloudClient
    notifier: SlackNotifier
    store: Store
    scheduler: WatchScheduler
    executor: DeliveryExecutor


class StartProcess(Protocol):
    async def __call__(
        self,
        config: BotConfig,
        *,
        clock: Callable[[], datetime],
        shutdown_timeout: float = ...,
    ) -> Process: ...


@pytest.fixture
async def processes(
    sim: SimCloud, fake_slack: FakeSlack, open_store: OpenStore
) -> AsyncIterator[StartProcess]:
    started: list[Process] = []

    async def start(
        config: BotConfig, *, clock: Callable[[], datetime], shutdown_timeout: float = 10.0
    ) -> Process:
        cloud, notifier, store = make_cloud(sim), make_notifier(fake_slack), await open_store()
        owner = f"process-{len(started)}"
        executor = make_executor(store, notifier, owner=owner)
        common = {"console_url": CONSOLE_URL, "owner": owner, "queued": executor.wake}
        scheduler = WatchScheduler(
            sweeper=Sweeper(cloud, store, config, **common),
            digests=DigestRunner(cloud, store, config, **common),
            config=config,
            store=store,
            owner=owner,
            clock=clock,
            shutdown_timeout=shutdown_timeout,
        )
        process = Process(cloud, notifier, store, scheduler, executor)
        started.append(process)
        await executor.start()
        await scheduler.start()
        return process

    yield start
    for process in started:
        await process.scheduler.shutdown(wait=False)
        await process.executor.aclose()
        await process.cloud.aclose()
        await process.notifier.aclose()


FIRE = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # Monday's digest in the default config


def at(when: datetime) -> Callable[[], datetime]:
    return lambda: when


def quiet_config() -> BotConfig:
    """The default watcher config without alert routes: sweeps post nothing."""
    return make_config(alerts=[])


async def test_a_digest_missed_while_down_is_posted_once_when_back_within_the_grace(
    processes: StartProcess, fake_slack: FakeSlack
) -> None:
    config = quiet_config()
    back = await processes(config, clock=at(FIRE + timedelta(minutes=45)))
    await back.scheduler.shutdown(wait=True)  # lets the catch-up run to its end
    await deliver(back.executor)

    [digest] = top_posts(fake_slack, TEAM_CHANNEL)
    assert digest["text"].startswith("Backups digest · Mon 2 Mar 2026")
    caught_up = [r for name, r in back.scheduler.history if name.endswith("(catch-up)")]
    assert [r.status for r in caught_up] == [DigestStatus.QUEUED]

    # Restarted again the same morning, on another replica: not posted a second time.
    again = await processes(config, clock=at(FIRE + timedelta(minutes=50)))
    await again.scheduler.shutdown(wait=True)
    await deliver(again.executor)
    assert len(top_posts(fake_slack, TEAM_CHANNEL)) == 1
    # The catch-up looked, found the run finished, and did nothing.
    assert [r for name, r in again.scheduler.history if name.endswith("(catch-up)")] == [None]


async def test_a_digest_missed_beyond_the_grace_is_not_posted(
    processes: StartProcess, fake_slack: FakeSlack
) -> None:
    late = await processes(quiet_config(), clock=at(FIRE + timedelta(hours=2, minutes=1)))
    await late.scheduler.shutdown(wait=True)
    await deliver(late.executor)

    assert await late.store.outbox.list_posts() == []
    assert fake_slack.messages(TEAM_CHANNEL) == []


async def test_a_digest_posted_before_a_restart_is_not_caught_up(
    processes: StartProcess,
    fake_slack: FakeSlack,
    sim: SimCloud,
    open_store: OpenStore,
) -> None:
    config = quiet_config()
    cloud, notifier, store = make_cloud(sim), make_notifier(fake_slack), await open_store()
    try:
        runner = DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="before")
        [posted] = await runner.run_all(now=FIRE)
        await deliver_with(store, notifier, owner="before")
    finally:
        await cloud.aclose()
        await notifier.aclose()
    assert posted.status == DigestStatus.QUEUED

    after = await processes(config, clock=at(FIRE + timedelta(minutes=30)))
    await after.scheduler.shutdown(wait=True)
    await deliver(after.executor)

    assert len(top_posts(fake_slack, TEAM_CHANNEL)) == 1


async def test_next_runs_name_the_local_half_past_nine_in_utc_across_the_dst_change(
    processes: StartProcess,
) -> None:
    config = make_config(
        alerts=[],
        digests=[{"channel": TEAM_CHANNEL, "schedule": WEEKDAYS, "timezone": "America/New_York"}],
    )
    key = digest_route_key(config.digests[0])
    with freeze_time("2026-10-29 14:00:00", real_asyncio=True):
        before = await processes(config, clock=at(datetime(2026, 10, 29, 14, tzinfo=UTC)))
        assert before.scheduler.next_runs()[key] == datetime(2026, 10, 30, 13, 30, tzinfo=UTC)
        await before.scheduler.shutdown(wait=False)
    with freeze_time("2026-10-30 14:00:00", real_asyncio=True):
        after = await processes(config, clock=at(datetime(2026, 10, 30, 14, tzinfo=UTC)))
        # Friday is done; Monday 2 November is after the change: 09:30 EST is 14:30 UTC.
        assert after.scheduler.next_runs()[key] == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
        await after.scheduler.shutdown(wait=False)


async def test_the_sweep_runs_every_interval_and_shutdown_is_clean(
    processes: StartProcess,
) -> None:
    config = make_config(sweep={"every": "1s", "lease": "1m"})
    process = await processes(config, clock=clock.now)
    assert process.scheduler.running
    assert set(process.scheduler.next_runs()) == {SWEEP_JOB, digest_route_key(config.digests[0])}

    await wait_until(
        lambda: sum(name == SWEEP_JOB for name, _ in process.scheduler.history) >= 2,
        what="two sweeps",
    )
    due = process.scheduler.next_runs()[SWEEP_JOB]
    await process.scheduler.shutdown(wait=True)

    sweeps = [result for name, result in process.scheduler.history if name == SWEEP_JOB]
    assert len(sweeps) >= 2
    assert all(result is not None and result.skipped is None for result in sweeps)
    assert not process.scheduler.running
    for result in sweeps:
        assert await process.store.claims.run_finished(result.slot)
    count = len(process.scheduler.history)
    # Nothing runs after shutdown: once the next sweep (and one more) would have been due, none
    # ran, and its slot was never claimed.
    interval = config.sweep.every
    await wait_until(lambda: clock.now() > due + interval, what="the next sweep's time to pass")
    assert len(process.scheduler.history) == count
    slot = slot_key(due, interval)
    assert await process.store.claims.claim_run(slot, "probe", now=clock.now(), lease=timedelta(1))


async def test_a_sweep_still_running_at_the_shutdown_timeout_hands_its_claim_back(
    processes: StartProcess, sim: SimCloud
) -> None:
    sim.inject_fault(r"/backups$", 200, times=None, delay=30.0, body={"backups": []})
    config = quiet_config()
    now = NOW
    process = await processes(config, clock=at(now), shutdown_timeout=0.3)
    await wait_until(lambda: sim.requests_to(r"/backups$"), what="the sweep to wait on the cloud")

    await process.scheduler.shutdown(wait=True)

    key = slot_key(now, config.sweep.every)
    assert not await process.store.claims.run_finished(key)
    # Handed back: another replica takes the slot at once, although the lease had minutes left.
    assert await process.store.claims.claim_run(
        key, "replica-b", now=now, lease=timedelta(minutes=5)
    )


async def test_the_digest_job_fires_at_its_scheduled_time_and_posts_once(
    processes: StartProcess, fake_slack: FakeSlack
) -> None:
    # The process starts an hour before the fire time, however long the start takes, and then
    # the clock is moved to just before it. A sweep every second wakes APScheduler, so it sees
    # the move; no real hour, and no bet on how fast a loaded machine starts a process.
    config = make_config(alerts=[], sweep={"every": "1s", "lease": "1m"})
    with freeze_time(FIRE - timedelta(hours=1), tick=True, real_asyncio=True) as frozen:
        process = await processes(config, clock=clock.now)
        assert fake_slack.messages(TEAM_CHANNEL) == []  # not yet: nothing to catch up
        frozen.move_to(FIRE - timedelta(seconds=1))
        await wait_until(lambda: fake_slack.messages(TEAM_CHANNEL), what="the digest post")
        await process.scheduler.shutdown(wait=True)

    [digest] = top_posts(fake_slack, TEAM_CHANNEL)
    assert digest["text"].startswith("Backups digest · Mon 2 Mar 2026")
    key = digest_route_key(config.digests[0])
    assert [name for name, _ in process.scheduler.history if name != SWEEP_JOB] == [key]


async def test_old_finished_history_is_pruned_by_the_scheduler(
    sim: SimCloud, fake_slack: FakeSlack, open_store: OpenStore
) -> None:
    config = make_config()
    cloud, notifier, store = make_cloud(sim), make_notifier(fake_slack), await open_store()
    long_ago = clock.now() - timedelta(days=45)
    assert await store.claims.claim_run("sweep:long-ago", "old", now=long_ago, lease=timedelta(1))
    assert await store.claims.finish_run("sweep:long-ago", "old", now=long_ago)
    scheduler = WatchScheduler(
        sweeper=Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="p"),
        digests=DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="p"),
        config=config,
        store=store,
        owner="p",
        prune_after=timedelta(0),
    )
    await scheduler.start()
    try:
        # Gone once pruned: a finished run would refuse a new claim; a forgotten one takes it.
        await wait_until(
            lambda: store.claims.claim_run(
                "sweep:long-ago", "new", now=clock.now(), lease=timedelta(1)
            ),
            what="the old finished claim to be pruned",
        )
    finally:
        await scheduler.shutdown(wait=True)
        await cloud.aclose()
        await notifier.aclose()


async def test_a_digest_held_by_a_dead_replica_is_retried_after_its_lease_and_posted_once(
    processes: StartProcess, fake_slack: FakeSlack, open_store: OpenStore
) -> None:
    # A sweep every second keeps APScheduler waking, so it sees the clock moved below.
    config = make_config(alerts=[], sweep={"every": "1s", "lease": "30s"})
    lease = config.sweep.lease
    route = config.digests[0]
    key = digest_route_key(route)
    dead = await open_store()
    claim = run_key(key, route, FIRE)
    with freeze_time(FIRE + timedelta(minutes=10), tick=True, real_asyncio=True) as frozen:
        # A replica claimed today's digest and was killed before it committed anything.
        assert await dead.claims.claim_run(claim, "killed", now=clock.now(), lease=lease)

        # Back within the grace: the catch-up finds the run held and steps back...
        process = await processes(config, clock=clock.now)
        await wait_until(
            lambda: [r for name, r in process.scheduler.history if name.endswith("(catch-up)")],
            what="the catch-up to find the run held",
        )
        assert fake_slack.messages(TEAM_CHANNEL) == []
        # ...and once the dead replica's lease has run out, the scheduler looks again and
        # takes the run over.
        frozen.move_to(clock.now() + lease + timedelta(seconds=2))
        await wait_until(lambda: fake_slack.messages(TEAM_CHANNEL), what="the digest post")
        await process.scheduler.shutdown(wait=True)
        await deliver(process.executor)

    [digest] = top_posts(fake_slack, TEAM_CHANNEL)
    assert digest["text"].startswith("Backups digest · Mon 2 Mar 2026")
    digests = [(name, r.status) for name, r in process.scheduler.history if name != SWEEP_JOB]
    assert digests == [
        (f"{key} (catch-up)", DigestStatus.SKIPPED),
        (key, DigestStatus.QUEUED),
    ]
    assert await process.store.claims.run_finished(claim)
    assert [p.kind for p in await process.store.outbox.list_posts()] == [
        PostKind.DIGEST,
        PostKind.FILE,
    ]


# --- outages -------------------------------------------------------------------------------------


@dataclass
class Watcher:
    """One scheduler over its own SQLite store, with the metrics serve gives it."""

    scheduler: WatchScheduler
    store: Store
    metrics: Metrics
    path: str


@pytest.fixture
async def watcher(
    sim: SimCloud, fake_slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Watcher]:
    # A write that meets a lock gives up after 200 ms, not 30 s: each failing sweep is quick.
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    path = str(tmp_path / "bot.db")
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    config = make_config(alerts=[], digests=[], sweep={"every": "1s", "lease": "1m"})
    cloud, notifier, metrics = make_cloud(sim), make_notifier(fake_slack), Metrics()
    common = {"console_url": CONSOLE_URL, "owner": "p"}
    scheduler = WatchScheduler(
        sweeper=Sweeper(cloud, store, config, **common),
        digests=DigestRunner(cloud, store, config, **common),
        config=config,
        store=store,
        owner="p",
        metrics=metrics,
    )
    try:
        yield Watcher(scheduler, store, metrics, path)
    finally:
        await scheduler.shutdown(wait=True)
        await cloud.aclose()
        await notifier.aclose()
        await store.close()


def _sweeps(scheduler: WatchScheduler) -> list[object]:
    return [result for name, result in scheduler.history if name == SWEEP_JOB]


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.ops.outages"]


async def test_a_database_away_for_several_sweeps_is_said_when_it_goes_and_when_it_is_back(
    watcher: Watcher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    blocker = sqlite3.connect(watcher.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock: no claim is taken
    try:
        await watcher.scheduler.start()
        await wait_until(
            lambda: sum(r is None for r in _sweeps(watcher.scheduler)) >= 3,
            what="three sweeps failing on the locked database",
        )
        assert watcher.scheduler.outages.is_down(Dependency.DATABASE)
    finally:
        blocker.close()
    await wait_until(
        lambda: _sweeps(watcher.scheduler)[-1] is not None, what="a sweep with the database back"
    )
    failed = sum(r is None for r in _sweeps(watcher.scheduler))

    lines = _outage_lines(caplog)
    assert len(lines) == 2, lines
    assert re.fullmatch(
        r"the database is not answering since \d\d:\d\d UTC; sweeps and digests wait "
        r"\(the bot's database did not answer \(OperationalError\)\)",
        lines[0],
    )
    assert re.fullmatch(
        rf"the database answers again; it was away since \d\d:\d\d UTC \(\d+s\), "
        rf"{failed} failed runs meanwhile",
        lines[1],
    )
    # Not one traceback, and nothing else at WARNING or above about the failed sweeps.
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]
    assert not [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name == "bot.app.scheduler"
    ]
    metrics = watcher.metrics.render()[0].decode()
    assert f'backups_bot_dependency_failures_total{{dependency="database"}} {failed}.0' in metrics


async def test_a_cloud_that_cannot_be_read_is_said_once_and_its_return_once(
    watcher: Watcher, sim: SimCloud, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sim.inject_fault(r"/clusters$", 403, times=None)
    await watcher.scheduler.start()
    await wait_until(
        lambda: sum(getattr(r, "blind", False) for r in _sweeps(watcher.scheduler)) >= 2,
        what="two blind sweeps",
    )
    sim.clear_faults()
    await wait_until(
        lambda: not getattr(_sweeps(watcher.scheduler)[-1], "blind", True),
        what="a sweep that reads the cloud again",
    )
    lines = _outage_lines(caplog)
    assert len(lines) == 2, lines
    assert lines[0].startswith("the cloud cannot be read since ")
    assert lines[1].startswith("the cloud can be read again; it was away since ")
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]
