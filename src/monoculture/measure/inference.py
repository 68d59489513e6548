"""Uncertainty on the pattern table (metrics.md §5): Wilson intervals, multinomial bootstrap, permutation tests.

Nothing here reads rows: a bootstrap replicate is a multinomial draw of N individuals over the table's
observed rows (the same as resampling individuals with replacement), so its cost does not grow with N.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..count.table import Counts
from ..lazy_imports import stats
from ..spec import InferenceOptions

StatFn = Callable[[Counts], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    method: str
    note: str | None = None


def wilson(count: float, n: float, alpha: float) -> Interval | None:
    """Wilson score interval for a proportion.

    The closed form that ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`` computes (the
    tests check the two agree), without binomtest's p-value computation, which dominates the cost of a
    report with hundreds of proportions.
    """
    if n <= 0:
        return None
    z = _two_sided_z(alpha)
    p = count / n
    denom = 1 + z**2 / n
    center = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return Interval(float(max(0.0, center - half)), float(min(1.0, center + half)), "wilson")


@lru_cache(maxsize=8)
def _two_sided_z(alpha: float) -> float:
    """z with P(|Z| > z) = alpha. Cached: a report asks for the same few alphas hundreds of times, and
    each scipy distribution call costs about a tenth of a millisecond of argument checking."""
    return float(stats.norm.isf(alpha / 2))


DRAW_PER_PERSON = 4  # at most this many people per pattern row: count drawn people, not a multinomial


def multinomial_weights(weights: np.ndarray, b: int, rng: np.random.Generator) -> np.ndarray:
    """B bootstrap replicates of the pattern counts: multinomial(N, w / N), shape (B, R).

    Where people are few per row (every pattern unique, as on a leaderboard) the replicate draws N people
    with replacement and counts them per row — the same distribution, and numpy's multinomial over
    thousands of cells costs far more than drawing the people. Else one multinomial per replicate."""
    w = np.asarray(weights, dtype=float)
    n = round(w.sum())
    whole = np.array_equal(w, np.round(w))
    if not whole or n > DRAW_PER_PERSON * len(w):
        return rng.multinomial(n, w / w.sum(), size=b)
    return counted_draws(w.astype(np.int64), n, b, rng)


def counted_draws(w: np.ndarray, n: int, b: int, rng: np.random.Generator) -> np.ndarray:
    """(B, R) how many of n people drawn with replacement fall in each row, row r holding w[r] of them.

    One replicate at a time: its draw and count stay in cache (one (B, n) draw would be a few hundred MB
    written once and read once). Person i of the expanded population is in row ``lookup[i]``."""
    rows = len(w)
    lookup = None if bool((w == 1).all()) else np.repeat(np.arange(rows), w)
    out = np.empty((b, rows), dtype=np.int64)
    for i in range(b):
        people = rng.integers(0, n, size=n)
        out[i] = np.bincount(people if lookup is None else lookup[people], minlength=rows)
    return out


def bootstrap_weights(c: Counts, options: InferenceOptions, rng: np.random.Generator) -> np.ndarray | None:
    """`options.bootstrap` replicates of the view's weights (`multinomial_weights`); None, drawing nothing,
    without a bootstrap or without individuals."""
    if options.bootstrap <= 0 or float(np.asarray(c.weights).sum()) <= 0:
        return None
    return multinomial_weights(c.weights, options.bootstrap, rng)


# `evaluate`'s chunk: PAIR_CHUNK_ELEMS when a replicate forms the pair tables' (R, k) weighted rows, else
# WIDE_CHUNK_ELEMS (a replicate's arrays are then vectors over rows or decision-makers).
PAIR_CHUNK_ELEMS, WIDE_CHUNK_ELEMS = 4_000_000, 64_000_000


def evaluate(fn: StatFn, c: Counts, weights: np.ndarray, chunk_elems: int = PAIR_CHUNK_ELEMS) -> dict[str, np.ndarray]:
    """fn over a batch of weight vectors (B, R), in chunks that bound memory: a replicate's largest arrays
    are (R, k) (the pair tables' weighted rows) and (D, width + 1) (the Poisson-binomial pmf of each of D
    coverage sets of up to `width` decision-makers), so a chunk holds about `chunk_elems` elements of each."""
    index, _ = c.members
    per = max(1, chunk_elems // (c.fail.shape[0] * max(1, c.k) + index.shape[0] * (index.shape[1] + 1)))
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(weights), per):
        out = fn(c.with_weights(weights[start:start + per]))
        for key, value in out.items():
            parts.setdefault(key, []).append(value)
    return {k: np.concatenate(v, axis=0) for k, v in parts.items()}


def jackknife(fn: StatFn, c: Counts) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Leave-one-individual-out values: one per table row (individuals in a row are interchangeable).

    Returns the values (R', ...) for rows with weight > 0 and those rows' weights (multiplicities).
    """
    w = c.float_weights
    rows = np.flatnonzero(w > 0)
    loo = np.repeat(w[None, :], len(rows), axis=0)
    loo[np.arange(len(rows)), rows] -= 1
    return evaluate(fn, c, loo), w[rows]


def _bca_levels(point: np.ndarray, reps: np.ndarray, jack: np.ndarray, mult: np.ndarray, alpha: float):
    """BCa-adjusted percentile levels (Efron 1987), elementwise over the statistic's shape."""
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = ~np.isnan(reps)
        below = (np.where(valid, reps < point, False).sum(axis=0)
                 + 0.5 * np.where(valid, reps == point, False).sum(axis=0))
        prop = below / np.maximum(valid.sum(axis=0), 1)
        z0 = stats.norm.ppf(np.clip(prop, 1e-10, 1 - 1e-10))
        jmask = ~np.isnan(jack)
        m = mult.reshape((-1,) + (1,) * (jack.ndim - 1))
        total = np.where(jmask, m, 0).sum(axis=0)
        mean = np.where(jmask, m * jack, 0).sum(axis=0) / np.maximum(total, 1)
        d = np.where(jmask, mean - jack, 0.0)
        num = (m * d**3).sum(axis=0)
        den = 6 * ((m * d**2).sum(axis=0)) ** 1.5
        a = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
        out = []
        for z in (stats.norm.ppf(alpha / 2), stats.norm.ppf(1 - alpha / 2)):
            out.append(stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z))))
        return out


def intervals(
    point: np.ndarray, reps: np.ndarray, alpha: float, method: str = "percentile",
    jack: np.ndarray | None = None, mult: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bootstrap interval bounds for each element of a statistic, from its replicates (B, ...).

    Returns (low, high, share of replicates undefined, all-replicates-identical mask). Undefined
    replicates (NaN: e.g. a rate that hit 0 in a resample) are left out of the quantiles and counted.
    """
    reps = np.asarray(reps, dtype=float)
    undefined = np.isnan(reps).mean(axis=0)
    if method == "bca" and jack is not None and mult is not None:
        lo_q, hi_q = _bca_levels(point, reps, jack, mult, alpha)
    else:
        lo_q, hi_q = alpha / 2, 1 - alpha / 2
    ordered = np.sort(reps, axis=0)  # NaNs sort last
    lo = nan_quantiles(ordered, lo_q)
    hi = nan_quantiles(ordered, hi_q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        same = np.nanmax(reps, axis=0) == np.nanmin(reps, axis=0)
    return lo, hi, undefined, same


def nan_quantiles(ordered: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Elementwise quantile (numpy's default linear method) of columns sorted along axis 0, NaNs last.

    Equals ``np.nanquantile(x, q, axis=0)`` (tested) for a scalar q or one q per element, without its
    per-column Python loop when NaNs are present; NaN where a column has no defined value or q is NaN.
    """
    valid = (~np.isnan(ordered)).sum(axis=0)
    q = np.broadcast_to(np.asarray(q, dtype=float), valid.shape)
    pos = np.nan_to_num(q) * np.maximum(valid - 1, 0)
    below = np.floor(pos).astype(np.int64)
    above = np.minimum(below + 1, np.maximum(valid - 1, 0))
    frac = pos - below
    lo_v = np.take_along_axis(ordered, below[None, ...], axis=0)[0]
    hi_v = np.take_along_axis(ordered, above[None, ...], axis=0)[0]
    with np.errstate(invalid="ignore"):  # inf − inf, 0 × inf: an infinite replicate (a Rasch σ overflowing)
        out = lo_v + frac * (hi_v - lo_v)
    out = np.where((frac == 0) | (hi_v == lo_v), lo_v, out)  # ... is then the value itself, not NaN
    return np.where((valid > 0) & ~np.isnan(q), out, np.nan)


def systemic_failure_permutation_null(c: Counts, permutations: int, rng: np.random.Generator) -> np.ndarray | None:
    """Counts failed by all k in `permutations` random permutations of each decision-maker's failures.

    Permuting each decision-maker's failure column across individuals keeps every failure rate and
    breaks the links. The number failed by all k after such a permutation is exactly a chain of
    hypergeometric draws (|A_1 ∩ A_2| ~ Hypergeom(N, c_1, c_2), then with A_3, ...), so each
    permutation costs O(k), not O(N k). Needs complete rows (inner join): None otherwise, or when N = 0
    (and then nothing is drawn).
    """
    if not c.complete:
        return None
    w = np.asarray(c.weights, dtype=np.int64)
    n = int(w.sum())
    if n == 0:
        return None
    fails = (w @ c.fail).astype(np.int64)
    current = np.full(permutations, fails[0], dtype=np.int64)
    for ci in fails[1:]:
        current = rng.hypergeometric(current, n - current, int(ci)) if ci > 0 else np.zeros_like(current)
    return current


def permutation_p_value(c: Counts, null: np.ndarray | None) -> float | None:
    """One-sided p-value of the observed count failed by all k, towards homogenization:
    p = (1 + #{S_perm ≥ S_obs}) / (P + 1). None without a null (see `systemic_failure_permutation_null`)."""
    if null is None:
        return None
    observed = int(np.asarray(c.weights, dtype=np.int64) @ c.fail.all(axis=1))
    return float((1 + np.count_nonzero(null >= observed)) / (len(null) + 1))


def systemic_failure_permutation_test(c: Counts, permutations: int, rng: np.random.Generator) -> float | None:
    """p-value of the observed systemic failure count under independence, by permutation: the null of
    `systemic_failure_permutation_null`, the p-value of `permutation_p_value`. None for an outer join or
    N = 0."""
    return permutation_p_value(c, systemic_failure_permutation_null(c, permutations, rng))


def adjust_pvalues(p: list[float | None], method: str) -> list[float | None]:
    """Holm (step-down, FWER) or Benjamini–Hochberg (FDR, scipy) adjusted p-values; None stays None."""
    idx = [i for i, v in enumerate(p) if v is not None]
    out: list[float | None] = list(p)
    if not idx or method == "none":
        return out
    vals = np.array([p[i] for i in idx], dtype=float)
    if method == "bh":
        adj = stats.false_discovery_control(vals, method="bh")
    else:
        order = np.argsort(vals, kind="stable")
        m = len(vals)
        stepped = np.maximum.accumulate(vals[order] * (m - np.arange(m)))
        adj = np.empty(m)
        adj[order] = np.minimum(stepped, 1.0)
    for i, v in zip(idx, adj, strict=True):
        out[i] = float(v)
    return out


def histogram_bin_pvalues(observed_counts: np.ndarray, n: int, expected_shares: np.ndarray) -> list[float | None]:
    """Exact two-sided binomial test of each bin's count against its Poisson-binomial share (scipy).

    The baseline's rates are estimated from the same data, so read these as a calibrated comparison of
    each bin, not as independent tests. Where scipy's exact test overflows (shares near 1e-300, as in bins
    of a thousand decision-makers), the doubled smaller tail is used: the same test, the other convention
    for two sides.
    """
    out: list[float | None] = []
    for k, p in zip(observed_counts, expected_shares, strict=True):
        if n <= 0 or np.isnan(p):
            out.append(None)
            continue
        p = float(min(max(p, 0.0), 1.0))
        try:
            out.append(float(stats.binomtest(round(k), n, p).pvalue))
        except OverflowError:
            tails = stats.binom.cdf(round(k), n, p), stats.binom.sf(round(k) - 1, n, p)
            out.append(float(min(1.0, 2 * min(tails))))
    return out


def bootstrap_means(x: np.ndarray, b: int, rng: np.random.Generator, chunk_elems: int = 20_000_000) -> np.ndarray:
    """(B, q) bootstrap replicates of the column means of a per-person matrix x (N, q).

    Each replicate resamples the N people with replacement (a multinomial count per person), so any
    statistic that is a function of these means is bootstrapped over individuals.
    """
    n = x.shape[0]
    out = np.empty((b, x.shape[1]))
    per = max(1, chunk_elems // max(n, 1))
    for start in range(0, b, per):
        size = min(per, b - start)
        w = rng.multinomial(n, np.full(n, 1.0 / n), size=size)
        out[start:start + size] = (w @ x) / n
    return out
