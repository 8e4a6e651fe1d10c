"""The Yandex Cloud adapter: REST client, IAM token providers, request limits, input checks."""

from bot.cloud.auth import (
    IamToken,
    MetadataTokenProvider,
    OAuthTokenProvider,
    ServiceAccountKey,
    ServiceAccountKeyProvider,
    StaticTokenProvider,
    TokenCache,
    TokenProvider,
    build_token_provider,
    load_service_account_key,
)
from bot.cloud.client import CloudClient, RequestObserver, SkipObserver
from bot.cloud.limits import RequestLimiter, TokenBucket
from bot.cloud.retry import RetryPolicy, parse_retry_after
from bot.cloud.session import SessionSource
from bot.cloud.validation import (
    MAX_ID_LENGTH,
    MAX_PAGE_SIZE,
    MAX_PAGE_TOKEN_LENGTH,
    path_segment,
    validate_id,
    validate_page_size,
    validate_page_token,
)

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_PAGE_SIZE",
    "MAX_PAGE_TOKEN_LENGTH",
    "CloudClient",
    "IamToken",
    "MetadataTokenProvider",
    "OAuthTokenProvider",
    "RequestLimiter",
    "RequestObserver",
    "RetryPolicy",
    "ServiceAccountKey",
    "ServiceAccountKeyProvider",
    "SessionSource",
    "SkipObserver",
    "StaticTokenProvider",
    "TokenBucket",
    "TokenCache",
    "TokenProvider",
    "build_token_provider",
    "load_service_account_key",
    "parse_retry_after",
    "path_segment",
    "validate_id",
    "validate_page_size",
    "validate_page_token",
]
