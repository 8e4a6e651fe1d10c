"""Commands stay English words, and Russian synonyms are accepted where they can mean only one
command; help is in the asker's language and names the commands as they are typed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.chat.actions import Invocation
from bot.commands.grammar import COMMAND_NAMES, SYNONYMS, HelpCmd, parse_command
from bot.commands.router import Router
from bot.config import BotConfig
from bot.errors import UsageError
from bot.i18n.catalog import use_locale
from bot.slack.blocks import SLACK

CLUSTER = "c9qexamplecluster001"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("russian", "english"),
    [
        (f"список {CLUSTER} --limit 5", f"list {CLUSTER} --limit 5"),
        (f"СПИСОК {CLUSTER}", f"list {CLUSTER}"),
        ("статус", "status"),
        (f"состояние {CLUSTER} --share", f"status {CLUSTER} --share"),
        ("кластеры", "clusters"),
        ("каталог b1gexamplefolder0001", "folder b1gexamplefolder0001"),
        (f"заглушить {CLUSTER} 4h", f"snooze {CLUSTER} 4h"),
        ("помощь", "help"),
        ("справка список", "help list"),
        ("помощь статус", "help status"),
    ],
)
def test_a_russian_synonym_is_its_command(russian: str, english: str) -> None:
    assert parse_command(russian) == parse_command(english)


def test_every_synonym_names_one_command_and_shadows_none() -> None:
    assert set(SYNONYMS.values()) <= set(COMMAND_NAMES)
    assert not set(SYNONYMS) & set(COMMAND_NAMES)
    assert all(word == word.lower() for word in SYNONYMS)


def test_a_word_that_is_no_synonym_is_still_an_unknown_command_named_in_english() -> None:
    with use_locale("ru"), pytest.raises(UsageError) as caught:
        parse_command("бэкапы")  # a list or a folder? not guessed
    assert str(caught.value) == "Не знаю команду `бэкапы`."
    assert parse_command("help") == HelpCmd()


async def test_help_is_in_the_askers_language_with_the_commands_as_typed() -> None:
    router = Router(BotConfig())
    russian = await router.run("помощь", Invocation("U1", "C1", locale="ru-RU"), now=NOW)
    english = await router.run("help", Invocation("U1", "C1"), now=NOW)
    said_ru = SLACK.render(russian.messages[0])["text"]
    said_en = SLACK.render(english.messages[0])["text"]
    assert said_ru.startswith("Бот бэкапов: что можно спросить")
    assert said_en.startswith("Backups bot: what you can ask")
    for text in (str(SLACK.render(russian.messages[0])), said_en):
        assert "/backups list" in text
