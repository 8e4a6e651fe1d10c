"""IAM tokens for the cloud API: where they come from, when to refresh them.

Four sources, tried in this order from :class:`~bot.settings.Settings`:

1. ``YC_IAM_TOKEN``: a ready token, used as is (it cannot be refreshed).
2. ``YC_SERVICE_ACCOUNT_KEY_FILE``: an authorized key; a PS256 JWT signed with it is exchanged at
   IAM for a token.
3. ``YC_OAUTH_TOKEN``: exchanged at IAM; the cloud is retiring OAuth tokens for automation, so a
   warning is logged once.
4. the metadata service of the VM or pod the bot runs on.

When to refresh is decided by :class:`TokenCache`, which is pure (it is handed ``now``). The
providers do the I/O, one refresh at a time however many requests wait for it. Nothing here puts
a token, key or OAuth token in a repr, a log line or an error message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import aiohttp
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import TypeAdapter, ValidationError

from bot import clock
from bot.cloud.models import UTCDateTime
from bot.cloud.retry import RetryPolicy
from bot.cloud.session import (
    HttpReply,
    SessionSource,
    as_source,
    exchange,
    failure_reason,
    new_client_request_id,
)
from bot.errors import AuthError
from bot.i18n.catalog import N_, _
from bot.ops.logging import HELD_SECRETS
from bot.settings import Settings

logger = logging.getLogger(__name__)

IAM_TOKENS_PATH = "/iam/v1/tokens"
#: The audience the public IAM expects in a service account JWT (see :func:`iam_audience`).
IAM_TOKEN_AUDIENCE = "https://iam.api.cloud.yandex.net" + IAM_TOKENS_PATH
METADATA_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"  # noqa: S105
#: The metadata service answers fast or not at all; do not let a missing one stall a request.
METADATA_TIMEOUT = aiohttp.ClientTimeout(total=3.0, sock_connect=1.0)
IAM_TIMEOUT = aiohttp.ClientTimeout(total=10.0, sock_connect=3.0)
#: Lifetime of the JWT sent to IAM (the cloud allows at most one hour).
JWT_LIFETIME = timedelta(minutes=55)

_DATETIME = TypeAdapter(UTCDateTime)


# --- the pure part -------------------------------------------------------------------------------


def iam_audience(iam_endpoint: str) -> str:
    """The ``aud`` of a service account JWT: the token exchange URL of the IAM endpoint the bot
    is configured with, as the official SDK derives it (``https://iam.{endpoint}/iam/v1/tokens``).

    A JWT for the public IAM is refused by any other IAM (a private installation, a proxy that
    re-signs), and the other way round.
    """
    return iam_endpoint.rstrip("/") + IAM_TOKENS_PATH


@dataclass(frozen=True)
class IamToken:
    """An IAM token and when it expires. Its repr shows the expiry only."""

    value: str = field(repr=False)
    expires_at: datetime


class TokenCache:
    """Decides, given ``now``, whether the cached token must be refreshed. Does no I/O.

    IAM tokens live up to 12 hours; the cloud advises getting a new one about every hour. A token
    is refreshed after ``refresh_every`` or half its lifetime, whichever comes first, so a short
    lived token (the metadata service may hand out one that is already half used) is still
    refreshed well before it expires. After a failed refresh the old token, while still valid, is
    used for ``retry_failed_after`` before the next try, so a flaky IAM does not slow every
    request.
    """

    def __init__(
        self,
        *,
        refresh_every: timedelta = timedelta(hours=1),
        expiry_margin: timedelta = timedelta(seconds=30),
        retry_failed_after: timedelta = timedelta(seconds=30),
    ) -> None:
        self.refresh_every = refresh_every
        self.expiry_margin = expiry_margin
        self.retry_failed_after = retry_failed_after
        self._token: IamToken | None = None
        self._obtained_at: datetime | None = None
        self._retry_at: datetime | None = None

    def __repr__(self) -> str:
        expires = self._token.expires_at.isoformat() if self._token else None
        return f"TokenCache(expires_at={expires!r})"

    @property
    def token(self) -> IamToken | None:
        """The cached token, if any (possibly due for refresh)."""
        return self._token

    def store(self, token: IamToken, now: datetime) -> None:
        """Remember a freshly obtained token."""
        self._token = token
        self._obtained_at = now
        self._retry_at = None

    def refresh_at(self) -> datetime | None:
        """When the cached token becomes due for refresh (None: there is no token)."""
        if self._token is None or self._obtained_at is None:
            return None
        lifetime = self._token.expires_at - self._obtained_at
        return self._obtained_at + min(self.refresh_every, lifetime / 2)

    def usable(self, now: datetime) -> bool:
        """Whether the cached token may still be sent (not expired, allowing for clock skew)."""
        return self._token is not None and now < self._token.expires_at - self.expiry_margin

    def needs_refresh(self, now: datetime) -> bool:
        """Whether a new token must be obtained before the next request."""
        refresh_at = self.refresh_at()
        if refresh_at is None or not self.usable(now):
            return True
        if self._retry_at is not None and now < self._retry_at:
            return False
        return now >= refresh_at

    def note_failure(self, now: datetime) -> None:
        """A refresh failed: keep the old token (if valid) a little longer before trying again."""
        self._retry_at = now + self.retry_failed_after

    def invalidate(self, value: str | None = None) -> bool:
        """Forget the token (only if it is ``value``, when given). Returns whether it was dropped.

        Many requests may be refused with the same old token at once; only the first of them
        should cause a refresh, hence the comparison.
        """
        if self._token is None:
            return False
        if value is not None and value != self._token.value:
            return False
        self._token = None
        self._obtained_at = None
        self._retry_at = None
        return True


# --- service account keys --------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ServiceAccountKey:
    """An authorized key of a service account. Its repr names the key, never its contents."""

    key_id: str
    service_account_id: str
    private_key: rsa.RSAPrivateKey

    def __repr__(self) -> str:
        return (
            f"ServiceAccountKey(key_id={self.key_id!r}, "
            f"service_account_id={self.service_account_id!r})"
        )

    def make_jwt(self, now: datetime, *, audience: str = IAM_TOKEN_AUDIENCE) -> str:
        """A PS256 JWT to exchange at IAM for a token, valid from ``now`` for under an hour.

        ``audience`` is the exchange URL of the IAM that will read it (:func:`iam_audience`).
        """
        issued = int(now.timestamp())
        claims = {
            "iss": self.service_account_id,
            "aud": audience,
            "iat": issued,
            "exp": issued + int(JWT_LIFETIME.total_seconds()),
        }
        return jwt.encode(claims, self.private_key, algorithm="PS256", headers={"kid": self.key_id})


def parse_service_account_key(data: Any, *, source: str) -> ServiceAccountKey:
    """Build a key from the decoded JSON of an authorized key file (``source`` names it)."""
    if not isinstance(data, dict):
        raise AuthError(
            _("service account key file {path} is not a JSON object").format(path=source)
        )
    fields: dict[str, str] = {}
    for name in ("id", "service_account_id", "private_key"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise AuthError(
                _("service account key file {path} has no {field}").format(
                    path=source, field=repr(name)
                )
            )
        fields[name] = value.strip()
    pem = fields["private_key"]
    # `yc iam key create` writes a "PLEASE DO NOT REMOVE THIS LINE! ..." line before the PEM.
    begin = pem.find("-----BEGIN")
    if begin < 0:
        raise AuthError(
            _("service account key file {path}: private_key is not a PEM key").format(path=source)
        )
    try:
        key = serialization.load_pem_private_key(pem[begin:].encode(), password=None)
    except (ValueError, TypeError):
        # `from None`: the cause may hold parts of the key; it must not travel with the error.
        raise AuthError(
            _(
                "service account key file {path}: private_key is not a readable unencrypted "
                "PEM private key"
            ).format(path=source)
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AuthError(
            _(
                "service account key file {path}: private_key is not an RSA key (PS256 needs one)"
            ).format(path=source)
        )
    return ServiceAccountKey(
        key_id=fields["id"], service_account_id=fields["service_account_id"], private_key=key
    )


def load_service_account_key(path: Path) -> ServiceAccountKey:
    """Read an authorized key file (``yc iam key create --output key.json``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuthError(
            _("service account key file {path} does not exist").format(path=path)
        ) from None
    except IsADirectoryError:
        raise AuthError(
            _("service account key file {path} is a directory").format(path=path)
        ) from None
    except PermissionError:
        raise AuthError(
            _("service account key file {path} cannot be read: permission denied").format(path=path)
        ) from None
    except UnicodeDecodeError:
        raise AuthError(
            _("service account key file {path} is not UTF-8 text").format(path=path)
        ) from None
    except OSError as exc:
        raise AuthError(
            _("service account key file {path} cannot be read: {reason}").format(
                path=path, reason=exc.strerror or "I/O error"
            )
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # Only the position: the decoder's object also holds the whole document, key included.
        raise AuthError(
            _(
                "service account key file {path} is not valid JSON (line {line}, column {column})"
            ).format(path=path, line=exc.lineno, column=exc.colno)
        ) from None
    return parse_service_account_key(data, source=str(path))


# --- providers -----------------------------------------------------------------------------------


@runtime_checkable
class TokenProvider(Protocol):
    """Where the client gets the IAM token it sends as ``Authorization: Bearer``."""

    #: A short human name of the source ("service account key"), for logs and `check`.
    kind: str

    @property
    def can_refresh(self) -> bool:
        """Whether :meth:`invalidate` followed by :meth:`token` can yield a different token."""
        ...

    async def token(self) -> str:
        """A valid IAM token; raises :class:`~bot.errors.AuthError` if none can be had."""
        ...

    def invalidate(self, token: str | None = None) -> None:
        """The API refused ``token`` (401): obtain a new one on the next :meth:`token`."""
        ...

    async def aclose(self) -> None:
        """Release what the provider holds (a session it made itself)."""
        ...


class StaticTokenProvider:
    """A token given in the environment (``YC_IAM_TOKEN``). It expires; nothing can renew it."""

    kind = "IAM token"

    def __init__(self, token: str) -> None:
        if not token:
            raise AuthError(_("the IAM token is empty"))
        self._token = token

    def __repr__(self) -> str:
        return "StaticTokenProvider()"

    @property
    def can_refresh(self) -> bool:
        return False

    async def token(self) -> str:
        return self._token

    def invalidate(self, token: str | None = None) -> None:
        """Nothing to do: a static token cannot be replaced."""

    async def aclose(self) -> None:
        """Nothing to release."""


class RefreshingTokenProvider:
    """Base of the providers that obtain tokens over HTTP and cache them.

    Subclasses implement :meth:`_fetch`. One refresh runs at a time; requests that wait for it
    get its outcome (the token, or its error) rather than starting another exchange.
    """

    kind = "refreshing token"

    def __init__(
        self,
        session: aiohttp.ClientSession | SessionSource | None = None,
        *,
        now: Callable[[], datetime] = clock.now,
        cache: TokenCache | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = as_source(session)
        self._now = now
        self._cache = cache or TokenCache()
        self._retry = retry or RetryPolicy(attempts=3, base_delay=0.2, max_delay=2.0)
        self._rng = rng or random.Random()
        self._lock = asyncio.Lock()
        # Bumped by every finished refresh; a waiter that sees it move shares that outcome.
        self._generation = 0
        self._last_error: AuthError | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, cache={self._cache!r})"

    @property
    def can_refresh(self) -> bool:
        return True

    @property
    def cache(self) -> TokenCache:
        """The token cache (read by tests and by `check`)."""
        return self._cache

    async def token(self) -> str:
        cached = self._cache.token
        if cached is not None and not self._cache.needs_refresh(self._now()):
            return cached.value
        seen = self._generation
        async with self._lock:
            if self._generation != seen:
                # Another request refreshed (or failed to) while this one waited: share it.
                cached = self._cache.token
                if cached is not None and self._cache.usable(self._now()):
                    return cached.value
                if self._last_error is not None:
                    raise AuthError(str(self._last_error))
            now = self._now()
            cached = self._cache.token
            if cached is not None and not self._cache.needs_refresh(now):
                return cached.value
            return await self._refresh(now)

    async def _refresh(self, now: datetime) -> str:
        try:
            fresh = await self._fetch(now)
        except AuthError as exc:
            # Bumped when the outcome is known, so that requests already waiting share it.
            self._generation += 1
            self._last_error = exc
            self._cache.note_failure(now)
            cached = self._cache.token
            if cached is not None and self._cache.usable(now):
                logger.warning(
                    "could not refresh the IAM token (%s); using the current one, valid until %s",
                    exc,
                    cached.expires_at.isoformat(),
                )
                return cached.value
            raise
        self._generation += 1
        self._last_error = None
        self._cache.store(fresh, now)
        # Scrubbed from the logs by its value while it can be used (and an hour after), not only
        # by the t1. shape a future token format may not keep.
        lifetime = (fresh.expires_at - now).total_seconds()
        HELD_SECRETS.hold([fresh.value], seconds=max(lifetime, 0.0) + 3600)
        logger.debug(
            "obtained an IAM token from the %s, valid until %s", self.kind, fresh.expires_at
        )
        return fresh.value

    def invalidate(self, token: str | None = None) -> None:
        self._cache.invalidate(token)

    async def _fetch(self, now: datetime) -> IamToken:
        raise NotImplementedError

    async def _call(
        self,
        what: str,
        method: str,
        url: str,
        *,
        timeouts: aiohttp.ClientTimeout,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        metadata_url: str | None = None,
    ) -> HttpReply:
        """One exchange, tried again on throttling, 5xx and network errors by the policy's loop.

        Returns the final answer. ``what`` names the endpoint in logs; errors name the metadata
        service at ``metadata_url`` when it is given, else the IAM endpoint. The request
        carries one ``x-client-request-id`` on every try, as the API client's do. A token
        exchange is a POST but creates nothing that outlives its answer (a second token is
        harmless), so it is tried again without an Idempotency-Key.
        """
        client_request_id = new_client_request_id()

        async def send() -> HttpReply:
            return await exchange(
                self._sessions.get(),
                method,
                url,
                name=what,
                client_request_id=client_request_id,
                timeouts=timeouts,
                json_body=json_body,
                headers=headers,
            )

        try:
            return await self._retry.run(send, what=f"the {what}", rng=self._rng, now=self._now)
        except TimeoutError:
            said = (
                _("the metadata service at {url} did not answer in time")
                if metadata_url
                else _("the IAM endpoint did not answer in time")
            )
            raise AuthError(said.format(url=metadata_url), unreachable=True) from None
        except aiohttp.ClientError as exc:
            said = (
                _("could not reach the metadata service at {url}: {reason}")
                if metadata_url
                else _("could not reach the IAM endpoint: {reason}")
            )
            raise AuthError(
                said.format(url=metadata_url, reason=failure_reason(exc)), unreachable=True
            ) from None

    async def aclose(self) -> None:
        """Close the session if the provider made its own."""
        await self._sessions.aclose()


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _error_message(body: bytes, secrets: Iterable[str]) -> str:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return _redact(data["message"], secrets)[:300]
    return ""


class _IamExchangeProvider(RefreshingTokenProvider):
    """Exchanges a credential at ``POST {iam}/iam/v1/tokens`` for an IAM token."""

    #: What a person reads when IAM refuses the exchange (``{answer}``: its status and words).
    refused: str

    def __init__(
        self,
        iam_endpoint: str,
        session: aiohttp.ClientSession | SessionSource | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(session, **kwargs)
        self.iam_endpoint = iam_endpoint.rstrip("/")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(iam_endpoint={self.iam_endpoint!r}, cache={self._cache!r})"

    def _payload(self, now: datetime) -> dict[str, str]:
        raise NotImplementedError

    def _secrets(self) -> list[str]:
        raise NotImplementedError

    async def _fetch(self, now: datetime) -> IamToken:
        payload = self._payload(now)
        secrets = [*self._secrets(), *payload.values()]
        url = self.iam_endpoint + IAM_TOKENS_PATH

        reply = await self._call(
            "IAM endpoint", "POST", url, timeouts=IAM_TIMEOUT, json_body=payload
        )
        status, body = reply.status, reply.body
        if status != 200:
            detail = _error_message(body, secrets)
            answer = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
            raise AuthError(_(self.refused).format(answer=answer), refused=True)
        try:
            data = json.loads(body)
            value = data["iamToken"]
            expires_at = _DATETIME.validate_python(data["expiresAt"])
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, ValidationError):
            raise AuthError(_("IAM answered with a body that is not an IAM token")) from None
        if not isinstance(value, str) or not value:
            raise AuthError(_("IAM answered with an empty IAM token"))
        return IamToken(value=value, expires_at=expires_at)


class ServiceAccountKeyProvider(_IamExchangeProvider):
    """Signs a JWT with a service account's authorized key and exchanges it at IAM."""

    kind = "service account key"
    refused = N_("IAM refused to exchange the service account key for a token ({answer})")

    def __init__(
        self,
        key: ServiceAccountKey,
        iam_endpoint: str,
        session: aiohttp.ClientSession | SessionSource | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(iam_endpoint, session, **kwargs)
        self.key = key

    def __repr__(self) -> str:
        return (
            f"ServiceAccountKeyProvider(key={self.key!r}, iam_endpoint={self.iam_endpoint!r}, "
            f"cache={self._cache!r})"
        )

    def _payload(self, now: datetime) -> dict[str, str]:
        return {"jwt": self.key.make_jwt(now, audience=iam_audience(self.iam_endpoint))}

    def _secrets(self) -> list[str]:
        return []


class OAuthTokenProvider(_IamExchangeProvider):
    """Exchanges a Yandex OAuth token at IAM. Deprecated by the cloud for automation."""

    kind = "OAuth token"
    refused = N_("IAM refused to exchange the OAuth token for a token ({answer})")

    def __init__(
        self,
        oauth_token: str,
        iam_endpoint: str,
        session: aiohttp.ClientSession | SessionSource | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(iam_endpoint, session, **kwargs)
        if not oauth_token:
            raise AuthError(_("the OAuth token is empty"))
        self._oauth_token = oauth_token
        self._warned = False

    def _payload(self, now: datetime) -> dict[str, str]:
        if not self._warned:
            self._warned = True
            logger.warning(
                "authenticating with an OAuth token (YC_OAUTH_TOKEN); Yandex Cloud is retiring "
                "OAuth tokens for automation: use a service account key "
                "(YC_SERVICE_ACCOUNT_KEY_FILE) or the metadata service instead"
            )
        return {"yandexPassportOauthToken": self._oauth_token}

    def _secrets(self) -> list[str]:
        return [self._oauth_token]


class MetadataTokenProvider(RefreshingTokenProvider):
    """Gets the token of the service account attached to the VM or pod from the metadata service."""

    kind = "metadata service"

    def __init__(
        self,
        metadata_url: str,
        session: aiohttp.ClientSession | SessionSource | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("retry", RetryPolicy(attempts=2, base_delay=0.1, max_delay=0.5))
        super().__init__(session, **kwargs)
        self.metadata_url = metadata_url.rstrip("/")

    def __repr__(self) -> str:
        return f"MetadataTokenProvider(metadata_url={self.metadata_url!r}, cache={self._cache!r})"

    async def _fetch(self, now: datetime) -> IamToken:
        url = self.metadata_url + METADATA_TOKEN_PATH

        reply = await self._call(
            f"metadata service at {self.metadata_url}",
            "GET",
            url,
            timeouts=METADATA_TIMEOUT,
            headers={"Metadata-Flavor": "Google"},
            metadata_url=self.metadata_url,
        )
        status, body = reply.status, reply.body
        if status != 200:
            raise AuthError(
                _(
                    "the metadata service at {url} gave no token (HTTP {status}); is a service "
                    "account attached to this VM?"
                ).format(url=self.metadata_url, status=status)
            )
        try:
            data = json.loads(body)
            value = data["access_token"]
            expires_in = float(data["expires_in"])
        except (ValueError, UnicodeDecodeError, KeyError, TypeError):
            raise AuthError(
                _("the metadata service answered with a body that is not a token")
            ) from None
        if not isinstance(value, str) or not value or expires_in <= 0:
            raise AuthError(_("the metadata service answered with an empty or expired token"))
        return IamToken(value=value, expires_at=now + timedelta(seconds=expires_in))


def _secret(value: Any) -> str:
    if value is None:
        return ""
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return str(text).strip()


def build_token_provider(
    settings: Settings,
    session: aiohttp.ClientSession | SessionSource | None = None,
    **kwargs: Any,
) -> TokenProvider:
    """The token provider the settings call for: static, key file, OAuth, else metadata.

    Reads the key file now, so a broken one is reported at start-up as an
    :class:`~bot.errors.AuthError`. ``kwargs`` (``now``, ``retry``, ``cache``) go to refreshing
    providers.
    """
    static = _secret(settings.yc_iam_token)
    if static:
        return StaticTokenProvider(static)
    if settings.yc_service_account_key_file is not None:
        key = load_service_account_key(settings.yc_service_account_key_file)
        return ServiceAccountKeyProvider(key, settings.yc_iam_endpoint, session, **kwargs)
    oauth = _secret(settings.yc_oauth_token)
    if oauth:
        return OAuthTokenProvider(oauth, settings.yc_iam_endpoint, session, **kwargs)
    return MetadataTokenProvider(settings.yc_metadata_url, session, **kwargs)
