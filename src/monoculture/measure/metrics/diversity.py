"""k-way measures on the failure-count histogram, and bounded homogenization (metrics.md §4).

The k-way diversity measures follow Kuncheva & Whitaker (2003), "Measures of diversity in classifier
ensembles and their relationship with the ensemble accuracy", Machine Learning 51. They are written in
terms of ``p_m``, the share of individuals failed by exactly m of the k decision-makers (so
``l = k − m`` decision-makers are right about them), and need every decision-maker to see every
individual (the inner join); under the outer join they are NaN.
"""

from __future__ import annotations

import numpy as np

from ...count.table import Counts
from ._base import divide
from .ecosystem import failure_count_histogram
from .homogenization import expected_systemic_failure, failure_rates, systemic_failure


def _hist(c: Counts) -> np.ndarray:
    """The failure-count histogram under the inner join; NaN under the outer (the measures below need
    every decision-maker's decision on every person)."""
    if not c.complete:
        return np.full((*np.shape(c.weights)[:-1], c.k + 1), np.nan)
    return failure_count_histogram(c)


def kohavi_wolpert_variance(c: Counts) -> np.ndarray:
    """Kohavi–Wolpert variance ``KW = (1/(N k²)) Σ_j l_j (k − l_j) = Σ_m p_m m (k − m) / k²``.

    0 when all decision-makers agree on everyone (no diversity); larger is more diverse, at most 1/4.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1, 1], [1, 0], [0, 0], [0, 0]], bool)
    >>> float(kohavi_wolpert_variance(Counts(F, np.ones_like(F), np.ones(4))))
    0.0625
    """
    k = c.k
    m = np.arange(k + 1)
    return (_hist(c) * m * (k - m)).sum(axis=-1) / k**2


def interrater_kappa(c: Counts) -> np.ndarray:
    """Fleiss-type interrater agreement κ on correctness: ``κ = 1 − k·KW / ((k − 1) p̄ (1 − p̄))``.

    ``p̄`` is the mean accuracy. 1 = every decision-maker fails exactly the same people, 0 = agreement
    as expected by chance. Undefined when p̄ is 0 or 1 (nobody ever fails, or everyone always does).
    """
    k = c.k
    pbar = 1.0 - np.mean(failure_rates(c), axis=-1)
    return 1.0 - divide(k * kohavi_wolpert_variance(c), (k - 1) * pbar * (1 - pbar))


def generalized_diversity(c: Counts) -> np.ndarray:
    """Generalized diversity (Partridge & Krzanowski) ``GD = 1 − p(2)/p(1)``.

    ``p(1) = Σ_m (m/k) p_m`` (a random decision-maker fails a random person),
    ``p(2) = Σ_m m(m−1)/(k(k−1)) p_m`` (two distinct random decision-makers both fail them).
    0 = failures coincide exactly (minimum diversity), 1 = no two fail the same person.
    Undefined when nobody is ever failed (p(1) = 0).
    """
    k = c.k
    m = np.arange(k + 1)
    p = _hist(c)
    p1 = (p * m / k).sum(axis=-1)
    p2 = (p * m * (m - 1) / (k * (k - 1))).sum(axis=-1)
    return 1.0 - divide(p2, p1)


def coincident_failure_diversity(c: Counts) -> np.ndarray:
    """Coincident failure diversity ``CFD = (1/(1 − p_0)) Σ_{m≥1} ((k − m)/(k − 1)) p_m``; 0 when p_0 = 1.

    1 when every failed person is failed by exactly one decision-maker; 0 when failures always
    coincide across all k.
    """
    k = c.k
    m = np.arange(k + 1)
    p = _hist(c)
    total = (p[..., 1:] * (k - m[1:]) / (k - 1)).sum(axis=-1)
    out = divide(total, 1.0 - p[..., 0])
    return np.where(np.isclose(p[..., 0], 1.0) & ~np.isnan(p[..., 0]), 0.0, out)


def failure_entropy(c: Counts) -> np.ndarray:
    """Entropy measure ``E = Σ_m p_m min(m, k − m) / (k − ⌈k/2⌉)``: 0 = all agree on each person, 1 = max split."""
    k = c.k
    m = np.arange(k + 1)
    return (_hist(c) * np.minimum(m, k - m)).sum(axis=-1) / (k - int(np.ceil(k / 2)))


def bounded_homogenization(c: Counts) -> np.ndarray:
    """Bounded homogenization H̃ ∈ [−1, 1] from the Fréchet bounds on S given the failure rates (ours).

    ``H̃ = (S − S_ind)/(min_i e_i − S_ind)`` when ``S ≥ S_ind``, else
    ``(S − S_ind)/(S_ind − max(0, Σ e_i − (k − 1)))``. 0 = independent, 1 = as concentrated as the rates
    allow, −1 = as spread apart as they allow. Unlike H it is comparable across ecosystem sizes.
    Undefined when the relevant bound equals S_ind (e.g. a rate of 0 or 1), and under the outer join.
    """
    if not c.complete:
        return np.full(np.shape(c.weights)[:-1], np.nan)
    e = failure_rates(c)
    s = systemic_failure(c)
    s_ind = expected_systemic_failure(c)
    upper = np.min(e, axis=-1)
    lower = np.maximum(0.0, e.sum(axis=-1) - (c.k - 1))
    up = divide(s - s_ind, upper - s_ind)
    down = divide(s - s_ind, s_ind - lower)
    return np.where(s >= s_ind, up, down)
