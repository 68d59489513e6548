"""Long lists of the terminal report cut to what a reader takes in: at a thousand decision-makers, a table
with a row each is a thousand lines. The JSON and CSV keep every row."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

MANY = 30  # more rows than this: show the ends of the list only
ENDS = 10  # rows shown at each end


def ends(items: Sequence[T], key: Callable[[T], float]) -> tuple[list[T], list[T], int]:
    """`items` sorted by `key` (undefined, NaN, last), cut to its first and last `ENDS` when longer than
    `MANY`: (head, tail, how many are left out between them). Short lists come back whole, in order."""
    if len(items) <= MANY:
        return list(items), [], 0
    ordered = sorted(items, key=lambda x: (math.isnan(v := key(x)), v))
    return ordered[:ENDS], ordered[-ENDS:], len(items) - 2 * ENDS


def bins(count: int, most: int = 40) -> list[range]:
    """0..count-1 in at most `most` runs of equal width (the last may be shorter)."""
    width = max(1, math.ceil(count / most))
    return [range(start, min(start + width, count)) for start in range(0, count, width)]
