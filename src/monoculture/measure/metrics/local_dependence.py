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


@dataclass(frozen=True)
class ConditionalFit:
    """Conditional-ML difficulties of the decision-makers (β, centred: only differences are identified)."""

    beta: np.ndarray
    converged: bool

    @classmethod
    def of(cls, c: Counts) -> ConditionalFit | None:
        """The fit on a view with one weight vector; None under the outer join, with k < `MIN_K`, or when
        some decision-maker never (or always) fails the people with an informative raw score."""
        w = np.asarray(c.weights, dtype=float)
        if not c.complete or c.k < MIN_K or w.ndim != 1:
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
        return cls(beta, bool(done.success))


def _expected_failures_given_score(q: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """E[p_i | m] for every m (k + 1, k): q_i PB_{−i}(m − 1) / PB(m)."""
    k = len(q)
    without = np.where(np.eye(k, dtype=bool), 0.0, q[None, :])  # row i: the rates without i
    pmf_without = poisson_binomial_pmf(without, k + 1)  # (k, k + 1)
    shifted = np.zeros_like(pmf_without)
    shifted[:, 1:] = pmf_without[:, :-1]
    return divide(q[:, None] * shifted, pmf[None, :]).T


def pair_given_score(beta: np.ndarray) -> np.ndarray:
    """P(a and b fail | m) for every m and pair: (k + 1, k, k), zero on the diagonal."""
    k = len(beta)
    q = special.expit(beta)
    pmf = poisson_binomial_pmf(q, k + 1)
    pair = np.eye(k, dtype=bool)[:, None, :] | np.eye(k, dtype=bool)[None, :, :]  # [a, b, i]: i is a or b
    without = np.where(pair, 0.0, q[None, None, :])
    pmf_without = poisson_binomial_pmf(without, k + 1)  # (k, k, k + 1)
    shifted = np.zeros_like(pmf_without)
    shifted[..., 2:] = pmf_without[..., :-2]
    out = divide(q[:, None, None] * q[None, :, None] * shifted, pmf[None, None, :])
    out[np.arange(k), np.arange(k)] = 0.0
    return np.moveaxis(out, -1, 0)


def local_dependence_lift(c: Counts, fit: ConditionalFit) -> np.ndarray:
    """Observed over expected co-failure given the raw scores, for every pair (..., k, k); the diagonal and
    undefined pairs are NaN. Replicate weights re-count both the pairs and the raw-score strata N_m, the
    model's β held at the fit."""
    w = np.asarray(c.weights, dtype=float)
    f = c.fail.astype(float)
    observed = np.swapaxes(w[..., :, None] * f, -1, -2) @ f  # (..., k, k)
    by_score = w @ (c.fail.sum(axis=1)[:, None] == np.arange(c.k + 1)[None, :])  # N_m (..., k + 1)
    expected = np.tensordot(by_score, pair_given_score(fit.beta), axes=([-1], [0]))
    out = divide(observed, expected)
    eye = np.eye(c.k, dtype=bool)
    return np.where(eye, np.nan, out)
