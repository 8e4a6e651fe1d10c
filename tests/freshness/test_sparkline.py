"""The sparkline: lowest value the lowest block, highest the highest, gaps where unknown."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from bot.freshness.sparkline import BLOCKS, GAP, sparkline


def test_a_rising_series_climbs_from_the_lowest_block_to_the_highest() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == BLOCKS
    assert sparkline([7, 0]) == "█▁"


def test_a_shrinking_backup_is_seen_at_a_glance() -> None:
    line = sparkline([100, 101, 102, 103, 40])
    assert line[-1] == "▁"
    assert set(line[:-1]) == {"█"}


def test_a_flat_series_sits_in_the_middle_and_unknown_values_are_gaps() -> None:
    assert sparkline([5, 5, 5]) == "▄▄▄"
    assert sparkline([None, 1, math.nan, 3]) == f"{GAP}▁{GAP}█"
    assert sparkline([]) == ""
    assert sparkline([None]) == GAP


def test_two_values_a_denormal_apart_are_lowest_and_highest_not_a_division_by_zero() -> None:
    assert sparkline([0.0, 5e-324]) == "▁█"


@given(
    st.lists(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)), max_size=30)
)
def test_one_character_per_value_and_only_blocks_or_gaps(values: list[float | None]) -> None:
    line = sparkline(values)
    assert len(line) == len(values)
    assert set(line) <= set(BLOCKS) | {GAP}
    known = [v for v in values if v is not None]
    if len(set(known)) > 1:
        assert line[values.index(min(known))] == BLOCKS[0]
        assert line[values.index(max(known))] == BLOCKS[-1]
