"""The Home tab as Slack gets it: the person's incidents with their alert's buttons, their
snoozes, the fleet's counts and the last runs, within a view's 100 blocks for any fleet."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.actions import ACKNOWLEDGE, START_BACKUP, UNACKNOWLEDGE, UNSNOOZE
from bot.alerts.model import AlertEntry, AlertStatus, Seen
from bot.freshness.model import FreshnessState, MaxAge, MaxAgeSource
from bot.home.messages import render_home
from bot.home.model import MAX_INCIDENTS, MAX_SNOOZES, HomeData
from bot.i18n.catalog import use_locale
from bot.slack.views import MAX_VIEW_BLOCKS, home_view

NOW = datetime(2026, 12, 2, 5, 39, tzinfo=UTC)
USER = "U0ONCALL"
MAX_AGE = MaxAge(timedelta(hours=26), MaxAgeSource.DEFAULT)


def entry(n: int, status: AlertStatus = AlertStatus.FIRING, **kw: Any) -> AlertEntry:
    values: dict[str, Any] = {
        "cluster_id": f"c9qcluster{n:010d}",
        "route_key": "C0ONCALL|env=PRODUCTION",
        "status": status,
        "channel": "C0ONCALL",
        "opened_at": NOW - timedelta(hours=n % 50),
        "stale_since": NOW - timedelta(hours=n % 50 + 1),
        "last_state": FreshnessState.STALE,
        "cluster_name": f"search-{n}",
        "folder_id": "b1gfolder",
        "seen": Seen(MAX_AGE),
    }
    if status == AlertStatus.SNOOZED:
        values |= {"snoozed_until": NOW + timedelta(hours=4), "snoozed_by": USER}
    if status == AlertStatus.ACKNOWLEDGED:
        values |= {"acknowledged_by": USER, "acknowledged_at": NOW}
    values.update(kw)
    return AlertEntry(**values)


def data(incidents: list[AlertEntry], snoozes: list[AlertEntry] = (), **kw: Any) -> HomeData:  # type: ignore[assignment]
    values: dict[str, Any] = {
        "user_id": USER,
        "now": NOW,
        "incidents": incidents,
        "routes_mention_user": True,
        "snoozes": list(snoozes),
        "counts": Counter({FreshnessState.FRESH: 40, FreshnessState.STALE: len(incidents)}),
        "watched": 40 + len(incidents),
        "last_sweep": NOW - timedelta(minutes=5),
        "last_digest": NOW - timedelta(hours=20),
    }
    values.update(kw)
    return HomeData(**values)


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def texts(view: dict[str, Any]) -> str:
    out = []
    for block in view["blocks"]:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            if "text" in element and isinstance(element["text"], str):
                out.append(element["text"])
    return "\n".join(out)


def test_an_incident_shows_with_its_alerts_own_buttons_and_the_fleet_and_runs() -> None:
    view = home_view(render_home(data([entry(1)])))
    assert view["type"] == "home"
    ids = [b["action_id"] for b in buttons(view)]
    assert ACKNOWLEDGE.id in ids
    assert START_BACKUP.id in ids
    start = next(b for b in buttons(view) if b["action_id"] == START_BACKUP.id)
    assert "confirm" in start  # the same confirm dialog as on the alert
    said = texts(view)
    assert "search-1" in said
    assert "<#C0ONCALL>" in said
    assert "40 fresh" in said
    assert "1 stale" in said
    assert "last sweep" in said
    assert "last digest" in said
    assert "*Your silences*" in said  # the place the silences feature fills


def test_an_acknowledged_incident_offers_unacknowledge_and_names_who() -> None:
    view = home_view(render_home(data([entry(1, AlertStatus.ACKNOWLEDGED)])))
    ids = [b["action_id"] for b in buttons(view)]
    assert UNACKNOWLEDGE.id in ids
    assert ACKNOWLEDGE.id not in ids
    assert f"<@{USER}>" in texts(view)


def test_a_cluster_that_cannot_back_up_is_not_offered_a_backup_and_says_why() -> None:
    dead = entry(1, seen=Seen(MAX_AGE, blocking="DEAD"))
    view = home_view(render_home(data([dead])))
    assert START_BACKUP.id not in [b["action_id"] for b in buttons(view)]
    assert "cluster is DEAD" in texts(view)


def test_own_snoozes_have_an_unsnooze_button_each() -> None:
    snoozed = [entry(n, AlertStatus.SNOOZED) for n in range(3)]
    view = home_view(render_home(data([], snoozed)))
    assert [b["action_id"] for b in buttons(view)].count(UNSNOOZE.id) == 3
    assert "Your snoozes* (3)" in texts(view)


def test_a_silenced_incident_says_so_and_not_firing() -> None:
    held = entry(1, silence_id=3, silenced_until=NOW + timedelta(hours=4))
    said = texts(home_view(render_home(data([held, entry(2)]))))
    silenced, firing = (line for line in said.splitlines() if "search-" in line)
    assert "silenced until" in silenced
    assert "(silence 3)" in silenced
    assert "firing" not in silenced
    assert "*firing*" in firing


def test_nothing_open_says_so_and_a_person_no_route_names_is_told_why() -> None:
    view = home_view(render_home(data([], routes_mention_user=False, last_sweep=None)))
    said = texts(view)
    assert "Nothing is open" in said
    assert "no alert route mentions you" in said
    assert "no sweep has run yet" in said
    assert not buttons(view)


def test_a_clicks_answer_shows_at_the_top() -> None:
    view = home_view(render_home(data([entry(1)]), notice="Acknowledged the alert for `x`."))
    assert view["blocks"][1]["text"]["text"] == "Acknowledged the alert for `x`."


def test_block_ids_are_unique_in_the_view() -> None:
    view = home_view(render_home(data([entry(n) for n in range(30)])))
    ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(ids) == len(set(ids))


def test_the_tab_is_in_the_persons_language() -> None:
    with use_locale("ru"):
        view = home_view(render_home(data([entry(1)])))
    said = texts(view)
    assert "Backups: your on-call view" not in said
    assert "Бэкапы" in said


@settings(max_examples=25, deadline=None)
@given(
    incidents=st.integers(min_value=0, max_value=5000),
    snoozes=st.integers(min_value=0, max_value=500),
    statuses=st.sampled_from(list(AlertStatus)[1:4]),
    long_names=st.booleans(),
)
def test_any_fleet_fits_a_views_100_blocks(
    incidents: int, snoozes: int, statuses: AlertStatus, long_names: bool
) -> None:
    name = "<!channel>&" * 40 if long_names else None
    rows = [
        entry(n, statuses, **({"cluster_name": name} if name else {})) for n in range(incidents)
    ]
    snoozed = [entry(n, AlertStatus.SNOOZED) for n in range(snoozes)]
    view = home_view(render_home(data(rows, snoozed)))  # raises if Slack would refuse it
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    shown = [b for b in view["blocks"] if b["type"] == "actions"]
    assert len(shown) == min(incidents, MAX_INCIDENTS) + min(snoozes, MAX_SNOOZES)
    said = texts(view)
    assert "<!channel>" not in said
    if incidents > MAX_INCIDENTS:
        assert f"and {incidents - MAX_INCIDENTS} more" in said
