"""The console shows a Slack payload the way Slack would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cloud.models import Backup
from bot.commands.messages import render_error
from bot.demo.console import decode_mrkdwn, render_console, render_ephemeral
from bot.errors import UsageError
from bot.queries.messages import render_backup, render_backup_list
from bot.slack.blocks import SLACK

NOW = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)


def _backups() -> list[Backup]:
    return [
        Backup(
            id=f"c9qcluster0001:snapshot-{i}",
            started_at=NOW - timedelta(days=i, hours=6),
            created_at=NOW - timedelta(days=i, hours=5, minutes=48),
            opensearch_version="2.11.0",
            size_bytes=1_610_612_736,
            indices_total=42,
        )
        for i in range(2)
    ]


LIST_SNAPSHOT = """\
*Backups of logs-prod <!channel>* · newest first
*2024-05-02 03:00 UTC* · took 12m · 1.5 GiB · 42 indices · OpenSearch 2.11.0
`c9qcluster0001:snapshot-0` · finished 2024-05-02 03:12 UTC (5h 48m ago)

*2024-05-01 03:00 UTC* · took 12m · 1.5 GiB · 42 indices · OpenSearch 2.11.0
`c9qcluster0001:snapshot-1` · finished 2024-05-01 03:12 UTC (1d 5h ago)
2 backups shown · `/backups get <backup-id>` shows one in full
[Next page]"""


def test_a_list_reply_with_a_next_page_button_renders_like_slack() -> None:
    message = render_backup_list(
        "logs-prod <!channel>",
        _backups(),
        now=NOW,
        more=True,
        cluster_id="c9qcluster0001",
        limit=2,
        limits=SLACK.limits,
    )
    assert render_console(SLACK.render(message), width=80) == LIST_SNAPSHOT


def test_color_makes_bold_bold_and_code_cyan() -> None:
    message = render_backup_list(
        "logs-prod", _backups()[:1], now=NOW, cluster_id="c", limit=1, limits=SLACK.limits
    )
    out = render_console(SLACK.render(message), color=True)
    assert out.startswith("\x1b[1mBackups of logs-prod\x1b[0m · newest first")
    assert "\x1b[36mc9qcluster0001:snapshot-0\x1b[0m" in out


def test_an_ephemeral_reply_says_only_you_see_it() -> None:
    out = render_ephemeral(SLACK.render(render_error(UsageError("nope", hint="try `help`"))))
    assert out == "(only visible to you)\n⚠️ nope\ntry `help`"


def test_fields_show_in_two_columns_when_they_fit_and_one_per_line_when_not() -> None:
    message = render_backup(_backups()[0], now=NOW, limits=SLACK.limits)
    wide = render_console(SLACK.render(message), width=100)
    assert "*Size*                                             *Incremental size*" in wide
    narrow = render_console(SLACK.render(message), width=40)
    assert "*Size*\n1.5 GiB\n*Incremental size*\n0 B" in narrow


@pytest.mark.parametrize(
    ("mrkdwn", "shown"),
    [
        ("a &lt;b&gt; &amp;amp; c", "a <b> &amp; c"),
        (
            "<https://console.yandex.cloud/x|the console>",
            "the console (https://console.yandex.cloud/x)",
        ),
        ("<https://example.com>", "https://example.com"),
        ("<https://example.com|https://example.com>", "https://example.com"),
        ("<mailto:ops@example.com|ops>", "ops (ops@example.com)"),
        ("hey <!subteam^S123>", "hey @oncall"),
        ("hey <!subteam^S999>", "hey @S999"),
        ("hey <!subteam^S999|@ops-team>", "hey @ops-team"),
        ("<@U123> and <@U999>", "@Alice and @U999"),
        ("<#C123|general> <#C999>", "#general #C999"),
        ("<!here> <!channel>", "@here @channel"),
        (
            "<!date^1714618800^{date_short_pretty} {time}|2024-05-02 03:00 UTC>",
            "2024-05-02 03:00 UTC",
        ),
        ("<!date^1714618800^{date}>", "2024-05-02 03:00 UTC"),
        (":white_check_mark: fresh :unknown_emoji:", "✅ fresh :unknown_emoji:"),
        ("*bold* _it_ `code` ~strike~", "*bold* _it_ `code` ~strike~"),
    ],
)
def test_mrkdwn_is_decoded_as_slack_shows_it(mrkdwn: str, shown: str) -> None:
    names = {"S123": "oncall", "U123": "@Alice"}
    assert decode_mrkdwn(mrkdwn, names=names) == shown


def test_every_block_kind_the_bot_sends_has_a_console_form() -> None:
    payload: dict[str, Any] = {
        "text": "fallback",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Daily digest"}},
            {"type": "divider"},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "text"},
                "accessory": {
                    "type": "button",
                    "action_id": "a",
                    "text": {"type": "plain_text", "text": "Open"},
                },
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "one"},
                    {"type": "image", "image_url": "https://x/y.png", "alt_text": "logo"},
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"}},
                    {"type": "button", "text": {"type": "plain_text", "text": "Snooze 4h"}},
                    {
                        "type": "static_select",
                        "placeholder": {"type": "plain_text", "text": "Snooze for"},
                    },
                ],
            },
            {"type": "image", "image_url": "https://x/y.png", "alt_text": "chart"},
            {"type": "unknown_future_block"},
        ],
    }
    assert render_console(payload, width=20).split("\n") == [
        "Daily digest",
        "─" * 20,
        "text",
        "[Open]",
        "one  [image: logo]",
        "[Acknowledge]",
        "[Snooze 4h]",
        "[Snooze for ▾]",
        "[image: chart]",
    ]


def test_a_payload_without_blocks_shows_its_text() -> None:
    assert render_console({"text": "Snoozed &lt;x&gt; <@U1>"}) == "Snoozed <x> @U1"


def test_long_lines_wrap_to_the_width() -> None:
    out = render_console({"text": "word " * 50}, width=30)
    assert all(len(line) <= 30 for line in out.split("\n"))
    assert len(out.split("\n")) > 5


@given(st.text(max_size=200), st.integers(min_value=1, max_value=200))
def test_any_text_renders_without_raising(text: str, width: int) -> None:
    payload = {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
    render_console(payload, width=width, color=True)
    render_console({"text": text}, width=width)
