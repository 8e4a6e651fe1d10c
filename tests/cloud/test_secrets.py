"""No token, OAuth token or private key ever reaches an error message, a repr or a log line.

Every error path is provoked with recognisable secrets, then everything a person or a log could
see is searched for them (the way alertmanager tests its notifiers).
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.cloud.auth import (
    MetadataTokenProvider,
    OAuthTokenProvider,
    ServiceAccountKeyProvider,
    StaticTokenProvider,
    build_token_provider,
    load_service_account_key,
)
from bot.cloud.client import CloudClient
from bot.cloud.retry import RetryPolicy
from bot.demo.simcloud import SimCloud, SimConfig, SimServiceAccountKey
from bot.errors import AuthError, BotError
from bot.settings import Settings
from tests.cloud.helpers import private_pem, public_pem

STATIC = "t1.STATIC-SECRET-4b1d9e"
OAUTH = "y0_OAUTH-SECRET-77c2aa"
KEY_ID = "ajekey00000000000001"
SA_ID = "ajesa000000000000001"
FAST = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002)


def pem_fragment(key: rsa.RSAPrivateKey) -> str:
    """A line from the middle of the private key's PEM: any leak of the key contains it."""
    return private_pem(key).splitlines()[5]


def visible(thing: object) -> str:
    """Everything about ``thing`` that could end up in front of a person or in a log."""
    parts = [repr(thing)]
    if isinstance(thing, BaseException):
        parts += [str(thing), "".join(traceback.format_exception(thing))]
        parts += [repr(getattr(thing, name, "")) for name in ("details", "hint")]
    return "\n".join(parts)


def assert_clean(things: Iterable[object], secrets: Iterable[str]) -> None:
    text = "\n".join(visible(t) for t in things)
    for secret in secrets:
        assert secret not in text


@pytest.fixture
async def cloud(rsa_key: rsa.RSAPrivateKey) -> AsyncIterator[SimCloud]:
    config = SimConfig(
        static_tokens=(STATIC,),
        oauth_tokens=(OAUTH,),
        service_account_keys={KEY_ID: SimServiceAccountKey(SA_ID, public_pem(rsa_key))},
    )
    sim = SimCloud(config)
    await sim.start()
    yield sim
    await sim.stop()


async def test_api_errors_never_show_the_token(
    cloud: SimCloud, caplog: pytest.LogCaptureFixture, unused_tcp_port: int
) -> None:
    caplog.set_level(logging.DEBUG)
    cluster_id = next(iter(cloud.fleet.clusters))
    errors: list[BaseException] = []
    # A server that echoes the token in its message and details must not make it leak.
    echo = {"code": 16, "message": f"token {STATIC} is bad", "details": [{"token": STATIC}]}
    for status in (400, 401, 403, 404, 409, 429, 500, 503):
        cloud.inject_fault(r"/clusters/", status, times=None, body=echo)
        async with CloudClient(
            mdb_endpoint=cloud.url,
            operation_endpoint=cloud.url,
            auth=StaticTokenProvider(STATIC),
            retry=FAST,
        ) as client:
            with pytest.raises(BotError) as err:
                await client.get_cluster(cluster_id)
            errors.append(err.value)
        cloud.clear_faults()
    for body, delay in ((b"not json", None), (b"[]", None), (b"{}", 1.0)):
        cloud.inject_fault(r"/clusters$", 200, times=None, body=body, delay=delay)
        async with CloudClient(
            mdb_endpoint=cloud.url,
            operation_endpoint=cloud.url,
            auth=StaticTokenProvider(STATIC),
            retry=FAST,
            timeout=0.1,
        ) as client:
            with pytest.raises(BotError) as err:
                await client.list_clusters_page(cloud.fleet.folders[0].id)
            errors.append(err.value)
        cloud.clear_faults()
    nowhere = f"http://127.0.0.1:{unused_tcp_port}"
    async with CloudClient(
        mdb_endpoint=nowhere,
        operation_endpoint=nowhere,
        auth=StaticTokenProvider(STATIC),
        retry=FAST,
    ) as client:
        with pytest.raises(BotError) as err:
            await client.get_operation("op1")
        errors.append(err.value)
        assert_clean([client, client.auth], [STATIC])
    assert len(errors) == 12
    assert_clean(errors, [STATIC])
    assert STATIC not in caplog.text
    assert STATIC not in repr(cloud.requests)


async def test_exchange_errors_never_show_the_oauth_token_or_the_iam_token(
    cloud: SimCloud, caplog: pytest.LogCaptureFixture, unused_tcp_port: int
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    provider = OAuthTokenProvider(OAUTH, cloud.url, retry=FAST)
    issued = await provider.token()
    echo = {"code": 16, "message": f"OAuth token {OAUTH} expired", "details": [OAUTH]}
    for status, body in ((401, echo), (500, echo), (200, b"{bad json"), (200, {"iamToken": 1})):
        cloud.inject_fault(r"/iam/", status, times=None, body=body)
        fresh = OAuthTokenProvider(OAUTH, cloud.url, retry=FAST)
        with pytest.raises(AuthError) as err:
            await fresh.token()
        errors.append(err.value)
        await fresh.aclose()
        cloud.clear_faults()
    unreachable = OAuthTokenProvider(OAUTH, f"http://127.0.0.1:{unused_tcp_port}", retry=FAST)
    with pytest.raises(AuthError) as err:
        await unreachable.token()
    errors.append(err.value)
    metadata = MetadataTokenProvider(cloud.url)
    metadata_token = await metadata.token()
    assert_clean([*errors, provider, unreachable, metadata], [OAUTH, issued, metadata_token])
    for secret in (OAUTH, issued, metadata_token):
        assert secret not in caplog.text
    assert "***" in str(errors[0])
    for p in (provider, unreachable, metadata):
        await p.aclose()


async def test_key_files_never_show_the_key(
    cloud: SimCloud,
    rsa_key: rsa.RSAPrivateKey,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fragment = pem_fragment(rsa_key)
    pem = private_pem(rsa_key)
    errors: list[BaseException] = []
    broken = {
        "truncated.json": json.dumps(
            {"id": KEY_ID, "service_account_id": SA_ID, "private_key": pem}
        )[:-40],
        "damaged.json": json.dumps(
            {"id": KEY_ID, "service_account_id": SA_ID, "private_key": pem.replace("A", "!", 3)}
        ),
        "no-id.json": json.dumps({"service_account_id": SA_ID, "private_key": pem}),
        "encrypted.json": json.dumps(
            {
                "id": KEY_ID,
                "service_account_id": SA_ID,
                "private_key": pem.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
            }
        ),
    }
    for name, text in broken.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(AuthError) as err:
            build_token_provider(
                Settings.model_validate({"YC_SERVICE_ACCOUNT_KEY_FILE": str(path)})
            )
        # The cause (the JSON decoder holds the whole file) must not travel with the error.
        assert err.value.__cause__ is None
        assert err.value.__context__ is None or err.value.__suppress_context__
        errors.append(err.value)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"id": KEY_ID, "service_account_id": SA_ID, "private_key": pem}))
    key = load_service_account_key(good)
    provider = ServiceAccountKeyProvider(key, cloud.url)
    token = await provider.token()
    assert_clean([*errors, key, provider], [fragment, token])
    assert fragment not in caplog.text
    assert token not in caplog.text
    await provider.aclose()
