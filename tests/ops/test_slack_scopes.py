"""The scope table and the scan of the code for Slack Web API calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.slack_scopes import METHOD_SCOPES, UnknownSlackMethod, methods_used_in, scopes_for


def test_scopes_for_unions_the_scopes_of_each_method() -> None:
    assert scopes_for(["chat.postMessage", "chat.update", "usergroups.users.list"]) == {
        "chat:write",
        "usergroups:read",
    }
    assert scopes_for(["auth.test", "apps.connections.open"]) == set()
    assert scopes_for([]) == set()


def test_conversations_info_needs_public_and_private_channel_scopes() -> None:
    assert scopes_for(["conversations.info"]) == {"channels:read", "groups:read"}


def test_an_unknown_method_is_refused_with_its_name() -> None:
    with pytest.raises(UnknownSlackMethod, match=r"files\.upload"):
        scopes_for(["chat.postMessage", "files.upload"])


def test_every_method_in_the_table_is_a_dotted_slack_name() -> None:
    for method in METHOD_SCOPES:
        assert "." in method
        assert "_" not in method


def test_methods_used_in_finds_client_methods_api_call_and_say(tmp_path: Path) -> None:
    code = tmp_path / "notifier.py"
    code.write_text(
        "async def post(client, say, channel):\n"
        "    await client.chat_postMessage(channel=channel, text='hi')\n"
        "    await client.usergroups_users_list(usergroup='S1')\n"
        "    await self.web.api_call('chat.update', json={})\n"
        "    await client.api_call(api_method='users.info')\n"
        "    await say('hello')\n"
        "    client.chat_postMessage  # not a call\n"
        "    other.format('x')\n",
        encoding="utf-8",
    )
    other = tmp_path / "auth.py"
    other.write_text("async def f(c):\n    return await c.auth_test()\n", encoding="utf-8")
    assert methods_used_in([code, other]) == {
        "chat.postMessage",
        "usergroups.users.list",
        "chat.update",
        "users.info",
        "auth.test",
    }


def test_methods_named_by_string_literals_count_as_used(tmp_path: Path) -> None:
    notifier = tmp_path / "notifier.py"
    notifier.write_text(
        "class N:\n"
        "    async def update(self, ts):\n"
        "        await self._call('chat.update', {'ts': ts})\n"
        "    async def _call(self, method, kwargs):\n"
        "        return await self.client.api_call(method, json=kwargs)\n"
        "GREETING = 'chat.postMessage is how we talk'\n",
        encoding="utf-8",
    )
    assert methods_used_in([notifier]) == {"chat.update"}


def test_a_file_without_slack_calls_uses_no_methods(tmp_path: Path) -> None:
    plain = tmp_path / "plain.py"
    plain.write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    assert methods_used_in([plain]) == set()
