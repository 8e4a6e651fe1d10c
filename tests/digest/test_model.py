"""The digest model: row order, counts, deltas since the previous digest, the shrink flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.cloud.models import Backup, Cluster
from bot.digest.model import (
    STATE_ORDER,
    ClusterFigures,
    Digest,
    DigestInput,
    DigestRow,
    build_digest,
    figures_of,
    shown_backup,
    shown_cluster,
    worst_first_key,
)
from bot.fleet.grouping import group_key
from bot.freshness.explain import Explanation
from bot.freshness.model import FreshnessReport, FreshnessState, MaxAge, MaxAgeSource
from bot.freshness.restore import RestoreReadiness

NOW = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)
MAX_AGE = MaxAge(timedelta(hours=26), MaxAgeSource.SCHEDULE, "daily at 03:00 UTC")
GIB = 1024**3


def backup(backup_id: str, hours_ago: float, size: int = 10 * GIB, indices: int = 40) -> Backup:
    return Backup(
        id=backup_id,
        created_at=NOW - timedelta(hours=hours_ago),
        size_bytes=size,
        indices_total=indices,
    )


def item(
    name: str,
    state: FreshnessState,
    backups: list[Backup] | None = None,
    *,
    count: int | None = None,
) -> DigestInput:
    cluster = Cluster(id=f"c9q{name}", name=name, folder_id="b1gfolder1")
    report = FreshnessReport(cluster_id=cluster.id, state=state, max_age=MAX_AGE)
    return DigestInput(cluster=cluster, report=report, backups=backups, backup_count=count)


def build(
    items: list[DigestInput],
    previous: dict[str, ClusterFigures] | None = None,
    *,
    only: bool = False,
) -> Digest:
    return build_digest(items, previous or {}, now=NOW, shrink_threshold=0.3, only_problems=only)


def test_problems_come_first_then_stopped_then_fresh_by_name_within() -> None:
    digest = build(
        [
            item("zeta", FreshnessState.FRESH, [backup("z", 3)]),
            item("Alpha", FreshnessState.FRESH, [backup("a", 3)]),
            item("orders", FreshnessState.STALE, [backup("o", 40)]),
            item("logs", FreshnessState.UNKNOWN, None),
            item("new", FreshnessState.NEVER, []),
            item("old", FreshnessState.STOPPED, [backup("s", 400)]),
            item("metrics", FreshnessState.STALE, [backup("m", 50)]),
            item("gone", FreshnessState.UNSCHEDULED, [backup("g", 90)]),
        ]
    )
    assert [row.cluster.name for row in digest.rows] == [
        "logs",
        "new",
        "metrics",
        "orders",
        "old",
        "gone",
        "Alpha",
        "zeta",
    ]


def test_counts_cover_every_cluster_even_when_fresh_rows_are_hidden() -> None:
    digest = build(
        [
            item("a", FreshnessState.FRESH, [backup("a1", 1)]),
            item("b", FreshnessState.FRESH, [backup("b1", 1)]),
            item("c", FreshnessState.STALE, [backup("c1", 30)]),
            item("d", FreshnessState.STOPPED, []),
        ],
        only=True,
    )
    assert [row.cluster.name for row in digest.rows] == ["c", "d"]
    assert digest.counts[FreshnessState.FRESH] == 2
    assert digest.counts[FreshnessState.STALE] == 1
    assert digest.counts[FreshnessState.NEVER] == 0
    assert digest.cluster_count == 4
    assert digest.hidden_count == 2
    assert digest.only_problems
    assert {f.cluster_id for f in figures_of(digest)} == {"c9qa", "c9qb", "c9qc", "c9qd"}


def test_only_problems_still_shows_a_fresh_cluster_whose_backup_shrank() -> None:
    shrunk = [backup("new", 1, size=5 * GIB), backup("old", 25, size=10 * GIB)]
    digest = build([item("a", FreshnessState.FRESH, shrunk)], only=True)
    assert [row.cluster.name for row in digest.rows] == ["a"]
    assert digest.rows[0].shrunk


def test_only_problems_with_everything_fresh_has_no_rows() -> None:
    digest = build([item("a", FreshnessState.FRESH, [backup("a1", 1)])], only=True)
    assert digest.rows == ()
    assert digest.counts[FreshnessState.FRESH] == 1


def test_the_newest_and_the_one_before_are_found_whatever_the_order() -> None:
    backups = [backup("mid", 25), backup("new", 1), backup("old", 49), backup("running", -1)]
    backups[3] = Backup(id="running", created_at=None)
    row = build([item("a", FreshnessState.FRESH, backups)]).rows[0]
    assert row.newest is not None
    assert row.newest.id == "new"
    assert row.previous_backup is not None
    assert row.previous_backup.id == "mid"
    assert row.backup_count == 4


def test_deltas_compare_with_the_previous_digest() -> None:
    previous = {
        "c9qa": ClusterFigures(
            cluster_id="c9qa",
            newest_backup_id="a0",
            newest_size_bytes=8 * GIB,
            newest_indices_total=38,
            backup_count=6,
            taken_at=YESTERDAY,
        )
    }
    backups = [backup(f"a{i}", 24 * i, size=10 * GIB, indices=41) for i in range(7)]
    row = build([item("a", FreshnessState.FRESH, backups)], previous).rows[0]
    assert row.size_delta == 2 * GIB
    assert row.indices_delta == 3
    assert row.count_delta == 1


def test_there_are_no_deltas_without_a_previous_digest() -> None:
    row = build([item("a", FreshnessState.FRESH, [backup("a1", 1)])]).rows[0]
    assert (row.size_delta, row.indices_delta, row.count_delta) == (None, None, None)


def test_a_cluster_that_lost_all_its_backups_has_a_count_delta_only() -> None:
    previous = {
        "c9qa": ClusterFigures("c9qa", "a0", 8 * GIB, 38, backup_count=3, taken_at=YESTERDAY)
    }
    row = build([item("a", FreshnessState.NEVER, [])], previous).rows[0]
    assert row.count_delta == -3
    assert row.size_delta is None
    assert row.indices_delta is None


def test_the_backup_count_may_be_given_when_only_the_newest_two_were_kept() -> None:
    digest = build([item("a", FreshnessState.FRESH, [backup("a1", 1), backup("a0", 25)], count=60)])
    assert digest.rows[0].backup_count == 60
    assert figures_of(digest)[0].backup_count == 60


def test_a_backup_a_third_smaller_than_the_one_before_is_flagged() -> None:
    flagged = build([item("a", FreshnessState.FRESH, [backup("n", 1, 7 * GIB), backup("o", 25)])])
    assert flagged.rows[0].shrunk
    assert flagged.rows[0].shrink_ratio == 0.3
    slight = build([item("a", FreshnessState.FRESH, [backup("n", 1, 8 * GIB), backup("o", 25)])])
    assert not slight.rows[0].shrunk
    grown = build([item("a", FreshnessState.FRESH, [backup("n", 1, 20 * GIB), backup("o", 25)])])
    assert not grown.rows[0].shrunk


def test_a_single_backup_or_an_empty_one_before_it_is_never_flagged() -> None:
    single = build([item("a", FreshnessState.FRESH, [backup("n", 1, 1)])])
    assert not single.rows[0].shrunk
    empty_before = build([item("a", FreshnessState.FRESH, [backup("n", 1, 0), backup("o", 2, 0)])])
    assert not empty_before.rows[0].shrunk


def test_the_total_size_sums_every_clusters_newest_backup() -> None:
    digest = build(
        [
            item("a", FreshnessState.FRESH, [backup("a1", 1, 3 * GIB), backup("a0", 25, GIB)]),
            item("b", FreshnessState.STALE, [backup("b1", 30, 2 * GIB)]),
            item("c", FreshnessState.UNKNOWN, None),
            item("d", FreshnessState.NEVER, []),
        ],
        only=True,
    )
    assert digest.total_size_bytes == 5 * GIB
    assert digest.generated_at == NOW


def test_figures_remember_the_newest_backup_for_tomorrow() -> None:
    digest = build([item("a", FreshnessState.FRESH, [backup("a1", 1, 3 * GIB, 12)])])
    assert figures_of(digest) == [
        ClusterFigures("c9qa", "a1", 3 * GIB, 12, backup_count=1, taken_at=NOW)
    ]


def test_a_cluster_that_could_not_be_read_keeps_yesterdays_figures() -> None:
    before = ClusterFigures("c9qa", "a0", GIB, 3, backup_count=5, taken_at=YESTERDAY)
    digest = build([item("a", FreshnessState.UNKNOWN, None)], {"c9qa": before})
    assert figures_of(digest) == [before]
    row = digest.rows[0]
    assert (row.newest, row.backup_count, row.count_delta, row.shrunk) == (None, None, None, False)
    assert build([item("b", FreshnessState.UNKNOWN, None)]).figures == ()


_states = st.sampled_from(list(FreshnessState))


@given(st.lists(st.tuples(st.text(max_size=6), _states), max_size=30), st.booleans())
def test_no_cluster_is_lost_or_counted_twice(
    clusters: list[tuple[str, FreshnessState]], only: bool
) -> None:
    items = [
        item(f"{name}-{i}", state, None if state == FreshnessState.UNKNOWN else [backup("x", 1)])
        for i, (name, state) in enumerate(clusters)
    ]
    digest = build(items, only=only)
    assert digest.cluster_count == len(items)
    shown = {row.cluster.id for row in digest.rows}
    for each in items:
        hidden = only and each.report.state == FreshnessState.FRESH
        assert (each.cluster.id in shown) is not hidden
    keys = [
        (STATE_ORDER.index(row.report.state), row.cluster.display_name.casefold())
        for row in digest.rows
    ]
    assert keys == sorted(keys)


# --- worst first -------------------------------------------------------------------------------


def key(
    name: str,
    state: FreshnessState,
    hours: float | None = None,
    *,
    max_hours: float = 26,
    created: datetime | None = None,
    shrunk: bool = False,
) -> tuple[int, int, float, str, str]:
    cluster = Cluster(id=f"c9q{name}", name=name, created_at=created)
    report = FreshnessReport(
        cluster_id=cluster.id,
        state=state,
        max_age=MaxAge(timedelta(hours=max_hours), MaxAgeSource.SCHEDULE),
        age=timedelta(hours=hours) if hours is not None else None,
    )
    return worst_first_key(cluster, report, shrunk=shrunk)


def order(*keys: tuple[int, int, float, str, str]) -> list[str]:
    """The names (from the ids, as given) in worst-first order."""
    return [k[4].removeprefix("c9q") for k in sorted(keys)]


def test_states_go_unknown_never_stale_stopped_unscheduled_then_fresh() -> None:
    assert order(
        key("f", FreshnessState.FRESH, 1),
        key("u", FreshnessState.UNSCHEDULED, 90),
        key("s", FreshnessState.STOPPED, 400),
        key("t", FreshnessState.STALE, 30),
        key("n", FreshnessState.NEVER),
        key("k", FreshnessState.UNKNOWN),
    ) == ["k", "n", "t", "s", "u", "f"]


def test_the_most_overdue_stale_cluster_comes_first() -> None:
    # big-101 is 1d 2h past its maximum age, big-139 1d 20h: the later one leads.
    assert order(
        key("big-101", FreshnessState.STALE, 26 + 26),
        key("big-139", FreshnessState.STALE, 26 + 44),
    ) == ["big-139", "big-101"]


def test_overdue_is_measured_against_each_clusters_own_maximum_age() -> None:
    # 10 h old against 1 h is 9 h overdue; 30 h old against 26 h only 4 h.
    assert order(
        key("daily", FreshnessState.STALE, 30, max_hours=26),
        key("hourly", FreshnessState.STALE, 10, max_hours=1),
    ) == ["hourly", "daily"]


def test_a_cluster_never_backed_up_for_longest_comes_first_and_unknown_creation_last() -> None:
    assert order(
        key("young", FreshnessState.NEVER, created=NOW - timedelta(days=1)),
        key("dunno", FreshnessState.NEVER),
        key("old", FreshnessState.NEVER, created=NOW - timedelta(days=30)),
    ) == ["old", "young", "dunno"]


def test_stopped_and_unscheduled_clusters_longest_without_a_backup_come_first() -> None:
    for state in (FreshnessState.STOPPED, FreshnessState.UNSCHEDULED):
        assert order(
            key("recent", state, 5),
            key("none", state, None),
            key("ancient", state, 900),
        ) == ["none", "ancient", "recent"]


def test_fresh_clusters_that_shrank_then_those_nearest_to_stale_come_first() -> None:
    assert order(
        key("just-backed-up", FreshnessState.FRESH, 1),
        key("nearly-stale", FreshnessState.FRESH, 25),
        key("shrank", FreshnessState.FRESH, 2, shrunk=True),
    ) == ["shrank", "nearly-stale", "just-backed-up"]


def test_unknown_clusters_and_ties_go_by_name_then_id() -> None:
    assert order(
        key("beta", FreshnessState.UNKNOWN),
        key("Alpha", FreshnessState.UNKNOWN),
        key("beta", FreshnessState.STALE, 30),
        key("alpha", FreshnessState.STALE, 30),
        key("ALPHA", FreshnessState.STALE, 30),
    ) == ["Alpha", "beta", "ALPHA", "alpha", "beta"]


def test_digest_rows_follow_the_worst_first_order() -> None:
    def stale(name: str, hours: float) -> DigestInput:
        cluster = Cluster(id=f"c9q{name}", name=name)
        report = FreshnessReport(
            cluster.id, FreshnessState.STALE, MAX_AGE, age=timedelta(hours=hours)
        )
        return DigestInput(cluster, report, [backup(name, hours)])

    digest = build([stale("big-101", 52), stale("big-139", 70)])
    assert [row.cluster.name for row in digest.rows] == ["big-139", "big-101"]


# --- groups ------------------------------------------------------------------------------------


def in_folder(
    name: str, folder: str, state: FreshnessState, team: str | None = None
) -> DigestInput:
    labels = {"team": team} if team else {}
    cluster = Cluster(id=f"c9q{name}", name=name, folder_id=folder, labels=labels)
    report = FreshnessReport(cluster_id=cluster.id, state=state, max_age=MAX_AGE)
    backups = [] if state == FreshnessState.NEVER else [backup(name, 1)]
    return DigestInput(cluster=cluster, report=report, backups=backups)


def test_groups_come_in_the_order_of_their_worst_row_and_count_every_cluster() -> None:
    items = [
        in_folder("a1", "b1gA", FreshnessState.FRESH),
        in_folder("b1", "b1gB", FreshnessState.STALE),
        in_folder("b2", "b1gB", FreshnessState.FRESH),
        in_folder("c1", "b1gC", FreshnessState.NEVER),
        in_folder("z1", "b1gZ", FreshnessState.FRESH),
    ]
    digest = build_digest(items, {}, now=NOW, only_problems=True, group_by=["folder"])
    assert [g.label for g in digest.groups] == [
        "folder b1gC",  # its worst row (never) is the worst of all
        "folder b1gB",
        "folder b1gA",  # no row shown (only fresh, hidden): after, by label
        "folder b1gZ",
    ]
    group_b = digest.groups[1]
    assert [r.cluster.name for r in group_b.rows] == ["b1"]  # b2 is fresh and hidden
    assert group_b.counts[FreshnessState.FRESH] == 1
    assert group_b.cluster_count == 2
    assert sum(g.cluster_count for g in digest.groups) == digest.cluster_count == 5
    assert all(row.group == "folder=b1gB" for row in group_b.rows)


def test_grouping_by_a_label_puts_clusters_without_it_in_a_named_group() -> None:
    items = [
        in_folder("s1", "b1gA", FreshnessState.STALE, team="search"),
        in_folder("x1", "b1gA", FreshnessState.STALE),
    ]
    digest = build_digest(items, {}, now=NOW, group_by=["label:team"])
    assert sorted(g.label for g in digest.groups) == ["(no team)", "team=search"]


def test_no_grouping_keys_make_one_group_of_the_whole_digest() -> None:
    items = [in_folder(f"c{i}", f"b1g{i}", FreshnessState.STALE) for i in range(4)]
    digest = build(items)
    [group] = digest.groups
    assert group.label == "all clusters"
    assert len(group.rows) == 4


def test_a_cluster_whose_previous_digest_had_no_backup_gets_a_count_delta_only() -> None:
    # Yesterday's digest saw the cluster without a backup: no size or indices to compare with.
    previous = {
        "c9qa": ClusterFigures("c9qa", None, None, None, backup_count=0, taken_at=YESTERDAY)
    }
    row = build([item("a", FreshnessState.FRESH, [backup("a1", 1, 3 * GIB, 12)])], previous).rows[0]
    assert row.count_delta == 1
    assert row.size_delta is None
    assert row.indices_delta is None
    assert row.newest is not None
    assert row.newest.id == "a1"


def test_by_default_every_row_shows_and_a_shrink_of_30_percent_is_flagged() -> None:
    items = [
        item("a", FreshnessState.FRESH, [backup("n", 1, 7 * GIB), backup("o", 25, 10 * GIB)]),
        item("b", FreshnessState.FRESH, [backup("n", 1, 8 * GIB), backup("o", 25, 10 * GIB)]),
    ]
    digest = build_digest(items, {}, now=NOW)
    assert [(row.cluster.name, row.shrunk) for row in digest.rows] == [("a", True), ("b", False)]
    assert not digest.only_problems


def test_with_a_zero_threshold_any_shrink_is_flagged_but_an_equal_size_is_not() -> None:
    items = [
        item("a", FreshnessState.FRESH, [backup("n", 1, 10 * GIB - 1), backup("o", 25, 10 * GIB)]),
        item("b", FreshnessState.FRESH, [backup("n", 1, 10 * GIB), backup("o", 25, 10 * GIB)]),
    ]
    digest = build_digest(items, {}, now=NOW, shrink_threshold=0.0)
    assert [(row.cluster.name, row.shrunk) for row in digest.rows] == [("a", True), ("b", False)]


def test_a_backup_of_nothing_after_one_of_a_byte_shrank_entirely() -> None:
    row = build([item("a", FreshnessState.FRESH, [backup("n", 1, 0), backup("o", 25, 1)])]).rows[0]
    assert row.shrunk
    assert row.shrink_ratio == 1.0


def test_there_is_no_shrink_ratio_without_a_backup_before_or_when_it_was_empty() -> None:
    single = build([item("a", FreshnessState.FRESH, [backup("n", 1)])]).rows[0]
    assert single.shrink_ratio is None
    empty = build([item("a", FreshnessState.FRESH, [backup("n", 1, 5), backup("o", 2, 0)])])
    assert empty.rows[0].shrink_ratio is None
    blind = build([item("a", FreshnessState.UNKNOWN, None)]).rows[0]
    assert blind.shrink_ratio is None


def test_a_cluster_without_backups_remembers_a_count_of_zero() -> None:
    digest = build([item("a", FreshnessState.NEVER, [])])
    assert [f.backup_count for f in figures_of(digest)] == [0]
    assert figures_of(digest)[0].newest_backup_id is None


def test_without_a_count_the_backups_given_are_the_count() -> None:
    cluster = Cluster(id="c9qa", name="a", folder_id="b1gfolder1")
    report = FreshnessReport(cluster_id=cluster.id, state=FreshnessState.FRESH, max_age=MAX_AGE)
    given_only = DigestInput(cluster=cluster, report=report, backups=[backup("a1", 1)])
    assert build([given_only]).rows[0].backup_count == 1


def test_a_digest_made_without_figures_remembers_nothing() -> None:
    digest = Digest(rows=(), counts={}, total_size_bytes=0, generated_at=NOW, only_problems=False)
    assert figures_of(digest) == []


def test_a_key_made_without_the_shrink_flag_is_that_of_a_cluster_that_did_not_shrink() -> None:
    cluster = Cluster(id="c9qf", name="f")
    report = FreshnessReport(
        cluster_id=cluster.id, state=FreshnessState.FRESH, max_age=MAX_AGE, age=timedelta(hours=1)
    )
    plain = worst_first_key(cluster, report)
    assert plain == worst_first_key(cluster, report, shrunk=False)
    assert worst_first_key(cluster, report, shrunk=True) < plain


def test_a_stale_cluster_of_unknown_age_comes_before_every_measured_one() -> None:
    assert order(
        key("measured", FreshnessState.STALE, 26 + 400),
        key("unmeasured", FreshnessState.STALE),
    ) == ["unmeasured", "measured"]


def test_group_counts_add_up_every_cluster_of_each_state_and_keep_the_keys() -> None:
    items = [in_folder(f"s{i}", "b1gA", FreshnessState.STALE) for i in range(3)]
    items += [in_folder(f"f{i}", "b1gA", FreshnessState.FRESH) for i in range(2)]
    digest = build_digest(items, {}, now=NOW, group_by=["folder"])
    [group] = digest.groups
    assert group.key == "folder=b1gA"
    assert {row.group for row in group.rows} == {group.key}
    assert group.counts[FreshnessState.STALE] == 3
    assert group.counts[FreshnessState.FRESH] == 2
    assert group.cluster_count == 5
    assert digest.group_by == ("folder",)
    assert build_digest(items, {}, now=NOW, group_by=["label:team"]).group_by == ("label:team",)


def test_groups_with_no_row_shown_follow_by_label_whatever_its_case() -> None:
    items = [
        in_folder("b", "b1gB", FreshnessState.FRESH),
        in_folder("a", "b1ga", FreshnessState.FRESH),
        in_folder("s", "b1gS", FreshnessState.STALE),
    ]
    digest = build_digest(items, {}, now=NOW, only_problems=True, group_by=["folder"])
    assert [g.label for g in digest.groups] == ["folder b1gS", "folder b1ga", "folder b1gB"]
    assert [g.key for g in digest.groups] == ["folder=b1gS", "folder=b1ga", "folder=b1gB"]


def test_a_nonsense_size_after_an_empty_backup_is_not_a_shrink_nor_a_crash() -> None:
    # int64 admits negatives; a loose API could send one. Nothing to compare against 0 bytes.
    backups = [backup("new", 1, size=-5), backup("old", 25, size=0)]
    row = build([item("x", FreshnessState.FRESH, backups)]).rows[0]
    assert not row.shrunk
    assert row.shrink_ratio is None


def _fresh_with_restore(name: str, required: int | None, available: int | None) -> DigestInput:
    cluster = Cluster(id=f"c9q{name}", name=name, folder_id="b1gfolder1")
    readiness = RestoreReadiness(backup_id=name, required_bytes=required, available_bytes=available)
    report = FreshnessReport(
        cluster_id=cluster.id,
        state=FreshnessState.FRESH,
        max_age=MAX_AGE,
        age=timedelta(hours=1),
        explanation=Explanation(restore=readiness),
    )
    return DigestInput(cluster=cluster, report=report, backups=[backup(name, 1)])


def test_a_fresh_backup_too_big_to_restore_is_a_warning_row_that_leads_the_fresh_ones() -> None:
    items = [
        item("a-plain", FreshnessState.FRESH, [backup("a", 1)]),
        _fresh_with_restore("b-fits", 10 * GIB, 20 * GIB),
        _fresh_with_restore("c-unknown", 10 * GIB, None),
        _fresh_with_restore("z-too-big", 30 * GIB, 20 * GIB),
    ]
    digest = build(items, only=True)
    assert [row.cluster.name for row in digest.rows] == ["z-too-big"]
    (row,) = digest.rows
    assert row.restore_would_not_fit
    assert row.notable
    assert not row.shrunk
    everything = build(items)
    assert everything.rows[0].cluster.name == "z-too-big"
    assert [r.restore_would_not_fit for r in everything.rows] == [True, False, False, False]


def test_a_bare_row_and_digest_belong_to_no_group() -> None:
    digest = Digest(rows=(), counts={}, total_size_bytes=0, generated_at=NOW, only_problems=False)
    assert digest.groups == ()
    assert digest.group_by == ()
    assert digest.figures == ()
    row = build([item("x", FreshnessState.FRESH, [backup("x", 1)])]).rows[0]
    bare = DigestRow(
        cluster=row.cluster,
        report=row.report,
        newest=None,
        previous_backup=None,
        backup_count=None,
        size_delta=None,
        indices_delta=None,
        count_delta=None,
        shrunk=False,
    )
    assert bare.group == ""


def test_what_a_digest_keeps_of_a_cluster_and_a_backup_is_what_it_shows() -> None:
    cluster = Cluster.model_validate(
        {
            "id": "c9qkept",
            "name": "kept",
            "folderId": "b1gfolder1",
            "labels": {"team": "search"},
            "environment": "PRODUCTION",
            "status": "RUNNING",
            "health": "ALIVE",
            "createdAt": "2025-01-02T03:04:05Z",
            "config": {},
        }
    )
    shown = shown_cluster(cluster)
    assert shown.config is None
    assert cluster.config is not None
    assert shown.planned_operation is None
    kept = ("id", "folder_id", "name", "labels", "environment", "status", "health", "created_at")
    assert [getattr(shown, f) for f in kept] == [getattr(cluster, f) for f in kept]
    assert shown.display_name == cluster.display_name
    assert group_key(shown, ("folder", "environment", "team")) == group_key(
        cluster, ("folder", "environment", "team")
    )

    full = Backup(id="b1", created_at=NOW, size_bytes=5 * GIB, indices_total=2, indices=("a", "b"))
    small = shown_backup(full)
    assert small.indices == ()
    assert (small.id, small.created_at, small.size_bytes, small.indices_total) == (
        full.id,
        full.created_at,
        full.size_bytes,
        full.indices_total,
    )
