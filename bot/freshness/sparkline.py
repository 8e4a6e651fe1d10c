"""A one-line picture of a trend: our own sparkline, in the eight Unicode block characters.

Pure and tiny: values in, a string of ``▁▂▃▄▅▆▇█`` out, the lowest value the lowest block and the
highest the highest; a flat series sits in the middle, a missing value is a gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
#: What a missing value shows as.
GAP = " "


def sparkline(values: Sequence[float | None]) -> str:
    """One block per value, scaled between the smallest and the largest known value."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return GAP * len(values)
    low, high = min(known), max(known)
    out = []
    for value in values:
        if value is None or not math.isfinite(value):
            out.append(GAP)
        elif high == low:
            out.append(BLOCKS[len(BLOCKS) // 2 - 1])
        else:
            out.append(
                BLOCKS[
                    min(
                        len(BLOCKS) - 1, max(0, round(_share(value, low, high) * (len(BLOCKS) - 1)))
                    )
                ]
            )
    return "".join(out)


def _share(value: float, low: float, high: float) -> float:
    """Where ``value`` stands between ``low`` and ``high``, from 0 to 1."""
    if math.isfinite(high - low):
        return (value - low) / (high - low)
    # The span of two huge values overflows: halve everything first.
    return (value / 2 - low / 2) / (high / 2 - low / 2)
