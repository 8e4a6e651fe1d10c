"""One error tree for the whole bot.

Every error carries a message written for a person (``str(err)``); handlers turn these into
ephemeral Slack replies or one-line CLI messages. No error message ever contains a token, key or
signing secret: code that builds them must only use identifiers and the cloud's own message.
"""

from __future__ import annotations

from typing import Any


class BotError(Exception):
    """Base of every error the bot raises on purpose. ``str(err)`` is safe to show to a user."""


# --- input from people -------------------------------------------------------------------------


class UsageError(BotError):
    """A command was typed wrong: unknown verb, missing or malformed argument."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class InvalidArgument(UsageError):
    """An argument breaks a documented limit (id length, page size, token length...)."""


class AccessDenied(BotError):
    """The config does not allow this person, channel or command."""


class ConfigError(BotError):
    """The YAML config or the environment is wrong. The message names the place and the reason."""


# --- the cloud -----------------------------------------------------------------------------------


class CloudError(BotError):
    """Anything that went wrong talking to Yandex Cloud.

    ``client_request_id`` is the ``x-client-request-id`` the bot sent with the call, where the
    failure belongs to one: a support ticket names the call by it.
    """

    def __init__(self, message: str = "", *, client_request_id: str | None = None) -> None:
        super().__init__(message)
        self.client_request_id = client_request_id

    def __repr__(self) -> str:
        ids = f", client_request_id={self.client_request_id!r}" if self.client_request_id else ""
        return f"{type(self).__name__}({str(self)!r}{ids})"


class AuthError(CloudError):
    """No IAM token could be obtained (bad key file, exchange refused, metadata unreachable).

    ``unreachable``: IAM or the metadata service gave no answer (try again later); ``refused``:
    it answered no (the credentials need a change). The message says it in the reader's words,
    so these tell it to code."""

    def __init__(
        self,
        message: str = "",
        *,
        unreachable: bool = False,
        refused: bool = False,
        client_request_id: str | None = None,
    ) -> None:
        super().__init__(message, client_request_id=client_request_id)
        self.unreachable = unreachable
        self.refused = refused


class CloudRequestError(CloudError):
    """The request did not get an HTTP answer: connection refused, reset, DNS, TLS."""


class CloudTimeout(CloudRequestError):
    """The request did not complete within its timeout."""


#: gRPC status code names by number, as the REST gateway reports them in an error body's
#: ``code`` (google.rpc.Code).
GRPC_CODE_NAMES = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}


class CloudAPIError(CloudError):
    """The cloud answered with an error. Keeps the HTTP status, the cloud's own gRPC ``code``,
    ``message`` and ``details``, and its ``request_id`` of the call (from the body's
    ``details[].requestId``, else a response header).

    Its type follows the ``code`` where the body has a telling one, else the status.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: int | None = None,
        details: list[Any] | None = None,
        request_id: str | None = None,
        client_request_id: str | None = None,
    ) -> None:
        super().__init__(message, client_request_id=client_request_id)
        self.status = status
        self.code = code
        self.details = details or []
        self.request_id = request_id

    @property
    def code_name(self) -> str | None:
        """The gRPC code's name ("NOT_FOUND"), or None when the body had no code."""
        if self.code is None:
            return None
        return GRPC_CODE_NAMES.get(self.code, str(self.code))

    def __repr__(self) -> str:
        ids = "".join(
            f", {name}={value!r}"
            for name, value in (
                ("request_id", self.request_id),
                ("client_request_id", self.client_request_id),
            )
            if value
        )
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code}, "
            f"message={str(self)!r}{ids})"
        )


class NotFound(CloudAPIError):
    """NOT_FOUND (404), or an object outside the folders the bot may show. ``suggestions``: the
    names closest to what was asked for, when there are some to offer ("did you mean")."""

    suggestions: tuple[str, ...] = ()


class PermissionDenied(CloudAPIError):
    """PERMISSION_DENIED (403): the service account lacks a role."""


class Unauthenticated(CloudAPIError):
    """UNAUTHENTICATED (401): the IAM token was refused."""


class BadRequest(CloudAPIError):
    """INVALID_ARGUMENT or OUT_OF_RANGE (400): the cloud refused the request's arguments."""


class FailedPrecondition(BadRequest):
    """FAILED_PRECONDITION (400): the object is not in a state that allows this, e.g. a backup of
    a stopped cluster. Asking again changes nothing until its state does."""


class Conflict(CloudAPIError):
    """409: the request collides with what already is or what is under way."""


class AlreadyExists(Conflict):
    """ALREADY_EXISTS (409): what the call would create is there already."""


class Aborted(Conflict):
    """ABORTED (409): another operation on the same object got there first; worth asking again
    once it has finished."""


class RateLimited(CloudAPIError):
    """RESOURCE_EXHAUSTED (429) after the retries ran out."""


class ServerError(CloudAPIError):
    """5xx (INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED, DATA_LOSS) after the retries ran out."""


class Unimplemented(ServerError):
    """UNIMPLEMENTED (501): the cloud does not offer this method here."""


class MalformedResponse(CloudError):
    """The cloud answered 2xx with a body that is not the JSON we expect."""


# --- Slack ---------------------------------------------------------------------------------------


class SlackError(BotError):
    """A Slack Web API call failed for good."""


# --- the bot's own database ----------------------------------------------------------------------


class StoreError(BotError):
    """The bot's database failed. The message never holds the database URL or the SQL."""


class StoreUnavailable(StoreError):
    """The database could not be reached or did not answer (connection refused or dropped,
    locked past the busy timeout, pool exhausted). The transaction did not commit."""
