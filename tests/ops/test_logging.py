"""Logging: JSON lines with a request id, text on a terminal, and no secret ever written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.errors import ConfigError
from bot.ops.logging import (
    HELD_SECRETS,
    MAX_HELD,
    MAX_LINE,
    REDACTED,
    HeldSecrets,
    Redactor,
    bind_request_id,
    new_request_id,
    redact,
    request_id_var,
    response_url_forms,
    setup_logging,
)

SLACK_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef"
IAM_TOKEN = "t1.9euelZqOkJGWjZKYz8bKmsnIl5yPle3rnpWalZKVz5qXjZqKk5jPyJKWmpzl8_dPbQ9k-e8"
OAUTH_TOKEN = "y0_AgAAAAAAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
    "-----END PRIVATE KEY-----"
)
PEM_BODY_LINE = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
REGISTERED = "signing-secret-8f14e45fceea167a5a36dedd4bea2543"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in root.handlers:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_not_a_terminal_gets_json_lines_with_the_bound_request_id() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out)
    with bind_request_id("abc12345") as rid:
        logging.getLogger("bot.test").info("listed %d backups", 3, extra={"cluster_id": "c9q1"})
    logging.getLogger("bot.test").warning("outside")
    first, second = _lines(out)
    assert rid == "abc12345"
    assert first["msg"] == "listed 3 backups"
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.test"
    assert first["request_id"] == "abc12345"
    assert first["cluster_id"] == "c9q1"
    assert str(first["ts"]).endswith("Z")
    assert second["request_id"] == "-"


def test_a_terminal_gets_readable_text() -> None:
    out = _Terminal()
    setup_logging("INFO", stream=out)
    with bind_request_id("feedf00d"):
        logging.getLogger("bot.test").info("hello %s", "there")
    line = out.getvalue().strip()
    assert "INFO" in line
    assert "[feedf00d]" in line
    assert "bot.test: hello there" in line
    assert not line.startswith("{")


def test_json_can_be_forced_on_a_terminal() -> None:
    out = _Terminal()
    setup_logging("INFO", "json", stream=out)
    logging.getLogger("x").info("m")
    assert _lines(out)[0]["msg"] == "m"


def test_secrets_and_token_shapes_never_reach_the_output() -> None:
    out = io.StringIO()
    setup_logging("DEBUG", secrets=[REGISTERED, "", None or ""], stream=out)
    log = logging.getLogger("bot.leaky")
    log.info("token in the message %s", SLACK_TOKEN)
    log.info("registered one: " + REGISTERED)
    log.info("header", extra={"authorization": f"Bearer {IAM_TOKEN}", "key": {"pem": PEM}})
    log.info("the key file: %r", {"private_key": PEM, "oauth": OAUTH_TOKEN, "app": APP_TOKEN})
    try:
        raise RuntimeError(f"auth failed with {SLACK_TOKEN} and {REGISTERED}\n{PEM}")
    except RuntimeError:
        log.exception("request failed")
    log.warning("db down: postgresql+asyncpg://bot:hunter2hunter2@db:5432/bot")
    text = out.getvalue()
    for secret in (SLACK_TOKEN, APP_TOKEN, IAM_TOKEN, OAUTH_TOKEN, REGISTERED, PEM_BODY_LINE):
        assert secret not in text
    assert "hunter2hunter2" not in text
    assert "BEGIN PRIVATE KEY" not in text
    lines = _lines(out)
    assert len(lines) == 6
    assert lines[0]["msg"] == f"token in the message {REDACTED}"
    assert lines[2]["authorization"] == f"Bearer {REDACTED}"
    assert "RuntimeError" in str(lines[4]["exc"])
    assert "postgresql+asyncpg://bot:" in str(lines[5]["msg"])


def test_records_of_library_loggers_are_redacted_too() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out)
    logging.getLogger("slack_sdk.web.async_base_client").info(
        "Sending a request - token=%s", SLACK_TOKEN
    )
    assert SLACK_TOKEN not in out.getvalue()
    assert REDACTED in out.getvalue()


def test_setting_up_twice_keeps_one_handler_and_the_newest_settings() -> None:
    first, second = io.StringIO(), io.StringIO()
    before = len(logging.getLogger().handlers)
    setup_logging("INFO", stream=first)
    setup_logging("WARNING", stream=second)
    assert len(logging.getLogger().handlers) == before + 1
    logging.getLogger("bot").info("dropped")
    logging.getLogger("bot").warning("kept")
    assert first.getvalue() == ""
    assert [line["msg"] for line in _lines(second)] == ["kept"]


def test_a_wrong_level_or_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        setup_logging("LOUD")
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        setup_logging("INFO", "xml")


def test_request_ids_are_short_unique_and_restored_after_the_block() -> None:
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 8 for i in ids)
    with bind_request_id() as outer:
        with bind_request_id("inner001"):
            assert request_id_var.get() == "inner001"
        assert request_id_var.get() == outer
    assert request_id_var.get() == "-"


def test_redact_leaves_ordinary_text_alone() -> None:
    text = (
        "cluster c9qexamplecluster001 backup t1.micro size 12 GiB at https://console.yandex.cloud/x"
    )
    assert redact(text) == text
    assert redact(f"Bearer {IAM_TOKEN}") == f"Bearer {REDACTED}"


RESPONSE_URLS = (
    "https://hooks.slack.com/commands/T0TESTTEAM/1234567890123/AbCdEf0123456789AbCdEf01",
    "https://hooks.slack.com/actions/T0TESTTEAM/1234567890123/AbCdEf0123456789AbCdEf01",
    "https://hooks.slack.com/app/T0TESTTEAM/1234567890123/AbCdEf0123456789AbCdEf01",
    "https://hooks.slack.com/services/T0TESTTEAM/B0123456789/AbCdEf0123456789AbCdEf01",
    "https://hooks.slack-gov.com/commands/T0TESTTEAM/1234567890123/AbCdEf0123456789AbCd",
)
#: The path's secret part, as it would still show if only the host were scrubbed.
URL_SECRET = "AbCdEf0123456789AbCd"


@pytest.mark.parametrize("url", RESPONSE_URLS)
def test_response_urls_are_scrubbed_plain_percent_encoded_and_json_escaped(url: str) -> None:
    from urllib.parse import quote

    for text in (
        f"Sending a request - url: {url}, body: {{}}",
        f"response_url={quote(url, safe='')}&trigger_id=1.2.3",
        json.dumps({"response_url": url}).replace("/", "\\/"),
        repr({"response_url": url}),
    ):
        scrubbed = redact(text)
        assert URL_SECRET not in scrubbed, scrubbed
        assert REDACTED in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "token=deprecated-verification-token&team_id=T0TESTTEAM",
        '{"token": "deprecated-verification-token", "team": {"id": "T0"}}',
        "{'token': 'deprecated-verification-token', 'team_id': 'T0'}",
        '{\\"token\\": \\"deprecated-verification-token\\"}',
        "payload=%7B%22token%22%3A%22deprecated-verification-token%22%2C%22type%22%3A%22x%22",
        "payload=%7B%22token%22%3A+%22deprecated-verification-token%22%7D",
    ],
)
def test_the_legacy_verification_token_is_scrubbed_in_every_shape(text: str) -> None:
    scrubbed = redact(text)
    assert "deprecated-verification-token" not in scrubbed
    assert REDACTED in scrubbed


def test_words_that_merely_end_in_token_keep_their_values() -> None:
    text = "next_page_token=abc123 pageToken=def456"
    assert redact(text) == text


def test_a_long_message_is_cut_says_so_and_leaves_no_half_secret() -> None:
    out = io.StringIO()
    setup_logging("INFO", "json", secrets=[REGISTERED], stream=out)
    # The cut falls inside the registered secret and inside a token-shaped run.
    filler = "x " * 5000
    logging.getLogger("bot.test").info("%s%s tail", filler[: MAX_LINE - 10], REGISTERED)
    logging.getLogger("bot.test").info("%s", "word " * 10_000)
    first, second = _lines(out)
    assert "cut:" in str(first["msg"])
    assert len(str(first["msg"])) < MAX_LINE + 100
    assert REGISTERED[:8] not in str(first["msg"])
    assert str(second["msg"]).endswith("more characters]")


def test_a_long_traceback_keeps_its_end() -> None:
    out = io.StringIO()
    setup_logging("INFO", "json", stream=out)
    try:
        raise ValueError("the innermost reason " + "y" * (2 * MAX_LINE))
    except ValueError:
        logging.getLogger("bot.test").exception("failed")
    [line] = _lines(out)
    exc = str(line["exc"])
    assert exc.startswith("[cut: ")
    assert len(exc) < MAX_LINE + 100
    assert "y" * 100 in exc


# --- secrets by role: held values and response_url fields -------------------------------------

#: A response URL of a proxy in front of Slack: no hooks.slack.com to recognise it by.
PROXY_URL = "https://slack-egress.corp.example/commands/T0TESTTEAM/1234567890123/pr0xyS3cretPart"
PROXY_SECRET = "pr0xyS3cretPart"


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_held_value_is_scrubbed_until_its_time_runs_out() -> None:
    clock = _Clock()
    held = HeldSecrets(clock=clock)
    redactor = Redactor(held=held)
    held.hold(["a-minted-token-value"], seconds=60)
    assert redactor.redact("using a-minted-token-value") == f"using {REDACTED}"
    clock.now += 61
    assert redactor.redact("using a-minted-token-value") == "using a-minted-token-value"
    assert held.values() == ()


def test_a_value_held_by_a_block_stays_scrubbed_while_it_runs_and_a_while_after() -> None:
    clock = _Clock()
    held = HeldSecrets(clock=clock)
    with held.holding(response_url_forms(PROXY_URL), linger=300):
        with held.holding([PROXY_URL], linger=1):  # a second answer on the same URL
            pass
        clock.now += 10_000  # a long answer: still held while it runs
        assert PROXY_URL in held.values()
    clock.now += 299
    assert PROXY_URL in held.values()
    clock.now += 2
    assert held.values() == ()


def test_short_values_are_not_held_since_they_would_shred_ordinary_text() -> None:
    held = HeldSecrets()
    held.hold(["abc", ""], seconds=60)
    assert held.values() == ()


def test_the_held_values_are_bounded() -> None:
    clock = _Clock()
    held = HeldSecrets(clock=clock)
    for n in range(MAX_HELD + 50):
        clock.now += 0.001
        held.hold([f"response-url-number-{n:06d}"], seconds=60)
    values = held.values()
    assert len(values) == MAX_HELD
    assert "response-url-number-000000" not in values  # the first to expire went first
    assert f"response-url-number-{MAX_HELD + 49:06d}" in values


@pytest.mark.parametrize(
    "template",
    [
        "Sending a request - url: {url}, body: {{}}",
        "POST {url} failed: 502",
        "body: response_url={encoded}&trigger_id=1.2.3",
        "{escaped}",
        "GET {path} HTTP/1.1",
    ],
)
def test_a_held_response_url_is_scrubbed_whatever_its_host_at_debug(template: str) -> None:
    from urllib.parse import quote

    out = io.StringIO()
    setup_logging("DEBUG", "json", stream=out)
    text = template.format(
        url=PROXY_URL,
        encoded=quote(PROXY_URL, safe=""),
        escaped=json.dumps({"url": PROXY_URL}).replace("/", "\\/"),
        path="/commands/T0TESTTEAM/1234567890123/pr0xyS3cretPart",
    )
    with HELD_SECRETS.holding(response_url_forms(PROXY_URL)):
        logging.getLogger("slack_sdk.webhook.async_client").debug("%s", text)
    assert PROXY_SECRET not in out.getvalue()
    assert REDACTED in out.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        f"response_url={PROXY_URL}&text=list",
        json.dumps({"response_url": PROXY_URL, "type": "block_actions"}),
        json.dumps({"response_url": PROXY_URL}).replace("/", "\\/"),
        json.dumps(json.dumps({"response_url": PROXY_URL}).replace("/", "\\/")),
        repr({"response_url": PROXY_URL}),
        "payload=%7B%22response_url%22%3A%22https%3A%2F%2Fslack-egress.corp.example%2Fcommands"
        "%2FT0%2F1%2Fpr0xyS3cretPart%22%2C%22type%22%3A%22x%22%7D",
        json.dumps({"response_urls": [{"block_id": "b", "response_url": PROXY_URL}]}),
    ],
)
def test_a_response_url_field_is_scrubbed_by_its_role_even_when_nobody_held_it(text: str) -> None:
    scrubbed = Redactor(held=HeldSecrets()).redact(text)
    assert PROXY_SECRET not in scrubbed, scrubbed
    assert REDACTED in scrubbed


def test_a_redactor_reads_held_values_logged_from_another_thread() -> None:
    import threading

    out = io.StringIO()
    setup_logging("DEBUG", "json", stream=out)
    with HELD_SECRETS.holding([PROXY_URL]):
        worker = threading.Thread(
            target=lambda: logging.getLogger("aiosqlite").debug("url %s", PROXY_URL)
        )
        worker.start()
        worker.join()
    assert PROXY_SECRET not in out.getvalue()
