"""Results beyond independence (metrics.md §10) and for panels and recourse (§12), from an `Estimate`."""

from __future__ import annotations

import math

import numpy as np

from ..count.table import PatternTable
from ..spec import SpecError
from .estimate import Estimate
from .metrics.rasch import LOG_SIGMA, MIN_K, histogram_fit
from .result import (
    GroupHomogenization,
    HarmBin,
    Metric,
    RaschBin,
    RaschFitResult,
    RaschResult,
    StratifiedResult,
)

NULL = ("marginal Rasch: each person has one latent difficulty d ~ N(0, σ²), and given it the decision-makers "
        "fail them independently, P(fail) = logistic(β_i + d); nothing else is shared")


def rasch_result(est: Estimate, k: int, top: int) -> RaschResult:
    """H beyond difficulty, σ, the model's histogram (bins 0..`top`) and its fit; undefined with a reason
    where the model cannot be fitted."""
    n = est.n
    fit = est.rasch
    if fit is None:
        reason = ("no individuals in this group" if n == 0 else
                  f"needs at least {MIN_K} decision-makers (k = 2 fits the patterns exactly)" if k < MIN_K else
                  "some decision-maker never or always fails here (its difficulty is ±∞)")
        undefined = Metric(None, reason)
        return RaschResult(NULL, undefined, undefined, undefined, [], RaschFitResult(undefined, None, undefined,
                                                                                     None, False))
    flags = []
    if not fit.converged:
        flags.append("the fit did not converge: read these numbers as approximate")
    if fit.at_bound and math.log(fit.sigma) >= LOG_SIGMA[1] - 1e-6:
        flags.append(f"σ ran to its bound ({fit.sigma:.0f}): nearly everyone is failed by all or by none; the "
                     "difficulties are ill-conditioned")
    h = _one_step(est.metric("rasch_homogenization", "S_rasch = 0"))
    s_rasch = float(est.point["rasch_expected_systemic_failure"])
    if h.defined and n * s_rasch < 5:
        h.flags.append(f"unstable: N·S_rasch = {n * s_rasch:.2g} < 5 expected systemic failures")
    expected = np.asarray(est.point["histogram_rasch"])
    g2, df, p = histogram_fit(np.asarray(est.point["histogram_observed"]), expected, n, k)
    return RaschResult(
        null=NULL,
        sigma=_one_step(est.metric("rasch_sigma", "not fitted")),
        expected_systemic_failure=_one_step(est.metric("rasch_expected_systemic_failure", "not fitted")),
        homogenization=h,
        failure_count_histogram=[RaschBin(m, _one_step(est.metric("histogram_rasch", "not fitted", (m,))))
                                 for m in range(top + 1)],
        fit=RaschFitResult(Metric.of(g2, "a bin the model gives no mass holds people"), df,
                           Metric.of(p, "G² undefined"), fit.log_likelihood, fit.converged),
        flags=flags,
    )


def _one_step(m: Metric) -> Metric:
    """Name how the replicates of a number under the fitted model were drawn (`RaschSteps`)."""
    if m.ci_method is not None:
        m.ci_method += "-one-step"
    return m


def harm_by_rule(est: Estimate, k: int, top: int) -> list[HarmBin]:
    """The share failed by at least r of the decision-makers that saw them, r = 1..`top`, observed (Wilson
    interval) against the Poisson-binomial tail."""
    n = est.n
    majority = math.ceil(k / 2)
    return [HarmBin(r, "systemic" if r == k else "majority" if r == majority else None,
                    est.metric("harm_at_least", "no individuals in this group", (r,), proportion_of=float(n)),
                    est.metric("expected_harm_at_least", "some decision-maker saw nobody here", (r,)))
            for r in range(1, top + 1)]


def effective_decision_makers(est: Estimate) -> Metric:
    if "effective_decision_makers" not in est.point:
        return Metric(None, "not computed for this population (pairwise tables are computed overall)")
    return est.metric("effective_decision_makers", "no pair's correlation of failures is defined, or failures are "
                                                   "so negatively correlated that k / (1 + (k − 1) ρ̄) has no meaning")


def recourse(est: Estimate, i: int) -> tuple[Metric, Metric]:
    """Recourse from decision-maker i (1 − S/e_i over the people all saw) and its independence value."""
    reason = "fails nobody seen by every decision-maker (no one needs recourse from it)"
    return (est.metric("recourse", reason, (i,)),
            est.metric("expected_recourse", "some decision-maker saw nobody here", (i,)))


def stratified_result(table: PatternTable, group_h: list[GroupHomogenization], strata: str,
                      s: float | None) -> StratifiedResult:
    """H within the strata of `strata` (metrics.md §10): the within factor of the decomposition, named as
    the null it is, with S_strat = S / H_strat (`s`: the overall systemic failure)."""
    if strata not in table.attributes:
        raise SpecError("measure.strata", f"names '{strata}', which is not a group column of the table "
                                          f"({', '.join(table.attributes) or 'none'})")
    level = next(g for g in group_h if g.attribute == strata)
    within = level.within
    expected = (Metric.of(s / within.value, "H within strata is 0") if within.value and s is not None else
                Metric(None, within.reason or "H within strata is 0"))
    return StratifiedResult(
        attribute=strata,
        null=f"independence within each stratum of '{strata}': S_strat = Σ_s w_s Π_i e_(s,i)",
        strata=level.groups, expected_systemic_failure=expected, homogenization=within, between=level.between)
