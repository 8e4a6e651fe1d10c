"""The outbox in the store: a change is written whole or not at all, queued posts come back in
order with their parent's ts, and old history is forgotten without losing what is still needed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.alerts.model import AlertEntry, AlertStatus
from bot.outbox.change import Change, RunFinish
from bot.outbox.posts import OutboundPost, PostKind
from bot.store import Store
from tests.store.conftest import save_alert

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def post(text: str, channel: str = "C1", **kw: object) -> OutboundPost:
    return OutboundPost(
        kind=kw.pop("kind", PostKind.ALERT),  # type: ignore[arg-type]
        channel=channel,
        payload={"text": text},
        **kw,  # type: ignore[arg-type]
    )


async def test_a_change_whose_incident_moved_on_writes_nothing_at_all(store: Store) -> None:
    opened = await save_alert(store, AlertEntry("c1", "r1", status=AlertStatus.FIRING))
    assert opened is not None
    alert = post("alert")
    # Someone saved the incident meanwhile: a change made from the old version fails whole.
    assert await save_alert(store, replace(opened, channel="C9")) is not None
    stale = Change(alerts=[replace(opened, message_id=alert.id)], posts=[alert])

    assert await store.commit(stale, now=NOW) is None

    assert await store.outbox.list_posts() == []
    entry = await store.incidents.get_alert("c1", "r1")
    assert entry is not None
    assert entry.message_id is None


async def test_a_change_whose_run_was_taken_over_writes_nothing(store: Store) -> None:
    assert await store.claims.claim_run("digest:x", "a", now=NOW, lease=timedelta(seconds=1))
    later = NOW + timedelta(seconds=5)
    assert await store.claims.claim_run("digest:x", "b", now=later, lease=timedelta(minutes=5))
    late = Change(posts=[post("digest")], finish_run=RunFinish("digest:x", "a", later))

    assert await store.commit(late, now=later) is None
    assert await store.outbox.list_posts() == []
    assert not await store.claims.run_finished("digest:x")


async def test_an_incident_reads_its_message_ts_from_the_outbox_once_sent(store: Store) -> None:
    alert = post("alert")
    entry = AlertEntry("c1", "r1", status=AlertStatus.FIRING, message_id=alert.id)
    assert await store.commit(Change(alerts=[entry], posts=[alert]), now=NOW) is not None
    loaded = await store.incidents.get_alert("c1", "r1")
    assert loaded is not None
    assert loaded.message_ts is None

    [queued] = await store.outbox.list_posts()
    await store.outbox.mark_sent(queued.seq, "1700000000.000100", now=NOW)

    loaded = await store.incidents.get_alert("c1", "r1")
    assert loaded is not None
    assert loaded.message_ts == "1700000000.000100"
    reply = post("reminder", kind=PostKind.REMINDER, parent_id=alert.id)
    await store.commit(Change(posts=[reply]), now=NOW)
    got = await store.outbox.get_post(reply.id)
    assert got is not None
    assert (got.parent_state, got.target_ts) == ("sent", "1700000000.000100")


async def test_the_head_of_a_channel_is_its_oldest_open_post(store: Store) -> None:
    first, second, other = post("1"), post("2"), post("x", channel="C2")
    await store.commit(Change(posts=[first, other, second]), now=NOW)
    head = await store.outbox.head_post("C1")
    assert head is not None
    assert head.id == first.id
    await store.outbox.mark_sent(head.seq, "1.1", now=NOW)
    head = await store.outbox.head_post("C1")
    assert head is not None
    assert head.id == second.id
    # Channels come oldest waiting post first: C2's (queued second) before C1's second one.
    assert await store.outbox.due_channels(NOW) == ["C2", "C1"]


async def test_a_parked_channel_is_not_due_until_its_next_try(store: Store) -> None:
    await store.commit(Change(posts=[post("a"), post("b", channel="C2")]), now=NOW)
    assert await store.outbox.park_channel(
        "C1", code="not_in_channel", now=NOW, next_try=NOW + timedelta(hours=1)
    )
    assert not await store.outbox.park_channel(
        "C1", code="not_in_channel", now=NOW, next_try=NOW + timedelta(hours=1)
    )
    assert await store.outbox.due_channels(NOW) == ["C2"]
    assert await store.outbox.due_channels(NOW + timedelta(hours=2)) == ["C1", "C2"]
    assert await store.outbox.retry_parked(now=NOW) == 1
    assert await store.outbox.due_channels(NOW) == ["C1", "C2"]
    await store.outbox.park_channel(
        "*", code="token_revoked", now=NOW, next_try=NOW + timedelta(hours=1)
    )
    assert await store.outbox.due_channels(NOW) == []


async def test_prune_forgets_old_delivered_posts_but_not_what_open_incidents_need(
    store: Store,
) -> None:
    old, current = post("old alert"), post("open alert")
    done_update = post("old update", kind=PostKind.ALERT_UPDATE, parent_id=old.id)
    waiting = post("reply still waiting", kind=PostKind.REMINDER, parent_id=current.id)
    open_incident = AlertEntry("c2", "r1", status=AlertStatus.FIRING, message_id=current.id)
    await store.commit(Change(posts=[old, done_update, current]), now=NOW)
    await store.commit(Change(alerts=[open_incident]), now=NOW)
    for queued in await store.outbox.list_posts():
        await store.outbox.mark_sent(queued.seq, f"{queued.seq}.0", now=NOW)
    await store.commit(Change(posts=[waiting]), now=NOW)

    removed = await store.prune(before=NOW + timedelta(days=1))

    assert removed == 2  # the old alert and its update
    assert {p.id for p in await store.outbox.list_posts()} == {current.id, waiting.id}
