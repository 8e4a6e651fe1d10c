"""Every message of every renderer stays within Slack's budget, for any fleet.

Fleets of random size (0 to 3,000 clusters) with random names, labels, folder ids, index counts
and reasons, drawn with the characters that grow when escaped (``&<>``) and long strings; most
clusters carry an explanation (state, failed attempts with the cloud's error text, maintenance,
restore readiness, retention policies, a trend) made of the same hostile text. The digest's top
post and every part of its thread, every page of ``status`` (also of one cluster in full) and
``clusters``, the alert in each of its states, the reminder and the resolved notice, ``get`` and
``list``: each is checked with :func:`bot.slack.budget.violations`, and the digest and the pages
are checked to name every cluster exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.alerts.messages import (
    WHY_ERROR_ESCAPED,
    render_alert,
    render_operation_outcome,
    render_reminder,
    render_resolved,
    render_self_alert,
)
from bot.alerts.model import AlertEntry
from bot.alerts.policy import acknowledge, evaluate, snooze
from bot.backup.model import OperationOutcome
from bot.chat.card import Card
from bot.cloud.models import Backup, Cluster, ClusterStatus, CronTab, Environment, RetentionPolicy
from bot.commands.messages import render_ack, render_error
from bot.config import AlertRoute
from bot.digest.actions import STATUS_NEXT_PAGE
from bot.digest.messages import render_digest, render_status
from bot.digest.model import ClusterFigures, DigestInput, build_digest
from bot.errors import NotFound, UsageError
from bot.freshness.attempts import AttemptHistory, AttemptOutcome, BackupAttempt
from bot.freshness.explain import Condition, Explanation, Maintenance, TrendPoint
from bot.freshness.messages import attempt_line
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.freshness.restore import RestoreReadiness
from bot.freshness.schedules import BackupSchedule
from bot.i18n.catalog import use_locale
from bot.queries.actions import CLUSTERS_NEXT_PAGE
from bot.queries.messages import ClusterRow, render_backup, render_backup_list, render_clusters
from bot.slack.blocks import SLACK
from bot.slack.budget import violations
from tests.cards import all_text
from tests.slack.payload import slack

#: The budget holds in every language the bot speaks.
LOCALES = ("en", "ru")

LIMITS = SLACK.limits

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONSOLE = "https://console.yandex.cloud"
GIB = 1024**3

#: Characters that grow when escaped, mrkdwn markup, and a few ordinary ones.
GROWING = "&<>&<>*_`~|!@#\n abcXYZ0é€"
hostile = st.text(alphabet=st.sampled_from(GROWING), max_size=400) | st.text(max_size=120)
GROUPINGS: list[list[str]] = [
    [],
    ["folder"],
    ["environment"],
    ["label:team"],
    ["folder", "label:team"],
]


def fleet_of(rng: random.Random, size: int, words: list[str]) -> list[DigestInput]:
    """``size`` clusters in every state, named, labelled and foldered from ``words``."""
    states = list(FreshnessState)
    items = []
    for i in range(size):
        word = rng.choice(words)
        cluster = Cluster(
            id=f"c9q{i:05d}{rng.choice(['', 'x', 'longer-suffix-' * 3])}",
            name=word if rng.random() < 0.8 else f"{word}-{i}",
            folder_id=rng.choice(words) if rng.random() < 0.3 else f"b1g{i % 9:017d}",
            labels={rng.choice(words)[:63] or "k": rng.choice(words)[:63] for _ in range(3)}
            | ({"team": rng.choice(words)} if rng.random() < 0.5 else {}),
            environment=rng.choice(list(Environment)),
            created_at=NOW - timedelta(days=rng.randint(0, 900)),
        )
        state = rng.choice(states)
        hours = rng.uniform(0.1, 2000)
        max_age = MaxAge(timedelta(hours=rng.choice([1, 26, 170])), MaxAgeSource.SCHEDULE, word)
        has_backup = state not in (FreshnessState.NEVER, FreshnessState.UNKNOWN)
        backups = None
        if state != FreshnessState.UNKNOWN:
            backups = [
                Backup(
                    id=f"{word[:80]}:{i}:{n}",
                    created_at=NOW - timedelta(hours=hours + 24 * n),
                    size_bytes=rng.randint(0, 2**50),
                    indices_total=rng.randint(0, 10**7),
                )
                for n in range(2 if has_backup else 0)
            ]
        report = FreshnessReport(
            cluster_id=cluster.id,
            state=state,
            max_age=max_age,
            newest_backup_id=backups[0].id if backups else None,
            newest_backup_at=backups[0].created_at if backups else None,
            age=timedelta(hours=hours) if backups else None,
            reason=rng.choice(words) if state == FreshnessState.UNKNOWN else "",
            explanation=explanation_of(rng, words),
        )
        items.append(DigestInput(cluster, report, backups, backup_count=rng.randint(0, 99999)))
    return items


def explanation_of(rng: random.Random, words: list[str]) -> Explanation | None:
    """An explanation with every part drawn from ``words`` (the cloud's text at its worst)."""
    if rng.random() < 0.3:
        return None

    def word() -> str:
        return rng.choice(words) * rng.choice([1, 1, 3])

    last = BackupAttempt(
        operation_id=word(),
        started_at=NOW - timedelta(hours=rng.uniform(0, 90)),
        modified_at=NOW,
        outcome=rng.choice(list(AttemptOutcome)),
        error=word(),
        code=rng.randint(0, 16),
    )
    status = rng.choice([ClusterStatus.decode("X" * 100), ClusterStatus.UPDATING])
    policies = tuple(
        RetentionPolicy(
            policy_id=word(),
            policy_name=word(),
            cron=CronTab(minute=word(), hour=word(), day_of_week=word()),
            retain_for_days=rng.randint(0, 2**40),
        )
        for _ in range(rng.randint(0, 9))
    )
    return Explanation(
        condition=Condition(
            blocking=rng.choice(["", "DEAD", "ERROR"]),
            words=(f"status {status.value}", "health DEGRADED")[: rng.randint(0, 2)],
        ),
        attempts=AttemptHistory(last, rng.randint(0, 99), 100) if rng.random() < 0.8 else None,
        operations_error=word() if rng.random() < 0.2 else "",
        maintenance=Maintenance(NOW, word(), NOW, rng.random() < 0.5)
        if rng.random() < 0.5
        else None,
        restore=RestoreReadiness(
            word(), rng.randint(0, 2**60), rng.randint(0, 2**60), word(), word()
        ),
        policies=policies if rng.random() < 0.8 else None,
        policies_offered=rng.choice([None, True, False]),
        policies_error=word() if rng.random() < 0.2 else "",
        schedule=BackupSchedule("policy", word(), timedelta(hours=1)),
        trend=tuple(
            TrendPoint(NOW - timedelta(hours=n), rng.randint(0, 2**50), rng.uniform(0, 1e6))
            for n in range(rng.randint(0, 14))
        ),
    )


def previous_of(rng: random.Random, items: list[DigestInput]) -> dict[str, ClusterFigures]:
    """Yesterday's figures for some clusters, so that rows carry deltas and shrink warnings."""
    return {
        each.cluster.id: ClusterFigures(
            each.cluster.id, "old", rng.randint(0, 2**50), rng.randint(0, 10**7), 3, NOW
        )
        for each in items
        if rng.random() < 0.5
    }


def assert_within(message: Card) -> None:
    payload = slack(message).payload()
    assert violations(payload) == [], violations(payload)


def linked_ids(messages: list[Card]) -> list[str]:
    text = "\n".join(json.dumps(slack(m).blocks) for m in messages)
    return re.findall(r"/cluster/([^/]+)/backups", text)


def follow_pages(first: Card, render: Any, action: str) -> list[Card]:
    pages = [first]
    while True:
        blocks = slack(pages[-1]).blocks
        buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
        if not buttons:
            return pages
        [button] = buttons
        assert button["action_id"] == action
        page = render(json.loads(button["value"])["o"])
        assert_within(page)
        pages.append(page)


@pytest.mark.parametrize("locale", LOCALES)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    size=st.one_of(st.integers(0, 40), st.integers(0, 3000)),  # (and 3000 below, always)
    words=st.lists(hostile, min_size=1, max_size=12),
    seed=st.integers(0, 2**32),
    only_problems=st.booleans(),
    grouping=st.sampled_from(GROUPINGS),
    title=hostile,
    warnings=st.lists(hostile, max_size=8),
)
# The largest fleet, with every value at its most hostile, is always tried.
@example(
    size=3000,
    words=["&<>" * 130, "<!channel>", "a", "é" * 300, "`*_~|" * 60],
    seed=3,
    only_problems=False,
    grouping=["folder", "label:team"],
    title="&<>" * 100,
    warnings=["<!here>" * 60] * 8,
)
def test_every_message_of_every_renderer_stays_within_slacks_budget(
    locale: str,
    size: int,
    words: list[str],
    seed: int,
    only_problems: bool,
    grouping: list[str],
    title: str,
    warnings: list[str],
) -> None:
    # Russian is longer, and each Cyrillic letter is one character to Slack: both must fit.
    with use_locale(locale):
        _every_message_within_budget(size, words, seed, only_problems, grouping, title, warnings)


def _every_message_within_budget(
    size: int,
    words: list[str],
    seed: int,
    only_problems: bool,
    grouping: list[str],
    title: str,
    warnings: list[str],
) -> None:
    rng = random.Random(seed)
    items = fleet_of(rng, size, words)
    ids = sorted(quote(each.cluster.id[:64], safe="") for each in items)

    # The digest: a top post and its thread, every cluster exactly once when all are shown.
    digest = build_digest(
        items,
        previous_of(rng, items),
        now=NOW,
        only_problems=only_problems,
        group_by=grouping,
    )
    rendered = render_digest(
        digest,
        title=title or "t",
        console_url=CONSOLE,
        limits=LIMITS,
        warnings=warnings,
        table_name="digest.csv",
    )
    for message in rendered.messages():
        assert_within(message)
    # At most the top post, four parts and the file (or a count), whatever the size; no
    # cluster twice; with every cluster shown, every one is in the file.
    assert len(rendered.thread) <= 5
    shown = linked_ids(rendered.messages())
    assert len(shown) == len(set(shown))
    if only_problems or not items:
        assert rendered.table is None
        assert set(shown) <= {quote(r.cluster.id[:64], safe="") for r in digest.rows}
    else:
        assert rendered.table is not None
        rows = list(csv.reader(io.StringIO(rendered.table.content.decode())))[1:]
        assert sorted(row[1] for row in rows) == sorted(each.cluster.id for each in items)

    # Status: one message per page; every page within budget; every cluster on one page.
    status = build_digest(items, {}, now=NOW)

    def status_page(offset: int) -> Card:
        return render_status(
            status,
            title=title or "t",
            console_url=CONSOLE,
            limits=LIMITS,
            warnings=warnings,
            offset=offset,
        )

    first = status_page(0)
    assert_within(first)
    pages = follow_pages(first, status_page, STATUS_NEXT_PAGE.id)
    assert sorted(linked_ids(pages)) == ids

    # The status of one cluster, in full: its policies, restore readiness and trend too.
    for each in rng.sample(items, min(len(items), 5)):
        one = build_digest([each], {}, now=NOW)
        assert_within(
            render_status(
                one, title=title or "t", console_url=CONSOLE, limits=LIMITS, detailed=True
            )
        )

    # Clusters: the same, with its own rows.
    rows = [ClusterRow(each.cluster, each.report) for each in items]

    def clusters_page(offset: int) -> Card:
        return render_clusters(title, rows, now=NOW, offset=offset, limits=LIMITS)

    first = clusters_page(0)
    assert_within(first)
    pages = follow_pages(first, clusters_page, CLUSTERS_NEXT_PAGE.id)
    if items:
        found = [re.findall(r"`c9q\d{5}", json.dumps(slack(p).blocks)) for p in pages]
        assert sum(len(each) for each in found) == len(items)

    # The alert, in each of its states, and its thread replies, for a few of the clusters.
    route = AlertRoute(channel="C0ONCALL", mention=["S0ONCALL", "U0LEAD"])
    for each in rng.sample(items, min(len(items), 5)):
        report = each.report
        for message in alert_messages(each.cluster, report, route):
            assert_within(message)
        # The explanation is in the alert itself (before its buttons or in the small print after
        # them), bounded, not dropped to make room.
        said = attempt_line(
            report.explanation, NOW, state=report.state, error_limit=WHY_ERROR_ESCAPED
        )
        if said:
            [alert, *_] = alert_messages(each.cluster, report, route)
            assert said in all_text([slack(alert)])
    assert_within(render_self_alert(rng.randint(1, 999), None, rng.choice(words), NOW))
    for outcome in OperationOutcome:
        assert_within(
            render_operation_outcome(
                outcome,
                cluster_label=rng.choice(words),
                requested_by="U0LEAD",
                operation_id=rng.choice(words) or "op",
                requested_at=NOW - timedelta(minutes=5),
                error=rng.choice(words),
                now=NOW,
            )
        )
    # get and list, with a cluster's explanation.
    for each in rng.sample(items, min(len(items), 5)):
        explanation = each.report.explanation
        backups = list(each.backups or [])
        for backup in backups:
            backup = backup.model_copy(
                update={"indices": tuple(rng.choice(words) for _ in range(100))}
            )
            assert_within(
                render_backup(
                    backup, now=NOW, explanation=explanation, missing=words, limits=LIMITS
                )
            )
        assert_within(
            render_backup_list(
                each.cluster.display_name,
                backups,
                now=NOW,
                cluster_id=each.cluster.id,
                limit=10,
                explanation=explanation,
                limits=LIMITS,
            )
        )
    said = " ".join(rng.choice(words) for _ in range(8))
    assert_within(render_error(UsageError(said, hint=said)))
    assert_within(render_error(NotFound(404, said), subject=said))
    assert_within(render_ack(said))


def alert_messages(cluster: Cluster, report: FreshnessReport, route: AlertRoute) -> list[Card]:
    stale = replace(
        report,
        state=FreshnessState.STALE if report.state != FreshnessState.NEVER else report.state,
    )
    fired = evaluate(None, stale, route=route, route_key="alert:C0ONCALL:k", now=NOW).entry
    fired = replace(fired, message_ts="1.2")
    entries: list[AlertEntry] = [
        fired,
        acknowledge(fired, user="U0LEAD", now=NOW).entry,
        snooze(fired, until=NOW + timedelta(hours=4), user="U0LEAD", now=NOW).entry,
    ]
    out = [
        render_alert(
            e,
            cluster=cluster,
            report=report,
            route=route,
            console_url=CONSOLE,
            limits=LIMITS,
            now=NOW,
        )
        for e in entries
    ]
    out.append(
        render_reminder(fired, cluster=cluster, report=stale, now=NOW, mention_ids=route.mention)
    )
    out.append(render_resolved(fired, cluster=cluster, report=report, now=NOW))
    return out
