"""Systemic failure and outcome homogenization (Bommasani et al., NeurIPS 2022; metrics.md §1).

Every function takes a `Counts` view of the pattern table and returns an array broadcast over its
weight batch: a scalar-shaped array for one table, shape (B,) for B bootstrap replicates.
"""

from __future__ import annotations

import numpy as np

from ...count.table import Counts, weighted_sums
from ._base import divide


def population(c: Counts) -> np.ndarray:
    """N: the number of linked individuals in the view."""
    return c.float_weights.sum(axis=-1)


def failure_rates(c: Counts) -> np.ndarray:
    """Per-decision-maker failure rate ``e_i = mean_j F[j, i]`` over the individuals i saw.

    Returns
    -------
    array (..., k)
        NaN for a decision-maker that saw nobody in the view.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1, 1], [1, 0], [0, 0]], bool)
    >>> failure_rates(Counts(F, np.ones_like(F), np.array([2, 1, 1]))).tolist()
    [0.75, 0.5]
    """
    # Kept on the view: a dozen statistics of one bootstrap batch each start from these rates.
    return c.per_view("failure_rates", lambda: divide(c.totals("failed"), c.totals("seen")))


def _failed_by_all(c: Counts) -> np.ndarray:
    """(R,) float: 1 where every decision-maker that saw the row's people failed them (and someone saw them)."""
    return c.per_row("failed_by_all", lambda: ((c.fail | ~c.present).all(axis=1) & c.present.any(axis=1)).astype(float))


def _failed_by_none(c: Counts) -> np.ndarray:
    """(R,) float: 1 where no decision-maker failed the row's people."""
    return c.per_row("failed_by_none", lambda: (~(c.fail & c.present).any(axis=1)).astype(float))


def systemic_failure(c: Counts) -> np.ndarray:
    """Observed systemic failure rate ``S = mean_j Π_i F[j, i]``: the share failed by every decision-maker.

    Under the outer join, "every decision-maker" means every decision-maker that saw the person.

    Notes
    -----
    Undefined (NaN) only for an empty view. Higher is worse: these people have nowhere to go.

    References
    ----------
    Bommasani, Creel, Kumar, Jurafsky, Liang. "Picking on the Same Person: Does Algorithmic Monoculture
    lead to Outcome Homogenization?" NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1, 1], [1, 0], [0, 0]], bool)
    >>> float(systemic_failure(Counts(F, np.ones_like(F), np.array([2, 1, 1]))))
    0.5
    """
    w = c.float_weights
    return divide(w @ _failed_by_all(c), w.sum(axis=-1))


def _per_row_product(c: Counts, factors: np.ndarray) -> np.ndarray:
    """Σ_r w_r Π_{i seen in row r} factors_i / N, grouping rows by presence mask (few distinct masks)."""
    w = c.float_weights
    index, used = c.members
    # (..., D): product over each mask's decision-makers; a padding slot contributes a factor of 1.
    prod = np.prod(np.where(used, factors[..., index], 1.0), axis=-1)
    return divide((c.mask_weights() * prod).sum(axis=-1), w.sum(axis=-1))


def expected_systemic_failure(c: Counts) -> np.ndarray:
    """Systemic failure expected if decision-makers failed people independently: ``S_ind = Π_i e_i``.

    Under the outer join each person contributes the product over the decision-makers that saw them,
    ``S_ind = mean_j Π_{i saw j} e_i`` (a per-row independence baseline, metrics.md §2).

    Notes
    -----
    Zero when some ``e_i = 0``; H is then undefined. NaN for an empty view.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1, 1], [1, 0], [0, 0]], bool)
    >>> float(expected_systemic_failure(Counts(F, np.ones_like(F), np.array([2, 1, 1]))))
    0.375
    """
    e = failure_rates(c)
    if c.complete:
        return np.prod(e, axis=-1)
    return _per_row_product(c, e)


def homogenization(c: Counts) -> np.ndarray:
    """Individual-level outcome homogenization ``H = S / S_ind``.

    1 means decision-makers fail people independently; above 1, the same people are failed everywhere
    (homogenized outcomes); below 1, failures are spread apart.

    Notes
    -----
    Undefined (NaN) when ``S_ind = 0``, i.e. some decision-maker never fails anyone (0/0). When
    ``S = 0 < S_ind``, H = 0. When ``N · S_ind < 5`` the ratio is dominated by discreteness and the
    report flags it. H grows like ``1 / Π e_i`` with k, so it is not comparable across ecosystems of
    different size: always read it next to S, S_ind and N.

    References
    ----------
    Bommasani et al., NeurIPS 2022, definition of homogenization over systemic failures.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1, 1], [1, 0], [0, 0]], bool)
    >>> round(float(homogenization(Counts(F, np.ones_like(F), np.array([2, 1, 1])))), 6)
    1.333333
    >>> bool(np.isnan(homogenization(Counts(F[2:], np.ones_like(F[2:]), np.array([5])))))
    True
    """
    return divide(systemic_failure(c), expected_systemic_failure(c))


def consistent_success(c: Counts) -> np.ndarray:
    """Share of individuals failed by no decision-maker (the bottom bin of the ecosystem histogram)."""
    w = c.float_weights
    return divide(w @ _failed_by_none(c), w.sum(axis=-1))


def expected_consistent_success(c: Counts) -> np.ndarray:
    """Consistent success expected under independence: ``Π_i (1 − e_i)`` (per row under the outer join)."""
    e = failure_rates(c)
    if c.complete:
        return np.prod(1.0 - e, axis=-1)
    return _per_row_product(c, 1.0 - e)


SUBSET_BLOCK_ELEMS = 4_000_000  # rows × subsets held at once by `homogenization_of_subsets`


def failed_by_all_of(c: Counts, subsets: np.ndarray) -> np.ndarray:
    """(R, M) float32: 1 where the row's individuals are failed by every member of subset m (`subsets` (M, k))."""
    m = subsets.astype(float)
    return (c.failed @ m.T == m.sum(axis=1)).astype(np.float32)


def homogenization_of_subsets(c: Counts, subsets: np.ndarray, failed_by_all: np.ndarray | None = None) -> np.ndarray:
    """H of the ecosystems made of each subset of the decision-makers (inner join: every row complete).

    `subsets` is (M, k) boolean, one row per subset. For subset s, ``H_s = S_s / Π_{i∈s} e_i`` with
    ``S_s`` the share failed by every member of s: one product of the rows' failures with the subsets
    (failed by all of s ⟺ failed by |s| of them), not one pass over the rows per subset. `failed_by_all`:
    `failed_by_all_of(c, subsets)`, when computed already (it does not depend on the weights).

    Returns
    -------
    array (..., M)
        NaN where some member never fails (S_ind = 0), or for an empty view.

    Examples
    --------
    >>> F = np.array([[1, 1, 1], [1, 0, 1], [0, 0, 1]], bool)
    >>> c = Counts(F, np.ones_like(F), np.array([2, 1, 1]))
    >>> subsets = np.array([[1, 1, 0], [1, 0, 1]], bool)
    >>> homogenization_of_subsets(c, subsets).round(6).tolist()
    [1.333333, 1.0]
    """
    assert c.complete, "subsets of decision-makers need complete rows (the inner join)"
    w = np.asarray(c.weights)
    m = subsets.astype(float)
    if failed_by_all is not None:
        failed = weighted_sums(w, failed_by_all)
    else:  # a few subsets at a time: (R, M) at once is gigabytes when every one of millions of rows is distinct
        step = max(1, SUBSET_BLOCK_ELEMS // max(1, c.fail.shape[0]))
        failed = np.concatenate([weighted_sums(w, failed_by_all_of(c, subsets[i:i + step]))
                                 for i in range(0, len(subsets), step)], axis=-1)
    s = divide(failed, w.sum(axis=-1, dtype=float)[..., None])
    e = failure_rates(c)
    with np.errstate(divide="ignore"):
        log_e = np.log(e)
    # Σ log e over the members; a member that never fails makes S_ind = 0 (H undefined, as for one subset).
    s_ind = np.exp(np.where(np.isneginf(log_e), 0.0, log_e) @ m.T) * ((e == 0).astype(float) @ m.T == 0)
    return divide(s, s_ind)
