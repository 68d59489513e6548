"""The Beta-Binomial overdispersion test of persistence over rounds (metrics.md §9), against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monoculture.measure.metrics.persistence import beta_binomial_overdispersion


def test_maximum_likelihood_matches_scipy_fit_on_the_expanded_counts():
    rng = np.random.default_rng(3)
    r = 5
    x = rng.binomial(r, rng.beta(1.5, 4.0, 3000))
    fit = beta_binomial_overdispersion(np.bincount(x, minlength=r + 1), np.full(r, x.mean() / r))
    oracle = stats.fit(stats.betabinom, x, bounds={"n": (r, r), "a": (0.01, 50), "b": (0.01, 50)},
                       optimizer=lambda fun, bounds, integrality: __import__("scipy").optimize.differential_evolution(
                           fun, bounds, integrality=integrality, seed=1, tol=1e-10, polish=True))
    ll = stats.betabinom.logpmf(x, r, fit.a, fit.b).sum()
    ll_oracle = stats.betabinom.logpmf(x, r, oracle.params.a, oracle.params.b).sum()
    assert ll >= ll_oracle - 1e-6
    assert fit.a == pytest.approx(oracle.params.a, rel=0.02) and fit.b == pytest.approx(oracle.params.b, rel=0.02)
    ll0 = stats.binom.logpmf(x, r, x.mean() / r).sum()
    assert fit.lr_statistic == pytest.approx(2 * (ll - ll0), rel=1e-6)
    assert fit.p_value == pytest.approx(0.5 * stats.chi2.sf(fit.lr_statistic, 1))
    assert fit.dispersion_ratio == pytest.approx(x.var() / (r * (x.mean() / r) * (1 - x.mean() / r)))


@pytest.mark.slow
def test_independent_rounds_reject_at_no_more_than_the_nominal_rate():
    """Under independent rounds (one rate), the boundary LR test rejects at about 5 % (at most, with the
    Monte Carlo error of 400 runs); under a Beta-distributed propensity it nearly always rejects."""
    rng = np.random.default_rng(11)
    r, n = 4, 400
    p_null = [beta_binomial_overdispersion(np.bincount(rng.binomial(r, 0.3, n), minlength=r + 1),
                                           np.full(r, 0.3)).p_value for _ in range(400)]
    assert np.mean(np.array(p_null) < 0.05) < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 400)
    p_alt = [beta_binomial_overdispersion(np.bincount(rng.binomial(r, rng.beta(1.2, 2.8, n)), minlength=r + 1),
                                          np.full(r, 0.3)).p_value for _ in range(50)]
    assert np.mean(np.array(p_alt) < 0.05) > 0.9


def test_nothing_to_fit_gives_none():
    assert beta_binomial_overdispersion(np.array([5.0, 5.0]), np.array([0.5])) is None  # one round
    assert beta_binomial_overdispersion(np.array([10.0, 0, 0]), np.array([0.0, 0.0])) is None
    assert beta_binomial_overdispersion(np.array([0.0, 0, 10]), np.array([1.0, 1.0])) is None
