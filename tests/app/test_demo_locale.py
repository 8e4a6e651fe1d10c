"""``backups-bot demo --locale ru``: what a Russian-speaking person sees reads in Russian (the
replies, the alerts, the grouped alert, the digest), but for names, ids and the cloud's own
messages; without it, no Russian at all."""

from __future__ import annotations

import os
import re
import subprocess
import sys

SCRIPT = "\n".join(
    [
        "помощь",
        "status",
        ":sweep",
        ":digest",
        ":storm",
        ":sweep",
        "список traces-prod --limit 1",
        "",
    ]
)
#: Our own English words, any of which in the Slack side of a Russian transcript is a sentence
#: left untranslated.
ENGLISH = (
    "FIRING",
    "RESOLVED",
    "Acknowledge",
    "Snooze",
    "Backups digest",
    "Backups status",
    "what you can ask",
    "no fresh backup",
    "newest first",
    "never backed up",
    " ago",
    "max ",
    "Generated",
    "Newest",
    "in the thread",
    "Last error",
    "The last backup attempt",
    "daily at",
    "health ",
    "status ERROR",
    "folder b1g",
    "Next page",
)
RUSSIAN = (
    "Бот бэкапов: что можно спросить",
    "Состояние бэкапов",
    "АКТИВЕН",
    "Подтвердить",
    "Сводка по бэкапам · ",
    "свежий",
    "нет свежего бэкапа",
    "ТиБ",
    "Следующая страница",
)


def _demo(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YC_", "DATABASE"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--no-color", *args],
        input=SCRIPT,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


def _slack_side(transcript: str) -> str:
    """What Slack shows: after the banner, without the console's own lines (``-- sweep: ...``,
    ``[3] #oncall (posted):``) and the echoed commands."""
    after_banner = transcript[transcript.index("\n/backups ") :]
    return "\n".join(
        line
        for line in after_banner.splitlines()
        if not line.startswith(("-- ", "/backups "))
        and not re.fullmatch(r"(\[\d+\] )?#[\w-]+ \((posted|in the thread)\):", line)
        and "Snapshot failed" not in line
    )


def test_the_demo_reads_in_russian_with_locale_ru_and_in_english_without() -> None:
    russian = _slack_side(_demo("--locale", "ru"))
    for phrase in RUSSIAN:
        assert phrase in russian, phrase
    left = [phrase for phrase in ENGLISH if phrase in russian]
    assert left == []
    english = _demo()
    assert "Backups bot: what you can ask" in english  # помощь is help, in the reader's language
    assert re.search("[а-яА-Я]", _slack_side(english)) is None
    assert "FIRING" in english
    assert "Backups digest · " in english
