"""The ecosystem view: how many decision-makers fail each person (Toups et al., NeurIPS 2023; metrics.md §2)."""

from __future__ import annotations

import numpy as np

from ...count.table import Counts
from ._base import divide
from .homogenization import failure_rates

try:  # built where the install found a C compiler (setup.py); else the NumPy recursion below
    from . import _pmf as COMPILED  # a test hook: None runs the NumPy recursion
except ImportError:  # pragma: no cover - depends on the install
    COMPILED = None


def failure_count_histogram(c: Counts) -> np.ndarray:
    """Observed share of individuals failed by exactly m decision-makers, m = 0..k.

    Returns
    -------
    array (..., k + 1)
        Sums to 1. The top bin is S, the bottom bin consistent success.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1, 1], [1, 0], [0, 0]], bool)
    >>> failure_count_histogram(Counts(F, np.ones_like(F), np.array([2, 1, 1]))).tolist()
    [0.25, 0.25, 0.5]
    """
    def make() -> np.ndarray:
        w = c.float_weights
        order, starts, values = c.by_failures
        counts = np.zeros((*w.shape[:-1], c.k + 1))
        if len(starts):
            counts[..., values] = np.add.reduceat(np.take(w, order, axis=-1), starts, axis=-1)  # C order, fast
        hist = divide(counts, w.sum(axis=-1)[..., None])
        hist.flags.writeable = False  # shared: the diversity measures of a bootstrap batch each start from it
        return hist
    return c.per_view("failure_count_histogram", make)


def poisson_binomial_pmf(p: np.ndarray, size: int) -> np.ndarray:
    """PMF over 0..size-1 of the number of successes of independent Bernoulli(p_i), i over the last axis.

    The recursion ``P_j(m) = P_{j-1}(m)·(1 − p_j) + P_{j-1}(m − 1)·p_j`` (every term non-negative, so
    stable), run once for all masses of all rows at once. scipy.stats.poisson_binom evaluates the same
    recursion once per mass asked for; a bootstrap of the outer-join baseline asks for every mass of
    millions of rows, where that costs (k + 1) times as much. The tests check it against scipy.

    `p` is (..., k); a row with a NaN entry is NaN throughout.

    Examples
    --------
    >>> poisson_binomial_pmf(np.array([0.5, 0.5]), 3).tolist()
    [0.25, 0.5, 0.25]
    """
    p = np.ascontiguousarray(p, dtype=float)
    k, lead = p.shape[-1], p.shape[:-1]
    if COMPILED is not None:  # the same recursion, a row at a time in C (the same bits: see _pmf.c)
        out = np.empty((*lead, size))
        COMPILED.pmf(p, k, out, size)
        out[np.isnan(p).any(axis=-1)] = np.nan
        return out
    # Masses first, rows last, in blocks of rows: each step then runs over long contiguous runs of a block
    # that stays in cache, not over k short strided ones.
    pt = np.moveaxis(p, -1, 0).reshape(k, int(np.prod(lead)))
    pmf = np.zeros((max(size, k + 1), pt.shape[1]))
    pmf[0] = 1.0
    for start in range(0, pt.shape[1], PMF_BLOCK):
        _pmf_block(pmf[:, start:start + PMF_BLOCK], pt[:, start:start + PMF_BLOCK])
    out = np.ascontiguousarray(np.moveaxis(pmf[:size].reshape(size, *lead), 0, -1))
    out[np.isnan(p).any(axis=-1)] = np.nan
    return out


PMF_BLOCK = 1024  # rows of `poisson_binomial_pmf` per block: k + 1 masses of them fit in a core's cache


def _pmf_block(out: np.ndarray, p: np.ndarray) -> None:
    """The recursion of `poisson_binomial_pmf` over one block: `out` (masses, rows) starts as 1 at mass 0,
    `p` is (k, rows). In place: the same products and sums, one scratch buffer."""
    k = p.shape[0]
    pmf = out.copy()
    q = 1.0 - p
    moved = np.empty((k, p.shape[1]))
    for j in range(k):
        np.multiply(pmf[:j + 1], p[j], out=moved[:j + 1])
        pmf[1:j + 2] *= q[j]
        pmf[1:j + 2] += moved[:j + 1]
        pmf[0] *= q[j]
    out[:] = pmf


def expected_failure_count_histogram(c: Counts) -> np.ndarray:
    """Independence baseline for `failure_count_histogram`: PoissonBinomial(e_1..e_k), m = 0..k.

    Under the outer join it is the mixture, over individuals, of the Poisson-binomial over the
    decision-makers that saw each one. Per group, call it on the group's own view so the baseline uses
    the group's own rates (otherwise group composition masquerades as homogenization).

    Notes
    -----
    NaN when some decision-maker saw nobody in the view.

    References
    ----------
    Toups, Bommasani, Creel, Bana, Jurafsky, Liang. "Ecosystem-level Analysis of Deployed Machine
    Learning Reveals Homogeneous Outcomes." NeurIPS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1, 1], [1, 0], [0, 0]], bool)
    >>> expected_failure_count_histogram(Counts(F, np.ones_like(F), np.array([2, 1, 1]))).round(4).tolist()
    [0.125, 0.5, 0.375]
    """
    e = failure_rates(c)
    size = c.k + 1
    if c.complete:
        return poisson_binomial_pmf(e, size)
    w = c.float_weights
    mask_share = divide(c.mask_weights(), w.sum(axis=-1)[..., None])  # (..., D)
    # Every mask's rates in one batch: padded with zeros to the widest mask (a member that never fails
    # leaves the Poisson-binomial unchanged), so one call serves thousands of distinct masks.
    members, used = c.members
    width = members.shape[1]
    rates = np.where(used, e[..., members], 0.0)  # (..., D, width)
    pmf = poisson_binomial_pmf(rates, width + 1)  # (..., D, width + 1)
    total = np.zeros((*e.shape[:-1], size))
    total[..., :width + 1] = (mask_share[..., None] * pmf).sum(axis=-2)
    return total
