"""Which Slack bot scopes the code needs, derived from the Web API methods it calls.

``manifest.yaml`` must ask for exactly these scopes (plus ``commands`` for the slash command): a
test scans the code with :func:`methods_used_in` and compares. Asking for more than the code uses
makes workspace admins refuse the app; asking for less breaks it at the first call.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from tests.source import parse

#: Slack Web API method -> the bot scopes it needs (empty: none). conversations.* needs the
#: scope of the conversation's kind; the bot reads public and private channels it is in.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "chat.scheduleMessage": frozenset({"chat:write"}),
    "chat.getPermalink": frozenset(),
    "usergroups.users.list": frozenset({"usergroups:read"}),
    "usergroups.list": frozenset({"usergroups:read"}),
    "users.info": frozenset({"users:read"}),
    "conversations.info": frozenset({"channels:read", "groups:read"}),
    # Looking for a post whose answer was lost (by its metadata), in public and private
    # channels: what makes delivery exactly once.
    "conversations.history": frozenset({"channels:history", "groups:history"}),
    "conversations.replies": frozenset({"channels:history", "groups:history"}),
    "conversations.members": frozenset({"channels:read", "groups:read"}),
    "reactions.add": frozenset({"reactions:write"}),
    # A digest's full table, as one CSV file in its thread (the external upload).
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "views.open": frozenset(),
    "views.update": frozenset(),
    "views.publish": frozenset(),
    "auth.test": frozenset(),
    # Socket Mode: needs the app-level token's connections:write, not a bot scope.
    "apps.connections.open": frozenset(),
}

#: Names called without a client object that still reach the Web API (Bolt's ``say``).
_BARE_CALLS: dict[str, str] = {"say": "chat.postMessage"}


class UnknownSlackMethod(ValueError):
    """A Slack method is called that :data:`METHOD_SCOPES` does not list."""


def scopes_for(methods: Iterable[str]) -> set[str]:
    """The bot scopes needed to call every one of ``methods``."""
    scopes: set[str] = set()
    unknown = []
    for method in methods:
        needed = METHOD_SCOPES.get(method)
        if needed is None:
            unknown.append(method)
        else:
            scopes |= needed
    if unknown:
        raise UnknownSlackMethod(
            f"no scope known for {', '.join(sorted(unknown))}: add it to METHOD_SCOPES "
            "(see the method's page on api.slack.com) and to manifest.yaml"
        )
    return scopes


def _client_methods() -> dict[str, str]:
    """``chat_postMessage`` -> ``chat.postMessage`` for every method of slack_sdk's clients."""
    from slack_sdk.web.async_client import AsyncWebClient

    names: dict[str, str] = {}
    for name, value in vars(AsyncWebClient).items():
        if callable(value) and not name.startswith("_") and "_" in name:
            names[name] = name.replace("_", ".")
    for method in METHOD_SCOPES:  # in case the installed slack_sdk predates one of ours
        names.setdefault(method.replace(".", "_"), method)
    return names


def _api_call_method(call: ast.Call) -> str | None:
    """The method name of ``client.api_call("chat.update", ...)`` (positional or keyword)."""
    candidates = list(call.args[:1]) + [k.value for k in call.keywords if k.arg == "api_method"]
    for node in candidates:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
    return None


def methods_used_in(paths: Iterable[Path]) -> set[str]:
    """Slack Web API methods called in these Python files (``"chat.postMessage"``, ...).

    Finds attribute calls named like a slack_sdk client method (``client.chat_postMessage(``),
    ``.api_call("chat.update", ...)`` with a literal name, Bolt's ``say(``, and any string
    literal that is exactly a Web API method name (a notifier's ``self._call("chat.update", ...)``
    funnels every call through one ``api_call(method, ...)`` whose argument is a variable).
    """
    client_methods = _client_methods()
    dotted = set(client_methods.values())
    found: set[str] = set()
    for path in paths:
        tree = parse(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in dotted:
                    found.add(node.value)
                continue
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute):
                if func.attr == "api_call":
                    method = _api_call_method(node)
                    if method is not None:
                        found.add(method)
                elif func.attr in client_methods:
                    found.add(client_methods[func.attr])
            elif isinstance(func, ast.Name) and func.id in _BARE_CALLS:
                found.add(_BARE_CALLS[func.id])
    return found
