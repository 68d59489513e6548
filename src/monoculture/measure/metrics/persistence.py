"""Persistence over rounds: are the same people failed round after round more than chance? (metrics.md §9)

Each person's count X of the R rounds in which they were failed. If rounds were independent draws for
every person alike, X would be a sum of independent Bernoulli(s_t) — Poisson-binomial, variance
Σ_t s_t(1 − s_t). Stable differences between people (or feedback) spread X out: people are failed in
most rounds or in none. Outcome data cannot tell those two causes apart, so this is *persistence*.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...lazy_imports import optimize, stats


class BetaBinomialFit(NamedTuple):
    """The Beta-Binomial fit to per-person failure counts and its test against the binomial."""

    rounds: int
    mean: float  # mean count of rounds failed
    dispersion_ratio: float  # observed variance / the Poisson-binomial variance of independent rounds
    rho: float  # intra-person correlation 1/(a + b + 1); 0 = binomial (no person-level persistence)
    a: float  # Beta shape parameters (inf, inf when rho = 0)
    b: float
    lr_statistic: float  # 2 (log L(Beta-Binomial) − log L(Binomial)), both at their maxima
    p_value: float  # against the binomial: ½·P(χ²₁ ≥ LR), the boundary null of Self & Liang (1987)


def _log_likelihood(mu: float, theta: float, h: np.ndarray, r: int) -> float:
    """Σ_m h_m log BetaBinomial(m; R, μ/θ, (1 − μ)/θ) up to the binomial coefficients, in Prentice's (1986)
    product form Π_{j<m}(μ + jθ) Π_{j<R−m}(1 − μ + jθ) / Π_{j<R}(1 + jθ). Exact at θ = 0 (the binomial)
    and stable near it, where scipy.stats.betabinom's differences of log-Beta functions of huge shapes
    lose every digit."""
    j = np.arange(r)
    with np.errstate(divide="ignore"):
        up = np.concatenate([[0.0], np.cumsum(np.log(mu + j * theta))])  # up[m] = Σ_{j<m} log(μ + jθ)
        down = np.concatenate([[0.0], np.cumsum(np.log(1 - mu + j * theta))])
    terms = up + down[::-1] - np.log1p(j * theta).sum()
    used = h > 0
    return float(h[used] @ terms[used])


def beta_binomial_overdispersion(histogram: np.ndarray, round_rates: np.ndarray) -> BetaBinomialFit | None:
    """Fit X ~ BetaBinomial(R, a, b) by maximum likelihood and test it against X ~ Binomial(R, p).

    ``histogram[m]`` is the (weighted) number of people failed in exactly m of the R rounds,
    m = 0..R; ``round_rates`` the share failed in each round, s_t.

    - ``dispersion_ratio = Var(X) / Σ_t s_t(1 − s_t)``: 1 for independent rounds, above 1 when the same
      people keep being failed. Distribution-free; read it first.
    - ``rho = 1/(a + b + 1)``: the Beta-Binomial's intra-person correlation, the share of the variance of
      one person's per-round failure that is stable across rounds (Williams 1975). Parameterised as the
      mean μ = a/(a + b) and ρ, both on the logit scale, maximised with scipy.optimize.
    - ``p_value``: the likelihood-ratio test of ρ = 0. ρ = 0 lies on the boundary, so the statistic's null
      distribution is ½χ²₀ + ½χ²₁ (Self & Liang 1987): p = ½ P(χ²₁ ≥ LR), and p = 1 when LR = 0.
      The binomial null takes one rate for every round; unequal rates (Poisson-binomial) only lower the
      variance independent rounds give, so the test is conservative then.

    Returns None when nothing can be fitted: fewer than two rounds, nobody counted, or a mean count of 0
    or R (nobody failed in any round, or everyone in every round).

    Examples
    --------
    >>> fit = beta_binomial_overdispersion(np.array([50.0, 0.0, 50.0]), np.array([0.5, 0.5]))
    >>> round(fit.dispersion_ratio, 6), round(fit.rho, 3)  # half failed twice, half never
    (2.0, 1.0)
    """
    h = np.asarray(histogram, dtype=float)
    r = len(h) - 1
    n = h.sum()
    m = np.arange(r + 1)
    if r < 2 or n <= 0:
        return None
    mean = float(h @ m / n)
    if mean <= 0 or mean >= r:
        return None
    variance = float(h @ (m - mean) ** 2 / n)
    s = np.asarray(round_rates, dtype=float)
    independent = float((s * (1 - s)).sum())
    ratio = variance / independent if independent > 0 else float("nan")
    p = mean / r
    ll0 = _log_likelihood(p, 0.0, h, r)
    # Method of moments for the start: Var = Rμ(1 − μ)(1 + (R − 1)ρ), θ = ρ/(1 − ρ).
    rho0 = float(np.clip((variance / (r * p * (1 - p)) - 1) / (r - 1), 1e-3, 0.99))
    best = optimize.minimize(lambda t: -_log_likelihood(t[0], t[1], h, r) / n, [p, rho0 / (1 - rho0)],
                             method="L-BFGS-B", bounds=[(1e-12, 1 - 1e-12), (0.0, 1e8)],
                             options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
    mu, theta = (float(v) for v in best.x)
    lr = 2 * (-float(best.fun) * n - ll0)
    if not lr > 1e-10 * abs(ll0) or theta <= 0:  # no better than the binomial (to rounding): ρ = 0
        return BetaBinomialFit(r, mean, ratio, 0.0, float("inf"), float("inf"), 0.0, 1.0)
    return BetaBinomialFit(r, mean, ratio, theta / (1 + theta), mu / theta, (1 - mu) / theta, float(lr),
                           float(0.5 * stats.chi2.sf(lr, 1)))
