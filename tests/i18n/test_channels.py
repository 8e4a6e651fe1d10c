"""A channel's posts are in its route's language (``locale`` on the route, else the top-level
``locale``, else English): alerts and digests end to end, through the simulated cloud, the
store and the fake Slack; the config refuses a language the bot does not speak."""

from __future__ import annotations

import pytest

from bot.alerts.sweep import Sweeper
from bot.cloud.client import CloudClient
from bot.config import BotConfig, ConfigError, parse_config
from bot.demo.fake_slack import FakeSlack
from bot.digest.runner import DigestRunner
from bot.outbox.executor import DeliveryExecutor
from bot.store import Store
from tests.world import (
    CONSOLE_URL,
    IDS,
    NOW,
    ONCALL_CHANNEL,
    TEAM_CHANNEL,
    HoldingSim,
    deliver,
    make_config,
    sweep_and_deliver,
)


def test_the_locale_keys_default_to_english_and_name_only_spoken_languages() -> None:
    plain = make_config()
    assert plain.locale == "en"
    assert plain.locale_of(plain.alerts[0]) == "en"
    config = make_config(
        locale="ru-RU",  # Slack's spelling reads as the language
        digests=[{"channel": TEAM_CHANNEL, "locale": "en"}],
    )
    assert config.locale == "ru"
    assert config.locale_of(config.alerts[0]) == "ru"  # the route names none: the bot's
    assert config.locale_of(config.digests[0]) == "en"
    assert config.channel_locale(TEAM_CHANNEL) == "en"
    assert config.channel_locale("C0ELSEWHERE") == "ru"
    with pytest.raises(ConfigError, match="'de' is not a language the bot speaks"):
        parse_config("locale: de\n")


async def test_alerts_and_the_digest_speak_their_routes_language(
    cloud: CloudClient, store: Store, fake_slack: FakeSlack, executor: DeliveryExecutor
) -> None:
    config: BotConfig = make_config()
    config = config.model_copy(
        update={
            "alerts": [config.alerts[0].model_copy(update={"locale": "ru"})],
            "digests": [config.digests[0]],  # English: the bot's default
        }
    )
    await sweep_and_deliver(
        Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="a"), executor, now=NOW
    )
    await DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="a").run_all(now=NOW)
    await deliver(executor)

    alerts = fake_slack.messages(ONCALL_CHANNEL)
    assert alerts
    for alert in alerts:
        assert alert["text"].startswith("АКТИВЕН: "), alert["text"]
        assert "FIRING" not in str(alert)
        assert "Acknowledge" not in str(alert)
        assert "Подтвердить" in str(alert)  # the buttons too
    digest = fake_slack.messages(TEAM_CHANNEL)[0]
    assert digest["text"].startswith("Backups digest · Mon 2 Mar 2026")

    config = config.model_copy(update={"locale": "ru"})  # now the digest's route names none
    await DigestRunner(cloud, store, config, console_url=CONSOLE_URL, owner="a").run_all(
        now=NOW, force=True
    )
    await deliver(executor)
    top = [m for m in fake_slack.messages(TEAM_CHANNEL) if not m.get("thread_ts")][-1]
    assert top["text"].startswith("Сводка по бэкапам · пн 2 мар. 2026: "), top["text"]
    assert "stale" not in top["text"]
    assert "fresh" not in top["text"]


async def test_a_reason_the_sweep_reads_is_in_the_bots_language(
    sim: HoldingSim,
    cloud: CloudClient,
    store: Store,
    fake_slack: FakeSlack,
    executor: DeliveryExecutor,
) -> None:
    # The stale cluster's operations cannot be read, and the cloud's answer says nothing: the
    # alert quotes our words for it, in the bot's language (its route names none).
    sim.inject_fault(
        rf"/clusters/{IDS.stale}/operations", 403, times=None, body={"code": 7, "message": ""}
    )
    config = make_config().model_copy(update={"locale": "ru"})
    await sweep_and_deliver(
        Sweeper(cloud, store, config, console_url=CONSOLE_URL, owner="a"), executor, now=NOW
    )
    [alert] = [m for m in fake_slack.messages(ONCALL_CHANNEL) if "orders-prod" in str(m)]
    assert "доступ запрещён" in str(alert), alert
    assert "permission denied" not in str(alert)
