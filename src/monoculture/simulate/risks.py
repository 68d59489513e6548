"""Subpopulation risks R_g(θ) for the participation dynamics (Dean et al. 2024; metrics.md §8).

Each risk model answers three questions for G subpopulations and a parameter vector θ:
``risks(theta)`` the (G,) risks R_g(θ); ``minimise(w, start)`` the exact minimiser of Σ_g w_g R_g(θ);
``gradient(w, theta)`` the gradient of that weighted sum. Learners never see anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..lazy_imports import optimize, special

# Below this total participation a learner has nobody to fit: it keeps its parameters.
NOBODY = 1e-300


@dataclass(frozen=True)
class QuadraticRisks:
    """R_g(θ) = ‖Σ_g (θ − φ_g)‖² + σ²_g: the paper's synthetic setting (figure 4a of Dean et al. 2024).

    The weighted sum is minimised in closed form by θ* = (Σ_g w_g A_g)⁻¹ Σ_g w_g A_g φ_g with
    A_g = Σ_gᵀ Σ_g (the reference code uses Σ_g in place of A_g, which is right only when Σ_g = I).
    """

    phi: np.ndarray  # (G, d)
    cov: np.ndarray  # (G, d, d)
    sigma2: np.ndarray  # (G,)

    @property
    def dim(self) -> int:
        return int(self.phi.shape[1])

    @property
    def _a(self) -> np.ndarray:
        return np.einsum("gji,gjk->gik", self.cov, self.cov)

    def risks(self, theta: np.ndarray) -> np.ndarray:
        diff = np.einsum("gij,gj->gi", self.cov, theta[None, :] - self.phi)
        return (diff**2).sum(axis=1) + self.sigma2

    def gradient(self, w: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return 2 * np.einsum("g,gij,gj->i", w, self._a, theta[None, :] - self.phi)

    def minimise(self, w: np.ndarray, start: np.ndarray) -> np.ndarray:
        if w.sum() < NOBODY:
            return start
        w = w / w.sum()
        a = np.einsum("g,gij->ij", w, self._a)
        b = np.einsum("g,gij,gj->i", w, self._a, self.phi)
        return np.linalg.lstsq(a, b, rcond=None)[0]


@dataclass(frozen=True)
class DataRisks:
    """Empirical risks on a people file: R_g(θ) = mean over the rows of group g of the loss of xᵀθ.

    ``loss`` is "squared" ((y − xᵀθ)², the paper's census setting) or "logistic"
    (log(1 + e^{xᵀθ}) − y·xᵀθ for y in {0, 1}). ``x`` carries an intercept column first. Each group is
    weighted by its share through w_g, never by its row count (the reference code's census experiment
    weights groups by size squared). ``l2`` adds λ‖θ‖² (intercept excluded) to every risk.
    """

    x: np.ndarray  # (n, d)
    y: np.ndarray  # (n,)
    group: np.ndarray  # (n,) index into the G groups
    n_groups: int
    loss: str = "squared"
    l2: float = 0.0

    @property
    def dim(self) -> int:
        return int(self.x.shape[1])

    def _row_weights(self, w: np.ndarray) -> np.ndarray:
        sizes = np.bincount(self.group, minlength=self.n_groups).astype(float)
        per_row = np.divide(w, sizes, out=np.zeros_like(w, dtype=float), where=sizes > 0)
        return per_row[self.group]

    def _penalty(self, theta: np.ndarray) -> float:
        return self.l2 * float(theta[1:] @ theta[1:])

    def row_losses(self, theta: np.ndarray) -> np.ndarray:
        z = self.x @ theta
        if self.loss == "squared":
            return (self.y - z) ** 2
        return np.logaddexp(0.0, z) - self.y * z

    def risks(self, theta: np.ndarray) -> np.ndarray:
        total = np.bincount(self.group, weights=self.row_losses(theta), minlength=self.n_groups)
        sizes = np.bincount(self.group, minlength=self.n_groups)
        return total / np.maximum(sizes, 1) + self._penalty(theta)

    def gradient(self, w: np.ndarray, theta: np.ndarray) -> np.ndarray:
        r = self._row_weights(w)
        z = self.x @ theta
        resid = -2 * (self.y - z) if self.loss == "squared" else special.expit(z) - self.y
        pen = 2 * self.l2 * np.concatenate([[0.0], theta[1:]]) * w.sum()
        return self.x.T @ (r * resid) + pen

    def minimise(self, w: np.ndarray, start: np.ndarray) -> np.ndarray:
        if w.sum() < NOBODY:
            return start
        w = w / w.sum()
        r = self._row_weights(w)
        if self.loss == "squared":
            ridge = np.diag(np.r_[0.0, np.full(self.dim - 1, self.l2)])
            xw = self.x * r[:, None]
            return np.linalg.lstsq(self.x.T @ xw + ridge, xw.T @ self.y, rcond=None)[0]

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            z = self.x @ theta
            value = float(r @ (np.logaddexp(0.0, z) - self.y * z)) + self._penalty(theta)
            return value, self.gradient(w, theta)

        fit = optimize.minimize(objective, start, jac=True, method="L-BFGS-B",
                                options={"maxiter": 500, "gtol": 1e-10, "ftol": 1e-14})
        return fit.x


def standardise(values: np.ndarray, names: list[str], file: str) -> np.ndarray:
    """z-score each feature column and put an intercept column first (constant features are an error)."""
    mean = values.mean(axis=0)
    sd = values.std(axis=0)
    for name, s in zip(names, sd, strict=True):
        if not s > 0:
            raise UsageError(f"feature '{name}' is constant, so it cannot be standardised", file=file, column=name)
    return np.column_stack([np.ones(len(values)), (values - mean) / sd])
