"""Logging for the whole process: JSON lines for machines, text for people, never a secret.

:func:`setup_logging` installs one handler on the root logger. Every record carries the request id
bound in the current context (:func:`bind_request_id`), so the lines of one slash command, one
sweep or one digest can be found together, and the id shown to a user in an error reply leads to
them. A redaction filter on the handler scrubs the secret values it was given and the well-known
token shapes from the message, its arguments, extra fields and exception text, for every logger
(ours and the libraries').

Secrets are scrubbed by role as well as by shape: the tokens and the signing secret the process
was started with are registered values; what arrives while it runs (a command's response URL, an
IAM token minted from a key) is held in :data:`HELD_SECRETS` while it is in use and for a while
after, whatever its shape (a response URL of a proxy or a GovSlack host looks like any URL); and
a ``response_url`` field is scrubbed wherever it shows, whatever its value.

What a stranger can put into a log line (a request body, a header, a command's text) must not
cost more than its length: each line is cut to :data:`MAX_LINE` characters *before* it is
redacted (and says that it was cut), and every pattern below runs in time linear in its input:
each starts at a literal (``://``, ``hooks.slack``, ``-----BEGIN``...) and its quantifiers cover
character classes that cannot overlap what follows them, so no input makes one backtrack more
than a bounded number of times per character. ``tests/ops/test_redaction_cost.py`` feeds each
one a megabyte of adversarial text.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets as _secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import quote, quote_plus, urlsplit

from bot.errors import ConfigError
from bot.i18n.catalog import _

REDACTED = "[REDACTED]"

#: The request id of the work being done in this context; "-" outside any.
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

#: The most characters of one log line (message, exception text, or one extra field) that are
#: redacted and written; the rest is cut, and the line says how much was.
MAX_LINE = 8 * 1024

#: Characters of a token, a key or a URL path: a line cut inside a run of them drops the run's
#: cut end (up to this many characters), so half a token is never written.
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-%")
_MAX_PARTIAL = 256

#: Token shapes scrubbed even when nobody registered the value (say, a token pasted into a
#: command, or one read from a file the bot was not told about). Each is linear (see above).
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # PEM private keys, also JSON-escaped (\n) as in a service account key file; a block cut
    # short (no END line) is scrubbed to the end of the text. The label is bounded, and the
    # lazy scan for END runs once per BEGIN: a BEGIN without an END takes the rest of the text.
    (
        "pem",
        re.compile(
            r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----"
            r"(?:.*?-----END [A-Z ]{0,40}PRIVATE KEY-----|.*)",
            re.DOTALL,
        ),
        REDACTED,
    ),
    # Slack tokens: xoxb- (bot), xoxp- (user), xoxe- / xoxe.xoxp- (refresh), xapp- (app-level).
    ("slack token", re.compile(r"\b(?:xox[abeoprs](?:\.xox[a-z])?|xapp)-[0-9A-Za-z-]+"), REDACTED),
    # Yandex Cloud IAM tokens (t1.<base64url>.<base64url>) and OAuth tokens (y0_..., y1_...).
    ("iam token", re.compile(r"\bt1\.[A-Za-z0-9_\-]{8}[A-Za-z0-9_\-.=]*"), REDACTED),
    ("oauth token", re.compile(r"\by[0-3]_[A-Za-z0-9_\-]{20,}"), REDACTED),
    # Authorization headers of any scheme the bot uses.
    (
        "authorization",
        re.compile(r"\b(Bearer|OAuth)\s{1,16}[A-Za-z0-9._~+/=\-]+", re.IGNORECASE),
        rf"\1 {REDACTED}",
    ),
    # Passwords in URLs (a DATABASE_URL in a driver's error message): anchored at "://", whose
    # slashes neither the user nor the password class takes, so no two tries overlap.
    ("url password", re.compile(r"://([^/\s:@]*):([^@\s/]+)@"), rf"://\1:{REDACTED}@"),
    # Response URLs and incoming webhooks (hooks.slack.com/commands/..., /actions/..., /app/...,
    # /services/..., /workflows/..., and GovSlack's hooks.slack-gov.com): a bearer URL, whoever
    # holds one may post as the bot. Also percent-encoded (a form body) and JSON-escaped (\/).
    (
        "response url",
        re.compile(r"hooks\.slack(?:-gov)?\.com(?:/|%2F|\\/)[^\s\"'<>&|]*", re.IGNORECASE),
        REDACTED,
    ),
    # A response URL by its role, whatever its host: the value of a response_url field in a form,
    # in JSON or a repr (also JSON-escaped once or twice: \/ or \\/), or percent-encoded JSON
    # (a payload= form). Each value class stops at the field's end quote or separator; the
    # escape alternative starts with a backslash, which the plain class does not take.
    (
        "response url field",
        re.compile(r"(?<![A-Za-z0-9_])response_url=[^&\s]+"),
        f"response_url={REDACTED}",
    ),
    (
        "response url key",
        re.compile(
            r"(\\?[\"']response_url\\?[\"'][ \t]{0,8}:[ \t]{0,8}\\?[\"'])"
            r"(?:[^\"'\\\s]|\\+/)*"
        ),
        rf"\1{REDACTED}",
    ),
    (
        "encoded response url key",
        re.compile(
            r"(%22response_url%22(?:%3A|:)(?:\+|%20){0,8}%22)(?:[^%&\s]|%(?!22)[0-9A-Fa-f]{2})*",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    # Slack's legacy verification token, as a form field, a JSON or repr field, or a
    # percent-encoded JSON field of a ``payload=`` form.
    ("token field", re.compile(r"(?<![A-Za-z0-9_])token=[^&\s]+"), f"token={REDACTED}"),
    (
        "token key",
        re.compile(r"(\\?[\"']token\\?[\"'][ \t]{0,8}:[ \t]{0,8}\\?[\"'])[^\"'\\]*"),
        rf"\1{REDACTED}",
    ),
    (
        "encoded token key",
        re.compile(r"(%22token%22(?:%3A|:)(?:\+|%20){0,8}%22)[^%&\s]*", re.IGNORECASE),
        rf"\1{REDACTED}",
    ),
)
_TOKEN_PATTERNS = tuple((pattern, replacement) for _, pattern, replacement in TOKEN_PATTERNS)

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


#: How long a response URL stays scrubbed after its answer went out: a retry or a late line of
#: the HTTP client still finds it held.
RESPONSE_URL_LINGER = 300.0
#: The most values held at once; past it, those that would stop being scrubbed soonest go first.
#: A response URL is held in four forms for five minutes after its answer, so this is some 500
#: commands in five minutes: far above what people type (commands are rate-limited per person),
#: and each held value costs every log line a substring search.
MAX_HELD = 2_000


@dataclass
class _Held:
    pins: int
    until: float


class HeldSecrets:
    """Secret values that arrive while the process runs, each scrubbed from every log line while
    it is held and until its time runs out. Safe to read from any thread (a library may log from
    one); written from the event loop."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._held: dict[str, _Held] = {}
        self._snapshot: tuple[str, ...] = ()
        self._next_expiry = math.inf

    def __repr__(self) -> str:
        return f"HeldSecrets({len(self._held)} values)"

    def hold(self, values: Iterable[str], *, seconds: float) -> None:
        """Scrub each of ``values`` for ``seconds`` from now (or longer, if already held)."""
        until = self._clock() + seconds
        with self._lock:
            for value in _worth_holding(values):
                held = self._held.setdefault(value, _Held(0, until))
                held.until = max(held.until, until)
            self._rebuild()

    @contextmanager
    def holding(
        self, values: Iterable[str], *, linger: float = RESPONSE_URL_LINGER
    ) -> Iterator[None]:
        """Scrub ``values`` for the duration of the block and ``linger`` seconds after it."""
        kept = list(_worth_holding(values))
        with self._lock:
            for value in kept:
                self._held.setdefault(value, _Held(0, 0.0)).pins += 1
            self._rebuild()
        try:
            yield
        finally:
            until = self._clock() + linger
            with self._lock:
                for value in kept:
                    held = self._held.setdefault(value, _Held(1, 0.0))
                    held.pins = max(0, held.pins - 1)
                    held.until = max(held.until, until)
                self._rebuild()

    def values(self) -> tuple[str, ...]:
        """The values scrubbed now, longest first."""
        if self._clock() >= self._next_expiry:
            with self._lock:
                self._rebuild()
        return self._snapshot

    def _rebuild(self) -> None:
        now = self._clock()
        for value in [v for v, h in self._held.items() if not h.pins and h.until <= now]:
            del self._held[value]
        if len(self._held) > MAX_HELD:
            unpinned = sorted((h.until, v) for v, h in self._held.items() if not h.pins)
            for _, value in unpinned[: len(self._held) - MAX_HELD]:
                del self._held[value]
        self._snapshot = tuple(sorted(self._held, key=len, reverse=True))
        ends = [h.until for h in self._held.values() if not h.pins]
        self._next_expiry = min(ends) if ends else math.inf


def _worth_holding(values: Iterable[str]) -> Iterator[str]:
    return (v for v in values if v and len(v) >= _MIN_SECRET_LENGTH)


def response_url_forms(url: str) -> list[str]:
    """Every form a response URL takes in a log line: as is, percent-encoded (a form body),
    JSON-escaped (``\\/``), and its path alone when that is long enough to be the secret part."""
    forms = list(
        dict.fromkeys([url, quote(url, safe=""), quote_plus(url), url.replace("/", "\\/")])
    )
    try:
        parts = urlsplit(url)
    except ValueError:
        return forms
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(path) >= _MIN_PATH_SECRET:
        forms.append(path)
    return forms


#: A response URL's path is held on its own only from this length: Slack's are about 60
#: characters; a short path ("/r/1") would shred ordinary text.
_MIN_PATH_SECRET = 16

#: What the process holds besides its registered secrets: response URLs of answers in flight,
#: IAM tokens minted from a key. Every :class:`Redactor` consults it unless given another.
HELD_SECRETS = HeldSecrets()


class Redactor:
    """Scrubs registered secret values, held values (:data:`HELD_SECRETS`) and well-known token
    shapes from text."""

    def __init__(self, secrets: Iterable[str] = (), *, held: HeldSecrets | None = None) -> None:
        values = {s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is scrubbed whole.
        self._own = sorted(values, key=len, reverse=True)
        self._held = held if held is not None else HELD_SECRETS
        self._held_seen: tuple[str, ...] = ()
        self._secrets = list(self._own)

    def __repr__(self) -> str:
        return f"Redactor({len(self._own)} secrets)"

    def _current(self) -> list[str]:
        held = self._held.values()
        if held is not self._held_seen:
            self._held_seen = held
            self._secrets = sorted({*self._own, *held}, key=len, reverse=True)
        return self._secrets

    def redact(self, text: str) -> str:
        """``text`` with every secret and token shape replaced by ``[REDACTED]``."""
        for value in self._current():
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern, replacement in _TOKEN_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def redact_line(self, text: str, *, limit: int = MAX_LINE, keep: str = "head") -> str:
        """:meth:`redact` of ``text`` cut to ``limit`` characters first (its head, or for a
        traceback its ``keep="tail"``), saying how much was cut. The cut never leaves part of a
        token or of a registered secret behind."""
        if len(text) <= limit:
            return self.redact(text)
        # What is kept may grow when scrubbed ("t1.x" becomes "[REDACTED]"): cut that too.
        if keep == "tail":
            kept = self._trim_partial_head(text[-limit:])
            cut = f"[cut: {len(text) - len(kept):,} characters before] "
            return cut + self.redact(kept)[-limit:]
        kept = self._trim_partial_tail(text[:limit])
        return self.redact(kept)[:limit] + f" [cut: {len(text) - len(kept):,} more characters]"

    def _trim_partial_tail(self, head: str) -> str:
        end = len(head)
        floor = max(0, end - _MAX_PARTIAL)
        while end > floor and head[end - 1] in _TOKEN_CHARS:
            end -= 1
        head = head[:end]
        for value in self._current():  # a secret with characters outside _TOKEN_CHARS
            for size in range(min(len(value) - 1, len(head)), 0, -1):
                if head.endswith(value[:size]):
                    head = head[:-size]
                    break
        return head

    def _trim_partial_head(self, tail: str) -> str:
        start = 0
        ceiling = min(len(tail), _MAX_PARTIAL)
        while start < ceiling and tail[start] in _TOKEN_CHARS:
            start += 1
        tail = tail[start:]
        for value in self._current():
            for size in range(min(len(value) - 1, len(tail)), 0, -1):
                if tail.startswith(value[-size:]):
                    tail = tail[size:]
                    break
        return tail


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
        r = self.redactor.redact_line
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line (or leak the args)
            message = f"{str(record.msg)[:MAX_LINE]} (unformattable arguments)"
        record.msg = r(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # The end of a traceback (the innermost frames and the error) is the part to keep.
            record.exc_text = r(record.exc_text, keep="tail")
        # The scrubbed text above is what formatters print; drop the live exception objects so
        # that no formatter renders their (unscrubbed) text again.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = r(record.stack_info, keep="tail")
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
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level_problem(level: str) -> str | None:
    """What is wrong with a LOG_LEVEL value, in one line; None when it is a level."""
    if level.strip().upper() in logging.getLevelNamesMapping():
        return None
    return _("LOG_LEVEL: {value} is not a log level; use one of {known}").format(
        value=repr(level[:40]), known=", ".join(_LEVELS)
    )


def log_format_problem(fmt: str) -> str | None:
    """What is wrong with a LOG_FORMAT value, in one line; None when it is a format."""
    if fmt.strip().lower() in _FORMATS:
        return None
    return _("LOG_FORMAT: {value} is not a log format; use one of {known}").format(
        value=repr(fmt[:40]), known=", ".join(_FORMATS)
    )


def _level_number(level: str) -> int:
    problem = log_level_problem(level)
    if problem is not None:
        raise ConfigError(problem)
    return logging.getLevelNamesMapping()[level.strip().upper()]


def remove_logging() -> None:
    """Take away the handler :func:`setup_logging` installed (the CLI does, when a verb ends)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()


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
    problem = log_format_problem(fmt)
    if problem is not None:
        raise ConfigError(problem)
    choice = fmt.strip().lower()
    out = stream if stream is not None else sys.stderr
    if choice == "auto":
        isatty = getattr(out, "isatty", None)
        choice = "text" if callable(isatty) and isatty() else "json"

    handler = logging.StreamHandler(out)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    handler.setFormatter(JsonFormatter() if choice == "json" else TextFormatter())

    remove_logging()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(number)
    # One access line per health probe and scrape is noise; keep them for DEBUG.
    quiet = logging.DEBUG if number <= logging.DEBUG else logging.WARNING
    logging.getLogger("aiohttp.access").setLevel(quiet)
    # Alembic narrates every start ("Context impl ...", "Will assume ..."): DEBUG material.
    logging.getLogger("alembic").setLevel(quiet)
