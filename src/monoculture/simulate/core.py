"""Participation dynamics with multi-learner retraining (Dean, Curmei, Ratliff, Morgenstern, Fazel,
AISTATS 2024; metrics.md §8).

Subpopulation g (share β_g) splits its participation over k learners, α_{g,·}. Each round every
learner i fits θ_i to the people it currently serves — ``argmin_θ Σ_g β_g α_{g,i} R_g(θ)`` exactly, or one
gradient step on it — and then every subpopulation moves by multiplicative weights,
``α_{g,i} ← α_{g,i} (1 − ε)^{R_g(θ_i)}``, renormalised over i. Under exact updates the total risk
``Σ_g β_g Σ_i α_{g,i} R_g(θ_i)`` never increases: the fit minimises it for fixed α, and the tilt moves
each α_g towards its lower-risk learners. The dynamics end in segmented equilibria.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import UsageError
from ..lazy_imports import special

SEGMENTED = 0.99  # a subpopulation is "on" one learner when that learner holds this share of it


class Risks(Protocol):
    @property
    def dim(self) -> int: ...
    def risks(self, theta: np.ndarray) -> np.ndarray: ...
    def minimise(self, w: np.ndarray, start: np.ndarray) -> np.ndarray: ...
    def gradient(self, w: np.ndarray, theta: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Step:
    """One round: the allocations in force, the learners fitted to them, and the risks that produced.

    ``risk_matrix[g, i] = R_g(θ_i)``; ``group_risk[g] = Σ_i α_{g,i} R_g(θ_i)``, the risk subpopulation g
    experiences this round; ``total_risk = Σ_g β_g group_risk[g]``.
    """

    allocations: np.ndarray  # (G, k)
    thetas: np.ndarray  # (k, d)
    risk_matrix: np.ndarray  # (G, k)
    group_risk: np.ndarray  # (G,)
    total_risk: float


@dataclass(frozen=True)
class Trajectory:
    steps: list[Step]
    final_allocations: np.ndarray
    final: Step  # the final allocations with the last learners' risks
    converged: bool


def multiplicative_weights(alphas: np.ndarray, risk_matrix: np.ndarray, epsilon: float) -> np.ndarray:
    """One participation update ``α_{g,i} ← α_{g,i} (1 − ε)^{R_g(θ_i)} / Σ_j α_{g,j} (1 − ε)^{R_g(θ_j)}``.

    Computed in log space, so a learner's share may underflow to 0 but a row never becomes 0/0.

    Examples
    --------
    >>> a = multiplicative_weights(np.array([[0.5, 0.5]]), np.array([[1.0, 2.0]]), 0.5)
    >>> a.round(4).tolist()  # 0.5·0.5 : 0.5·0.25, renormalised
    [[0.6667, 0.3333]]
    """
    with np.errstate(divide="ignore"):
        log_a = np.log(alphas) + risk_matrix * np.log1p(-epsilon)
    return np.exp(log_a - special.logsumexp(log_a, axis=1, keepdims=True))


def _state(risks: Risks, beta: np.ndarray, alphas: np.ndarray, thetas: np.ndarray) -> Step:
    r = np.column_stack([risks.risks(t) for t in thetas])
    group_risk = (alphas * r).sum(axis=1)
    return Step(alphas.copy(), thetas.copy(), r, group_risk, float(beta @ group_risk))


def run(
    risks: Risks,
    beta: np.ndarray,
    alphas: np.ndarray,
    *,
    epsilon: float,
    rounds: int,
    update: str = "exact",
    step_size: float = 0.1,
    tol: float = 1e-9,
    thetas: np.ndarray | None = None,
) -> Trajectory:
    """Run the dynamics for at most `rounds` rounds, stopping early when no allocation moves more than `tol`.

    ``beta`` (G,) sums to 1; ``alphas`` (G, k) rows sum to 1. ``thetas`` (k, d) are the starting
    parameters of gradient learners (default 0); exact learners ignore them.
    """
    if not 0 < epsilon < 1:
        raise UsageError(f"{{simulate.epsilon}} must be in (0, 1); got {epsilon}")
    if rounds < 1:
        raise UsageError(f"{{simulate.rounds}} must be at least 1; got {rounds}")
    if update not in ("exact", "gradient"):
        raise UsageError(f"{{simulate.learner_update}} must be exact or gradient; got '{update}'")
    if update == "gradient" and not step_size > 0:
        raise UsageError(f"{{simulate.step_size}} must be positive; got {step_size}")
    k = alphas.shape[1]
    theta = np.zeros((k, risks.dim)) if thetas is None else np.array(thetas, dtype=float)
    steps: list[Step] = []
    converged = False
    for _ in range(rounds):
        w = beta[:, None] * alphas  # (G, k): learner i's weight on group g
        for i in range(k):
            if update == "exact":
                theta[i] = risks.minimise(w[:, i], theta[i])
            else:
                theta[i] = theta[i] - step_size * risks.gradient(w[:, i], theta[i])
        step = _state(risks, beta, alphas, theta)
        steps.append(step)
        new = multiplicative_weights(alphas, step.risk_matrix, epsilon)
        moved = float(np.abs(new - alphas).max())
        alphas = new
        if moved < tol:
            converged = True
            break
    return Trajectory(steps, alphas, _state(risks, beta, alphas, theta), converged)


def single_learner(risks: Risks, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The monopoly baseline: one learner serving everyone, θ = argmin Σ_g β_g R_g(θ); returns (θ, R_g(θ))."""
    theta = risks.minimise(beta.astype(float), np.zeros(risks.dim))
    return theta, risks.risks(theta)


def initial_allocations(init: str | np.ndarray, n_groups: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """'uniform' (every group splits evenly: a symmetric fixed point of exact updates), 'random' (each
    group's split drawn from a flat Dirichlet), or a given (G, k') array in group order (rows renormalised;
    its own k' learners, `k` is not used)."""
    if isinstance(init, np.ndarray):
        a = np.asarray(init, dtype=float)
        if (a < 0).any() or (a.sum(axis=1) <= 0).any():
            raise UsageError("initial allocations must be non-negative with a positive total per group")
        return a / a.sum(axis=1, keepdims=True)
    if init == "uniform":
        return np.full((n_groups, k), 1.0 / k)
    if init == "random":
        return rng.dirichlet(np.ones(k), size=n_groups)
    raise UsageError(f"{{simulate.init}} must be uniform, random or a CSV file; got '{init}'")


def segmentation(allocations: np.ndarray) -> list[tuple[int, float]]:
    """For each group, the learner holding most of it and that learner's share."""
    top = allocations.argmax(axis=1)
    return [(int(i), float(allocations[g, i])) for g, i in enumerate(top)]
