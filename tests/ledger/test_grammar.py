"""``/backups slo`` and ``/backups history``, as typed."""

from __future__ import annotations

import pytest

from bot.commands.grammar import HistoryCmd, SloCmd, parse_command
from bot.errors import InvalidArgument, UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slo", SloCmd()),
        ("slo --month 2026-11", SloCmd(month="2026-11")),
        ("slo logs-prod --share", SloCmd(target="logs-prod", share=True)),
        ("slo label:team=search", SloCmd(target="label:team=search")),
        (
            "slo folder:b1gexample —month=2026-01",
            SloCmd(target="folder:b1gexample", month="2026-01"),
        ),
        ("slo environment:PRODUCTION", SloCmd(target="environment:PRODUCTION")),
        ("history logs-prod", HistoryCmd(cluster="logs-prod")),
        ("history logs-prod --days 90 --share", HistoryCmd("logs-prod", days=90, share=True)),
    ],
)
def test_the_ledgers_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("slo --month 2026-13", "is not a month"),
        ("slo --month November", "is not a month"),
        ("slo --month", "needs a value"),
        ("slo a b", "takes at most one"),
        ("slo label:team", "is not a cluster, a folder id or a match"),
        ("history", "needs"),
        ("history logs-prod --days 0", "1"),
        ("history logs-prod --days 401", "400"),
        ("history logs-prod --month 2026-11", "--month"),
        ("slo --days 3", "--days"),
    ],
)
def test_a_mistake_is_said(text: str, said: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_command(text)
    assert said in str(caught.value) or said in (caught.value.hint or "")


def test_a_month_out_of_range_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        parse_command("slo --month 1999-01")
