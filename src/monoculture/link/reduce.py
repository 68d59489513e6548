"""Counting rows by (failure-and-presence bits, cell): the one reduction linking and the pattern table share."""

from __future__ import annotations

import numpy as np

# Count by direct indexing when the key space (patterns × cells) has at most this many slots (32 MB);
# beyond it, sort.
DIRECT_LIMIT = 1 << 22


def count_by_key(
    bits: np.ndarray, cell: np.ndarray, k: int, n_cells: int, weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (bits, cell) pairs among the rows, sorted, and how many rows (or how much weight) each.

    `bits`: per row, fail bits (bit i) then presence bits (bit k + i), so 2k ≤ 62.
    """
    if 2 * k + max(n_cells - 1, 1).bit_length() <= 62:
        key = np.asarray(bits, dtype=np.int64).copy()
        key *= n_cells
        key += cell
        space = (1 << (2 * k)) * n_cells
        if space <= DIRECT_LIMIT:
            counts = np.bincount(key, weights=weights, minlength=space)
            key = np.flatnonzero(counts)
            counts = counts[key]
        else:
            key, inverse = np.unique(key, return_inverse=True)
            counts = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(key))
        return key // n_cells, key % n_cells, counts
    pairs = np.column_stack([np.asarray(bits, dtype=np.int64), np.asarray(cell, dtype=np.int64)])
    distinct, inverse = np.unique(pairs, axis=0, return_inverse=True)
    counts = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(distinct))
    return distinct[:, 0], distinct[:, 1], counts
