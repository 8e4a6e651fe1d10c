"""Checks of request arguments against the API's documented limits, before anything is sent.

Pure functions, shared by the client and the command layer, so that a person typing
``/backups list <id>`` gets the same plain answer as code calling the client.
"""

from __future__ import annotations

import string
import unicodedata

from bot.errors import InvalidArgument

#: Longest id the API accepts (``The maximum string length in characters is 50``).
MAX_ID_LENGTH = 50
#: Longest page token the API accepts.
MAX_PAGE_TOKEN_LENGTH = 100
#: Largest page size the API accepts; 0 means the server's default (100).
MAX_PAGE_SIZE = 1000

# RFC 3986 unreserved characters plus ':' (a valid path-segment character; MDB backup ids are
# "<cluster id>:<name>"). Everything else would need percent-encoding, and no real id does.
_ID_CHARS = frozenset(string.ascii_letters + string.digits + "-._~:")


def _describe(char: str) -> str:
    if char == " ":
        return "a space"
    if char.isspace():
        return f"a whitespace character (U+{ord(char):04X})"
    if unicodedata.category(char).startswith("C"):
        return f"a control character (U+{ord(char):04X})"
    return f"'{char}'"


def validate_id(kind: str, value: str) -> str:
    """Return ``value`` if it is a possible id of ``kind`` ("cluster id"...), else raise.

    Raises :class:`~bot.errors.InvalidArgument` with a message a person understands.
    """
    if not value:
        raise InvalidArgument(f"{kind} is empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument(
            f"{kind} is {len(value)} characters long; the cloud allows at most {MAX_ID_LENGTH}"
        )
    for char in value:
        if char not in _ID_CHARS:
            raise InvalidArgument(
                f"{kind} contains {_describe(char)}, which cannot be part of an id",
                hint="ids are letters, digits, '-', '_', '.', '~' and ':'",
            )
    # "." and ".." are dot-segments: a URL library would resolve them away and hit another path.
    if set(value) == {"."}:
        raise InvalidArgument(f"{kind} {value!r} is not an id")
    return value


def validate_page_size(value: int) -> int:
    """Return ``value`` if it is an acceptable page size (0..1000, 0 = server default)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"page size must be a whole number, not {type(value).__name__}")
    if not 0 <= value <= MAX_PAGE_SIZE:
        raise InvalidArgument(
            f"page size is {value}; the cloud allows 0 to {MAX_PAGE_SIZE} (0: its default of 100)"
        )
    return value


def validate_page_token(value: str) -> str:
    """Return ``value`` if it is an acceptable page token (at most 100 characters)."""
    if len(value) > MAX_PAGE_TOKEN_LENGTH:
        raise InvalidArgument(
            f"page token is {len(value)} characters long; "
            f"the cloud allows at most {MAX_PAGE_TOKEN_LENGTH}"
        )
    return value
