"""The pattern table C[cell, pattern]: the sufficient statistic of every binary metric (metrics.md §0).

A *pattern* is one individual's row of the failure matrix together with which decision-makers saw
them (all of them under the inner join). A *cell* is one combination of group values (one value per
``--group`` attribute). The table stores, sparsely, how many linked individuals fall in each
(cell, pattern) that occurs: at most N rows, usually far fewer. Per-attribute groups are unions of
cells, so one table serves every grouping. Tables of shards of one population add up (`merge`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import numpy as np

from ..link.linked import Linked
from ..link.reduce import count_by_key

T = TypeVar("T")
ROWS_KEY, VIEW_KEY = "_rows:", "_view:"  # `Counts.per_row` and `Counts.per_view` keep their values so


@dataclass(frozen=True)
class Counts:
    """Rows of a pattern table (possibly restricted to some cells) with their weights.

    ``fail`` and ``present`` are (R, k) booleans; ``weights`` is (R,) or a batch (B, R), e.g.
    bootstrap replicates. Every metric function takes a `Counts` and broadcasts over the batch.
    """

    fail: np.ndarray
    present: np.ndarray
    weights: np.ndarray

    @property
    def k(self) -> int:
        return int(self.fail.shape[1])

    @cached_property
    def float_weights(self) -> np.ndarray:
        """`weights` as floats, converted once per view (a dozen statistics of a bootstrap batch use them)."""
        return np.asarray(self.weights, dtype=float)

    @cached_property
    def complete(self) -> bool:
        """True when every row was seen by every decision-maker (the inner join)."""
        return bool(self.present.all())

    # As floats, once: weights are floats (bootstrap batches), and a product with a boolean matrix would cast
    # it anew on every call (thousands per audit when every pattern is unique).
    @cached_property
    def failed(self) -> np.ndarray:
        """(R, k) float: 1 where the decision-maker saw and failed the row's individuals."""
        return (self.fail & self.present).astype(float)

    @cached_property
    def succeeded(self) -> np.ndarray:
        """(R, k) float: 1 where the decision-maker saw and did not fail them."""
        return (~self.fail & self.present).astype(float)

    @cached_property
    def by_failures(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows grouped by how many decision-makers fail them: an order of the rows, where each group
        starts in it, and each group's number of failures (a weighted histogram is then one reduceat)."""
        m = (self.fail & self.present).sum(axis=1)
        order = np.argsort(m, kind="stable")
        values, starts = np.unique(m[order], return_index=True)
        return order, starts, values

    @cached_property
    def seen(self) -> np.ndarray:
        """(R, k) float: 1 where the decision-maker saw them."""
        return self.present.astype(float)

    def totals(self, matrix: str) -> np.ndarray:
        """``Σ_r w_r M[r, :]`` (..., k) for M the view's ``"failed"`` or ``"seen"`` matrix: how many people each
        decision-maker failed, or saw. Exact, and cheap where it can be: under the inner join everyone is
        seen, so the seen totals are the weights' sum; with integer weights summing below 2^24 the product
        runs in single precision, where every partial sum is an integer it holds exactly (twice as fast)."""
        w = np.asarray(self.weights)
        if matrix == "seen" and self.complete:
            return np.repeat(w.sum(axis=-1, dtype=float)[..., None], self.k, axis=-1)
        if exact_in_float32(w):
            return weighted_sums(w, self.per_row(f"{matrix}32", lambda: getattr(self, matrix).astype(np.float32)))
        return weighted_sums(w, getattr(self, matrix))

    def per_row(self, name: str, make: Callable[[], T]) -> T:
        """`make()`, a value of the rows alone, made once and kept with them: the views of the same rows under
        other weights (`with_weights`: each bootstrap batch) share it."""
        return self._kept(ROWS_KEY + name, make)

    def per_view(self, name: str, make: Callable[[], T]) -> T:
        """`make()`, a value of this view (its rows and weights), made once: the statistics of one bootstrap
        batch start from the same failure rates and histogram. Not passed on to other weights."""
        return self._kept(VIEW_KEY + name, make)

    def _kept(self, key: str, make: Callable[[], T]) -> T:
        if key not in self.__dict__:
            self.__dict__[key] = make()
        return self.__dict__[key]

    @cached_property
    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct presence masks (D, k) and each row's mask index (R,)."""
        if self.complete and len(self.present):  # the inner join: one mask, everyone
            return np.ones((1, self.k), dtype=bool), np.zeros(len(self.present), dtype=np.int64)
        uniq, inverse = np.unique(self.present, axis=0, return_inverse=True)
        return uniq, inverse.reshape(-1)

    @cached_property
    def members(self) -> tuple[np.ndarray, np.ndarray]:
        """Each distinct mask's decision-makers, padded to the widest mask: indices (D, width) and which of
        them are real (D, width). With thousands of decision-makers and a few per person, per-mask work
        over `width` columns is far smaller than over k."""
        masks, _ = self.masks
        width = int(masks.sum(axis=1).max()) if len(masks) else 0
        used = np.arange(width)[None, :] < masks.sum(axis=1)[:, None]
        index = np.zeros((len(masks), width), dtype=np.int64)
        index[used] = np.nonzero(masks)[1]  # row-major: each mask's members in order
        return index, used

    @cached_property
    def _mask_order(self) -> tuple[np.ndarray, np.ndarray]:
        _, inverse = self.masks
        order = np.argsort(inverse, kind="stable")
        return order, np.searchsorted(inverse[order], np.arange(len(self.masks[0])))

    def mask_weights(self) -> np.ndarray:
        """The weight of each distinct presence mask (..., D): the rows' weights summed by mask."""
        order, starts = self._mask_order
        w = self.float_weights
        if not len(starts):
            return np.zeros((*w.shape[:-1], 0))
        return np.add.reduceat(np.take(w, order, axis=-1), starts, axis=-1)  # C order, unlike w[..., order]

    def with_weights(self, weights: np.ndarray) -> Counts:
        """The same rows under other weights (a bootstrap batch); what depends on the rows alone is kept."""
        other = Counts(self.fail, self.present, weights)
        rows_alone = ("complete", "masks", "members", "_mask_order", "failed", "succeeded", "seen", "by_failures")
        for name, value in self.__dict__.items():
            if name in rows_alone or name.startswith(ROWS_KEY):
                other.__dict__[name] = value
        return other


EXACT_FLOAT32 = 2**24  # every integer up to this is a float32


def exact_in_float32(weights: np.ndarray) -> bool:
    """True when `weights` are integers summing (per replicate) below 2^24: then any sum of their products
    with 0/1 entries is an integer a float32 holds exactly, in whatever order BLAS adds them."""
    w = np.asarray(weights)
    return bool(np.issubdtype(w.dtype, np.integer) and float(w.sum(axis=-1).max(initial=0)) < EXACT_FLOAT32)


def weighted_sums(weights: np.ndarray, indicator: np.ndarray) -> np.ndarray:
    """``weights @ indicator`` for a 0/1 `indicator` (R, M), in double precision, exactly as a double product
    gives it: in single precision where `exact_in_float32` holds (twice as fast, the same numbers)."""
    w = np.asarray(weights)
    if exact_in_float32(w):
        return (w.astype(np.float32) @ indicator.astype(np.float32, copy=False)).astype(float)
    return w.astype(float) @ indicator.astype(float, copy=False)


def cell_name(attributes: Sequence[str], labels: Sequence[str]) -> str:
    """A cell as a subpopulation's name: its value for one attribute, 'a=x & b=y' for several."""
    if len(attributes) == 1:
        return labels[0]
    return " & ".join(f"{a}={v}" for a, v in zip(attributes, labels, strict=True))


@dataclass(frozen=True)
class PatternTable:
    """Counts of linked individuals per (cell, failure pattern), stored sparsely."""

    names: tuple[str, ...]
    attributes: tuple[str, ...]
    cell_labels: tuple[tuple[str, ...], ...]
    fail: np.ndarray  # (P, k) bool: distinct patterns
    present: np.ndarray  # (P, k) bool
    row_cell: np.ndarray  # (R,) index into cell_labels
    row_pattern: np.ndarray  # (R,) index into fail/present
    row_count: np.ndarray  # (R,) int64, all > 0
    # (k, cells, 3) over each decision-maker's whole input: valid rows, failed rows, rows with a label but no
    # decision. Only the parity mode uses it (the reference code's populations are whole inputs).
    input_counts: np.ndarray | None = None

    @classmethod
    def build(cls, linked: Linked) -> PatternTable:
        """Reduce the linked failure matrix to pattern counts (one sort over N keys)."""
        if linked.pattern_rows is not None:  # already counted while linking
            bits, cell, counts = linked.pattern_rows
            return cls.from_bits(linked.names, bits, cell, linked.cell_labels, linked.attributes,
                                 linked.input_counts, weights=counts)
        return cls.from_matrix(linked.names, linked.fail, linked.present, linked.cell, linked.cell_labels,
                               linked.attributes, linked.input_counts)

    @classmethod
    def from_matrix(
        cls,
        names: Sequence[str],
        fail: np.ndarray,
        present: np.ndarray,
        cell: np.ndarray,
        cell_labels: Sequence[tuple[str, ...]],
        attributes: Sequence[str],
        input_counts: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> PatternTable:
        """Pattern counts of an (N, k) failure matrix whose rows lie in the given cells.

        With ``weights`` each row counts that many individuals (rows of tables being merged).
        """
        k = len(names)
        n_cells = len(cell_labels)
        cell = np.asarray(cell, dtype=np.int64)
        if (2 * k + max(n_cells - 1, 1).bit_length()) <= 62:
            # One integer per row: its fail and present bits.
            bits = np.zeros(len(cell), dtype=np.int64)
            for j, col in enumerate([*np.asarray(fail).T, *np.asarray(present).T]):
                bits |= col.astype(np.int64) << j
            return cls.from_bits(names, bits, cell, cell_labels, attributes, input_counts, weights)
        # Too many decision-makers for one integer: distinct patterns by their packed bytes.
        both = np.concatenate([fail, present], axis=1)
        packed = np.packbits(both, axis=1)
        void = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
        _, first, pattern = np.unique(void, return_index=True, return_inverse=True)
        ubits = both[first]
        combined = pattern.reshape(-1).astype(np.int64) * n_cells + cell
        keys2, inverse = np.unique(combined, return_inverse=True)
        counts = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(keys2))
        row_cell, row_pattern = keys2 % n_cells, keys2 // n_cells
        return cls._assemble(names, attributes, cell_labels, ubits, row_cell, row_pattern, counts, input_counts,
                             weights is not None)

    @classmethod
    def from_bits(
        cls,
        names: Sequence[str],
        bits: np.ndarray,
        cell: np.ndarray,
        cell_labels: Sequence[tuple[str, ...]],
        attributes: Sequence[str],
        input_counts: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> PatternTable:
        """`from_matrix` for rows given as one integer each: fail bits (bit i) then presence bits (bit k + i)."""
        k = len(names)
        row_bits, row_cell, counts = count_by_key(bits, cell, k, len(cell_labels), weights)
        uniq, row_pattern = np.unique(row_bits, return_inverse=True)
        ubits = ((uniq[:, None] >> np.arange(2 * k)) & 1).astype(bool)
        return cls._assemble(names, attributes, cell_labels, ubits, row_cell, row_pattern, counts,
                             input_counts, weights is not None)

    @classmethod
    def _assemble(
        cls, names: Sequence[str], attributes: Sequence[str], cell_labels: Sequence[tuple[str, ...]],
        ubits: np.ndarray, row_cell: np.ndarray, row_pattern: np.ndarray, counts: np.ndarray,
        input_counts: np.ndarray | None, weighted: bool,
    ) -> PatternTable:
        k = len(names)
        if weighted:  # merged tables: zero-count rows leave, float sums become counts again
            nonzero = counts > 0
            row_cell, row_pattern, counts = row_cell[nonzero], row_pattern[nonzero], counts[nonzero].round()
        return cls(
            names=tuple(names),
            attributes=tuple(attributes),
            cell_labels=tuple(cell_labels),
            fail=ubits[:, :k],
            present=ubits[:, k:],
            row_cell=np.asarray(row_cell, dtype=np.int64),
            row_pattern=np.asarray(row_pattern, dtype=np.int64).reshape(-1),
            row_count=counts.astype(np.int64),
            input_counts=input_counts,
        )

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def n(self) -> int:
        return int(self.row_count.sum())

    def counts(self, rows: np.ndarray | None = None) -> Counts:
        """The `Counts` view of all rows, or of the selected rows (a boolean mask over rows)."""
        if rows is None:
            return Counts(self.fail[self.row_pattern], self.present[self.row_pattern], self.row_count)
        p = self.row_pattern[rows]
        return Counts(self.fail[p], self.present[p], self.row_count[rows])

    def pattern_counts(self) -> Counts:
        """Every row merged by failure pattern (cells dropped): the overall view in as few rows as there are
        patterns. An overall statistic sums over rows a function of each row's pattern, so it is the same on
        this view, and each array and matrix product over it is smaller by the number of cells."""
        used = self.row_pattern[self._by_pattern[0][self._by_pattern[1]]]
        return Counts(self.fail[used], self.present[used], self.by_pattern(self.row_count))

    def by_pattern(self, weights: np.ndarray) -> np.ndarray:
        """Weights over rows (..., R) summed within each pattern, in the row order of `pattern_counts`."""
        order, starts = self._by_pattern
        weights = np.asarray(weights)
        # Each pattern's first row gathered, then its second, third... added: the order reduceat adds in, with
        # no gathered copy of every row (most patterns have one row when every person's pattern is unique).
        out = np.take(weights, order[starts], axis=-1)  # C order (indexing [..., idx] gives Fortran order)
        lengths = np.diff(np.append(starts, len(order)))
        several = np.flatnonzero(lengths > 1)
        for extra in range(1, int(lengths.max(initial=1))):
            several = several[lengths[several] > extra]
            out[..., several] += weights[..., order[starts[several] + extra]]
        return out

    @cached_property
    def _by_pattern(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows sorted by pattern, and where each pattern's run of rows starts."""
        order = np.argsort(self.row_pattern, kind="stable")
        ordered = self.row_pattern[order]
        return order, np.flatnonzero(np.r_[len(ordered) > 0, ordered[1:] != ordered[:-1]])

    def groups(self, attribute: str) -> list[tuple[str, np.ndarray]]:
        """(group label, boolean mask over rows) for each value of one attribute, sorted by label."""
        a = self.attributes.index(attribute)
        labels = sorted({c[a] for c in self.cell_labels})
        cell_value = np.array([c[a] for c in self.cell_labels], dtype=object)
        return [(g, (cell_value == g)[self.row_cell]) for g in labels]

    def intersections(self) -> list[tuple[str, np.ndarray]]:
        """Each cell (one value of every attribute) as a group, labelled 'a=x & b=y'."""
        out = []
        for c, labels in enumerate(self.cell_labels):
            text = " & ".join(f"{a}={v}" for a, v in zip(self.attributes, labels, strict=True))
            out.append((text, self.row_cell == c))
        return out
