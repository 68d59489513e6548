"""Group-level homogenization (Bommasani et al. 2022, metrics.md §1) and the between/within decomposition (§4).

Group-level measures need only each decision-maker's group shares ``q[g, i]`` and group failure rates
``e[g, i]`` — not linked individuals — so they are written as functions of those arrays
(`average_case` … `group_variance`); `group_shares_and_rates` derives them from the pattern table, and
the parity mode derives them from each decision-maker's whole input instead.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...count.table import Counts
from ._base import divide


def group_shares_and_rates(c: Counts, membership: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From the pattern table: q[..., g, i] = n_{g,i}/n_i, e[..., g, i], and group sizes n[..., g].

    `membership` is (G, R): which rows of the view belong to each group. A group with no individual
    seen by i has e[g, i] = NaN (not 1: that is the reference code's choice, kept for parity mode only).
    """
    w = c.float_weights
    if membership.sum(axis=0).max(initial=0) <= 1:  # disjoint groups: each its own rows, G times less work
        shape = (*w.shape[:-1], len(membership), c.k)
        seen, failed, n_g = np.zeros(shape), np.zeros(shape), np.zeros(shape[:-1])
        for g, member in enumerate(membership):
            rows = np.flatnonzero(member)
            wr = np.take(w, rows, axis=-1)
            seen[..., g, :], failed[..., g, :] = wr @ c.seen[rows], wr @ c.failed[rows]
            n_g[..., g] = wr.sum(axis=-1)
    else:
        wg = w[..., None, :] * membership  # (..., G, R)
        seen, failed, n_g = wg @ c.seen, wg @ c.failed, wg.sum(axis=-1)  # (..., G, k), (..., G, k), (..., G)
    q = divide(seen, seen.sum(axis=-2, keepdims=True))
    return q, divide(failed, seen), n_g


def average_case(q: np.ndarray, e_g: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``H_avg = Σ_g Π_i (q_{g,i} e_{g,i}) / (Π_i e_i · Σ_g Π_i q_{g,i})``.

    Draw one person from each decision-maker's population and condition on all k landing in the same
    group: groups weigh about share^k, not share. Groups with an undefined rate drop out of both sums.
    Undefined when some ``e_i = 0``.
    """
    joint = np.prod(q * e_g, axis=-1)
    ok = ~np.isnan(joint)
    num = np.where(ok, joint, 0.0).sum(axis=-1)
    den = np.prod(e, axis=-1) * np.where(ok, np.prod(q, axis=-1), 0.0).sum(axis=-1)
    return divide(num, den)


def _per_group_product(e_g: np.ndarray) -> np.ndarray:
    return np.prod(e_g, axis=-1)


def _nan_reduce(fn, values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, which is the policy
        return fn(values, axis=-1)


def uniform_case(e_g: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``H_unif = mean_g Π_i e_{g,i} / Π_i e_i`` over groups with a defined rate. Undefined if some e_i = 0."""
    return divide(_nan_reduce(np.nanmean, _per_group_product(e_g)), np.prod(e, axis=-1))


def worst_case(e_g: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``H_worst = max_g Π_i e_{g,i} / Π_i e_i``: the group most failed by everyone at once.

    Meaningless with singleton groups (one per person); never reported at the individual level.
    """
    return divide(_nan_reduce(np.nanmax, _per_group_product(e_g)), np.prod(e, axis=-1))


def group_variance(e_g: np.ndarray) -> np.ndarray:
    """Sample variance (ddof = 1, as the reference code's ``statistics.variance``) over groups of Π_i e_{g,i}."""
    prod = _per_group_product(e_g)
    n_ok = (~np.isnan(prod)).sum(axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.where(n_ok >= 2, np.nanvar(prod, axis=-1, ddof=1), np.nan)


def decomposition(c: Counts, membership: np.ndarray,
                  rates: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Between- and within-group factors of H (ours, metrics.md §4), with ``H = between × within``.

    With group weights ``w_g = n_g / N`` and ``S = Σ_g w_g S_g``:
    ``between = Σ_g w_g Π_i e_{g,i} / Π_i e_i`` — the excess explained by groups failing more;
    ``within = Σ_g w_g S_g / Σ_g w_g Π_i e_{g,i}`` — co-failure inside groups beyond their own rates.
    Needs the inner join (every rate over the same people); groups must partition the population.
    `rates`: (e_g, n_g) of `group_shares_and_rates`, when already computed.
    """
    w = c.float_weights
    e_g, n_g = rates if rates is not None else group_shares_and_rates(c, membership)[1:]
    n = w.sum(axis=-1)
    share = divide(n_g, n[..., None])
    e = divide(w @ c.failed, w @ c.seen)
    all_fail = (c.fail | ~c.present).all(axis=1)
    s = divide(w @ all_fail, n)
    expected_within = np.where(n_g > 0, share * np.prod(np.where(np.isnan(e_g), 0.0, e_g), axis=-1), 0.0).sum(axis=-1)
    between = divide(expected_within, np.prod(e, axis=-1))
    within = divide(s, expected_within)
    return between, within
