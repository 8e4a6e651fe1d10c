"""The ledger's keys: ``slo.target`` (a percentage) and ``ledger.retention``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import BotConfig, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_sets_the_target_and_thirteen_months_of_history() -> None:
    config = load_config(ROOT / "backups-bot.example.yaml")
    assert config.slo.target == 0.995
    assert config.slo.overrides[0].target == 0.999
    assert config.ledger.retention == timedelta(days=396)


def test_a_target_may_be_written_with_or_without_its_percent_sign() -> None:
    assert BotConfig.model_validate({"slo": {"target": "99.9 %"}}).slo.target == 0.999
    assert BotConfig.model_validate({"slo": {"target": 99}}).slo.target == 0.99
    assert BotConfig().slo.target == 0.995


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"slo": {"target": "most"}}, "is not a percentage"),
        ({"slo": {"target": "101%"}}, "at most 100%"),
        ({"slo": {"target": 0}}, "more than 0%"),
        ({"ledger": {"retention": "7d"}}, "a month at least"),
    ],
)
def test_a_wrong_value_is_refused_in_words(data: dict[str, object], said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        BotConfig.model_validate(data)
