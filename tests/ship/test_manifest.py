"""manifest.yaml: the Slack app asks for exactly what the code uses, and says how to use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.commands.grammar import COMMAND_NAMES
from tests.slack_scopes import methods_used_in, scopes_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _bot_code() -> list[Path]:
    """The code that runs in the bot: not the fake Slack the demo runs on."""
    paths = []
    for top in ("bot", "handlers"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel == Path("bot/demo/fake_slack.py"):
                continue
            paths.append(path)
    return paths


def test_the_slash_command_is_backups_and_not_escaped(manifest: dict[str, Any]) -> None:
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/backups"]
    assert commands[0]["should_escape"] is False
    assert commands[0]["description"]


def test_the_usage_hint_names_every_command_of_the_grammar(manifest: dict[str, Any]) -> None:
    hint = manifest["features"]["slash_commands"][0]["usage_hint"]
    words = {part.split()[0] for part in hint.split("|")}
    assert set(COMMAND_NAMES) <= words
    assert hint.startswith("list <cluster-id> | get <backup-id>")


def test_bot_scopes_are_exactly_what_the_code_calls(manifest: dict[str, Any]) -> None:
    asked = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = {"commands"} | scopes_for(methods_used_in(_bot_code()))
    assert asked == needed, (
        f"manifest.yaml asks for {sorted(asked - needed)} that the code does not use"
        f" and lacks {sorted(needed - asked)} that it does"
    )


def test_no_user_scopes_are_asked_for(manifest: dict[str, Any]) -> None:
    assert "user" not in manifest["oauth_config"]["scopes"]


def test_interactivity_and_socket_mode_are_on_and_org_deploy_off(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert settings["org_deploy_enabled"] is False


def test_display_information_fits_slacks_limits(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert 1 <= len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert manifest["features"]["bot_user"]["display_name"]


def test_the_home_tab_is_on_and_its_event_is_the_one_subscribed(manifest: dict[str, Any]) -> None:
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    # A click from the Home tab of a process without the store is answered in the app's DM,
    # where nobody can type.
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]


def test_every_event_the_handlers_listen_for_is_subscribed(manifest: dict[str, Any]) -> None:
    import handlers.home

    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [handlers.home.EVENT]
