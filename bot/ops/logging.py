"""Logging for the whole process: JSON lines for machines, text for people, never a secret.

:func:`setup_logging` installs one handler on the root logger. Every record carries the request id
bound in the current context (:func:`bind_request_id`), so the lines of one slash command, one
sweep or one digest can be found together, and the id shown to a user in an error reply leads to
them. A redaction filter on the handler scrubs the secret values it was given and the well-known
token shapes from the message, its arguments, extra fields and exception text, for every logger
(ours and the libraries').
"""

from __future__ import annotations

import json
import logging
import re
import secrets as _secrets
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.errors import ConfigError

REDACTED = "[REDACTED]"

#: The request id of the work being done in this context; "-" outside any.
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

#: Token shapes scrubbed even when nobody registered the value (say, a token pasted into a
#: command, or one read from a file the bot was not told about).
_TOKEN_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys, also JSON-escaped (\n) as in a service account key file; a block cut
    # short (no END line) is scrubbed to the end of the text.
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:.*?-----END [A-Z ]*PRIVATE KEY-----|.*)",
            re.DOTALL,
        ),
        REDACTED,
    ),
    # Slack tokens: xoxb- (bot), xoxp- (user), xoxe- / xoxe.xoxp- (refresh), xapp- (app-level).
    (re.compile(r"\b(?:xox[abeoprs](?:\.xox[a-z])?|xapp)-[0-9A-Za-z-]+"), REDACTED),
    # Yandex Cloud IAM tokens (t1.<base64url>.<base64url>) and OAuth tokens (y0_..., y1_...).
    (re.compile(r"\bt1\.[A-Za-z0-9_\-]{8,}[A-Za-z0-9_\-.=]*"), REDACTED),
    (re.compile(r"\by[0-3]_[A-Za-z0-9_\-]{20,}"), REDACTED),
    # Authorization headers of any scheme the bot uses.
    (re.compile(r"\b(Bearer|OAuth)\s+[A-Za-z0-9._~+/=\-]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # Passwords in URLs (a DATABASE_URL in a driver's error message).
    (re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
)

#: Registered values shorter than this are not scrubbed: they would shred ordinary text.
_MIN_SECRET_LENGTH = 6

# LogRecord attributes that are not "extra" fields.
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "request_id"}
)

_HANDLER_MARK = "_backups_bot_handler"


def new_request_id() -> str:
    """A short random id (8 hex digits) for one unit of work."""
    return _secrets.token_hex(4)


@contextmanager
def bind_request_id(request_id: str | None = None) -> Iterator[str]:
    """Bind a request id (a new one by default) for the duration of the block; yields it."""
    value = request_id or new_request_id()
    token = request_id_var.set(value)
    try:
        yield value
    finally:
        request_id_var.reset(token)


class Redactor:
    """Scrubs registered secret values and well-known token shapes from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is scrubbed whole.
        self._secrets = sorted(values, key=len, reverse=True)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"

    def redact(self, text: str) -> str:
        """``text`` with every secret and token shape replaced by ``[REDACTED]``."""
        for value in self._secrets:
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern, replacement in _TOKEN_PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Scrub ``secrets`` and well-known token shapes from ``text`` (for error messages, replies)."""
    return Redactor(secrets).redact(text)


class RedactingFilter(logging.Filter):
    """Rewrites each record so that no registered secret or token shape leaves the process.

    The message is formatted here (args merged) and then scrubbed, so a secret passed as an
    argument is caught too; exception and stack text are formatted and scrubbed the same way.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        r = self.redactor.redact
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line (or leak the args)
            message = f"{record.msg!s} (unformattable arguments)"
        record.msg = r(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = r(record.exc_text)
        # The scrubbed text above is what formatters print; drop the live exception objects so
        # that no formatter renders their (unscrubbed) text again.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = r(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRS:
                setattr(record, key, _redact_value(value, r))
        record.request_id = request_id_var.get()
        return True


def _redact_value(value: object, r: Callable[[str], str]) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return r(value)
    # Containers and objects: scrub their JSON text; keep the structure when that still parses.
    text = r(json.dumps(value, default=str, ensure_ascii=False))
    try:
        return json.loads(text)
    except ValueError:
        return text


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, request_id, msg, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS.mmm LEVEL [request-id] logger: message`` for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created).strftime("%H:%M:%S.") + (
            f"{int(record.msecs):03d}"
        )

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return super().format(record)


_FORMATS = ("auto", "json", "text")


def _level_number(level: str) -> int:
    names = logging.getLevelNamesMapping()
    number = names.get(level.strip().upper())
    if number is None:
        allowed = ", ".join(n for n in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
        raise ConfigError(f"LOG_LEVEL: {level!r} is not a log level; use one of {allowed}")
    return number


def setup_logging(
    level: str,
    fmt: str = "auto",
    secrets: Iterable[str] = (),
    *,
    stream: TextIO | None = None,
) -> None:
    """Send every logger's records to stderr (or ``stream``), redacted, as JSON or text.

    ``fmt`` is "json", "text", or "auto": JSON unless the stream is a terminal. Calling it again
    replaces the handler it installed before (new level, format or secrets), never adds one.
    """
    number = _level_number(level)
    choice = fmt.strip().lower()
    if choice not in _FORMATS:
        raise ConfigError(f"LOG_FORMAT: {fmt!r} is not one of {', '.join(_FORMATS)}")
    out = stream if stream is not None else sys.stderr
    if choice == "auto":
        isatty = getattr(out, "isatty", None)
        choice = "text" if callable(isatty) and isatty() else "json"

    handler = logging.StreamHandler(out)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    handler.setFormatter(JsonFormatter() if choice == "json" else TextFormatter())

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(number)
    # One access line per health probe and scrape is noise; keep them for DEBUG.
    quiet = logging.DEBUG if number <= logging.DEBUG else logging.WARNING
    logging.getLogger("aiohttp.access").setLevel(quiet)
    # Alembic narrates every start ("Context impl ...", "Will assume ..."): DEBUG material.
    logging.getLogger("alembic").setLevel(quiet)
