"""Pairwise agreement of failures (metrics.md §3).

For a pair (a, b), over the individuals both saw, the 2×2 table of failures:
``n11`` failed by both, ``n10`` by a only, ``n01`` by b only, ``n00`` by neither.
`pair_tables` computes all k×k tables at once; each measure is a small function of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...count.table import Counts, exact_in_float32
from ._base import divide


@dataclass(frozen=True)
class PairTables:
    """Counts (..., k, k): entry [a, b] is the 2×2 table of the pair over the individuals both saw."""

    n11: np.ndarray
    n10: np.ndarray
    n01: np.ndarray
    n00: np.ndarray

    @property
    def n(self) -> np.ndarray:
        return self.n11 + self.n10 + self.n01 + self.n00


def pair_tables(c: Counts) -> PairTables:
    """All pairwise 2×2 failure tables from the pattern table (matrix products over its rows).

    When everyone was seen by everyone (the inner join), succeeded = 1 − failed, so one product gives the
    rest: ``n10 = Σ w f_a − n11``, ``n01`` its transpose, ``n00 = Σ w − n11 − n10 − n01`` (a third of the
    work, which at hundreds of decision-makers is most of a bootstrap replicate's).
    """
    counts = np.asarray(c.weights)
    w = counts.astype(float)
    f, s = c.failed, c.succeeded
    if c.complete:
        n11 = _cofailures(c)
        failed = c.totals("failed")  # (..., k): Σ w f_a
        n10 = failed[..., :, None] - n11
        n01 = np.swapaxes(n10, -1, -2)
        return PairTables(n11=n11, n10=n10, n01=n01, n00=w.sum(axis=-1)[..., None, None] - n11 - n10 - n01)
    wf = w[..., :, None] * f  # (..., R, k)
    ws = w[..., :, None] * s
    n10 = np.swapaxes(wf, -1, -2) @ s
    return PairTables(
        n11=np.swapaxes(wf, -1, -2) @ f,
        n10=n10,
        n01=np.swapaxes(n10, -1, -2),
        n00=np.swapaxes(ws, -1, -2) @ s,
    )


PAIR_COLUMNS_MAX_ELEMS = 32_000_000  # rows × pairs of `_pair_columns` (128 MB of float32) kept at most


def _cofailures(c: Counts) -> np.ndarray:
    """n11 = (w·f)ᵀ f over the rows, (..., k, k). With integer weights (counts, bootstrap draws) summing below
    2^24, every partial sum is an integer a float32 holds exactly: the product runs in single precision, with
    the same result; a batch of weights is then one product with the rows' co-failure indicator of every
    pair (`_pair_columns`), not a product per weight vector."""
    counts, f = np.asarray(c.weights), c.failed
    if not exact_in_float32(counts):
        wf = counts.astype(float)[..., :, None] * f
        return np.swapaxes(wf, -1, -2) @ f
    if counts.ndim <= 2 and f.shape[0] * c.k * (c.k + 1) // 2 <= PAIR_COLUMNS_MAX_ELEMS:
        # Formed for the point estimate's view too: its bootstrap batches' views inherit it.
        a, b, columns = _pair_columns(c)
        sums = (counts.astype(np.float32) @ columns).astype(float)  # (..., pairs)
        out = np.empty((*counts.shape[:-1], c.k, c.k))
        out[..., a, b] = sums
        out[..., b, a] = sums
        return out
    fd = f.astype(np.float32)
    wf = counts.astype(np.float32)[..., :, None] * fd
    return (np.swapaxes(wf, -1, -2) @ fd).astype(float, copy=False)


def _pair_columns(c: Counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair a ≤ b (the diagonal too) and the rows' indicator of failure by both (R, pairs), float32;
    kept on the view, and so for every batch of its weights."""
    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = np.triu_indices(c.k)
        fail = c.fail & c.present
        return a, b, (fail[:, a] & fail[:, b]).astype(np.float32)
    return c.per_row("pair_columns", make)


def double_fault(t: PairTables) -> np.ndarray:
    """Double fault ``P_ff = n11 / n``: the share failed by both (Kuncheva & Whitaker 2003). NaN if n = 0."""
    return divide(t.n11, t.n)


def cofailure_lift(t: PairTables) -> np.ndarray:
    """Co-failure lift (pairwise homogenization) ``P_ff / (e_a e_b)``.

    Notes
    -----
    Undefined when either decision-maker never fails on the pair's common individuals.

    Examples
    --------
    >>> import numpy as np
    >>> t = PairTables(np.array(2.), np.array(1.), np.array(0.), np.array(1.))
    >>> round(float(cofailure_lift(t)), 6)
    1.333333
    """
    n = t.n
    e_a = divide(t.n11 + t.n10, n)
    e_b = divide(t.n11 + t.n01, n)
    return divide(divide(t.n11, n), e_a * e_b)


def error_consistency(t: PairTables) -> np.ndarray:
    """Error consistency: Cohen's κ on correct/incorrect (Geirhos, Meding, Wichmann, NeurIPS 2020).

    ``c_obs = (n11 + n00) / n``, ``c_exp = p_a p_b + (1 − p_a)(1 − p_b)`` with p the accuracy,
    ``κ = (c_obs − c_exp) / (1 − c_exp)``.

    Notes
    -----
    Undefined when ``c_exp = 1`` (one of the two never or always fails), following Klein et al. 2025;
    the older code's convention of returning 1 when ``c_obs = 1`` is not used. Identity used in the
    tests: ``κ = 2 e_a e_b (H_ab − 1) / (e_a + e_b − 2 e_a e_b)``.

    Examples
    --------
    >>> import numpy as np
    >>> t = PairTables(np.array(2.), np.array(1.), np.array(0.), np.array(1.))
    >>> round(float(error_consistency(t)), 6)
    0.5
    """
    n = t.n
    c_obs = divide(t.n11 + t.n00, n)
    p_a = divide(t.n01 + t.n00, n)
    p_b = divide(t.n10 + t.n00, n)
    c_exp = p_a * p_b + (1 - p_a) * (1 - p_b)
    # c_exp can miss 1 by rounding when it is mathematically 1 (a margin is 0 or n).
    den = np.where(np.isclose(c_exp, 1.0, rtol=0, atol=1e-12), 0.0, 1 - c_exp)
    return divide(c_obs - c_exp, den)


def q_statistic(t: PairTables) -> np.ndarray:
    """Yule's Q ``(n11 n00 − n01 n10) / (n11 n00 + n01 n10)`` (Kuncheva & Whitaker 2003). NaN on 0/0."""
    return divide(t.n11 * t.n00 - t.n01 * t.n10, t.n11 * t.n00 + t.n01 * t.n10)


def correlation(t: PairTables) -> np.ndarray:
    """Correlation ρ of the two failure indicators (phi coefficient). NaN when a margin is zero."""
    num = t.n11 * t.n00 - t.n01 * t.n10
    den = np.sqrt((t.n11 + t.n10) * (t.n01 + t.n00) * (t.n11 + t.n01) * (t.n10 + t.n00))
    return divide(num, den)


def disagreement(t: PairTables) -> np.ndarray:
    """Disagreement ``(n01 + n10) / n``: share failed by exactly one of the pair. NaN if n = 0."""
    return divide(t.n01 + t.n10, t.n)
