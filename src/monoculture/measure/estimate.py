"""Estimates for one population (everyone, or one group): point values, bootstrap replicates, and the
`ScopeResult` built from them, with an interval and a reason attached to every number."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..count.table import Counts
from ..spec import InferenceOptions
from . import metrics
from .inference import (
    PAIR_CHUNK_ELEMS,
    WIDE_CHUNK_ELEMS,
    Interval,
    evaluate,
    histogram_bin_pvalues,
    intervals,
    jackknife,
    wilson,
)
from .metrics import diversity, panels
from .metrics._base import divide
from .metrics.local_dependence import LIFT_MAX_K, ConditionalFit, local_dependence_lift
from .metrics.rasch import RaschSteps
from .records import Field, Ints, Labels, Objects, Points, Records
from .result import HistogramBin, Metric, PairResult, ScopeResult

UNSTABLE_EXPECTED = 5.0  # metrics.md §1: flag H when N·S_ind < 5
DIVERSITY = {
    "interrater_kappa": diversity.interrater_kappa,
    "kohavi_wolpert_variance": diversity.kohavi_wolpert_variance,
    "generalized_diversity": diversity.generalized_diversity,
    "coincident_failure_diversity": diversity.coincident_failure_diversity,
    "entropy": diversity.failure_entropy,
}
PAIR_METRICS = {
    "error_consistency": metrics.error_consistency,
    "cofailure_lift": metrics.cofailure_lift,
    "double_fault": metrics.double_fault,
    "q_statistic": metrics.q_statistic,
    "correlation": metrics.correlation,
    "disagreement": metrics.disagreement,
}


def scope_stats(c: Counts, with_pairs: bool = True, rasch: RaschSteps | None = None,
                conditional: ConditionalFit | None = None) -> dict[str, np.ndarray]:
    """Every statistic of one view, as arrays broadcast over the weight batch (the bootstrap's input).
    `rasch`, `conditional`: the marginal and conditional Rasch fits of the view (metrics.md §10), for the
    numbers beyond difficulty."""
    e = metrics.failure_rates(c)
    s = metrics.systemic_failure(c)
    s_ind = metrics.expected_systemic_failure(c)
    h = divide(s, s_ind)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_h = np.where(h > 0, np.log(np.where(h > 0, h, 1.0)), np.nan)
    out = {
        "failure_rates": e,
        "systemic_failure": s,
        "expected_systemic_failure": s_ind,
        "homogenization": h,
        "log_homogenization": log_h,
        "bounded_homogenization": diversity.bounded_homogenization(c),
        "consistent_success": metrics.consistent_success(c),
        "expected_consistent_success": metrics.expected_consistent_success(c),
        "histogram_observed": metrics.failure_count_histogram(c),
        "histogram_expected": metrics.expected_failure_count_histogram(c),
    }
    out.update({name: fn(c) for name, fn in DIVERSITY.items()})
    out.update(panel_stats(c, out))
    if rasch is not None:
        out.update(rasch_stats(c, rasch, s))
    if with_pairs:
        t = metrics.pair_tables(c)
        out.update({name: fn(t) for name, fn in PAIR_METRICS.items()})
        out["pair_n"] = t.n
        out["effective_decision_makers"] = panels.effective_decision_makers_of(t, c.k)
        if conditional is not None:
            out["local_dependence_lift"] = local_dependence_lift(c, conditional, t.n11)
    return out


def panel_stats(c: Counts, out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Harm by decision rule and recourse (metrics.md §12), from the histograms already computed."""
    return {
        "harm_at_least": panels.tail(out["histogram_observed"]),
        "expected_harm_at_least": panels.tail(out["histogram_expected"]),
        "recourse": panels.recourse(c),
        "expected_recourse": panels.expected_recourse(c),
    }


HISTOGRAM_REPLICATES_MAX_K = 50


def rasch_stats(c: Counts, rasch: RaschSteps, s: np.ndarray) -> dict[str, np.ndarray]:
    """The numbers beyond difficulty under the fitted (or, per replicate, one-step) marginal Rasch model.
    Under the outer join the replicates skip its histogram (a Poisson-binomial per coverage set, node and
    replicate): it is given without an interval; so it is above `HISTOGRAM_REPLICATES_MAX_K` decision-makers
    (its cost grows as B·Q·k²)."""
    theta = rasch.theta(c.weights)
    s_rasch = metrics.rasch_expected_systemic_failure(c, theta)
    out = {"rasch_sigma": np.exp(theta[..., -1]), "rasch_expected_systemic_failure": s_rasch,
           "rasch_homogenization": divide(s, s_rasch)}
    if (c.complete and c.k <= HISTOGRAM_REPLICATES_MAX_K) or np.ndim(c.weights) == 1:
        out["histogram_rasch"] = metrics.rasch_failure_count_histogram(c, theta)
    return out


@dataclass
class Estimate:
    """Point values of one view, with bootstrap replicates (and jackknife values for BCa) when asked."""

    counts: Counts
    point: dict[str, np.ndarray]
    options: InferenceOptions
    reps: dict[str, np.ndarray] | None = None
    jack: tuple[dict[str, np.ndarray], np.ndarray] | None = None
    p_value: float | None = None
    rasch: metrics.RaschFit | None = None  # the view's marginal Rasch fit (None: k < 3, or a rate of 0 or 1)
    conditional: ConditionalFit | None = None  # its conditional Rasch fit (pairs; inner join only)
    _ci: dict[str, tuple] = field(default_factory=dict)

    @classmethod
    def of(cls, c: Counts, options: InferenceOptions, weights: np.ndarray | None, with_pairs: bool,
           pair_replicates: bool = True) -> Estimate:
        """Point values, plus bootstrap replicates over `weights` (B, R) — from `bootstrap_weights`; None:
        no bootstrap. `pair_replicates`: the pairwise measures are bootstrapped too (else point values)."""
        fit = metrics.RaschFit.of(c)
        rasch = None if fit is None else fit.stepper(c)
        conditional = ConditionalFit.of(c) if with_pairs else None
        point = scope_stats(c, with_pairs, rasch, conditional)
        est = cls(c, point, options, rasch=None if rasch is None else rasch.fit, conditional=conditional)
        if weights is not None:
            fn = lambda v: scope_stats(v, with_pairs and pair_replicates, rasch, conditional)  # noqa: E731
            wide = not (with_pairs and pair_replicates)
            est.reps = evaluate(fn, c, weights, WIDE_CHUNK_ELEMS if wide else PAIR_CHUNK_ELEMS)
            if options.ci == "bca":
                est.jack = jackknife(fn, c)
        return est

    @property
    def n(self) -> int:
        return round(float(np.asarray(self.counts.weights).sum()))

    def interval(self, key: str, index: tuple = ()) -> Interval | None:
        """The bootstrap interval of one element of a statistic (None without replicates of it)."""
        if self.reps is None or key not in self.reps:
            return None
        if not self._ci:
            self._ci = self._intervals(self.reps)
        lo, hi, undefined, same = (np.asarray(a)[index] for a in self._ci[key])
        if np.isnan(lo) or np.isnan(hi):
            return None
        value = float(np.asarray(self.point[key])[index])
        notes = []
        if same:
            lo = hi = value
            notes.append("every bootstrap replicate identical: exact interval")
        if undefined > 0:
            notes.append(f"{100 * float(undefined):.1f}% of bootstrap replicates undefined and left out")
        method = "bootstrap-bca" if self.jack is not None else "bootstrap-percentile"
        return Interval(float(lo), float(hi), method, "; ".join(notes) or None)

    def _intervals(self, reps: dict[str, np.ndarray], block_elems: int = 4_000_000) -> dict[str, tuple]:
        """`inference.intervals` of every statistic, elementwise, from passes over their replicates side by
        side (a report asks for a few elements of each of some twenty statistics per population): one pass
        per block of statistics holding up to `block_elems` replicate values, so that memory stays bounded
        when k² pairwise values per replicate are many."""
        out: dict[str, tuple] = {}
        block: list[str] = []
        size = 0
        for key in reps:
            elems = int(np.size(reps[key]))
            if block and size + elems > block_elems:
                out.update(self._block_intervals(reps, block))
                block, size = [], 0
            block.append(key)
            size += elems
        if block:
            out.update(self._block_intervals(reps, block))
        return out

    def _block_intervals(self, reps: dict[str, np.ndarray], keys: list[str]) -> dict[str, tuple]:
        """`_intervals` of the statistics `keys`, from one sort of their replicates side by side."""
        b = len(reps[keys[0]])
        shapes = [np.shape(reps[k])[1:] for k in keys]
        ends = np.cumsum([int(np.prod(shape)) for shape in shapes])[:-1]

        def side_by_side(values: dict[str, np.ndarray], rows: int | None) -> np.ndarray:
            return np.concatenate([np.reshape(np.asarray(values[k], dtype=float), (rows, -1) if rows else -1)
                                   for k in keys], axis=-1)

        jack = mult = None
        if self.jack is not None:
            jack, mult = side_by_side(self.jack[0], len(self.jack[1])), self.jack[1]
        together = intervals(side_by_side(self.point, None), side_by_side(reps, b), self.options.alpha,
                             self.options.ci, jack, mult)
        parts = [np.split(np.asarray(a), ends) for a in together]  # (low, high, undefined, same), by key
        return {k: tuple(p[i].reshape(shapes[i]) for p in parts) for i, k in enumerate(keys)}

    def metric(self, key: str, reason: str, index: tuple = (), proportion_of: float | None = None) -> Metric:
        """A Metric for point[key][index]: Wilson CI when it is a proportion of `proportion_of` people."""
        m = Metric.of(np.asarray(self.point[key])[index], reason)
        if m.value is None:
            return m
        if proportion_of is not None:
            if self.options.bootstrap > 0:
                attach(m, wilson(m.value * proportion_of, proportion_of, self.options.alpha))
        else:
            attach(m, self.interval(key, index))
        return m


def attach(m: Metric, ci: Interval | None) -> Metric:
    if ci is not None:
        m.ci = (ci.low, ci.high)
        m.ci_method = ci.method
        if ci.note:
            m.flags.append(ci.note)
    return m


def never_fails_reason(e: np.ndarray, names: list[str]) -> str:
    zero = [n for n, v in zip(names, e, strict=True) if v == 0]
    if zero:
        who = ", ".join(zero[:3]) + (" and others" if len(zero) > 3 else "")
        verb = "fails" if len(zero) == 1 else "fail"
        return f"{who} never {verb} here (e = 0), so S_ind = 0 and H = 0/0"
    if np.isnan(e).any():
        return "some decision-maker saw nobody here"
    return "S_ind = 0"


def scope_result(est: Estimate, names: list[str], *, with_pairs: bool) -> ScopeResult:
    """The ScopeResult of one estimate: every number with its interval, or undefined with a reason."""
    from . import beyond  # it builds on this module's Estimate
    c, p = est.counts, est.point
    n = est.n
    empty = "no individuals in this group"
    unseen = empty if n == 0 else "the decision-maker saw nobody here"
    seen = c.float_weights @ c.seen
    rates = {
        name: est.metric("failure_rates", unseen, (i,), proportion_of=float(seen[i]))
        for i, name in enumerate(names)
    }
    h_reason = empty if n == 0 else never_fails_reason(p["failure_rates"], names)
    h = est.metric("homogenization", h_reason)
    s_ind = float(p["expected_systemic_failure"]) if n else float("nan")
    if h.defined and n * s_ind < UNSTABLE_EXPECTED:
        h.flags.append(f"unstable: N·S_ind = {n * s_ind:.2g} < 5 expected systemic failures")
    outer = "needs every decision-maker to see every individual (inner join)"
    k_way_reason = empty if n == 0 else (outer if not c.complete else "undefined for these failure rates (0/0)")
    # Nobody can be failed by more decision-makers than saw them: under the outer join the histogram stops
    # at the largest number of decision-makers that saw one person (the bins past it are empty by design).
    some = np.asarray(c.weights) > 0
    top = len(names) if c.complete or not some.any() else int(c.present[some].sum(axis=1).max())
    hist = [
        HistogramBin(m, est.metric("histogram_observed", empty, (m,), proportion_of=float(n)),
                     est.metric("histogram_expected", unseen, (m,)))
        for m in range(top + 1)
    ]
    if est.options.permutations > 0 and n > 0:
        pvals = histogram_bin_pvalues(p["histogram_observed"] * n, n, p["histogram_expected"])[:top + 1]
        for b, pv in zip(hist, pvals, strict=True):
            b.observed.p_value = pv
    return ScopeResult(
        n=n,
        failure_rates=rates,
        systemic_failure=est.metric("systemic_failure", empty, proportion_of=float(n)),
        expected_systemic_failure=est.metric("expected_systemic_failure", empty),
        homogenization=h,
        log_homogenization=est.metric("log_homogenization", h_reason if not h.defined else "S = 0, so H = 0"),
        bounded_homogenization=est.metric("bounded_homogenization", k_way_reason if c.complete or n == 0 else outer),
        consistent_success=est.metric("consistent_success", empty, proportion_of=float(n)),
        expected_consistent_success=est.metric("expected_consistent_success", empty),
        failure_count_histogram=hist,
        diversity={name: est.metric(name, k_way_reason) for name in DIVERSITY},
        pairwise=pair_results(est, names) if with_pairs else [],
        rasch=beyond.rasch_result(est, len(names), top),
        effective_decision_makers=beyond.effective_decision_makers(est),
        harm_by_rule=beyond.harm_by_rule(est, len(names), top),
    )


def pair_results(est: Estimate, names: list[str]) -> Records[PairResult]:
    """Every pair a < b, as columns: point values where the pairs have no replicates (more than
    `PAIR_INTERVALS_MAX` pairs by default), else metrics with their intervals."""
    p = est.point
    a, b = np.triu_indices(len(names), 1)
    n = np.rint(np.asarray(p["pair_n"], dtype=float)[a, b]).astype(np.int64)
    values = {name: np.asarray(p[name], dtype=float)[a, b] for name in PAIR_METRICS}
    # Why a value is undefined costs a pass over the rows: asked only where one is.
    undefined = np.flatnonzero(~np.isfinite(np.stack(list(values.values()))).all(axis=0))
    reasons: dict[str, list[str] | str] = dict.fromkeys(PAIR_METRICS, "")
    if len(undefined):
        reasons = {name: [""] * len(a) for name in PAIR_METRICS}
        for i in undefined.tolist():
            for name, why in _pair_reasons(est, int(a[i]), int(b[i]), names, int(n[i])).items():
                reasons[name][i] = why  # type: ignore[index]
    fields: dict[str, Field] = {"a": Labels(a, names), "b": Labels(b, names), "n": Ints(n)}
    for name in PAIR_METRICS:
        fields[name] = (Objects([est.metric(name, reasons[name] if isinstance(reasons[name], str)
                                            else reasons[name][i], (a[i], b[i])) for i in range(len(a))])
                        if est.reps is not None and name in est.reps else Points(values[name], reasons[name]))
    fields["local_dependence_lift"] = _local_dependence(est, a, b)
    return Records(PairResult, len(a), fields)


def _local_dependence(est: Estimate, a: np.ndarray, b: np.ndarray) -> Field:
    if "local_dependence_lift" not in est.point:
        reason = ("needs every decision-maker to see every individual (inner join)" if not est.counts.complete
                  else f"not computed above {LIFT_MAX_K} decision-makers (its cost grows as k⁴)"
                  if est.counts.k > LIFT_MAX_K
                  else "needs at least 3 decision-makers, each failing some but not all of the people with an "
                  "informative raw score")
        return Points(np.full(len(a), np.nan), reason)
    reason = "the model expects no one failed by both"
    if est.reps is None or "local_dependence_lift" not in est.reps:
        return Points(np.asarray(est.point["local_dependence_lift"], dtype=float)[a, b], reason)
    out = []
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        m = est.metric("local_dependence_lift", reason, (i, j))
        if m.ci_method is not None:
            m.ci_method += "-one-step" if est.conditional is not None and est.conditional.steps else "-fixed-beta"
        out.append(m)
    return Objects(out)


def _pair_reasons(est: Estimate, a: int, b: int, names: list[str], n_ab: int) -> dict[str, str]:
    if n_ab == 0:
        return dict.fromkeys(PAIR_METRICS, "no individual was seen by both")
    w = np.asarray(est.counts.weights, dtype=float)
    both = est.counts.present[:, a] & est.counts.present[:, b]
    f_a = float(w @ (both & est.counts.fail[:, a]))
    f_b = float(w @ (both & est.counts.fail[:, b]))
    on = "on the individuals both saw"
    never = [nm for nm, f in ((names[a], f_a), (names[b], f_b)) if f == 0]
    degenerate = [nm for nm, f in ((names[a], f_a), (names[b], f_b)) if f in (0, n_ab)]
    return {
        "error_consistency": f"both never fail or both always fail {on} (c_exp = 1)",
        "cofailure_lift": f"{' and '.join(never)} never fail{'s' if len(never) == 1 else ''} {on} (e = 0)",
        "double_fault": "no individual was seen by both",
        "q_statistic": "n11·n00 + n01·n10 = 0 (0/0)",
        "correlation": f"{' and '.join(degenerate)} never or always fail{'s' if len(degenerate) == 1 else ''} {on}",
        "disagreement": "no individual was seen by both",
    }
