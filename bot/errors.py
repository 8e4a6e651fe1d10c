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
    """Anything that went wrong talking to Yandex Cloud."""


class AuthError(CloudError):
    """No IAM token could be obtained (bad key file, exchange refused, metadata unreachable)."""


class CloudRequestError(CloudError):
    """The request did not get an HTTP answer: connection refused, reset, DNS, TLS."""


class CloudTimeout(CloudRequestError):
    """The request did not complete within its timeout."""


class CloudAPIError(CloudError):
    """The cloud answered with an error status. Keeps the cloud's own ``code`` and ``message``."""

    #: gRPC code names by number, as the REST gateway reports them in ``code``.
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: int | None = None,
        details: list[Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details or []
        self.request_id = request_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code}, message={str(self)!r})"
        )


class NotFound(CloudAPIError):
    """404, or an object outside the folders the bot may show."""


class PermissionDenied(CloudAPIError):
    """403: the service account lacks a role."""


class Unauthenticated(CloudAPIError):
    """401: the IAM token was refused."""


class BadRequest(CloudAPIError):
    """400: the cloud refused the request's arguments."""


class RateLimited(CloudAPIError):
    """429 after the retries ran out."""


class ServerError(CloudAPIError):
    """5xx after the retries ran out."""


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
