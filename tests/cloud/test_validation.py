"""Arguments are checked against the API's documented limits before anything is sent."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cloud.client import CloudClient
from bot.cloud.session import proxy_configured
from bot.cloud.validation import path_segment, validate_id, validate_page_size, validate_page_token
from bot.demo.simcloud import SimCloud
from bot.errors import InvalidArgument, NotFound
from bot.i18n.catalog import use_locale


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
    ("value", "encoded"),
    [
        ("c9q/../admin", "c9q%2F..%2Fadmin"),
        ("c9q?x=1", "c9q%3Fx%3D1"),
        ("c9q#frag", "c9q%23frag"),
        ("c9q%2F", "c9q%252F"),
        ("c9q abc", "c9q%20abc"),
        ("c9q\nabc", "c9q%0Aabc"),
        ("c9qаbc", "c9q%D0%B0bc"),  # a Cyrillic letter that looks Latin
        ("c9qabc:snapshot-1", "c9qabc:snapshot-1"),
    ],
)
def test_an_id_is_percent_encoded_into_one_path_segment(value: str, encoded: str) -> None:
    # The protos limit lengths, not characters: any id is sent as it is, encoded.
    assert validate_id("backup id", value, max_length=None) == value
    assert path_segment(value) == encoded


def test_a_backup_id_has_no_length_limit_when_asked_for_none() -> None:
    assert validate_id("backup id", "b" * 500, max_length=None) == "b" * 500


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
        client.get_backup(""),
        client.get_backup(".."),
        client.list_cluster_backups_page("c" * 51),
        client.list_folder_backups_page(""),
        client.list_clusters_page("f" * 51),
        client.backup_cluster("."),
        client.get_operation(""),
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
        client.list_clusters("f" * 51)
    assert sim.requests == []


@pytest.mark.parametrize(("size", "sent"), [(0, "0"), (1000, "1000")])
async def test_the_client_sends_page_sizes_at_the_limits(
    sim: SimCloud, client: CloudClient, size: int, sent: str
) -> None:
    cluster_id = next(iter(sim.fleet.clusters))
    await client.list_cluster_backups_page(cluster_id, page_size=size)
    assert sim.requests[-1].query["pageSize"] == sent


@given(st.text(max_size=80))
def test_any_accepted_id_is_one_path_segment_that_decodes_to_itself(value: str) -> None:
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
    segment = path_segment(accepted)
    assert not set(segment) & set("/?# \t\n")
    assert unquote(segment) == accepted
    assert accepted not in {".", ".."}


async def test_ids_without_a_proto_length_limit_are_sent(
    sim: SimCloud, client: CloudClient
) -> None:
    for call in (client.get_backup("b" * 60), client.get_operation("o" * 60)):
        with pytest.raises(NotFound):
            await call
    assert [len(r.path.rsplit("/", 1)[1]) for r in sim.requests] == [60, 60]


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


def test_a_page_size_that_is_not_a_number_is_named_by_its_type() -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_page_size("10")  # type: ignore[arg-type]
    assert str(err.value) == "page size must be a whole number, not str"


def test_a_refused_argument_is_said_in_the_readers_language() -> None:
    with use_locale("ru"):
        with pytest.raises(InvalidArgument) as long:
            validate_id("cluster id", "c" * 51)
        with pytest.raises(InvalidArgument) as dots:
            validate_id("operation id", "..", max_length=None)
    assert str(long.value) == "id кластера длиной 51 символ; облако принимает не больше 50"
    assert str(dots.value) == "id операции '..' — это не id"
