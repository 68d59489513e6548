"""Predictive multiplicity from predictions alone (metrics.md §6).

Candidates i = 1..m decide on the same linked people. ``D`` is the (N, m) matrix of decision codes,
``S`` the (N, m) favourable-class scores, ``P`` an (N, m, C) array of class-probability vectors.
Conventions (stated because the reference codes differ):

- ε-Rashomon set: loss ≤ baseline loss + ε (as in pmtools; Hsu et al. 2024 use a strict < with the
  baseline outside the pool). The baseline is the lowest-loss candidate unless named, and is in the set.
- Per-person disagreement: the share of *ordered pairs* of distinct set members that decide differently
  (Kulynych et al. report twice that; Hsu et al. use 4p(1 − p)); self-consistency is its complement.
- Score spread: standard deviation with ddof = 1 (Long et al. 2023).
- Any/max measures over a supplied set are lower bounds on multiplicity over all equally good models.
"""

from __future__ import annotations

import numpy as np

from ._base import divide


def rashomon_set(loss: np.ndarray, epsilon: float, baseline: int | None = None) -> tuple[np.ndarray, int]:
    """Members of the ε-Rashomon set (loss ≤ loss[baseline] + ε) and the baseline's index.

    Examples
    --------
    >>> import numpy as np
    >>> rashomon_set(np.array([0.10, 0.105, 0.2]), 0.01)[0].tolist()
    [True, True, False]
    """
    base = int(np.argmin(loss)) if baseline is None else baseline
    in_set = loss <= loss[base] + epsilon + 1e-12
    in_set[base] = True
    return in_set, base


def ambiguity(D: np.ndarray, base: int) -> np.ndarray:
    """Per person: 1 if some set member decides differently from the baseline (Marx, Calmon, Ustun 2020).

    The mean over people is the ambiguity of the set. With the baseline inside the set this equals
    "some two members disagree", whoever the baseline is.
    """
    return (D != D[:, [base]]).any(axis=1).astype(float)


def flips_from_baseline(D: np.ndarray, base: int) -> np.ndarray:
    """(N, m) indicators that member i decides differently from the baseline on person j.

    Its column means are each member's share of changed decisions; their maximum is the discrepancy.
    """
    return (D != D[:, [base]]).astype(float)


def discrepancy(D: np.ndarray, base: int) -> float:
    """``max_i (1/N) Σ_j 1[D[j, i] ≠ D[j, base]]``: the most decisions one set member changes.

    Examples
    --------
    >>> import numpy as np
    >>> D = np.array([[1, 1, 0], [0, 1, 0], [1, 1, 1]])
    >>> round(discrepancy(D, 0), 4)
    0.3333
    """
    return float(flips_from_baseline(D, base).mean(axis=0).max())


def disagreement(D: np.ndarray) -> np.ndarray:
    """Per person, the share of ordered pairs of distinct members that decide differently (any classes).

    ``1 − Σ_c n_c (n_c − 1) / (m (m − 1))`` with n_c members choosing class c. 0 = all agree.
    Undefined (NaN) with fewer than two members.
    """
    m = D.shape[1]
    if m < 2:
        return np.full(D.shape[0], np.nan)
    same = (D[:, :, None] == D[:, None, :]).sum(axis=(1, 2)) - m
    return 1.0 - same / (m * (m - 1))


def viable_prediction_range(S: np.ndarray) -> np.ndarray:
    """``max_i s[j, i] − min_i s[j, i]`` per person (Watson-Daniels, Parkes, Ustun 2023)."""
    return S.max(axis=1) - S.min(axis=1)


def score_std(S: np.ndarray) -> np.ndarray:
    """Standard deviation of the scores over the set per person, ddof = 1 (Long et al. 2023)."""
    if S.shape[1] < 2:
        return np.full(S.shape[0], np.nan)
    return S.std(axis=1, ddof=1)


def _entropy2(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1)), 0.0)
        terms += np.where(p < 1, -(1 - p) * np.log2(np.where(p < 1, 1 - p, 1)), 0.0)
    return terms


def binary_rashomon_capacity(S: np.ndarray) -> np.ndarray:
    """2^C for two classes, in closed form from each person's lowest and highest score.

    The capacity-achieving input of a channel whose outputs are Bernoulli(s_i) uses only the extreme
    scores p = min, q = max; with ``z = (h(q) − h(p)) / (q − p)`` (h the binary entropy in bits),
    ``C = log2(1 + 2^z) − (1 − p) z − h(p)``, and C = 0 when p = q.
    """
    p, q = S.min(axis=1), S.max(axis=1)
    hp, hq = _entropy2(p), _entropy2(q)
    gap = q - p
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(gap > 1e-15, (hq - hp) / np.where(gap > 1e-15, gap, 1.0), 0.0)
    c = np.logaddexp2(0.0, z) - (1 - p) * z - hp
    c = np.where(gap > 1e-15, np.clip(c, 0.0, 1.0), 0.0)
    return 2.0**c


def rashomon_capacity(P: np.ndarray, tol: float = 1e-6, max_iter: int = 200_000) -> np.ndarray:
    """2^C per person, C the capacity (bits) of the channel from set members to predicted classes.

    ``P`` is (N, m, C): row i of person j's channel is member i's class-probability vector. Computed by
    Blahut–Arimoto, stopping when the upper and lower capacity bounds differ by less than `tol` bits (the
    bounds hold at every iteration, so C is certified to `tol` and 2^C to a relative 0.7·tol; the last
    people converge as 1/iterations where the best input leaves a member out).
    Lies in [1, number of classes]: 1 when all members agree (Hsu & Calmon 2022).
    """
    P = np.clip(np.asarray(P, dtype=float), 0.0, None)
    P = P / P.sum(axis=2, keepdims=True)
    n, m, _ = P.shape
    # P log P, with 0 log 0 = 0: the divergence below is Σ_c P (log P − log q) = PlogP − Σ_c P log q.
    plogp = np.where(P > 0, P * np.log2(np.where(P > 0, P, 1.0)), 0.0).sum(axis=2)
    cap = np.zeros(n)
    active = np.arange(n)
    Pa, Ha, ra = P, plogp, np.full((n, m), 1.0 / m)
    for _ in range(max_iter):
        q = np.einsum("nm,nmc->nc", ra, Pa)
        logq = np.log2(np.where(q > 0, q, 1.0))
        d = Ha - np.einsum("nmc,nc->nm", Pa, logq)  # (active, m) divergences D(P_i ‖ q), bits
        lower = (ra * d).sum(axis=1)
        upper = d.max(axis=1)
        cap[active] = lower
        ra = ra * np.exp2(d - upper[:, None])
        ra /= ra.sum(axis=1, keepdims=True)
        # Only people whose capacity bounds still differ by more than tol keep iterating; the arrays are
        # compacted when a tenth of them has stopped (gathering every round would cost more than it saves).
        going = (upper - lower) > tol
        if not going.any():
            break
        if going.sum() < 0.9 * len(going):
            active, Pa, Ha, ra = active[going], Pa[going], Ha[going], ra[going]
    return 2.0 ** np.maximum(cap, 0.0)


def selection_rates(favourable: np.ndarray, membership: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(G, m) share of each group given the favourable decision by each candidate."""
    wg = membership * w[None, :]
    return divide(wg @ favourable, wg.sum(axis=1, keepdims=True))


def selection_rate_ratio(rates: np.ndarray) -> np.ndarray:
    """``min_g r[g, i] / max_g r[g, i]`` per candidate (the four-fifths convention flags < 0.8)."""
    return divide(np.nanmin(rates, axis=0), np.nanmax(rates, axis=0))


def pareto_front(utility: np.ndarray, disparity: np.ndarray) -> np.ndarray:
    """Candidates no other beats on both utility (higher is better) and disparity (lower is better)."""
    n = len(utility)
    front = np.ones(n, dtype=bool)
    for i in range(n):
        better = (utility >= utility[i]) & (disparity <= disparity[i]) & (
            (utility > utility[i]) | (disparity < disparity[i]))
        front[i] = not better.any()
    return front
