"""The ``backups-bot`` command line (also ``python -m bot``).

Each verb lives in its own module, which exposes ``register(subparsers)``: it adds its parser and
sets ``handler=<callable(args) -> int>``. The handler builds what it needs from
:func:`load_settings` and :func:`load_bot_config`; nothing here is a global.

Every verb logs through the same redacting handler (:func:`verb_logging`), and ``check`` and
``serve`` accept exactly the same settings: both ask :func:`validate_startup`, which finds every
problem of the environment and the config that can be found without connecting anywhere, each
in one line that says where and what to do.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import re
import sys
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from bot import __version__
from bot.config import (
    WATCHES_NOTHING,
    BotConfig,
    ConfigFileError,
    decode_problem,
    load_config,
    pydantic_message,
)
from bot.errors import BotError, ConfigError
from bot.i18n.catalog import N_, SOURCE_LOCALE, _, supported_locale, use_locale
from bot.ops.logging import log_format_problem, log_level_problem, remove_logging, setup_logging
from bot.settings import DEFAULT_CONFIG_PATH, Settings, reveal

#: Modules that provide verbs, in the order they appear in --help.
VERB_MODULES: list[str] = [
    "bot.app.serve",
    "bot.app.exec",
    "bot.app.digest",
    "bot.app.report",
    "bot.app.sweep",
    "bot.app.check",
    "bot.app.drill",
    "bot.app.demo",
]

#: Exit codes: 0 an answer, 1 a failure to do it, 2 a usage or configuration error.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

#: The level a verb logs at when LOG_LEVEL is not set. serve's log is the record of what the
#: bot does; the other verbs print their own results and add only warnings, the demo's console
#: only errors.
_DEFAULT_LEVELS = {"serve": "INFO", "demo": "ERROR"}
_DEFAULT_LEVEL = "WARNING"
#: Variables whose values are secrets, also when the settings as a whole do not parse.
SECRET_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "YC_IAM_TOKEN",
    "YC_OAUTH_TOKEN",
)

_NO_CONFIG_FILE = N_("no config file (BACKUPS_BOT_CONFIG is not set, no ./backups-bot.yaml)")

#: Where the language of a person's shell is said, the first set one deciding (as POSIX has it).
LANGUAGE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
#: The config's top-level ``locale:`` line, read from its text: a config refused for another
#: reason is still refused in its own language.
_LOCALE_LINE = re.compile(r"""^locale[ \t]*:[ \t]*['"]?([A-Za-z_-]+)""", re.MULTILINE)

log = logging.getLogger(__name__)

T = TypeVar("T")


def run_main(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, with ``main``'s result kept out of the event loop's main task.

    Every verb runs its coroutine through this. Python 3.11's ``asyncio.run`` builds the repr of
    its main task when it puts the SIGINT handler back (``signal.getsignal`` formats a
    ``ValueError`` around its ``functools.partial``), and a finished task's repr includes
    ``reprlib.repr`` of its result, which calls ``repr()`` in full on every item of a list before
    cutting it short: for a 10,000-cluster digest, 110 MiB of dataclass reprs, thrown away. Here
    the main task returns None and the result goes by a box.
    """
    box: list[T] = []

    async def keep() -> None:
        box.append(await main)

    asyncio.run(keep())
    return box[0]


def load_settings() -> Settings:
    """Settings from the environment and ``.env``; a bad value is a ConfigError naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError("; ".join(settings_problems(exc))) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(_dotenv_problem(exc)) from None
    except OSError as exc:
        raise ConfigError(
            _(".env: cannot be read ({reason}); fix or remove it").format(reason=exc.strerror)
        ) from None


def settings_problems(exc: ValidationError) -> list[str]:
    """One line per variable that does not parse, named as it is set."""
    return [
        _("{variable}: {problem}; fix the variable (or .env)").format(
            variable=".".join(str(p) for p in err["loc"]), problem=pydantic_message(err)
        )
        for err in exc.errors(include_url=False, include_input=False)
    ]


def _dotenv_problem(exc: UnicodeDecodeError) -> str:
    raw = exc.object if isinstance(exc.object, bytes) else b""
    return decode_problem(".env", raw, exc) if raw else _(".env: not UTF-8; save it as UTF-8")


#: Set to 1, ``sweep.every`` and ``sweep.lease`` may go down to a second: for tests and demos
#: that sweep every second, never for a bot that watches a real fleet.
FAST_SWEEPS_VARIABLE = "BACKUPS_BOT_FAST_SWEEPS"


def fast_sweeps() -> bool:
    """Whether BACKUPS_BOT_FAST_SWEEPS allows sweeps and leases shorter than a minute."""
    return os.environ.get(FAST_SWEEPS_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def load_bot_config(settings: Settings) -> BotConfig:
    """The YAML config named by BACKUPS_BOT_CONFIG (or ./backups-bot.yaml), validated; a
    refusal is said in the config's language (:func:`command_line_locale`)."""
    path = settings.config_path()
    with use_locale(config_locale(path)):
        return load_config(path, fast_sweeps=fast_sweeps())


def config_locale(path: Path | None) -> str:
    """The language the command line speaks about the config at ``path``: its top-level
    ``locale`` (read from the text, so that a config refused for any other reason is refused in
    its language); ``en`` for a readable config that names none; for no config, one that cannot
    be read or one whose ``locale`` the bot does not speak, the shell's (LC_ALL, LC_MESSAGES,
    LANG: ``ru_RU.UTF-8`` is Russian), else ``en``."""
    text: str | None = None
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    if text is not None:
        found = _LOCALE_LINE.search(text)
        if found is None:
            return SOURCE_LOCALE
        said = supported_locale(found.group(1))
        if said is not None:
            return said
    for name in LANGUAGE_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return supported_locale(value) or SOURCE_LOCALE
    return SOURCE_LOCALE


def command_line_locale() -> str:
    """The language of what ``check`` prints and of the config refusals: :func:`config_locale`
    of the config the settings name (or of BACKUPS_BOT_CONFIG, ./backups-bot.yaml, when the
    settings themselves do not parse)."""
    try:
        path = Settings().config_path()
    except Exception:  # validate_startup says what is wrong; the language is still wanted
        named = os.environ.get("BACKUPS_BOT_CONFIG", "").strip()
        path = (
            Path(named) if named else DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
        )
    return config_locale(path)


def secret_values(settings: Settings) -> Iterator[str]:
    """Every secret the settings hold, for the log redactor."""
    for value in (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.yc_iam_token,
        settings.yc_oauth_token,
    ):
        if reveal(value):
            yield reveal(value)
    password = _database_password(settings.database_url)
    if password:
        yield password


def _database_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password or ""
    except Exception:  # a malformed URL: validate_startup says so; nothing to register
        return ""


# --- one validation for check and serve ------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing that stops the bot from starting: what it is about, and the line to show."""

    what: str
    detail: str


@dataclass(frozen=True)
class Startup:
    """The settings and config as validated, and every problem found on the way."""

    settings: Settings | None
    config: BotConfig | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_startup() -> Startup:
    """Everything ``check`` and ``serve`` refuse that can be found without connecting: the
    environment (each variable, LOG_LEVEL, LOG_FORMAT, the form of DATABASE_URL, the Slack
    tokens the mode needs) and the config file (its encoding, syntax, keys and values, and
    that it watches something). Reaching Slack, the cloud and the database comes after. Every
    problem is said in :func:`command_line_locale`'s language."""
    with use_locale(command_line_locale()):
        return _validate_startup()


def _validate_startup() -> Startup:
    try:
        settings = Settings()
    except ValidationError as exc:
        return Startup(None, None, tuple(Problem("environment", p) for p in settings_problems(exc)))
    except (UnicodeDecodeError, OSError) as exc:
        detail = _dotenv_problem(exc) if isinstance(exc, UnicodeDecodeError) else str(exc)
        return Startup(None, None, (Problem("environment", detail),))
    problems = [
        *_environment_problems(settings),
        *_slack_problems(settings),
        *_credential_problems(settings),
    ]
    config: BotConfig | None = None
    try:
        config = load_bot_config(settings)
    except ConfigFileError as exc:
        problems += [Problem("config", line) for line in exc.problems]
    except ConfigError as exc:
        problems.append(Problem("config", str(exc)))
    else:
        if config.watch.is_empty:
            path = settings.config_path()
            where = str(path) if path is not None else _(_NO_CONFIG_FILE)
            problems.append(Problem("config", f"{where}: {_(WATCHES_NOTHING)}"))
    return Startup(settings, config, tuple(problems))


def _environment_problems(settings: Settings) -> Iterator[Problem]:
    from bot.store.db import check_database_url  # SQLAlchemy loads only when needed

    for problem in (log_level_problem(settings.log_level), log_format_problem(settings.log_format)):
        if problem is not None:
            yield Problem("environment", problem)
    try:
        check_database_url(settings.database_url)
    except ConfigError as exc:
        yield Problem("database", str(exc))


def _slack_problems(settings: Settings) -> Iterator[Problem]:
    token = reveal(settings.slack_bot_token)
    if not token:
        yield Problem("slack", _("SLACK_BOT_TOKEN is not set (the bot's xoxb- token)"))
    elif not token.startswith("xoxb-"):
        yield Problem(
            "slack", _("SLACK_BOT_TOKEN does not look like a bot token; it starts with xoxb-")
        )
    if settings.socket_mode:
        if not reveal(settings.slack_app_token).startswith("xapp-"):
            yield Problem(
                "slack", _("SLACK_APP_TOKEN does not look like an app-level token (xapp-...)")
            )
    elif not reveal(settings.slack_signing_secret):
        yield Problem(
            "slack mode",
            _("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)"),
        )


def _credential_problems(settings: Settings) -> Iterator[Problem]:
    """A service account key file that the settings select and that cannot be used."""
    if reveal(settings.yc_iam_token) or settings.yc_service_account_key_file is None:
        return
    from bot.cloud.auth import load_service_account_key

    try:
        load_service_account_key(settings.yc_service_account_key_file)
    except BotError as exc:
        yield Problem("cloud credentials", str(exc))


# --- logging, the same for every verb --------------------------------------------------------


@contextmanager
def verb_logging(verb: str) -> Iterator[None]:
    """Log through the redacting handler for the duration of one verb, then take it away.

    LOG_LEVEL and LOG_FORMAT apply to every verb; unset, the level is the verb's own default. A
    value that is not a level or a format falls back to the default: ``check`` and ``serve``
    refuse it with the reason, the other verbs say it once and go on.
    """
    settings, secrets = _settings_for_logging()
    default = _DEFAULT_LEVELS.get(verb, _DEFAULT_LEVEL)
    level, fmt = default, "auto"
    if settings is not None:
        if "log_level" in settings.model_fields_set:
            level = settings.log_level
        fmt = settings.log_format
    complaints = [p for p in (log_level_problem(level), log_format_problem(fmt)) if p]
    if log_level_problem(level):
        level = default
    if log_format_problem(fmt):
        fmt = "auto"
    root = logging.getLogger()
    before = root.level
    setup_logging(level, fmt, secrets=secrets)
    if verb not in ("check", "serve"):
        for complaint in complaints:
            log.warning("%s (using the default)", complaint)
    try:
        yield
    finally:
        remove_logging()
        root.setLevel(before)


def _settings_for_logging() -> tuple[Settings | None, list[str]]:
    try:
        settings = Settings()
    except Exception:  # validate_startup or the verb says what is wrong; still redact them
        values = [os.environ.get(name, "") for name in SECRET_VARIABLES]
        values.append(_database_password(os.environ.get("DATABASE_URL", "")))
        return None, [v for v in values if v]
    return settings, list(secret_values(settings))


# --- the command line ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backups-bot",
        description="Slack chat-ops bot for Yandex Cloud Managed OpenSearch backups.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="<command>")
    for name in VERB_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    with verb_logging(str(args.verb)):
        try:
            return int(handler(args))
        except ConfigError as exc:
            print(f"backups-bot: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except BotError as exc:
            print(f"backups-bot: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        except KeyboardInterrupt:
            return 130
