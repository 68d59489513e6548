"""Intervals and tests: agreement with scipy, coverage at the nominal rate, calibrated p-values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from monoculture.count.table import Counts
from monoculture.measure import metrics
from monoculture.measure.estimate import Estimate
from monoculture.measure.inference import (
    adjust_pvalues,
    bootstrap_weights,
    histogram_bin_pvalues,
    intervals,
    multinomial_weights,
    systemic_failure_permutation_test,
    wilson,
)
from monoculture.spec import InferenceOptions


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 10), (5, 10), (10, 10), (3, 1000), (517, 4255), (1, 1)])
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_wilson_equals_scipy(k, n, alpha):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=1 - alpha, method="wilson")
    got = wilson(k, n, alpha)
    assert (got.low, got.high) == pytest.approx((ci.low, ci.high), abs=1e-12)


def _table(fail: np.ndarray) -> Counts:
    keys, counts = np.unique(fail, axis=0, return_counts=True)
    return Counts(keys, np.ones_like(keys), counts)


def test_multinomial_bootstrap_matches_row_resampling_with_scipy():
    # Small data: the pattern-table bootstrap and scipy.stats.bootstrap over rows estimate the same
    # sampling distribution of H. Their percentile intervals agree within Monte Carlo error.
    rng = np.random.default_rng(3)
    n = 400
    shared = rng.random(n) < 0.2
    fail = (rng.random((n, 3)) < 0.2) | (shared[:, None] & (rng.random((n, 3)) < 0.8))
    c = _table(fail)

    def h_rows(idx, axis=-1):
        idx = np.asarray(idx, dtype=int)
        f = fail[idx]  # (..., n, k)
        s = f.all(axis=-1).mean(axis=-1)
        return s / f.mean(axis=-2).prod(axis=-1)

    ref = stats.bootstrap((np.arange(n),), h_rows, n_resamples=4000, method="percentile",
                          random_state=np.random.default_rng(5), vectorized=True)
    reps = metrics.homogenization(c.with_weights(multinomial_weights(c.weights, 4000, np.random.default_rng(6))))
    lo, hi, undefined, _ = intervals(metrics.homogenization(c), reps, 0.05)
    assert undefined == 0
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert lo == pytest.approx(ref.confidence_interval.low, abs=0.08 * width)
    assert hi == pytest.approx(ref.confidence_interval.high, abs=0.08 * width)


def _simulate_h(rng, n, rates, rho):
    """An ecosystem with a known true H: a shared latent failure with probability rho forces everyone to fail."""
    k = len(rates)
    shared = rng.random(n) < rho
    own = rng.random((n, k)) < rates
    return shared[:, None] | own


def _true_h(rates, rho):
    rates = np.asarray(rates)
    e = rho + (1 - rho) * rates
    s = rho + (1 - rho) * np.prod(rates)
    return s / np.prod(e)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_interval_covers_true_h_at_nominal_rate(method):
    # 300 simulated ecosystems with known H; the 95% interval must cover it 93–97% of the time.
    rng = np.random.default_rng(2024)
    rates, rho, n = [0.3, 0.25, 0.35], 0.05, 3000
    truth = _true_h(rates, rho)
    options = InferenceOptions(bootstrap=400, ci=method)
    covered = 0
    trials = 300
    for _ in range(trials):
        c = _table(_simulate_h(rng, n, rates, rho))
        est = Estimate.of(c, options, bootstrap_weights(c, options, rng), with_pairs=False)
        ci = est.interval("homogenization")
        covered += ci.low <= truth <= ci.high
    assert 0.93 * trials <= covered <= 0.97 * trials, covered / trials


@pytest.mark.slow
def test_permutation_pvalues_are_uniform_under_independence():
    rng = np.random.default_rng(11)
    pvalues = []
    for _ in range(400):
        fail = rng.random((500, 3)) < np.array([0.3, 0.4, 0.5])
        pvalues.append(systemic_failure_permutation_test(_table(fail), 999, rng))
    assert stats.kstest(pvalues, "uniform").pvalue > 0.01


def test_permutation_test_matches_explicit_column_shuffles():
    # The hypergeometric chain must give the same null distribution as shuffling columns row by row.
    rng = np.random.default_rng(1)
    fail = rng.random((60, 3)) < np.array([0.5, 0.4, 0.6])
    observed = fail.all(axis=1).sum()
    shuffled = []
    for _ in range(20000):
        cols = [rng.permutation(fail[:, i]) for i in range(3)]
        shuffled.append(np.all(np.stack(cols, axis=1), axis=1).sum())
    p_rows = (1 + np.count_nonzero(np.array(shuffled) >= observed)) / 20001
    p_chain = systemic_failure_permutation_test(_table(fail), 20000, np.random.default_rng(2))
    assert p_chain == pytest.approx(p_rows, abs=0.02)


def test_permutation_detects_homogenization():
    rng = np.random.default_rng(0)
    fail = _simulate_h(rng, 2000, [0.2, 0.2, 0.2], 0.05)
    assert systemic_failure_permutation_test(_table(fail), 999, rng) == pytest.approx(0.001)


def test_holm_and_bh_against_hand_computation():
    p = [0.01, 0.04, 0.03, None, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 × 4, 3, 2, 1 → 0.02, 0.03, 0.06, 0.04 → monotone 0.02, 0.03, 0.06, 0.06
    assert adjust_pvalues(p, "holm") == pytest.approx([0.03, 0.06, 0.06, None, 0.02])
    # BH: sorted × m/rank: 0.005·4, 0.01·2, 0.03·4/3, 0.04·1 → 0.02, 0.02, 0.04, 0.04 (monotone from the top)
    assert adjust_pvalues(p, "bh") == pytest.approx([0.02, 0.04, 0.04, None, 0.02])
    assert adjust_pvalues(p, "none") == p


def test_exact_interval_when_every_replicate_is_identical():
    fail = np.array([[1, 1], [0, 0]], dtype=bool)
    c = Counts(fail, np.ones_like(fail), np.array([5, 5]))
    options = InferenceOptions(bootstrap=50)
    est = Estimate.of(c, options, bootstrap_weights(c, options, np.random.default_rng(0)), with_pairs=True)
    ci = est.interval("error_consistency", (0, 1))  # κ = 1 in every replicate
    assert (ci.low, ci.high) == (1.0, 1.0) and "identical" in ci.note


def test_histogram_bin_pvalues_against_scipy():
    got = histogram_bin_pvalues(np.array([50, 30, 20]), 100, np.array([0.4, 0.4, 0.2]))
    want = [stats.binomtest(k, 100, p).pvalue for k, p in [(50, 0.4), (30, 0.4), (20, 0.2)]]
    assert got == pytest.approx(want)


def test_nan_quantiles_equal_numpy_nanquantile():
    from monoculture.measure.inference import nan_quantiles

    rng = np.random.default_rng(4)
    x = rng.normal(size=(101, 7, 3))
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:, 0, 0] = np.nan  # a column with no defined value
    ordered = np.sort(x, axis=0)
    for q in (0.025, 0.5, 0.975, 0.0, 1.0):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanquantile(x, q, axis=0)
        np.testing.assert_allclose(nan_quantiles(ordered, q), want, equal_nan=True)
    qs = rng.random((7, 3))
    got = nan_quantiles(ordered, qs)
    for idx in np.ndindex(7, 3):
        col = x[(slice(None), *idx)]
        col = col[~np.isnan(col)]
        if len(col):
            assert got[idx] == pytest.approx(np.quantile(col, qs[idx]))


def test_quantiles_of_replicates_that_overflow_to_infinity():
    """A replicate can be infinite (a one-step Rasch σ overflowing on a tiny resample): a quantile between two
    infinite values is infinite, not NaN with a warning (numpy's nanquantile gives NaN and warns; hypothesis
    found a 4-person outer join where that failed the audit)."""
    import warnings

    from monoculture.measure.inference import nan_quantiles

    x = np.array([[0.0, 1.0, np.inf], [1.0, np.inf, np.inf], [np.inf, np.inf, np.inf], [np.inf, np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = nan_quantiles(np.sort(x, axis=0), 0.975)
        lo = nan_quantiles(np.sort(x, axis=0), 0.0)
    assert got.tolist() == [np.inf, np.inf, np.inf]  # positions 2.925, 1.95, 1.95: between infinite values
    assert lo.tolist() == [0.0, 1.0, np.inf]
