"""Tidy long rows of a result (one number per row), shared by the CSV and JSON Lines renderers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..measure.records import Labels, Points, Records
from ..measure.result import AuditResult, Metric, PairResult, ScopeResult
from ..measure.result_rounds import SYSTEMIC

COLUMNS = ("scope", "attribute", "group", "metric", "decision_maker", "failures", "value", "ci_low", "ci_high",
           "p_value", "p_adjusted", "note")
SCALARS = ("systemic_failure", "expected_systemic_failure", "homogenization", "log_homogenization",
           "bounded_homogenization", "consistent_success", "expected_consistent_success")
PAIR = ("error_consistency", "cofailure_lift", "double_fault", "q_statistic", "correlation", "disagreement",
        "local_dependence_lift")
# Multi-class decisions only (metrics.md §11); probabilistic CAPA where an input logged option probabilities
ANSWER_PAIR = ("agreement", "same_wrong_answer", "capa", "capa_probabilistic")


def _row(scope: str, metric: str, m: Metric | float | int | None, *, attribute: str = "", group: str = "",
         decision_maker: str = "", failures: int | str = "") -> dict[str, Any]:
    if not isinstance(m, Metric):
        m = Metric(None if m is None else float(m))
    return _cells(scope, metric, m.value, m.reason or "; ".join(m.flags), attribute=attribute, group=group,
                  decision_maker=decision_maker, failures=failures, ci=m.ci, p_value=m.p_value,
                  p_adjusted=m.p_adjusted)


def _cells(scope: str, metric: str, value: float | None, note: str, *, attribute: str = "", group: str = "",
           decision_maker: str = "", failures: int | str = "", ci: tuple[float, float] | None = None,
           p_value: float | None = None, p_adjusted: float | None = None) -> dict[str, Any]:
    """One row, in the order of `COLUMNS`."""
    return {
        "scope": scope, "attribute": attribute, "group": group, "metric": metric,
        "decision_maker": decision_maker, "failures": failures, "value": value,
        "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
        "p_value": p_value, "p_adjusted": p_adjusted, "note": note,
    }


def _scope_rows(scope: str, s: ScopeResult, attribute: str = "", group: str = "") -> Iterator[dict[str, Any]]:
    kw = {"attribute": attribute, "group": group}
    yield _row(scope, "n", s.n, **kw)
    for name in SCALARS:
        yield _row(scope, name, getattr(s, name), **kw)
    for dm, m in s.failure_rates.items():
        yield _row(scope, "failure_rate", m, decision_maker=dm, **kw)
    for b in s.failure_count_histogram:
        yield _row(scope, "failure_count_observed", b.observed, failures=b.failures, **kw)
        yield _row(scope, "failure_count_expected", b.expected, failures=b.failures, **kw)
    for name, m in s.diversity.items():
        yield _row(scope, name, m, **kw)
    if s.rasch is not None:
        for name in ("sigma", "expected_systemic_failure", "homogenization"):
            yield _row(scope, f"rasch_{name}", getattr(s.rasch, name), **kw)
        for rb in s.rasch.failure_count_histogram:
            yield _row(scope, "failure_count_rasch", rb.expected, failures=rb.failures, **kw)
    yield _row(scope, "effective_decision_makers", s.effective_decision_makers, **kw)
    for h in s.harm_by_rule:
        yield _row(scope, "harm_at_least_observed", h.observed, failures=h.at_least, **kw)
        yield _row(scope, "harm_at_least_expected", h.expected, failures=h.at_least, **kw)
    if s.answers is not None:
        yield _row(scope, "same_wrong_answer", s.answers.same_wrong_answer, **kw)
        yield _row(scope, "same_wrong_answer_chance", s.answers.same_wrong_answer.chance, **kw)
        yield _row(scope, "answer_agreement", s.answers.agreement, **kw)
    yield from _pair_rows(s.pairwise, kw)


def _pair_rows(pairs: Sequence[PairResult], kw: dict[str, str]) -> Iterator[dict[str, Any]]:
    """A row per pair and measure. Column-held pairs whose measures are point values (more than
    `PAIR_INTERVALS_MAX` pairs by default: half a million at a thousand decision-makers) are read from their
    columns, to the same rows, without a result object per pair and measure."""
    if not isinstance(pairs, Records) or any(not isinstance(f, Points) for n, f in pairs.fields.items()
                                             if n in PAIR or n in ANSWER_PAIR):
        for p in pairs:
            for name in PAIR:
                yield _row("pair", name, getattr(p, name), decision_maker=f"{p.a}|{p.b}", **kw)
            for name in ANSWER_PAIR:
                if getattr(p, name) is not None:
                    yield _row("pair", name, getattr(p, name), decision_maker=f"{p.a}|{p.b}", **kw)
        return
    names = [n for n in (*PAIR, *ANSWER_PAIR) if n in pairs.fields]
    a, b = pairs.fields["a"], pairs.fields["b"]
    assert isinstance(a, Labels) and isinstance(b, Labels)
    for start in range(0, len(pairs), BLOCK):
        stop = min(len(pairs), start + BLOCK)
        who = [f"{a.labels[i]}|{b.labels[j]}" for i, j in zip(a.codes[start:stop].tolist(),
                                                               b.codes[start:stop].tolist(), strict=True)]
        columns = []
        for name in names:
            f = pairs.fields[name]
            assert isinstance(f, Points)
            values = pairs.values(name)[start:stop].tolist()  # type: ignore[index]
            columns.append([(v, "") if v == v else (None, f.reason_of(start + i)) for i, v in enumerate(values)])
        for i, dm in enumerate(who):
            for name, column in zip(names, columns, strict=True):
                yield _cells("pair", name, *column[i], decision_maker=dm, **kw)


BLOCK = 8192  # pairs read from the columns at a time


def tidy_rows(r: AuditResult) -> Iterator[dict[str, Any]]:
    """Every number of the result as one row (scope, attribute, group, metric, decision_maker, ...)."""
    yield from _scope_rows("overall", r.overall)
    for d in r.decision_makers:
        yield _row("decision_maker", "input_failure_rate", d.input_failure_rate, decision_maker=d.name)
        yield _row("decision_maker", "recourse", d.recourse, decision_maker=d.name)
        yield _row("decision_maker", "expected_recourse", d.expected_recourse, decision_maker=d.name)
    for g in r.groups:
        kw = {"attribute": g.attribute, "group": g.group}
        if g.suppressed:
            yield _row("group", "suppressed", Metric(None, "suppressed (--suppress-below)"), **kw)
            continue
        yield from _scope_rows("group", g, **kw)
        yield _row("group", "share_of_population", g.share_of_population, **kw)
        yield _row("group", "share_of_systemic_failures", g.share_of_systemic_failures, **kw)
    for a in r.group_homogenization:
        for name in ("average", "uniform", "worst", "variance", "between", "within"):
            yield _row("group_level", name, getattr(a, name), attribute=a.attribute)
    for name, m in r.leave_one_out.items():
        yield _row("sensitivity", "homogenization_without", m, decision_maker=name)
    for s in r.homogenization_by_size:
        yield _row("sensitivity", "homogenization_by_size", s.homogenization, failures=s.m)
    for c in r.components:
        for name in ("mean_lift_sharing", "mean_lift_other", "lift_difference", "mean_kappa_sharing",
                     "mean_kappa_other", "kappa_difference"):
            yield _row("component", name, getattr(c, name), attribute=c.attribute)
        for s in c.sets:
            yield _row("component", "homogenization_within_set", s.homogenization, attribute=c.attribute,
                       group=s.value, decision_maker="|".join(s.members))
    if r.rounds is not None:
        ro = r.rounds
        yield _row("rounds", "failed_in_every_round", ro.failed_in_every_round)
        yield _row("rounds", "expected_failed_in_every_round", ro.expected_failed_in_every_round)
        for b in ro.rounds_failed_histogram:
            yield _row("rounds", "rounds_failed_observed", b.observed, failures=b.failures)
            yield _row("rounds", "rounds_failed_expected", b.expected, failures=b.failures)
        for imp in ro.improvements:
            dm = f"{imp.decision_maker}@{imp.from_round}->{imp.to_round}"
            yield _row("rounds", "improved_share", imp.improved_share, decision_maker=dm)
            for bucket in imp.buckets:
                yield _row("rounds", "improved_share_by_others_failing", bucket.improved_share, decision_maker=dm,
                           failures=bucket.others_failing)
        for x in ro.transitions:
            yield _row("rounds", "failed_again", x.failed_again, decision_maker=f"{x.from_round}->{x.to_round}")
        for od in ro.overdispersion:
            dm = "" if od.series == SYSTEMIC else od.series
            for name in ("mean_rounds_failed", "dispersion_ratio", "rho"):
                yield _row("rounds", name, getattr(od, name), decision_maker=dm)
    for gate in r.gates:
        yield _row("gate", gate.name, Metric(gate.value, f"{gate.status}: {gate.reason}"),
                   attribute=gate.attribute or "", group=gate.group or "")
