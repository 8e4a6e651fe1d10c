"""The ``backups-bot`` command line (also ``python -m bot``).

Each verb lives in its own module, which exposes ``register(subparsers)``: it adds its parser and
sets ``handler=<callable(args) -> int>``. The handler builds what it needs from
:func:`load_settings` and :func:`load_bot_config`; nothing here is a global.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot import __version__
from bot.config import BotConfig, load_config
from bot.errors import BotError, ConfigError
from bot.settings import Settings

#: Modules that provide verbs, in the order they appear in --help.
VERB_MODULES: list[str] = [
    "bot.runtime",
    "bot.exec_cli",
    "bot.watch.digest_cli",
    "bot.watch.sweep_cli",
    "bot.check",
    "bot.demo",
]

#: Exit codes: 0 an answer, 1 a failure to do it, 2 a usage or configuration error.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def load_settings() -> Settings:
    """Settings from the environment and ``.env``; a bad value is a ConfigError naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigError(f"environment: {problems}") from None


def load_bot_config(settings: Settings) -> BotConfig:
    """The YAML config named by BACKUPS_BOT_CONFIG (or ./backups-bot.yaml), validated."""
    return load_config(settings.config_path())


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
