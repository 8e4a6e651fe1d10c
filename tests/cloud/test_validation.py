"""Arguments are checked against the API's documented limits before anything is sent."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cloud import CloudClient, validate_id, validate_page_size, validate_page_token
from bot.cloud.session import proxy_configured
from bot.errors import InvalidArgument
from bot.simcloud import SimCloud


def test_it_accepts_an_id_of_exactly_50_characters() -> None:
    assert validate_id("cluster id", "c" * 50) == "c" * 50


def test_it_refuses_an_id_of_51_characters_saying_how_long_it_is() -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_id("cluster id", "c" * 51)
    assert str(err.value) == "cluster id is 51 characters long; the cloud allows at most 50"


def test_it_names_the_length_a_person_typed() -> None:
    with pytest.raises(InvalidArgument, match="cluster id is 57 characters long"):
        validate_id("cluster id", "x" * 57)


def test_it_refuses_an_empty_id() -> None:
    with pytest.raises(InvalidArgument, match="backup id is empty"):
        validate_id("backup id", "")


@pytest.mark.parametrize(
    ("value", "described"),
    [
        ("c9q/../admin", "'/'"),
        ("c9q?x=1", "'?'"),
        ("c9q#frag", "'#'"),
        ("c9q%2F", "'%'"),
        ("c9q abc", "a space"),
        ("c9q\tabc", "a whitespace character (U+0009)"),
        ("c9q\nabc", "a whitespace character (U+000A)"),
        ("c9q\x00abc", "a control character (U+0000)"),
        ("c9q\x7fabc", "a control character (U+007F)"),
        ("c9qаbc", "'а'"),  # a Cyrillic letter that looks Latin
    ],
)
def test_it_refuses_characters_unsafe_in_a_url_path(value: str, described: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_id("cluster id", value)
    assert str(err.value) == f"cluster id contains {described}, which cannot be part of an id"


@pytest.mark.parametrize("value", [".", ".."])
def test_it_refuses_dot_segments(value: str) -> None:
    with pytest.raises(InvalidArgument, match="is not an id"):
        validate_id("cluster id", value)


@pytest.mark.parametrize(
    "value", ["c9qabcdefghij0123456", "c9qabc:snapshot-20261120t101500", "A-b_c.d~e"]
)
def test_it_accepts_real_looking_ids(value: str) -> None:
    assert validate_id("backup id", value) == value


@pytest.mark.parametrize("size", [0, 1, 100, 1000])
def test_it_accepts_page_sizes_from_0_to_1000(size: int) -> None:
    assert validate_page_size(size) == size


@pytest.mark.parametrize("size", [-1, 1001])
def test_it_refuses_page_sizes_outside_0_to_1000(size: int) -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_page_size(size)
    assert str(err.value).startswith(f"page size is {size}; the cloud allows 0 to 1000")


def test_it_refuses_a_boolean_page_size() -> None:
    with pytest.raises(InvalidArgument, match="whole number"):
        validate_page_size(True)


def test_it_accepts_a_page_token_of_100_characters() -> None:
    assert validate_page_token("t" * 100) == "t" * 100


def test_it_refuses_a_page_token_of_101_characters() -> None:
    with pytest.raises(InvalidArgument, match="page token is 101 characters long"):
        validate_page_token("t" * 101)


async def test_the_client_checks_ids_before_sending_anything(
    sim: SimCloud, client: CloudClient
) -> None:
    calls = [
        client.get_cluster("c" * 51),
        client.get_backup("a/b"),
        client.list_cluster_backups_page("c" * 51),
        client.list_folder_backups_page(""),
        client.list_clusters_page("f?x"),
        client.backup_cluster("c\n"),
        client.get_operation("o" * 60),
        client.wait_operation(".."),
    ]
    for call in calls:
        with pytest.raises(InvalidArgument):
            await call
    assert sim.requests == []


@pytest.mark.parametrize(("size", "token"), [(-1, ""), (1001, ""), (10, "t" * 101)])
async def test_the_client_checks_paging_arguments_before_sending_anything(
    sim: SimCloud, client: CloudClient, size: int, token: str
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    with pytest.raises(InvalidArgument):
        await client.list_cluster_backups_page(cluster_id, page_size=size, page_token=token)
    assert sim.requests == []


async def test_the_iterators_refuse_bad_arguments_when_called(
    sim: SimCloud, client: CloudClient
) -> None:
    # Raised at the call, not at the first `async for` step, so the mistake points at its cause.
    with pytest.raises(InvalidArgument):
        client.list_cluster_backups("c" * 51)
    with pytest.raises(InvalidArgument):
        client.list_folder_backups("folder", page_size=1001)
    with pytest.raises(InvalidArgument):
        client.list_clusters("a b")
    assert sim.requests == []


@pytest.mark.parametrize(("size", "sent"), [(0, "0"), (1000, "1000")])
async def test_the_client_sends_page_sizes_at_the_limits(
    sim: SimCloud, client: CloudClient, size: int, sent: str
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    await client.list_cluster_backups_page(cluster_id, page_size=size)
    assert sim.requests[-1].query["pageSize"] == sent


@given(st.text(max_size=80))
def test_any_accepted_id_is_short_and_safe_in_a_path(value: str) -> None:
    refusal: InvalidArgument | None = None
    try:
        accepted = validate_id("cluster id", value)
    except InvalidArgument as err:
        refusal = err
    if refusal is not None:
        # Every refusal says what was wrong in words, never just "invalid".
        assert str(refusal).startswith("cluster id ")
        return
    assert 1 <= len(accepted) <= 50
    assert quote(accepted, safe=":") == accepted
    assert accepted not in {".", ".."}


def test_a_proxy_in_the_environment_turns_trust_env_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    assert not proxy_configured()
    monkeypatch.setenv("https_proxy", "http://proxy.internal:3128")
    assert proxy_configured()


def test_a_refused_character_comes_with_the_characters_an_id_may_have() -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_id("cluster id", "c9q cluster")
    assert str(err.value) == "cluster id contains a space, which cannot be part of an id"
    assert err.value.hint == "ids are letters, digits, '-', '_', '.', '~' and ':'"


def test_a_page_size_that_is_not_a_number_is_named_by_its_type() -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_page_size("10")  # type: ignore[arg-type]
    assert str(err.value) == "page size must be a whole number, not str"
