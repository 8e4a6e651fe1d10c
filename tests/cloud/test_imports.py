"""The cloud adapter sits at the bottom: it imports no feature of the bot, only the error tree,
the settings and the clock, so any feature may use it and it can be lifted out whole."""

from __future__ import annotations

from tests.test_layers import import_graph

#: What bot/cloud may import from the rest of bot/: plain leaves that import no feature.
#: The ground the adapter stands on: errors, settings, the clock, and the log's redactor (a
#: token the adapter mints is held by value, so no log line shows it), and the string catalog
#: (a leaf too: the adapter's sentences a person reads are said in the reader's language).
ALLOWED = {"bot", "bot.errors", "bot.settings", "bot.clock", "bot.ops.logging", "bot.i18n.catalog"}


def test_the_cloud_adapter_imports_no_feature() -> None:
    graph = import_graph()
    cloud = {name for name in graph if name == "bot.cloud" or name.startswith("bot.cloud.")}
    assert "bot.cloud.client" in cloud
    above = {
        module: sorted(t for t in graph[module] if t.startswith("bot") and t not in cloud | ALLOWED)
        for module in cloud
    }
    assert {module: targets for module, targets in above.items() if targets} == {}
