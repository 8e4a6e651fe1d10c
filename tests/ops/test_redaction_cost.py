"""Every redaction pattern costs time linear in its input: a megabyte of adversarial text (long
runs of letters, ``:``, ``/``, ``@``, ``-----BEGIN``, half-made tokens and URLs) is scrubbed in
well under a second by each. A quadratic pattern takes minutes on the same input (the URL
password pattern this replaced took 14 s on 100 KB), so the bound only catches that collapse."""

from __future__ import annotations

import time

import pytest

from bot.ops.logging import MAX_LINE, TOKEN_PATTERNS, Redactor

MEGABYTE = 1 << 20
#: Far above the ~0.1 s the slowest pattern takes on an idle machine; far below a collapse.
BOUND = 1.0


def _fill(unit: str) -> str:
    return (unit * (MEGABYTE // len(unit) + 1))[:MEGABYTE]


ADVERSARIAL = {
    "letters": _fill("a"),
    "colons": _fill(":"),
    "slashes": _fill("/"),
    "at signs": _fill("@"),
    "spaces": _fill(" "),
    "letter-colon": _fill("a:"),
    "schemes": _fill("a://"),
    "separators": _fill("://"),
    "a user, then a password that never ends": "x://user:" + _fill("p"),
    "user-colon runs": "x://" + _fill("u:"),
    "begins": _fill("-----BEGIN "),
    "begin lines without an end": _fill("-----BEGIN PRIVATE KEY-----"),
    "a long label": "-----BEGIN " + _fill("PRIVATE KEY "),
    "ends that never close": "-----BEGIN PRIVATE KEY-----" + _fill("-----END "),
    "iam prefixes": _fill("t1."),
    "slack prefixes": _fill("xoxb-"),
    "oauth prefixes": _fill("y0_"),
    "bearers": _fill("Bearer "),
    "a bearer and spaces": "Bearer" + _fill(" "),
    "hook hosts": _fill("hooks.slack.com/"),
    "token fields": _fill("token="),
    "token keys": _fill('"token": "'),
    "encoded token keys": _fill("%22token%22%3A%22"),
    "response url fields": _fill("response_url="),
    "response url keys": _fill('"response_url": "'),
    "a response url key and backslashes": '"response_url": "' + _fill("\\"),
    "a response url key and escaped slashes": '"response_url": "' + _fill("\\\\x/"),
    "encoded response url keys": _fill("%22response_url%22%3A%22"),
    "an encoded key and percents": "%22response_url%22%3A%22" + _fill("%2"),
    "a mix": _fill("a:/@-t1.x_%22 "),
}


@pytest.mark.parametrize(("name", "pattern", "replacement"), TOKEN_PATTERNS, ids=lambda v: v)
def test_each_pattern_scrubs_a_megabyte_of_adversarial_text_in_well_under_a_second(
    name: str, pattern: object, replacement: str
) -> None:
    assert hasattr(pattern, "sub")
    slowest = ("", 0.0)
    for label, text in ADVERSARIAL.items():
        started = time.perf_counter()
        pattern.sub(replacement, text)  # type: ignore[attr-defined]
        took = time.perf_counter() - started
        if took > slowest[1]:
            slowest = (label, took)
    assert slowest[1] < BOUND, f"{name} took {slowest[1]:.2f} s on {slowest[0]}"


def test_a_megabyte_line_is_cut_before_it_is_redacted() -> None:
    redactor = Redactor(["registered-secret-value"])
    for text in ADVERSARIAL.values():
        started = time.perf_counter()
        line = redactor.redact_line(text)
        assert time.perf_counter() - started < BOUND
        assert len(line) < MAX_LINE + 100
        assert "cut:" in line
