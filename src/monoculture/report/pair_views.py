"""Pairwise measures as a reader can take them in at any k: a matrix, blocks of the clustered order, the
strongest pairs. Read from the pairs' columns (`measure.records`): a thousand decision-makers make 499,500
pairs, and none is built as an object unless it is shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..measure.records import Labels, Ranked, Records, ranked, values_of
from ..measure.result import PairResult

BLOCKS = 50  # a heat map of more decision-makers shows this many blocks a side (each the mean of its pairs)


def pair_positions(pairs: Sequence[PairResult], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's two decision-makers as positions in `names`."""
    where = {n: i for i, n in enumerate(names)}
    fa, fb = (pairs.fields.get(side) if isinstance(pairs, Records) else None for side in ("a", "b"))
    if isinstance(fa, Labels) and isinstance(fb, Labels):
        return (np.array([where[n] for n in fa.labels], dtype=np.int64)[fa.codes],
                np.array([where[n] for n in fb.labels], dtype=np.int64)[fb.codes])
    return (np.array([where[p.a] for p in pairs], dtype=np.int64),
            np.array([where[p.b] for p in pairs], dtype=np.int64))


def pair_matrix(pairs: Sequence[PairResult], names: Sequence[str], key: str) -> np.ndarray:
    """(k, k): the measure `key` of each pair, rows and columns in the order of `names` (NaN on the diagonal,
    where undefined, and for a pair not listed)."""
    out = np.full((len(names), len(names)), np.nan)
    values = values_of(pairs, key)
    if values is not None and len(values):
        a, b = pair_positions(pairs, names)
        out[a, b] = out[b, a] = values
    return out


@dataclass(frozen=True)
class Blocks:
    """The matrix cut into runs of consecutive decision-makers: `starts` of each run, the mean of the defined
    pairs between two runs (within a run: between its members) and how many pairs that mean is over."""

    starts: np.ndarray
    mean: np.ndarray
    pairs: np.ndarray


def blocks(matrix: np.ndarray, count: int = BLOCKS) -> Blocks:
    """`matrix` (k, k, NaN where undefined) in at most `count` runs a side, as equal as can be."""
    k = len(matrix)
    starts = np.array([run[0] for run in np.array_split(np.arange(k), min(count, k)) if len(run)], dtype=np.int64)
    defined = ~np.isnan(matrix)

    def by_block(x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.add.reduceat(x, starts, axis=0), starts, axis=1)

    n = by_block(defined.astype(float))
    total = by_block(np.where(defined, matrix, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return Blocks(starts, np.where(n > 0, total / n, np.nan), n.astype(np.int64))


def strongest(pairs: Sequence[PairResult], key: str, count: int) -> Ranked[PairResult]:
    """The `count` pairs with the highest `key` (undefined values last), highest first."""
    return ranked(pairs, key).top(count)
