"""Pairs that share something beyond the people's difficulty: the conditional Rasch model (metrics.md §10).

In a Rasch model a person's raw score m (how many decision-makers fail them) is sufficient for their
difficulty, so given m the pattern no longer depends on it: ``P(p | m) = exp(Σ_i p_i β_i) / γ_m(e^β)``.
The conditional-maximum-likelihood β use only that, with no assumption on how difficulty is distributed.
A pair's *local dependence lift* is the number of people both fail over the number the model expects given
each person's raw score, ``Σ_m N_m · P(a and b fail | m)``: well above 1, the pair shares something beyond
the difficulty of the people they face — a vendor, a training set, a model.

With q_i = logistic(β_i), ``γ_m / Π(1 + e^β)`` is the Poisson-binomial pmf of the q at m, so every
conditional probability is a ratio of Poisson-binomial masses (`ecosystem.poisson_binomial_pmf`, a stable
recursion): ``P(a and b fail | m) = q_a q_b PB_{−a,−b}(m − 2) / PB(m)``.

Defined on the inner join (every decision-maker saw every person) with k ≥ 3; a person failed by none or by
all carries no information on β. Caution (metrics.md §10): given a free difficulty per person, systemic
failure is the top raw-score stratum, fully explained, so the conditional model gives pairs, not an H.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...count.table import Counts
from ...lazy_imports import optimize, special
from ._base import divide
from .ecosystem import poisson_binomial_pmf
from .rasch import MIN_K

# Up to this many decision-makers the lifts' replicates refit β by one Newton step each (a k⁴ recursion per
# replicate); beyond, they keep the fit's β.
ONE_STEP_MAX_K = 20
# The pair probabilities given the score hold k²(k + 1) numbers and cost O(k⁴): above this many
# decision-makers the lift is not computed (a leaderboard of a thousand models would need terabytes).
LIFT_MAX_K = 100


@dataclass(frozen=True)
class ConditionalFit:
    """Conditional-ML difficulties of the decision-makers (β, centred: only differences are identified)."""

    beta: np.ndarray
    converged: bool
    # One Newton step per bootstrap replicate (as `rasch.RaschSteps`): each row's conditional score at the
    # fit and the pseudo-inverse of their outer-product information; None where replicates keep β.
    scores: np.ndarray | None = None
    inverse_information: np.ndarray | None = None

    @property
    def steps(self) -> bool:
        return self.scores is not None

    def beta_for(self, weights: np.ndarray) -> np.ndarray:
        """β for a weighting of the fitted view's rows: the fit's for one vector; per replicate (B, R), one
        Newton step from it when the fit keeps its scores, else the fit's for every replicate."""
        w = np.asarray(weights, dtype=float)
        if w.ndim == 1 or self.scores is None or self.inverse_information is None:
            return self.beta if w.ndim == 1 else np.broadcast_to(self.beta, (len(w), len(self.beta)))
        # Sums along each replicate's own axis, so a replicate's β does not depend on the batching.
        score = (w[:, :, None] * self.scores[None]).sum(axis=1)
        return self.beta[None, :] + (score[:, :, None] * self.inverse_information[None]).sum(axis=1)

    @classmethod
    def of(cls, c: Counts) -> ConditionalFit | None:
        """The fit on a view with one weight vector; None under the outer join, with k < `MIN_K` or more than
        `LIFT_MAX_K`, or when
        some decision-maker never (or always) fails the people with an informative raw score."""
        w = c.float_weights
        if not c.complete or c.k < MIN_K or c.k > LIFT_MAX_K or w.ndim != 1:
            return None
        m = c.fail.sum(axis=1)
        informative = (m > 0) & (m < c.k) & (w > 0)
        if not informative.any():
            return None
        f, wi, mi = c.fail[informative].astype(float), w[informative], m[informative]
        failed = wi @ f
        if (failed <= 0).any() or (failed >= wi.sum()).any():
            return None

        def cost(beta: np.ndarray) -> tuple[float, np.ndarray]:
            q = special.expit(beta)
            pmf = poisson_binomial_pmf(q, c.k + 1)
            log_norm = np.log(pmf[mi]) + np.log1p(np.exp(beta)).sum()  # log γ_m
            ll = float(wi @ (f @ beta - log_norm))
            grad = failed - wi @ _expected_failures_given_score(q, pmf)[mi]
            return -ll, -grad

        done = optimize.minimize(cost, np.zeros(c.k), jac=True, method="L-BFGS-B",
                                 options={"maxiter": 500, "gtol": 1e-10, "ftol": 1e-15})
        beta = done.x - done.x.mean()
        if c.k > ONE_STEP_MAX_K:
            return cls(beta, bool(done.success))
        q = special.expit(beta)
        expected = _expected_failures_given_score(q, poisson_binomial_pmf(q, c.k + 1))  # E[p | m]
        scores = np.where(((m > 0) & (m < c.k))[:, None], c.fail - expected[m], 0.0)  # (R, k)
        # The information is the conditional covariance of the pattern given the raw score, summed over
        # people: Σ_m N_m (E[p pᵀ | m] − E[p | m] E[p | m]ᵀ), with E[p_a p_b | m] off the diagonal.
        by_score = np.bincount(mi, weights=wi, minlength=c.k + 1)
        second = pair_given_score(beta) + np.eye(c.k)[None] * expected[:, :, None]
        cov = second - expected[:, :, None] * expected[:, None, :]
        info = np.tensordot(by_score, cov, axes=([0], [0]))
        return cls(beta, bool(done.success), scores, np.linalg.pinv(info))


def _expected_failures_given_score(q: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """E[p_i | m] for every m (k + 1, k): q_i PB_{−i}(m − 1) / PB(m)."""
    k = len(q)
    without = np.where(np.eye(k, dtype=bool), 0.0, q[None, :])  # row i: the rates without i
    pmf_without = poisson_binomial_pmf(without, k + 1)  # (k, k + 1)
    shifted = np.zeros_like(pmf_without)
    shifted[:, 1:] = pmf_without[:, :-1]
    return divide(q[:, None] * shifted, pmf[None, :]).T


def pair_given_score(beta: np.ndarray) -> np.ndarray:
    """P(a and b fail | m) for every m and pair: (..., k + 1, k, k) for β (..., k), zero on the diagonal."""
    k = beta.shape[-1]
    q = special.expit(beta)[..., None, None, :]  # (..., 1, 1, k)
    pmf = poisson_binomial_pmf(special.expit(beta), k + 1)  # (..., k + 1)
    pair = np.eye(k, dtype=bool)[:, None, :] | np.eye(k, dtype=bool)[None, :, :]  # [a, b, i]: i is a or b
    without = np.where(pair, 0.0, q)
    pmf_without = poisson_binomial_pmf(without, k + 1)  # (..., k, k, k + 1)
    shifted = np.zeros_like(pmf_without)
    shifted[..., 2:] = pmf_without[..., :-2]
    qa = np.swapaxes(q, -1, -3)  # (..., k, 1, 1): q_a
    qb = np.swapaxes(q, -1, -2)  # (..., 1, k, 1): q_b
    out = divide(qa * qb * shifted, pmf[..., None, None, :])
    out[..., np.arange(k), np.arange(k), :] = 0.0
    return np.moveaxis(out, -1, -3)


def local_dependence_lift(c: Counts, fit: ConditionalFit, observed: np.ndarray) -> np.ndarray:
    """Observed over expected co-failure given the raw scores, for every pair (..., k, k); the diagonal and
    undefined pairs are NaN. Replicate weights re-count the pairs and the raw-score strata N_m, and (up to
    `ONE_STEP_MAX_K` decision-makers) move β by one Newton step each. `observed`: the co-failure counts n11
    of `pair_tables` under the same weights (the fit exists only when everyone was seen by everyone)."""
    w = c.float_weights
    by_score = w @ (c.fail.sum(axis=1)[:, None] == np.arange(c.k + 1)[None, :])  # N_m (..., k + 1)
    given = pair_given_score(fit.beta_for(w) if fit.steps and w.ndim == 2 else fit.beta)
    # Σ_m N_m P(a, b | m): one model for every replicate, or each replicate's own (one Newton step).
    expected = (np.einsum("...m,...mab->...ab", by_score, given) if given.ndim == 4
                else np.tensordot(by_score, given, axes=([-1], [0])))
    out = divide(observed, expected)
    eye = np.eye(c.k, dtype=bool)
    return np.where(eye, np.nan, out)
