"""Grouping keys: which group a cluster is in, how the group reads, and how the config checks
``group_by`` and ``group_after``."""

from __future__ import annotations

import pytest

from bot.cloud.models import Cluster, Environment
from bot.config import AlertRoute, DigestRoute, check_group_by, parse_config
from bot.errors import ConfigError
from bot.fleet.grouping import folder_context, group_folder_id, group_key, group_label

SEARCH = Cluster(
    id="c9qsearch",
    folder_id="b1gsearchfolder",
    environment=Environment.PRODUCTION,
    labels={"team": "search", "tier": "critical"},
)
ORPHAN = Cluster(id="c9qorphan")  # no folder, environment or labels


def test_no_grouping_keys_put_every_cluster_in_one_group_for_the_route() -> None:
    assert group_key(SEARCH, []) == group_key(ORPHAN, []) == "*"
    assert group_label(SEARCH, []) == "all clusters"


def test_each_key_reads_as_a_person_would_name_the_group() -> None:
    assert group_label(SEARCH, ["folder"]) == "folder b1gsearchfolder"
    assert group_label(SEARCH, ["environment"]) == "PRODUCTION"
    assert group_label(SEARCH, ["label:team"]) == "team=search"
    assert group_label(SEARCH, ["folder", "label:team"]) == "folder b1gsearchfolder · team=search"


def test_a_cluster_without_the_value_goes_to_a_named_group_of_its_own() -> None:
    assert group_label(ORPHAN, ["label:team"]) == "(no team)"
    assert group_label(ORPHAN, ["environment"]) == "(no environment)"
    assert group_label(ORPHAN, ["folder"]) == "(no folder)"
    assert group_key(ORPHAN, ["label:team"]) != group_key(SEARCH, ["label:team"])


def test_clusters_agreeing_on_every_key_share_a_group_and_any_difference_splits_them() -> None:
    twin = SEARCH.model_copy(update={"id": "c9qtwin", "labels": {"team": "search"}})
    other_team = SEARCH.model_copy(update={"labels": {"team": "logs"}})
    keys = ["folder", "label:team"]
    assert group_key(twin, keys) == group_key(SEARCH, keys)
    assert group_key(other_team, keys) != group_key(SEARCH, keys)
    assert group_key(other_team, ["folder"]) == group_key(SEARCH, ["folder"])


def test_a_value_cannot_fake_a_separator_or_a_missing_value() -> None:
    sneaky = ORPHAN.model_copy(update={"labels": {"team": "x|label:tier=critical"}})
    plain = ORPHAN.model_copy(update={"labels": {"team": "x", "tier": "critical"}})
    keys = ["label:team", "label:tier"]
    assert group_key(sneaky, keys) != group_key(plain, keys)
    empty = ORPHAN.model_copy(update={"labels": {"team": ""}})
    assert group_key(empty, ["label:team"]) != group_key(ORPHAN, ["label:team"])


@pytest.mark.parametrize("bad", ["colour", "label:", "label: team", "Folder", "labels:team"])
def test_a_bad_key_is_refused_with_what_the_keys_are(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a grouping key; use folder, environment"):
        check_group_by([bad])


def test_a_repeated_key_is_refused() -> None:
    with pytest.raises(ValueError, match="'folder' is given twice"):
        check_group_by(["folder", "folder"])


def test_routes_default_to_folders_for_the_digest_and_one_group_for_alerts() -> None:
    assert DigestRoute(channel="C1").group_by == ["folder"]
    alert = AlertRoute(channel="C2")
    assert (alert.group_by, alert.group_after) == ([], 5)


def test_the_config_names_the_line_and_the_key_of_a_bad_grouping() -> None:
    text = "alerts:\n  - channel: C0ONCALL\n    group_by: [folder, colour]\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "bot.yaml")
    assert str(caught.value) == (
        "bot.yaml:3: alerts.0.group_by: 'colour' is not a grouping key; "
        "use folder, environment or label:<name>"
    )


def test_group_after_must_be_at_least_one() -> None:
    text = "alerts:\n  - channel: C0ONCALL\n    group_after: 0\n"
    with pytest.raises(ConfigError, match=r"bot.yaml:3: alerts.0.group_after: .*greater than"):
        parse_config(text, "bot.yaml")


def test_grouping_keys_are_read_from_the_config() -> None:
    config = parse_config(
        "digests:\n  - {channel: C1, group_by: [environment]}\n"
        "alerts:\n  - {channel: C2, group_by: ['label:team'], group_after: 2}\n"
    )
    assert config.digests[0].group_by == ["environment"]
    assert (config.alerts[0].group_by, config.alerts[0].group_after) == (["label:team"], 2)


def test_a_group_key_is_spelled_the_same_way_it_is_stored() -> None:
    # Keys are kept in the store with each open grouped alert: their spelling must not drift.
    odd = SEARCH.model_copy(update={"labels": {"team": "a/b|c=d é"}})
    keys = ["folder", "environment", "label:team", "label:tier"]
    assert group_key(odd, keys) == (
        "folder=b1gsearchfolder|environment=PRODUCTION|label:team=a%2Fb%7Cc%3Dd%20%C3%A9|label:tier"
    )


def test_a_folder_with_a_known_name_is_named_and_its_id_said_beside() -> None:
    cluster = Cluster(id="c9qx", folder_id="b1gfolder0000000001", labels={"team": "a|b"})
    names = {"b1gfolder0000000001": "team-search"}
    label = group_label(cluster, ["folder"], names)
    assert label == "folder team-search"
    key = group_key(cluster, ["label:team", "folder"])
    assert group_folder_id(key) == "b1gfolder0000000001"
    assert folder_context(key, label) == "b1gfolder0000000001"
    # A title that already shows the id (no name, or a group opened before names) adds none.
    assert folder_context(key, "folder b1gfolder0000000001") is None
    assert group_folder_id(group_key(cluster, ["label:team"])) is None
    assert group_folder_id(group_key(Cluster(id="c9qy"), ["folder"])) is None
    # A folder whose name could not be read shows its id, as before.
    assert group_label(cluster, ["folder"], {}) == "folder b1gfolder0000000001"
    assert group_label(cluster, ["folder"]) == "folder b1gfolder0000000001"
