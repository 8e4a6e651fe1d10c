"""Checks of request arguments against the limits the API's protos declare, before anything is
sent, and the encoding of ids into URL paths.

The limits are the ``(yandex.cloud.length)`` and ``(yandex.cloud.value)`` options of each request
message, and nothing more: cluster and folder ids are at most 50 characters, page sizes 0 to
1000, page tokens at most 100 characters (2,000 for Resource Manager's listings); a backup id
(``GetBackupRequest``) and an operation id (``GetOperationRequest``) are only required. An id is
percent-encoded into its path segment (:func:`path_segment`), so any id reaches the cloud as it
is; only "." and "..", which no URL can carry as a segment, are refused.

Pure functions, shared by the client and the command layer, so that a person typing
``/backups list <id>`` gets the same plain answer as code calling the client.
"""

from __future__ import annotations

from urllib.parse import quote

from bot.errors import InvalidArgument
from bot.i18n.catalog import N_, _, ngettext

#: Longest cluster or folder id the API accepts (``length: "<=50"`` in the protos).
MAX_ID_LENGTH = 50
#: Longest page token the API accepts (``length: "<=100"``).
MAX_PAGE_TOKEN_LENGTH = 100
#: Longest page token Resource Manager's listings accept (``length: "<=2000"``).
MAX_RESOURCE_MANAGER_PAGE_TOKEN_LENGTH = 2000
#: Largest page size the API accepts; 0 means the server's default (100).
MAX_PAGE_SIZE = 1000
#: The kinds of id the client names (translated where a refusal says them).
ID_KINDS = (
    N_("cluster id"),
    N_("folder id"),
    N_("backup id"),
    N_("network id"),
    N_("cloud id"),
    N_("organization id"),
    N_("operation id"),
)


def validate_id(kind: str, value: str, *, max_length: int | None = MAX_ID_LENGTH) -> str:
    """Return ``value`` if it can be sent as an id of ``kind`` ("cluster id"...), else raise.

    ``max_length`` is the proto's limit for that request's field; None where it declares none.
    Raises :class:`~bot.errors.InvalidArgument` with a message a person understands, in the
    current locale (``kind`` too, when it is one of :data:`ID_KINDS`).
    """
    if not value:
        raise InvalidArgument(_("{kind} is empty").format(kind=_(kind)))
    if max_length is not None and len(value) > max_length:
        raise InvalidArgument(
            ngettext(
                "{kind} is {n} character long; the cloud allows at most {most}",
                "{kind} is {n} characters long; the cloud allows at most {most}",
                len(value),
            ).format(kind=_(kind), n=len(value), most=max_length)
        )
    # "." and ".." are dot-segments: a URL library (or a proxy) would resolve them away and hit
    # another path, encoded or not.
    if value in (".", ".."):
        raise InvalidArgument(
            _("{kind} {value} is not an id").format(kind=_(kind), value=repr(value))
        )
    return value


def path_segment(value: str) -> str:
    """``value`` percent-encoded as one URL path segment (``:`` kept: MDB backup ids hold it)."""
    return quote(value, safe=":")


def validate_page_size(value: int) -> int:
    """Return ``value`` if it is an acceptable page size (0..1000, 0 = server default)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(
            _("page size must be a whole number, not {kind}").format(kind=type(value).__name__)
        )
    if not 0 <= value <= MAX_PAGE_SIZE:
        raise InvalidArgument(
            _("page size is {value}; the cloud allows 0 to {most} (0: its default of 100)").format(
                value=value, most=MAX_PAGE_SIZE
            )
        )
    return value


def validate_page_token(value: str, *, max_length: int = MAX_PAGE_TOKEN_LENGTH) -> str:
    """Return ``value`` if it is an acceptable page token (at most 100 characters, or the
    listing's own ``max_length``: 2,000 for Resource Manager's)."""
    if len(value) > max_length:
        raise InvalidArgument(
            ngettext(
                "page token is {n} character long; the cloud allows at most {most}",
                "page token is {n} characters long; the cloud allows at most {most}",
                len(value),
            ).format(n=len(value), most=max_length)
        )
    return value
