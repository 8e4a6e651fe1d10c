"""Who reads what, through the real Bolt app and the fake Slack: a reply is in the asker's Slack
language (users.info with include_locale, asked once a day per person), else in the language of
the channel's route, else the bot's; one message is in one language."""

from __future__ import annotations

from bot.config import AlertRoute, BotConfig, Watch
from bot.demo.fake_slack import FakeSlack
from bot.demo.simcloud.server import SimCloud
from tests.slack.harness import FOLDER, all_text, running_bot

RUSSIAN_CHANNEL = "C0RUSSIAN"
CONFIG = BotConfig(
    watch=Watch(folders=[FOLDER]),
    alerts=[AlertRoute(channel=RUSSIAN_CHANNEL, locale="ru")],
)
HELP_EN = "Backups bot: what you can ask"
HELP_RU = "Бот бэкапов: что можно спросить"


def _users_info(fake_slack: FakeSlack) -> list[str]:
    return [str(c.args.get("user")) for c in fake_slack.calls if c.method == "users.info"]


async def test_a_reply_is_in_the_askers_slack_language_asked_once(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    fake_slack.locales.update({"U0RUSSIAN": "ru-RU", "U0ENGLISH": "en-GB"})
    async with running_bot(fake_slack, sim.url, config=CONFIG) as bot:
        first = all_text(await bot.ask("help", user_id="U0RUSSIAN"))
        again = all_text(await bot.ask("help", user_id="U0RUSSIAN"))
        english = all_text(await bot.ask("help", user_id="U0ENGLISH", channel_id=RUSSIAN_CHANNEL))
        wrong = all_text(await bot.ask("frobnicate", user_id="U0RUSSIAN"))
    assert HELP_RU in first
    assert HELP_RU in again
    assert HELP_EN not in first
    # A person's own language wins over the channel's.
    assert HELP_EN in english
    assert HELP_RU not in english
    assert "Не знаю команду `frobnicate`." in wrong
    # Cached: one users.info per person, whatever they ask.
    assert sorted(_users_info(fake_slack)) == ["U0ENGLISH", "U0RUSSIAN"]
    call = next(c for c in fake_slack.calls if c.method == "users.info")
    assert str(call.args.get("include_locale")).lower() == "true"


async def test_a_language_the_bot_does_not_speak_falls_back_to_the_channels_then_the_bots(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    fake_slack.locales.update({"U0GERMAN": "de-DE"})
    async with running_bot(fake_slack, sim.url, config=CONFIG) as bot:
        in_russian_channel = all_text(
            await bot.ask("help", user_id="U0GERMAN", channel_id=RUSSIAN_CHANNEL)
        )
        elsewhere = all_text(await bot.ask("help", user_id="U0GERMAN"))
    assert HELP_RU in in_russian_channel
    assert HELP_EN in elsewhere


async def test_without_users_read_replies_take_the_channels_language(
    fake_slack: FakeSlack, sim: SimCloud
) -> None:
    fake_slack.scopes.discard("users:read")
    fake_slack.locales.update({"U0RUSSIAN": "ru-RU"})
    async with running_bot(fake_slack, sim.url, config=CONFIG) as bot:
        here = all_text(await bot.ask("help", user_id="U0RUSSIAN"))
        there = all_text(await bot.ask("help", user_id="U0RUSSIAN", channel_id=RUSSIAN_CHANNEL))
    assert HELP_EN in here  # the bot's language: nobody said otherwise
    assert HELP_RU in there
