"""Slack mrkdwn escaping: what a stranger's text can and cannot do inside a message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat.mrkdwn import code, escape, link, mention


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain", "plain"),
        ("a & b", "a &amp; b"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("&lt;", "&amp;lt;"),  # an entity typed by someone stays visible as typed
        (42, "42"),
    ],
)
def test_escape_replaces_exactly_the_three_characters_slack_asks_for(
    text: object, escaped: str
) -> None:
    assert escape(text) == escaped


@given(st.text())
def test_escaped_text_holds_no_raw_angle_bracket_and_no_bare_ampersand(text: str) -> None:
    out = escape(text)
    assert "<" not in out
    assert ">" not in out
    assert out.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0


def test_code_is_an_escaped_span_that_a_backtick_cannot_end() -> None:
    assert code("logs-prod") == "`logs-prod`"
    assert code("a`b<c>") == "`a'b&lt;c&gt;`"
    assert code("``") == "`''`"


def test_a_link_escapes_its_url_and_keeps_its_label_whole() -> None:
    assert link("https://x.example/a?b=1&c=2", "logs") == "<https://x.example/a?b=1&amp;c=2|logs>"
    # A "|" would end the label early and a ">" the whole link: neither survives as itself.
    assert link("https://x.example", "a|b>c") == "<https://x.example|a¦b&gt;c>"


@pytest.mark.parametrize(
    ("slack_id", "text"),
    [
        ("S0ONCALL", "<!subteam^S0ONCALL>"),
        ("U0LEAD", "<@U0LEAD>"),
        ("W0ENTERPRISE", "<@W0ENTERPRISE>"),
    ],
)
def test_a_mention_of_a_group_or_a_user(slack_id: str, text: str) -> None:
    assert mention(slack_id) == text
