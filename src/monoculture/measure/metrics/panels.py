"""What a person can do about it: panels, recourse and the number of independent opinions (metrics.md §12).

Every function takes a `Counts` view and returns arrays broadcast over its weight batch.
"""

from __future__ import annotations

import numpy as np

from ...count.table import Counts
from ._base import divide
from .ecosystem import expected_failure_count_histogram, failure_count_histogram
from .homogenization import failure_rates, systemic_failure
from .pairwise import PairTables, correlation, pair_tables


def effective_decision_makers(c: Counts) -> np.ndarray:
    """Effective number of independent decision-makers ``n_eff = k / (1 + (k − 1) ρ̄)`` (Kish's design
    effect), ρ̄ the mean pairwise correlation (φ) of failures over the pairs where it is defined.

    k decision-makers whose failures are independent are k opinions (ρ̄ = 0); perfectly correlated, one.

    Notes
    -----
    NaN when no pair's φ is defined, or when ρ̄ ≤ −1/(k − 1) (negatively correlated failures: more
    "opinions" than decision-makers, which the formula does not describe).

    References
    ----------
    Kish, "Survey Sampling" (1965), design effect; Kohli 2026, "Nine judges, two effective votes".

    Examples
    --------
    >>> F = np.array([[1, 1, 1], [0, 0, 0], [1, 1, 0], [0, 0, 1]], bool)
    >>> round(float(effective_decision_makers(Counts(F, np.ones_like(F), np.ones(4)))), 4)
    1.8
    """
    return effective_decision_makers_of(pair_tables(c), c.k)


def effective_decision_makers_of(t: PairTables, k: int) -> np.ndarray:
    """`effective_decision_makers` from the pair tables already computed."""
    phi = correlation(t)
    upper = np.triu(np.ones((k, k), dtype=bool), 1)
    pairs = phi[..., upper]
    valid = ~np.isnan(pairs)
    # A running sum adds the pairs in one order whatever the batch's shape (a sum may not), so a
    # replicate's value does not depend on how replicates are batched.
    total = np.cumsum(np.where(valid, pairs, 0.0), axis=-1)[..., -1] if pairs.shape[-1] else np.zeros(pairs.shape[:-1])
    mean = divide(total, valid.sum(axis=-1).astype(float))
    out = divide(np.full_like(mean, float(k)), 1.0 + (k - 1) * mean)
    return np.where((1.0 + (k - 1) * mean) > 0, out, np.nan)


def harm_at_least(c: Counts) -> np.ndarray:
    """Observed share failed by at least r decision-makers, r = 0..k (a tail of the failure-count histogram).

    r = k on the inner join is systemic failure (nobody says yes); r = ⌈k/2⌉ is a majority panel's failure.

    Examples
    --------
    >>> F = np.array([[1, 1], [1, 0], [0, 0]], bool)
    >>> harm_at_least(Counts(F, np.ones_like(F), np.array([2, 1, 1]))).tolist()
    [1.0, 0.75, 0.5]
    """
    return tail(failure_count_histogram(c))


def expected_harm_at_least(c: Counts) -> np.ndarray:
    """`harm_at_least` if decision-makers failed people independently: the Poisson-binomial tail."""
    return tail(expected_failure_count_histogram(c))


def tail(histogram: np.ndarray) -> np.ndarray:
    """``T[r] = Σ_{m ≥ r} h[m]``: the share failed by at least r, from a failure-count histogram."""
    return np.flip(np.cumsum(np.flip(histogram, -1), axis=-1), -1)


def _everyone_saw(c: Counts) -> Counts:
    """The rows seen by every decision-maker (recourse compares with them all)."""
    if c.complete:
        return c
    rows = c.present.all(axis=1)
    w = np.asarray(c.weights)
    return Counts(c.fail[rows], c.present[rows], w[..., rows])


def recourse(c: Counts) -> np.ndarray:
    """Per decision-maker i, the share of the people i fails that some other decision-maker does not fail:
    ``1 − S / e_i``, over the people every decision-maker saw.

    Notes
    -----
    NaN for a decision-maker that fails nobody there (no one needs recourse from it).

    References
    ----------
    Peng & Garg, NeurIPS 2024; Gorecki et al., monoculture vs multiplicity.

    Examples
    --------
    >>> F = np.array([[1, 1], [1, 0], [0, 0]], bool)
    >>> recourse(Counts(F, np.ones_like(F), np.array([2, 1, 1]))).round(4).tolist()
    [0.3333, 0.0]
    """
    every = _everyone_saw(c)
    s = systemic_failure(every)
    return 1.0 - divide(s[..., None], failure_rates(every))


def expected_recourse(c: Counts) -> np.ndarray:
    """`recourse` if the others failed people independently of i: ``1 − Π_{j≠i} e_j``."""
    e = failure_rates(_everyone_saw(c))
    # Π_{j<i} e_j · Π_{j>i} e_j from running products each way: no division (an e_j may be 0), k products.
    ones = np.ones((*e.shape[:-1], 1))
    before = np.cumprod(np.concatenate([ones, e[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, e[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return 1.0 - before * after
