"""The grouped alert's messages stay within Slack's budget for any storm, and name every cluster
of it exactly once across the post and its thread.

Storms of random size (1 to 3,000 clusters) with hostile names and ids (``&<>`` grow five times
when escaped), in every incident status; the post as first posted and as updated, its thread,
the joins, recoveries, reminder and resolution.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.alerts.group_messages import (
    GroupMember,
    render_group_alert,
    render_group_joined,
    render_group_recovered,
    render_group_reminder,
    render_group_resolved,
)
from bot.alerts.model import AlertEntry, AlertGroup, AlertStatus
from bot.cloud.models import Cluster
from bot.config import AlertRoute
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.i18n.catalog import use_locale
from bot.slack.blocks import SLACK
from bot.slack.budget import violations
from tests.slack.payload import Payload, slack, slack_all

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONSOLE = "https://console.yandex.cloud"
GROWING = "&<>&<>*_`~|!@#\n abcXYZ0é€"
hostile = st.text(alphabet=st.sampled_from(GROWING), min_size=1, max_size=300)


def storm_of(rng: random.Random, size: int, words: list[str]) -> list[GroupMember]:
    members = []
    for i in range(size):
        word = rng.choice(words)
        cluster = Cluster(id=f"c9qstorm{i:06d}", name=word, folder_id=rng.choice(words)[:40])
        state = rng.choice([FreshnessState.STALE, FreshnessState.NEVER, FreshnessState.FRESH])
        age = timedelta(hours=rng.uniform(1, 900)) if state != FreshnessState.NEVER else None
        report = FreshnessReport(
            cluster_id=cluster.id,
            state=state,
            max_age=MaxAge(timedelta(hours=26), MaxAgeSource.SCHEDULE, word),
            newest_backup_at=NOW - age if age else None,
            age=age,
        )
        status = rng.choice(
            [
                AlertStatus.FIRING,
                AlertStatus.ACKNOWLEDGED,
                AlertStatus.SNOOZED,
                AlertStatus.RESOLVED,
            ]
        )
        entry = AlertEntry(
            cluster_id=cluster.id,
            route_key="alert:C1:x",
            status=status,
            stale_since=NOW - timedelta(hours=rng.uniform(0, 500)),
            opened_at=NOW - timedelta(hours=1),
            acknowledged_by=rng.choice(words)[:20] if status == AlertStatus.ACKNOWLEDGED else None,
            snoozed_until=NOW + timedelta(hours=4) if status == AlertStatus.SNOOZED else None,
            newest_backup_at=report.newest_backup_at,
            cluster_name=word,
        )
        members.append(GroupMember(cluster, report if rng.random() < 0.7 else None, entry))
    return members


def named(messages: list[Payload]) -> list[str]:
    return re.findall(r"`(c9qstorm\d{6})`", "\n".join(json.dumps(m.blocks) for m in messages))


@pytest.mark.parametrize("locale", ["en", "ru"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.one_of(st.integers(1, 60), st.integers(1, 3000)),
    words=st.lists(hostile, min_size=1, max_size=8),
    label=hostile,
    mentions=st.lists(st.sampled_from(["S0ONCALL", "U0LEAD", "W0OTHER"]), max_size=3),
    seed=st.integers(0, 2**32),
    resolved=st.booleans(),
)
# The biggest storm, at its most hostile, is always tried.
@example(
    size=3000,
    words=["&<>" * 100, "<!channel>" * 30],
    label="&" * 300,
    mentions=["S0ONCALL", "U0LEAD", "W0OTHER"],
    seed=1,
    resolved=False,
)
def test_every_message_of_a_storm_stays_within_slacks_budget_naming_every_cluster_once(
    locale: str,
    size: int,
    words: list[str],
    label: str,
    mentions: list[str],
    seed: int,
    resolved: bool,
) -> None:
    # In every language the bot speaks: Russian sentences are longer.
    with use_locale(locale):
        _storm_within_budget(size, words, label, mentions, seed, resolved)


def _storm_within_budget(
    size: int,
    words: list[str],
    label: str,
    mentions: list[str],
    seed: int,
    resolved: bool,
) -> None:
    rng = random.Random(seed)
    members = storm_of(rng, size, words)
    group = AlertGroup(
        id="g" + "0" * 32,
        route_key="alert:C1:x",
        group_key="k",
        label=label,
        channel="C1",
        message_id="p" + "0" * 32,
        opened_at=NOW - timedelta(hours=3),
        resolved_at=NOW if resolved else None,
    )
    route = AlertRoute(channel="C1", mention=mentions)

    top_card, thread = render_group_alert(
        group, members, route=route, console_url=CONSOLE, limits=SLACK.limits, now=NOW
    )
    top = slack(top_card)
    messages = [top, *slack_all(thread)]
    for message in messages:
        assert violations(message.payload()) == [], violations(message.payload())
    assert sorted(named(messages)) == sorted(m.cluster.id for m in members)
    # Each of on-call's ids mentioned once at most in the post, however big the storm.
    for slack_id in set(mentions):
        assert json.dumps(top.blocks).count(slack_id) <= 1

    half = members[: max(1, size // 2)]
    replies = slack_all(
        [
            *render_group_joined(group, half, console_url=CONSOLE, limits=SLACK.limits, now=NOW),
            *render_group_recovered(
                group, half, left=size - len(half), limits=SLACK.limits, now=NOW
            ),
            render_group_reminder(group, members, mention_ids=mentions, now=NOW),
            render_group_resolved(group, members, now=NOW),
        ]
    )
    for message in replies:
        assert violations(message.payload()) == [], violations(message.payload())
    joined = slack_all(
        render_group_joined(group, half, console_url=CONSOLE, limits=SLACK.limits, now=NOW)
    )
    assert sorted(named(joined)) == sorted(m.cluster.id for m in half)
