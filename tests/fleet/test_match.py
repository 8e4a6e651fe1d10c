"""Which clusters a rule applies to, which are watched, and stable route keys."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cloud.models import Cluster, Environment
from bot.config import BotConfig, Match, Watch
from bot.fleet.match import matches, route_key, watched

CLUSTER = Cluster(
    id="c9qcluster000000001",
    folder_id="b1gfolder0000000001",
    name="orders-prod",
    labels={"tier": "critical", "team": "search"},
    environment=Environment.PRODUCTION,
)


def test_an_empty_match_matches_every_cluster() -> None:
    assert matches(Match(), CLUSTER)
    assert matches(Match(), Cluster(id="c9qbare"))


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        (Match(folder="b1gfolder0000000001"), True),
        (Match(folder="b1gotherfolder"), False),
        (Match(cluster="c9qcluster000000001"), True),
        (Match(cluster="orders-prod"), True),
        (Match(cluster="orders-test"), False),
        (Match(labels={"tier": "critical"}), True),
        (Match(labels={"tier": "critical", "team": "search"}), True),
        (Match(labels={"tier": "critical", "team": "logs"}), False),
        (Match(labels={"owner": "x"}), False),
        (Match(environment=Environment.PRODUCTION), True),
        (Match(environment=Environment.PRESTABLE), False),
        (Match(folder="b1gfolder0000000001", environment=Environment.PRESTABLE), False),
    ],
)
def test_every_given_key_must_match(match: Match, expected: bool) -> None:
    assert matches(match, CLUSTER) is expected


def test_environment_is_matched_case_insensitively_from_config() -> None:
    assert matches(Match.model_validate({"environment": "production"}), CLUSTER)


def test_a_cluster_without_a_name_is_not_matched_by_an_empty_name() -> None:
    assert not matches(Match(cluster=""), Cluster(id="c9qnoname"))


def test_route_key_is_short_and_names_kind_and_channel() -> None:
    key = route_key("alert", "C0ONCALL", Match(environment=Environment.PRODUCTION))
    assert re.fullmatch(r"alert:C0ONCALL:[0-9a-f]{8}", key)


def test_route_key_does_not_depend_on_how_the_match_was_written() -> None:
    a = Match.model_validate({"labels": {"a": "1", "b": "2"}, "folder": "f"})
    b = Match.model_validate({"folder": "f", "labels": {"b": "2", "a": "1"}, "cluster": None})
    assert route_key("alert", "C1", a) == route_key("alert", "C1", b)


def test_route_key_differs_when_the_route_means_something_else() -> None:
    base = route_key("alert", "C1", Match())
    assert route_key("digest", "C1", Match()) != base
    assert route_key("alert", "C2", Match()) != base
    assert route_key("alert", "C1", Match(folder="f")) != base


def test_route_key_is_stable_across_releases() -> None:
    # Persisted incidents are keyed by it: changing the hashing would orphan every open alert.
    assert route_key("alert", "C0ONCALL", Match()) == "alert:C0ONCALL:44136fa3"


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4))
def test_route_key_is_deterministic_for_any_labels(labels: dict[str, str]) -> None:
    match = Match(labels=labels)
    same = Match(labels=dict(reversed(list(labels.items()))))
    assert route_key("alert", "C", match) == route_key("alert", "C", same)


def _config(**watch: object) -> BotConfig:
    return BotConfig(watch=Watch.model_validate(watch))


def test_a_cluster_in_a_watched_folder_is_watched() -> None:
    assert watched(_config(folders=["b1gfolder0000000001"]), CLUSTER)


def test_a_cluster_listed_by_id_or_name_is_watched_wherever_it_is() -> None:
    assert watched(_config(clusters=["c9qcluster000000001"]), CLUSTER)
    assert watched(_config(clusters=["orders-prod"]), CLUSTER)


def test_a_cluster_neither_in_a_folder_nor_listed_is_not_watched() -> None:
    assert not watched(_config(folders=["b1gother"], clusters=["c9qother"]), CLUSTER)
    assert not watched(BotConfig(), CLUSTER)


def test_watch_only_narrows_the_watched_clusters() -> None:
    production = _config(folders=["b1gfolder0000000001"], only=[{"environment": "PRODUCTION"}])
    prestable = _config(folders=["b1gfolder0000000001"], only=[{"environment": "PRESTABLE"}])
    either = _config(
        folders=["b1gfolder0000000001"],
        only=[{"environment": "PRESTABLE"}, {"labels": {"tier": "critical"}}],
    )
    assert watched(production, CLUSTER)
    assert not watched(prestable, CLUSTER)
    assert watched(either, CLUSTER)


def test_an_unnamed_cluster_is_not_watched_by_an_empty_name() -> None:
    assert not watched(_config(clusters=[""]), Cluster(id="c9qnoname", folder_id="b1gx"))


def test_route_keys_stay_what_they_were_when_incidents_were_stored() -> None:
    # Open incidents are stored under these keys: a change would orphan every one of them.
    match = Match(
        folder="b1gfolder1",
        labels={"tier": "critical", "team": "search"},
        environment=Environment.PRODUCTION,
    )
    assert route_key("alert", "C0ONCALL", match) == "alert:C0ONCALL:1b28ace7"
    assert route_key("digest", "C0TEAM", Match()) == "digest:C0TEAM:44136fa3"


def test_a_cluster_of_a_found_folder_is_watched_unless_excluded() -> None:
    clouds = BotConfig(watch=Watch(clouds=["b1gcloud"]))
    assert watched(clouds, CLUSTER, {CLUSTER.folder_id})
    assert not watched(clouds, CLUSTER, {"b1gotherfolder"})
    # Where the clouds' folders are not known, a cluster of any folder counts as found: a
    # re-read must not retire it for that.
    assert watched(clouds, CLUSTER, None)
    assert not watched(BotConfig(watch=Watch(folders=["b1gotherfolder"])), CLUSTER, None)
    excluded = BotConfig(watch=Watch(clouds=["b1gcloud"], exclude=Match(labels={"team": "search"})))
    assert not watched(excluded, CLUSTER, {CLUSTER.folder_id})
    # exclude wins over a listing by id too.
    by_id = BotConfig(watch=Watch(clusters=[CLUSTER.id], exclude=Match(cluster="orders-prod")))
    assert not watched(by_id, CLUSTER)


def test_a_folder_alone_in_exclude_leaves_the_folder_unread() -> None:
    from bot.fleet.match import excluded_folder

    config = BotConfig(watch=Watch(clouds=["c"], exclude=Match(folder="b1gleftout")))
    assert excluded_folder(config, "b1gleftout")
    assert not excluded_folder(config, "b1gother")
    narrower = BotConfig(
        watch=Watch(clouds=["c"], exclude=Match(folder="b1gleftout", environment="PRESTABLE"))
    )
    assert not excluded_folder(narrower, "b1gleftout")
