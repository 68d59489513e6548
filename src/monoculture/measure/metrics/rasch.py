"""Beyond independence: the marginal Rasch null, one latent difficulty per person (metrics.md §10).

Person j has difficulty ``d_j ~ N(0, σ²)``; given it, decision-maker i fails them independently with
``π_i(d) = logistic(β_i + d)``. Nothing is shared beyond the difficulty, so this is the null of "they all
fail the hard cases": ``H_rasch = S / S_rasch`` above 1 is homogenization beyond difficulty.

`RaschFit.of` fits (β, log σ) by maximum marginal likelihood on the pattern table, the integral over d by
Gauss–Hermite quadrature (`scipy.special.roots_hermitenorm`), the optimum by `scipy.optimize.minimize`
with the analytic gradient. Bootstrap replicates take one Newton step from the fit with the replicate's
weights (`RaschFit.replicates`: the score of each row at the fit, and the outer-product information), so
an interval costs a matrix product, not a thousand refits.

Under the outer join each person's likelihood is over the decision-makers that saw them, and S_rasch is
the mean over people of ``∫ Π_{i saw j} π_i(d) φ_σ(d) dd``, as `expected_systemic_failure` does for
independence.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ...count.table import Counts
from ...lazy_imports import optimize, special, stats
from ._base import divide
from .ecosystem import poisson_binomial_pmf

NODES = 48  # Gauss–Hermite nodes (metrics.md §10 asks for at least 40)
LOG_SIGMA = (-9.0, 4.0)  # σ from about 1e-4 (independence) to about 55 (every person all or nothing)
MIN_K = 3  # k = 2 has 3 free pattern probabilities for 3 parameters: fit exactly, nothing left to test


@functools.cache
def _nodes() -> tuple[np.ndarray, np.ndarray]:
    x, w = special.roots_hermitenorm(NODES)
    return x, w / w.sum()


@dataclass(frozen=True)
class RaschFit:
    """A fitted marginal Rasch model: difficulties of the decision-makers `beta` (k,), spread `sigma`."""

    beta: np.ndarray
    sigma: float
    log_likelihood: float
    converged: bool
    at_bound: bool  # σ ran to a bound of LOG_SIGMA: ill-conditioned (or plain independence at the lower)

    @classmethod
    def of(cls, c: Counts) -> RaschFit | None:
        """The maximum-marginal-likelihood fit on a view with one weight vector; None with fewer than
        `MIN_K` decision-makers or when some decision-maker never (or always) fails here (β_i = ∓∞)."""
        w = c.float_weights
        if c.k < MIN_K or w.ndim != 1 or w.sum() <= 0:
            return None
        seen = w @ c.seen
        failed = w @ c.failed
        if (seen <= 0).any() or (failed <= 0).any() or (failed >= seen).any():
            return None
        rates = failed / seen
        start = np.append(np.log(rates / (1 - rates)), 0.0)

        raw = c.failed.sum(axis=1)

        def cost(theta: np.ndarray) -> tuple[float, np.ndarray]:
            ll, grad = _likelihood(c, w, theta, failed, raw)
            return -ll, -grad

        bounds = [(None, None)] * c.k + [LOG_SIGMA]
        done = optimize.minimize(cost, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                 options={"maxiter": 500, "gtol": 1e-9, "ftol": 1e-14})
        theta = done.x
        at_bound = bool(theta[-1] <= LOG_SIGMA[0] + 1e-6 or theta[-1] >= LOG_SIGMA[1] - 1e-6)
        return cls(theta[:-1].copy(), float(np.exp(theta[-1])), float(-done.fun), bool(done.success), at_bound)

    @property
    def theta(self) -> np.ndarray:
        return np.append(self.beta, np.log(self.sigma))

    def stepper(self, c: Counts) -> RaschSteps:
        """The replicates' θ from `c`'s rows (the view the model was fitted on): see `RaschSteps`."""
        w = c.float_weights
        scores = _row_scores(c, self.theta)  # (R, k + 1)
        return RaschSteps(self, scores, np.linalg.pinv(scores.T @ (w[:, None] * scores)))


@dataclass(frozen=True)
class RaschSteps:
    """θ for a weighting of the fitted view's rows: the fit itself for its own weights (one vector), else
    one Newton step from it per replicate, ``θ + I⁻¹ g_b`` with ``g_b = Σ_r w_br s_r`` (s_r the row's score
    at the fit, which sums to 0 over the fitted weights) and I the outer-product information."""

    fit: RaschFit
    scores: np.ndarray
    inverse_information: np.ndarray

    def theta(self, weights: np.ndarray) -> np.ndarray:
        w = np.asarray(weights, dtype=float)
        if w.ndim == 1:
            return self.fit.theta
        # One product per replicate (not one over the batch, whose blocking follows the batch size), so that a
        # replicate's θ is the same however the replicates are batched.
        score = np.stack([row @ self.scores for row in w])
        theta = self.fit.theta[None, :] + np.stack([g @ self.inverse_information for g in score])
        theta[:, -1] = np.clip(theta[:, -1], *LOG_SIGMA)
        return theta


def _fail_probabilities(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """π_i at each node: (..., Q, k) for θ (..., k + 1)."""
    beta, sigma = theta[..., :-1], np.exp(theta[..., -1])
    return special.expit(beta[..., None, :] + sigma[..., None, None] * x[:, None])


def _row_log_likelihood(c: Counts, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log f_rq (R, Q): each row's log-likelihood given the difficulty at node q; and π (Q, k), nodes."""
    x, _ = _nodes()
    z = theta[:-1][None, :] + np.exp(theta[-1]) * x[:, None]  # (Q, k) log-odds of failing
    f, s = c.failed, c.succeeded
    # log π = −log(1 + e^−z) and log(1 − π) = −log(1 + e^z), finite however far the nodes reach.
    log_succeed = -np.logaddexp(0.0, z)
    if c.complete:  # Σ_i f_i log π_i + (1 − f_i) log(1 − π_i) = Σ_i f_i z_i + Σ_i log(1 − π_i): one product
        return f @ z.T + log_succeed.sum(axis=1), special.expit(z), x
    return -(f @ np.logaddexp(0.0, -z).T) + s @ log_succeed.T, special.expit(z), x


def _posterior(c: Counts, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row's log marginal likelihood (R,), posterior over nodes (R, Q), π (Q, k), nodes (Q,)."""
    log_f, pi, x = _row_log_likelihood(c, theta)
    _, weights = _nodes()
    joint = log_f + np.log(weights)
    top = joint.max(axis=1, keepdims=True)
    total = np.log(np.exp(joint - top).sum(axis=1)) + top[:, 0]
    return total, np.exp(joint - total[:, None]), pi, x


def _row_scores(c: Counts, theta: np.ndarray, posterior: tuple | None = None) -> np.ndarray:
    """d log L_r / dθ for every row (R, k + 1); `posterior`: `_posterior(c, theta)`, when computed already."""
    _, post, pi, x = posterior if posterior is not None else _posterior(c, theta)
    present, f = c.seen, c.failed
    d_beta = f - present * (post @ pi)
    sigma = np.exp(theta[-1])
    raw = f.sum(axis=1)
    expected = present @ pi.T  # (R, Q): expected failures given the node
    d_log_sigma = sigma * (post * x[None, :] * (raw[:, None] - expected)).sum(axis=1)
    return np.column_stack([d_beta, d_log_sigma])


def _likelihood(c: Counts, w: np.ndarray, theta: np.ndarray, failed: np.ndarray | None = None,
                raw: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """The weighted log-likelihood and its gradient ``Σ_r w_r s_r`` (`_row_scores`), summed over the rows
    before the products with the nodes' π, so that no (R, k) matrix is formed. `failed` (``w @ F``) and
    `raw` (each row's failure count) do not change during a fit: given, they are not computed again."""
    failed = w @ c.failed if failed is None else failed
    raw = c.failed.sum(axis=1) if raw is None else raw
    total, post, pi, x = _posterior(c, theta)
    weighted = w[:, None] * post  # (R, Q)
    if c.complete:
        expected_failed = weighted.sum(axis=0) @ pi
    else:  # Σ_r w_r present_r ∘ (post_r @ π) = Σ_q π_q ∘ (Σ_r w_r post_rq present_r)
        expected_failed = ((weighted.T @ c.seen) * pi).sum(axis=0)
    # (R, Q): expected failures given the node (under the inner join the same for every row)
    expected = pi.sum(axis=1)[None, :] if c.complete else c.seen @ pi.T
    d_log_sigma = np.exp(theta[-1]) * (weighted * x[None, :] * (raw[:, None] - expected)).sum()
    return float(w @ total), np.append(failed - expected_failed, d_log_sigma)


def _node_probabilities(c: Counts, theta: np.ndarray) -> np.ndarray:
    """π (B, Q, k) for θ (k + 1,) or (B, k + 1), kept on the view for the same θ object: S_rasch and the
    histogram of one bootstrap batch start from the same probabilities."""
    kept = c.__dict__.get("_rasch_pi")
    if kept is None or kept[0] is not theta:
        kept = c.__dict__["_rasch_pi"] = (theta, _fail_probabilities(theta if theta.ndim == 2 else theta[None, :],
                                                                     _nodes()[0]))
    return kept[1]


def rasch_expected_systemic_failure(c: Counts, theta: np.ndarray) -> np.ndarray:
    """``S_rasch``: the systemic failure the fitted model expects, the mean over people of
    ``∫ Π_{i saw j} π_i(d) φ_σ(d) dd``. `theta` (k + 1,) or one per replicate (B, k + 1)."""
    _, nodes = _nodes()
    pi = _node_probabilities(c, theta)  # (B, Q, k)
    w = c.float_weights
    index, used = c.members
    # Per coverage set and node, the product over its members; a padding slot counts 1.
    per = np.where(used[None, None], np.take(pi, index, axis=-1), 1.0).prod(axis=-1)  # (B, Q, D)
    s_mask = per.transpose(0, 2, 1) @ nodes  # (B, D)
    out = divide((np.atleast_2d(c.mask_weights()) * s_mask).sum(axis=-1), np.atleast_1d(w.sum(axis=-1)))
    return out if theta.ndim == 2 else out[0]


def rasch_failure_count_histogram(c: Counts, theta: np.ndarray) -> np.ndarray:
    """The failure-count histogram the fitted model expects (k + 1 bins): per coverage set, the mixture over
    d of the Poisson-binomial of the π_i(d) of its members, averaged over people."""
    _, nodes = _nodes()
    pi = _node_probabilities(c, theta)  # (B, Q, k)
    index, used = c.members
    rates = np.where(used[None, None], np.take(pi, index, axis=-1), 0.0)  # (B, Q, D, width)
    pmf = poisson_binomial_pmf(rates, index.shape[1] + 1)  # (B, Q, D, width + 1)
    per_mask = np.einsum("bqdm,q->bdm", pmf, nodes)
    w = c.float_weights
    share = divide(np.atleast_2d(c.mask_weights()), np.atleast_1d(w.sum(axis=-1))[:, None])  # (B or 1, D)
    out = np.zeros((len(per_mask), c.k + 1))
    out[:, :index.shape[1] + 1] = np.einsum("bd,bdm->bm", share, per_mask)
    return out if theta.ndim == 2 else out[0]


def histogram_fit(observed: np.ndarray, expected: np.ndarray, n: float, k: int) -> tuple[float, int, float]:
    """G² of the observed failure-count histogram against the model's, its degrees of freedom and p-value.

    ``G² = 2 Σ_m O_m log(O_m / E_m)`` over the k + 1 bins (O, E counts of n people). The fit matches the
    total, the mean failure count (through β) and its spread (through σ): ``df = k − 2``. An approximation —
    the β are fitted to the patterns, not to this histogram — read it as a check, not a test of the model.
    """
    o, e = observed * n, expected * n
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(o > 0, o * np.log(o / e), 0.0)
    g2 = float(2 * terms.sum())
    df = max(k - 2, 1)
    return g2, df, float(stats.chi2.sf(g2, df))
