"""What an error answer of the cloud means: its type by the body's gRPC code (the status where the
body names none), the message a person reads, and the request id a ticket quotes. Pure."""

from __future__ import annotations

import json
from typing import Any

import pytest
from multidict import CIMultiDict

from bot.cloud.failures import api_error, error_class
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
from bot.i18n.catalog import use_locale

CLIENT_ID = "5f0c6f4e-2b7a-4c61-9d1e-6a3c1f2b9e10"


def reply(status: int, body: Any = None, **headers: str) -> HttpReply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body else b""
    return HttpReply(status, raw, CIMultiDict(headers))


def status_body(code: int, message: str = "", request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if request_id is not None:
        body["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": request_id}
        ]
    return body


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        # The gateway's own pairs.
        (400, 3, BadRequest),
        (400, 9, FailedPrecondition),
        (400, 11, BadRequest),
        (401, 16, Unauthenticated),
        (403, 7, PermissionDenied),
        (404, 5, NotFound),
        (409, 6, AlreadyExists),
        (409, 10, Aborted),
        (429, 8, RateLimited),
        (500, 13, ServerError),
        (500, 15, ServerError),
        (501, 12, Unimplemented),
        (503, 14, ServerError),
        (504, 4, ServerError),
        # The code decides where it tells the cause, whatever the status.
        (500, 5, NotFound),
        (400, 6, AlreadyExists),
        # CANCELLED, UNKNOWN, OK, a code from a newer API, or none: the status decides.
        (503, 2, ServerError),
        (409, 1, Conflict),
        (404, 0, NotFound),
        (400, 99, BadRequest),
        (409, None, Conflict),
        (501, None, Unimplemented),
        (502, None, ServerError),
        (505, None, ServerError),
        (418, None, CloudAPIError),
        (418, 2, CloudAPIError),
        (499, 1, CloudAPIError),
    ],
)
def test_the_error_type_follows_the_code_else_the_status(
    status: int, code: int | None, kind: type[CloudAPIError]
) -> None:
    assert error_class(status, code) is kind


def test_the_new_types_sit_where_old_handlers_find_them() -> None:
    # A reply that handles BadRequest, ServerError or any CloudAPIError reads the new kinds too.
    assert issubclass(FailedPrecondition, BadRequest)
    assert issubclass(Unimplemented, ServerError)
    assert issubclass(AlreadyExists, Conflict)
    assert issubclass(Aborted, Conflict)
    assert issubclass(Conflict, CloudAPIError)
    assert not issubclass(Conflict, (BadRequest, ServerError))


def test_an_error_keeps_the_clouds_status_code_message_and_both_request_ids() -> None:
    err = api_error(
        reply(400, status_body(9, " Cluster c9q1 is not running ", "req-from-body")),
        token="t1.x",
        client_request_id=CLIENT_ID,
    )
    assert type(err) is FailedPrecondition
    assert (err.status, err.code, err.code_name) == (400, 9, "FAILED_PRECONDITION")
    assert str(err) == "Cluster c9q1 is not running"
    assert err.request_id == "req-from-body"
    assert err.client_request_id == CLIENT_ID
    assert err.details[0]["requestId"] == "req-from-body"
    assert "client_request_id='5f0c6f4e" in repr(err)
    assert "request_id='req-from-body'" in repr(err)


def test_the_request_id_of_the_body_wins_over_the_header() -> None:
    err = api_error(
        reply(404, status_body(5, "gone", "from-body"), **{"X-Request-Id": "from-header"}),
        token="",
        client_request_id=CLIENT_ID,
    )
    assert err.request_id == "from-body"


@pytest.mark.parametrize(
    "details",
    [[], [{"@type": "x"}], ["requestId"], [{"requestId": 7}], [{"requestId": ""}]],
)
def test_without_a_request_id_in_the_body_the_header_gives_it(details: list[Any]) -> None:
    body = {"code": 5, "message": "gone", "details": details}
    with_header = reply(404, body, **{"X-Request-Id": "from-header"})
    trace_only = reply(404, body, **{"x-server-trace-id": "trace-1"})
    assert api_error(with_header, token="", client_request_id=CLIENT_ID).request_id == (
        "from-header"
    )
    assert api_error(trace_only, token="", client_request_id=CLIENT_ID).request_id == "trace-1"
    assert api_error(reply(404, body), token="", client_request_id=CLIENT_ID).request_id is None


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, None, "the cloud refused the request's arguments"),
        (400, 9, "the cloud cannot do this in the object's present state"),
        (401, None, "the cloud refused the IAM token"),
        (403, None, "permission denied"),
        (404, None, "not found"),
        (409, 6, "it exists already"),
        (409, 10, "another operation on it got there first; try again when it has finished"),
        (409, None, "the cloud answered HTTP 409"),
        (429, None, "the cloud is throttling requests; try again in a minute"),
        (501, None, "the cloud does not offer this here"),
        (503, None, "the cloud answered HTTP 503"),
    ],
)
def test_a_body_that_says_nothing_gets_a_message_a_person_reads(
    status: int, code: int | None, message: str
) -> None:
    body: Any = {"code": code, "message": "  "} if code is not None else b"<html>Error</html>"
    err = api_error(reply(status, body), token="", client_request_id=CLIENT_ID)
    assert str(err) == message
    assert err.code == code


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'{"code": "5", "message": 7, "details": {}}', b'{"code": true}'],
)
def test_a_body_of_the_wrong_shape_leaves_the_status_to_decide(body: bytes) -> None:
    err = api_error(reply(404, body), token="", client_request_id=CLIENT_ID)
    assert type(err) is NotFound
    assert (err.code, err.details, str(err)) == (None, [], "not found")


def test_a_token_the_cloud_echoes_is_scrubbed_from_message_and_details() -> None:
    token = "t1.SECRET-42"
    body = {"code": 16, "message": f"token {token} expired", "details": [{"token": token}]}
    err = api_error(reply(401, body), token=token, client_request_id=CLIENT_ID)
    assert token not in str(err) + repr(err.details)
    assert str(err) == "token *** expired"
    assert err.details == [{"token": "***"}]


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (403, 7, "доступ запрещён"),
        (404, None, "не найдено"),
        (429, None, "облако ограничивает частоту запросов; попробуйте через минуту"),
        (503, None, "облако ответило HTTP 503"),
    ],
)
def test_our_words_for_a_silent_body_are_in_the_readers_language(
    status: int, code: int | None, message: str
) -> None:
    body: Any = {"code": code, "message": ""} if code is not None else b""
    with use_locale("ru"):
        err = api_error(reply(status, body), token="", client_request_id=CLIENT_ID)
    assert str(err) == message


def test_the_clouds_own_words_stay_as_sent_in_every_language() -> None:
    body = status_body(7, "Permission denied to folder b1gexample")
    with use_locale("ru"):
        err = api_error(reply(403, body), token="", client_request_id=CLIENT_ID)
    assert str(err) == "Permission denied to folder b1gexample"
