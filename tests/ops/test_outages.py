"""An outage is said twice, when it starts and when it ends, however many runs fail between."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import CloudTimeout, StoreError, StoreUnavailable
from bot.ops.metrics import Metrics
from bot.ops.outages import Dependency, Outages, dependency_of, describe

NOW = datetime(2026, 3, 2, 6, 21, 30, tzinfo=UTC)


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.ops.outages"]


def test_an_outage_is_one_line_when_it_starts_and_one_when_it_ends_with_the_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    metrics = Metrics()
    outages = Outages(metrics=metrics)
    for n in range(64):
        outages.failed(
            Dependency.DATABASE, "the bot's database did not answer", now=NOW + timedelta(seconds=n)
        )
    assert outages.is_down(Dependency.DATABASE)
    outages.answered(Dependency.DATABASE, now=NOW + timedelta(minutes=2))
    outages.answered(Dependency.DATABASE, now=NOW + timedelta(minutes=3))  # already said
    assert _lines(caplog) == [
        "the database is not answering since 06:21 UTC; sweeps and digests wait "
        "(the bot's database did not answer)",
        "the database answers again; it was away since 06:21 UTC (2m), 64 failed runs meanwhile",
    ]
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in caplog.records)
    text = metrics.render()[0].decode()
    assert 'backups_bot_dependency_failures_total{dependency="database"} 64.0' in text
    assert 'backups_bot_dependency_down{dependency="database"} 0.0' in text


def test_the_database_and_the_cloud_are_told_apart(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    outages = Outages()
    outages.failed(Dependency.CLOUD, "ServerError 503", now=NOW)
    outages.answered(Dependency.DATABASE, now=NOW)  # the database never went: nothing to say
    assert outages.is_down(Dependency.CLOUD)
    assert not outages.is_down(Dependency.DATABASE)
    outages.answered(Dependency.CLOUD, now=NOW + timedelta(seconds=30))
    assert _lines(caplog) == [
        "the cloud cannot be read since 06:21 UTC; sweeps see nothing and digests wait "
        "(ServerError 503)",
        "the cloud can be read again; it was away since 06:21 UTC (30s), 1 failed run meanwhile",
    ]


def test_a_long_reason_is_cut_in_the_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    Outages().failed(Dependency.CLOUD, "x" * 5000, now=NOW)
    [line] = _lines(caplog)
    assert len(line) < 400
    assert line.endswith("…)")


@pytest.mark.parametrize(
    ("error", "dependency", "words"),
    [
        (
            StoreUnavailable("the bot's database did not answer (OSError)"),
            Dependency.DATABASE,
            "the bot's database did not answer (OSError)",
        ),
        (StoreError("a write failed"), Dependency.DATABASE, "a write failed"),
        (
            CloudTimeout("the cloud did not answer in 10 s"),
            Dependency.CLOUD,
            "the cloud did not answer in 10 s",
        ),
        (ValueError("a bug\nwith lines"), None, "ValueError: a bug"),
    ],
)
def test_errors_are_sorted_by_the_dependency_they_stand_for(
    error: Exception, dependency: Dependency | None, words: str
) -> None:
    assert dependency_of(error) is dependency
    assert describe(error) == words
