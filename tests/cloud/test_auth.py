"""Token providers against the simulated IAM and metadata service, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bot.cloud.auth import (
    IAM_TOKEN_AUDIENCE,
    MetadataTokenProvider,
    OAuthTokenProvider,
    ServiceAccountKeyProvider,
    StaticTokenProvider,
    build_token_provider,
    iam_audience,
    load_service_account_key,
)
from bot.cloud.client import CloudClient
from bot.cloud.retry import RetryPolicy
from bot.demo.simcloud import SimCloud, SimConfig, SimServiceAccountKey
from bot.errors import AuthError, Unauthenticated
from bot.i18n.catalog import use_locale
from bot.settings import Settings
from tests.cloud.helpers import FAST_RETRY, FakeNow, private_pem, public_pem

KEY_ID = "ajekeyid000000000001"
SA_ID = "ajesaid0000000000001"
OAUTH = "y0_AgAAAAOAuthTokenForTests"
FAST_AUTH_RETRY = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002)
IAM_PATH = r"^/iam/v1/tokens$"


def write_key_file(path: Path, key: rsa.RSAPrivateKey, *, prefix: bool = True) -> Path:
    """An authorized key file as `yc iam key create` writes it."""
    pem = private_pem(key)
    if prefix:
        pem = "PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <" + KEY_ID + ">\n" + pem
    path.write_text(
        json.dumps(
            {
                "id": KEY_ID,
                "service_account_id": SA_ID,
                "created_at": "2026-01-01T00:00:00Z",
                "key_algorithm": "RSA_2048",
                "public_key": public_pem(key),
                "private_key": pem,
            }
        )
    )
    return path


@pytest.fixture
async def iam(rsa_key: rsa.RSAPrivateKey) -> AsyncIterator[SimCloud]:
    """A simulated cloud whose IAM trusts the test key and the test OAuth token."""
    config = SimConfig(
        folders=1,
        clusters_per_folder=2,
        oauth_tokens=(OAUTH,),
        service_account_keys={KEY_ID: SimServiceAccountKey(SA_ID, public_pem(rsa_key))},
    )
    async with SimCloud(config) as cloud:
        yield cloud


def settings(**env: object) -> Settings:
    return Settings.model_validate(env)


async def test_a_static_token_is_sent_as_is(iam: SimCloud) -> None:
    provider = build_token_provider(settings(YC_IAM_TOKEN="sim-iam-token"))
    assert isinstance(provider, StaticTokenProvider)
    assert await provider.token() == "sim-iam-token"
    assert not provider.can_refresh


async def test_a_key_file_jwt_is_verified_by_iam_and_exchanged(
    iam: SimCloud, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    path = write_key_file(tmp_path / "key.json", rsa_key)
    provider = build_token_provider(
        settings(YC_SERVICE_ACCOUNT_KEY_FILE=str(path), YC_IAM_ENDPOINT=iam.url)
    )
    assert isinstance(provider, ServiceAccountKeyProvider)
    async with CloudClient(mdb_endpoint=iam.url, operation_endpoint=iam.url, auth=provider) as c:
        folder = iam.fleet.folders[0].id
        assert len([cl async for cl in c.list_clusters(folder)]) == 2
    assert iam.iam_exchanges == 1
    await provider.aclose()


def test_the_jwt_audience_is_the_token_url_of_the_configured_iam() -> None:
    # As the official SDK derives it: https://iam.{endpoint}/iam/v1/tokens.
    assert iam_audience("https://iam.api.cloud.yandex.net") == IAM_TOKEN_AUDIENCE
    assert IAM_TOKEN_AUDIENCE == "https://iam.api.cloud.yandex.net/iam/v1/tokens"
    assert (
        iam_audience("https://iam.private.example/") == "https://iam.private.example/iam/v1/tokens"
    )


async def test_the_exchanged_jwt_names_the_iam_it_was_sent_to(
    iam: SimCloud, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    key = load_service_account_key(write_key_file(tmp_path / "key.json", rsa_key))
    provider = ServiceAccountKeyProvider(key, iam.url + "/")
    assert await provider.token()
    await provider.aclose()
    # The simulated IAM, like the real one, takes only JWTs meant for itself.
    async with (
        aiohttp.ClientSession() as http,
        http.post(iam.url + "/iam/v1/tokens", json={"jwt": key.make_jwt(FakeNow()())}) as r,
    ):
        refused = await r.json()
    assert r.status == 401
    assert "InvalidAudience" in refused["message"]
    assert iam.iam_exchanges == 1


def test_the_jwt_has_the_claims_iam_requires(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    key = load_service_account_key(write_key_file(tmp_path / "key.json", rsa_key))
    now = FakeNow()
    token = key.make_jwt(now())
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "PS256"
    assert header["kid"] == KEY_ID
    claims = jwt.decode(
        token, rsa_key.public_key(), algorithms=["PS256"], audience=IAM_TOKEN_AUDIENCE
    )
    assert claims["iss"] == SA_ID
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert claims["iat"] == int(now().timestamp())


def test_a_key_without_the_warning_line_loads_too(
    rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    key = load_service_account_key(write_key_file(tmp_path / "k.json", rsa_key, prefix=False))
    assert key.key_id == KEY_ID
    assert key.service_account_id == SA_ID


async def test_iam_refuses_a_jwt_signed_by_another_key(iam: SimCloud, tmp_path: Path) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = write_key_file(tmp_path / "key.json", other)
    provider = build_token_provider(
        settings(YC_SERVICE_ACCOUNT_KEY_FILE=str(path), YC_IAM_ENDPOINT=iam.url)
    )
    with pytest.raises(AuthError, match=r"IAM refused .* service account key .*HTTP 401"):
        await provider.token()
    assert iam.iam_exchanges == 0
    await provider.aclose()


async def test_an_oauth_token_is_exchanged_with_a_one_time_warning(
    iam: SimCloud, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.cloud.auth")
    now = FakeNow()
    provider = build_token_provider(
        settings(YC_OAUTH_TOKEN=OAUTH, YC_IAM_ENDPOINT=iam.url), now=now
    )
    assert isinstance(provider, OAuthTokenProvider)
    first = await provider.token()
    now.advance(timedelta(hours=2))
    second = await provider.token()
    assert first != second
    assert iam.iam_exchanges == 2
    warnings = [r for r in caplog.records if "retiring OAuth tokens" in r.getMessage()]
    assert len(warnings) == 1
    assert iam.requests_to(IAM_PATH)[0].method == "POST"
    await provider.aclose()


async def test_iam_refusing_an_oauth_token_is_an_auth_error(iam: SimCloud) -> None:
    provider = OAuthTokenProvider("y0_wrong", iam.url, retry=FAST_AUTH_RETRY)
    with pytest.raises(AuthError, match="IAM refused to exchange the OAuth token"):
        await provider.token()
    await provider.aclose()


async def test_the_metadata_service_is_asked_with_metadata_flavor(iam: SimCloud) -> None:
    provider = build_token_provider(settings(YC_METADATA_URL=iam.url))
    assert isinstance(provider, MetadataTokenProvider)
    async with CloudClient(mdb_endpoint=iam.url, operation_endpoint=iam.url, auth=provider) as c:
        await c.get_cluster(next(iter(iam.fleet.clusters)))
    (asked,) = iam.requests_to("computeMetadata")
    assert asked.metadata_flavor == "Google"
    assert asked.status == 200
    assert not asked.had_authorization
    await provider.aclose()


async def test_a_metadata_token_is_refreshed_at_half_its_life(iam: SimCloud) -> None:
    now = FakeNow()
    provider = MetadataTokenProvider(iam.url, now=now)
    first = await provider.token()
    now.advance(timedelta(minutes=29))
    assert await provider.token() == first
    now.advance(timedelta(minutes=2))
    assert await provider.token() != first
    assert len(iam.requests_to("computeMetadata")) == 2
    await provider.aclose()


async def test_no_metadata_service_is_an_auth_error_that_says_where(
    unused_tcp_port: int,
) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}"
    provider = MetadataTokenProvider(url, retry=FAST_AUTH_RETRY)
    with pytest.raises(AuthError, match=f"could not reach the metadata service at {url}") as err:
        await provider.token()
    assert err.value.unreachable
    assert not err.value.refused
    await provider.aclose()


async def test_no_metadata_service_is_said_in_the_readers_language(unused_tcp_port: int) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}"
    provider = MetadataTokenProvider(url, retry=FAST_AUTH_RETRY)
    with use_locale("ru"), pytest.raises(AuthError) as err:
        await provider.token()
    assert str(err.value).startswith(f"не удалось достучаться до сервиса метаданных {url}: ")
    assert err.value.unreachable
    await provider.aclose()


def test_the_sources_are_tried_in_the_documented_order(
    rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    path = str(write_key_file(tmp_path / "key.json", rsa_key))
    everything = {
        "YC_IAM_TOKEN": "t1.static",
        "YC_SERVICE_ACCOUNT_KEY_FILE": path,
        "YC_OAUTH_TOKEN": OAUTH,
    }
    assert isinstance(build_token_provider(settings(**everything)), StaticTokenProvider)
    del everything["YC_IAM_TOKEN"]
    assert isinstance(build_token_provider(settings(**everything)), ServiceAccountKeyProvider)
    del everything["YC_SERVICE_ACCOUNT_KEY_FILE"]
    assert isinstance(build_token_provider(settings(**everything)), OAuthTokenProvider)
    assert isinstance(build_token_provider(settings(YC_IAM_TOKEN="  ")), MetadataTokenProvider)


async def test_a_token_is_refreshed_hourly_before_it_expires(iam: SimCloud) -> None:
    now = FakeNow()
    provider = OAuthTokenProvider(OAUTH, iam.url, now=now)
    first = await provider.token()
    now.advance(timedelta(minutes=59))
    assert await provider.token() == first
    assert iam.iam_exchanges == 1
    now.advance(timedelta(minutes=2))
    assert await provider.token() != first
    assert iam.iam_exchanges == 2
    await provider.aclose()


async def test_a_hundred_concurrent_requests_cause_exactly_one_exchange(
    rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    config = SimConfig(
        latency=0.02,
        service_account_keys={KEY_ID: SimServiceAccountKey(SA_ID, public_pem(rsa_key))},
    )
    async with SimCloud(config) as cloud:
        key = load_service_account_key(write_key_file(tmp_path / "key.json", rsa_key))
        provider = ServiceAccountKeyProvider(key, cloud.url)
        async with CloudClient(
            mdb_endpoint=cloud.url, operation_endpoint=cloud.url, auth=provider, max_in_flight=100
        ) as client:
            cluster_id = next(iter(cloud.fleet.clusters))
            results = await asyncio.gather(*(client.get_cluster(cluster_id) for _ in range(100)))
        assert {r.id for r in results} == {cluster_id}
        assert cloud.iam_exchanges == 1
        assert len(cloud.requests_to(IAM_PATH)) == 1
        await provider.aclose()


async def test_waiters_share_a_failed_refresh_instead_of_repeating_it(iam: SimCloud) -> None:
    iam.inject_fault(IAM_PATH, 401, times=None, delay=0.02)
    provider = OAuthTokenProvider(OAUTH, iam.url, retry=FAST_AUTH_RETRY)
    outcomes = await asyncio.gather(*(provider.token() for _ in range(20)), return_exceptions=True)
    assert all(isinstance(o, AuthError) for o in outcomes)
    assert len(iam.requests_to(IAM_PATH)) == 1
    await provider.aclose()


async def test_a_401_gets_one_new_token_and_one_retry(iam: SimCloud) -> None:
    provider = OAuthTokenProvider(OAUTH, iam.url)
    async with CloudClient(
        mdb_endpoint=iam.url, operation_endpoint=iam.url, auth=provider, retry=FAST_RETRY
    ) as client:
        cluster_id = next(iter(iam.fleet.clusters))
        await client.get_cluster(cluster_id)
        iam.revoke_tokens()
        iam.clear_requests()
        cluster = await client.get_cluster(cluster_id)
    assert cluster.id == cluster_id
    assert [(r.path.split("/")[-1], r.status) for r in iam.requests] == [
        (cluster_id, 401),
        ("tokens", 200),
        (cluster_id, 200),
    ]
    await provider.aclose()


async def test_a_second_401_after_re_auth_is_unauthenticated(iam: SimCloud) -> None:
    provider = OAuthTokenProvider(OAUTH, iam.url)
    iam.inject_fault("/clusters/", 401, times=None)
    async with CloudClient(
        mdb_endpoint=iam.url, operation_endpoint=iam.url, auth=provider, retry=FAST_RETRY
    ) as client:
        with pytest.raises(Unauthenticated) as err:
            await client.get_cluster(next(iter(iam.fleet.clusters)))
    assert err.value.status == 401
    assert err.value.code == 16
    assert len(iam.requests_to("/clusters/")) == 2
    assert iam.iam_exchanges == 2
    await provider.aclose()


async def test_a_static_token_refused_is_not_retried(iam: SimCloud) -> None:
    async with CloudClient(
        mdb_endpoint=iam.url, operation_endpoint=iam.url, auth=StaticTokenProvider("t1.revoked")
    ) as client:
        with pytest.raises(Unauthenticated, match="The token is invalid"):
            await client.get_cluster(next(iter(iam.fleet.clusters)))
    assert len(iam.requests) == 1


async def test_a_failed_refresh_keeps_using_a_still_valid_token(
    iam: SimCloud, caplog: pytest.LogCaptureFixture
) -> None:
    now = FakeNow()
    provider = OAuthTokenProvider(OAUTH, iam.url, now=now, retry=FAST_AUTH_RETRY)
    first = await provider.token()
    now.advance(timedelta(hours=2))
    iam.inject_fault(IAM_PATH, 503, times=None)
    with caplog.at_level(logging.WARNING, logger="bot.cloud.auth"):
        assert await provider.token() == first
    assert "using the current one" in caplog.text
    # Within the pause after a failure, requests do not wait for IAM again.
    before = len(iam.requests_to(IAM_PATH))
    assert await provider.token() == first
    assert len(iam.requests_to(IAM_PATH)) == before
    await provider.aclose()


async def test_iam_503_is_retried_before_giving_up(iam: SimCloud) -> None:
    iam.inject_fault(IAM_PATH, 503, times=1, retry_after=0)
    provider = OAuthTokenProvider(OAUTH, iam.url, retry=FAST_AUTH_RETRY)
    assert await provider.token()
    assert [r.status for r in iam.requests_to(IAM_PATH)] == [503, 200]
    await provider.aclose()


async def test_an_exchange_names_itself_by_one_client_request_id_across_its_retries(
    iam: SimCloud,
) -> None:
    iam.inject_fault(IAM_PATH, 503, times=1, retry_after=0)
    provider = OAuthTokenProvider(OAUTH, iam.url, retry=FAST_AUTH_RETRY)
    await provider.token()
    provider.invalidate()
    await provider.token()
    ids = [r.client_request_id for r in iam.requests_to(IAM_PATH)]
    assert [r.status for r in iam.requests_to(IAM_PATH)] == [503, 200, 200]
    assert ids[0] is not None
    assert ids[0] == ids[1] != ids[2]
    assert uuid.UUID(ids[0]).version == 4
    await provider.aclose()


async def test_a_metadata_request_carries_a_client_request_id(iam: SimCloud) -> None:
    provider = MetadataTokenProvider(iam.url)
    await provider.token()
    (asked,) = iam.requests_to("computeMetadata")
    assert asked.client_request_id is not None
    assert uuid.UUID(asked.client_request_id).version == 4
    await provider.aclose()


async def test_a_dropped_connection_to_iam_says_so_in_words(unused_tcp_port: int) -> None:
    # A server that accepts and closes at once: the reason reads as the API client's does.
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", unused_tcp_port)
    async with server:
        provider = OAuthTokenProvider(
            OAUTH, f"http://127.0.0.1:{unused_tcp_port}", retry=FAST_AUTH_RETRY
        )
        with pytest.raises(AuthError) as err:
            await provider.token()
        await provider.aclose()
    assert str(err.value) == ("could not reach the IAM endpoint: the server closed the connection")


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"iamToken": "x"}', b'{"expiresAt": "2026-11-20T10:00:00Z"}', b"[1]"],
)
async def test_an_iam_answer_that_is_not_a_token_is_an_auth_error(
    iam: SimCloud, body: bytes
) -> None:
    iam.inject_fault(IAM_PATH, 200, body=body)
    provider = OAuthTokenProvider(OAUTH, iam.url)
    with pytest.raises(AuthError, match="not an IAM token"):
        await provider.token()
    await provider.aclose()


async def test_providers_share_an_injected_session(iam: SimCloud) -> None:
    async with aiohttp.ClientSession() as session:
        provider = build_token_provider(
            settings(YC_OAUTH_TOKEN=OAUTH, YC_IAM_ENDPOINT=iam.url), session
        )
        assert await provider.token()
        await provider.aclose()
        # The session belongs to its owner: the provider must not have closed it.
        assert not session.closed


# --- key file errors -----------------------------------------------------------------------------


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(AuthError, match=r"key file .*nope\.json does not exist"):
        load_service_account_key(tmp_path / "nope.json")


def test_a_directory_is_not_a_key_file(tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="is a directory"):
        load_service_account_key(tmp_path)


def test_a_key_file_that_is_not_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text('{"id": "x",\n  private_key: oops}')
    with pytest.raises(AuthError, match=r"is not valid JSON \(line 2, column 3\)"):
        load_service_account_key(path)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "is not a JSON object"),
        ({"service_account_id": "a", "private_key": "k"}, "has no 'id'"),
        ({"id": "k", "private_key": "k"}, "has no 'service_account_id'"),
        ({"id": "k", "service_account_id": "a"}, "has no 'private_key'"),
        ({"id": "k", "service_account_id": "a", "private_key": "abc"}, "is not a PEM key"),
        (
            {
                "id": "k",
                "service_account_id": "a",
                "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            },
            "not a readable unencrypted PEM private key",
        ),
    ],
)
def test_a_broken_key_file_says_what_is_wrong(tmp_path: Path, data: object, reason: str) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(data))
    with pytest.raises(AuthError, match=reason):
        load_service_account_key(path)


def test_a_key_that_is_not_rsa_is_refused(tmp_path: Path) -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"id": "k", "service_account_id": "a", "private_key": pem}))
    with pytest.raises(AuthError, match="not an RSA key"):
        load_service_account_key(path)


def test_a_broken_key_file_is_reported_when_the_provider_is_built(tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="does not exist"):
        build_token_provider(settings(YC_SERVICE_ACCOUNT_KEY_FILE=str(tmp_path / "gone.json")))


def test_an_empty_static_token_is_refused() -> None:
    with pytest.raises(AuthError, match="empty"):
        StaticTokenProvider("")


def test_every_exchange_gets_a_jwt_signed_at_its_own_time(
    rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    key = load_service_account_key(write_key_file(tmp_path / "key.json", rsa_key))
    now = FakeNow()
    first = jwt.decode(key.make_jwt(now()), options={"verify_signature": False})
    now.advance(timedelta(hours=1, minutes=1))
    second = jwt.decode(key.make_jwt(now()), options={"verify_signature": False})
    assert second["iat"] - first["iat"] == 3660
    assert second["exp"] - first["exp"] == 3660
