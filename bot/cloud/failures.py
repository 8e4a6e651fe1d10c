"""What an error answer of the cloud means: its type by the body's gRPC code, its message for a
person, and the cloud's id of the request. Pure: an answer in, an error out.

The REST gateway answers an error with a ``google.rpc.Status`` body (``code``, ``message``,
``details``) beside an HTTP status. Several codes share a status (400 is INVALID_ARGUMENT,
FAILED_PRECONDITION or OUT_OF_RANGE; 409 is ALREADY_EXISTS or ABORTED), so the code decides where
the body has a telling one, and the status where it has none (a proxy's page, a gateway error).
"""

from __future__ import annotations

import json
from typing import Any

from bot.cloud.session import HttpReply
from bot.errors import (
    Aborted,
    AlreadyExists,
    BadRequest,
    CloudAPIError,
    Conflict,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unauthenticated,
    Unimplemented,
)
from bot.i18n.catalog import N_, _

#: Error types by the gRPC code of the body. CANCELLED and UNKNOWN say nothing of the cause, so
#: the HTTP status decides for them, as it does for a body without a code.
_BY_CODE: dict[int, type[CloudAPIError]] = {
    3: BadRequest,  # INVALID_ARGUMENT
    4: ServerError,  # DEADLINE_EXCEEDED
    5: NotFound,
    6: AlreadyExists,
    7: PermissionDenied,
    8: RateLimited,  # RESOURCE_EXHAUSTED
    9: FailedPrecondition,
    10: Aborted,
    11: BadRequest,  # OUT_OF_RANGE
    12: Unimplemented,
    13: ServerError,  # INTERNAL
    14: ServerError,  # UNAVAILABLE
    15: ServerError,  # DATA_LOSS
    16: Unauthenticated,
}
_BY_STATUS: dict[int, type[CloudAPIError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
    501: Unimplemented,
}
#: What a person reads when the cloud's body says nothing.
_DEFAULT_MESSAGES: dict[type[CloudAPIError], str] = {
    BadRequest: N_("the cloud refused the request's arguments"),
    FailedPrecondition: N_("the cloud cannot do this in the object's present state"),
    Unauthenticated: N_("the cloud refused the IAM token"),
    PermissionDenied: N_("permission denied"),
    NotFound: N_("not found"),
    AlreadyExists: N_("it exists already"),
    Aborted: N_("another operation on it got there first; try again when it has finished"),
    RateLimited: N_("the cloud is throttling requests; try again in a minute"),
    Unimplemented: N_("the cloud does not offer this here"),
}


def error_class(status: int, code: int | None) -> type[CloudAPIError]:
    """The error type of an answer: by the body's gRPC ``code`` where it tells the cause, else by
    the HTTP ``status``."""
    by_code = _BY_CODE.get(code) if code is not None else None
    if by_code is not None:
        return by_code
    by_status = _BY_STATUS.get(status)
    if by_status is not None:
        return by_status
    return ServerError if status >= 500 else CloudAPIError


def api_error(reply: HttpReply, *, token: str, client_request_id: str) -> CloudAPIError:
    """The typed error of a non-2xx answer, with the cloud's code, message, details and its id
    of the request (the body's ``details[].requestId``, else a response header)."""
    code: int | None = None
    message = ""
    details: list[Any] = []
    try:
        data = json.loads(reply.body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        if isinstance(data.get("code"), int) and not isinstance(data.get("code"), bool):
            code = data["code"]
        if isinstance(data.get("message"), str):
            message = data["message"].strip()
        if isinstance(data.get("details"), list):
            details = data["details"]
    kind = error_class(reply.status, code)
    if not message:  # the cloud said nothing: our words, in the reader's language
        default = _DEFAULT_MESSAGES.get(kind)
        message = (
            _(default)
            if default is not None
            else _("the cloud answered HTTP {status}").format(status=reply.status)
        )
    # A server should never echo the token back; if one does, it stops here.
    if token:
        message = message.replace(token, "***")
        if details and token in json.dumps(details):
            details = json.loads(json.dumps(details).replace(token, "***"))
    request_id = next(
        (
            d["requestId"]
            for d in details
            if isinstance(d, dict) and isinstance(d.get("requestId"), str) and d["requestId"]
        ),
        reply.request_id,
    )
    return kind(
        reply.status,
        message,
        code=code,
        details=details,
        request_id=request_id,
        client_request_id=client_request_id,
    )
