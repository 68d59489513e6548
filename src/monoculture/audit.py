"""`audit()`: read → link → failures → pattern table → metrics → result. The CLI is a thin layer on this."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict

import numpy as np

from . import __version__, metrics
from .failures import FailureRule
from .io import expand_paths
from .link import Coverage, LinkOptions, link
from .patterns import Counts, PatternTable
from .result import (
    SCHEMA_VERSION,
    AuditResult,
    DecisionMakerResult,
    GroupResult,
    HistogramBin,
    InputResult,
    Metric,
    PairResult,
    ScopeResult,
)
from .sources import Columns, load_people, load_sources

UNSTABLE_EXPECTED = 5.0  # metrics.md §1: flag H when N·S_ind < 5


def audit(
    inputs: Sequence[str],
    *,
    id_column: str = "id",
    decision: str = "decision",
    label: str | None = None,
    groups: Sequence[str] = (),
    intersect: bool = False,
    people: str | None = None,
    layout: str | None = None,
    decision_columns: Sequence[str] = (),
    decision_maker_column: str = "decision_maker",
    failure: str | None = None,
    favorable: str | None = None,
    unfavorable: str | None = None,
    threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    top_fraction: float | None = None,
    lower_is_favorable: bool = False,
    join: str = "inner",
    on_duplicate: str = "error",
    on_missing: str = "error",
    on_group_conflict: str = "error",
) -> AuditResult:
    """Audit an ecosystem of decision-makers for systemic failure and outcome homogenization.

    Parameters mirror the options of ``monoculture audit`` (see ``monoculture audit --help``).
    Raises `monoculture.MonocultureError` (with file/column/row) on any input it cannot audit.
    """
    from .errors import UsageError

    if failure is None:
        if label is None:
            raise UsageError(
                "no failure rule: pass --label COLUMN (failure = decision ≠ label) or --failure outcome"
            )
        failure = "error"
    layout = layout or ("wide" if decision_columns else "files")
    cols = Columns(
        id=id_column, decision=decision, label=label, groups=tuple(groups),
        decision_columns=tuple(decision_columns), decision_maker_column=decision_maker_column,
    )
    rule = FailureRule(
        kind=failure, favorable=favorable, unfavorable=unfavorable, threshold=threshold,
        thresholds=dict(thresholds or {}), top_fraction=top_fraction, lower_is_favorable=lower_is_favorable,
    )
    paths = expand_paths(list(inputs)) if layout == "files" else list(inputs)
    if not paths:
        raise UsageError("no input files given")
    people_table = load_people(people, cols) if people else None
    people_has: set[str] = set()
    if people_table is not None:
        people_has = set(people_table.groups) | ({label} if label and people_table.label is not None else set())
    sources, files = load_sources(paths, layout, cols, people_has)
    linked = link(
        sources, people_table, rule, list(groups),
        LinkOptions(join=join, on_duplicate=on_duplicate, on_missing=on_missing, on_group_conflict=on_group_conflict),
    )
    table = PatternTable.build(linked)
    options = {
        "id": id_column, "decision": decision, "label": label, "groups": list(groups), "intersect": intersect,
        "people": people, "layout": layout, "decision_columns": list(decision_columns),
        "decision_maker_column": decision_maker_column if layout in ("stacked", "transposed") else None,
        "failure": asdict(rule) | {"thresholds": dict(sorted(rule.thresholds.items()))},
        "join": join, "on_duplicate": on_duplicate, "on_missing": on_missing, "on_group_conflict": on_group_conflict,
    }
    names_by_file: dict[str, list[str]] = {}
    for s in sources:
        names_by_file.setdefault(s.file, []).append(s.name)
    input_results = [
        InputResult(path=f.path, format=f.format, sha256=f.sha256, rows=f.rows,
                    decision_makers=names_by_file.get(f.path, []))
        for f in files
    ]
    return measure(
        table, rule=linked.rule.description, join=join, options=options, inputs=input_results,
        coverage=linked.coverage, warnings=list(linked.warnings), intersect=intersect,
    )


def measure(
    table: PatternTable,
    *,
    rule: str,
    join: str,
    options: dict,
    inputs: list[InputResult],
    coverage: Coverage,
    warnings: list[str],
    intersect: bool = False,
) -> AuditResult:
    """Every metric from the pattern table alone (no row is read again)."""
    names = list(table.names)
    overall_counts = table.counts()
    overall = scope_result(overall_counts, names, with_pairs=True)
    groups: list[GroupResult] = []
    s_total = float(metrics.systemic_failure(overall_counts)) * table.n
    attribute_groups = [(attr, table.groups(attr)) for attr in table.attributes]
    if intersect and len(table.attributes) >= 2:
        label = " & ".join(table.attributes)
        attribute_groups.append(
            (label, [(" & ".join(c), table.row_cell == i) for i, c in enumerate(table.cell_labels)])
        )
    for attr, members in attribute_groups:
        for group, rows in members:
            c = table.counts(rows)
            base = scope_result(c, names, with_pairs=False)
            n_g = base.n
            s_g = (base.systemic_failure.value or 0.0) * n_g
            share_sys = (
                Metric(s_g / s_total) if s_total > 0
                else Metric(None, "no linked individual is failed by every decision-maker (S = 0)")
            )
            groups.append(GroupResult(
                **vars(base), attribute=attr, group=group,
                share_of_population=Metric(n_g / table.n),
                share_of_systemic_failures=share_sys,
            ))
    dms = []
    by_name = {c.name: c for c in coverage.sources}
    for i, name in enumerate(names):
        cov = by_name[name]
        dms.append(DecisionMakerResult(
            name=name,
            n=int(overall_counts.weights @ overall_counts.present[:, i]),
            failure_rate=overall.failure_rates[name],
            input_rows=cov.rows,
            input_failure_rate=Metric.of(cov.failed_rows / cov.valid_rows if cov.valid_rows else np.nan,
                                         "no valid row in the input"),
        ))
    warnings = warnings + _warnings(overall, groups, coverage)
    return AuditResult(
        schema_version=SCHEMA_VERSION, tool_version=__version__, rule=rule, join=join, options=options,
        inputs=inputs, decision_makers=dms, overall=overall, groups=groups, coverage=coverage,
        warnings=warnings,
    )


def _never_fails(e: np.ndarray, names: list[str]) -> str:
    zero = [n for n, v in zip(names, e, strict=True) if v == 0]
    if zero:
        who = ", ".join(zero[:3]) + (" and others" if len(zero) > 3 else "")
        verb = "fails" if len(zero) == 1 else "fail"
        return f"{who} never {verb} here (e = 0), so S_ind = 0 and H = 0/0"
    if np.isnan(e).any():
        return "some decision-maker saw nobody here"
    return "S_ind = 0"


def scope_result(c: Counts, names: list[str], *, with_pairs: bool) -> ScopeResult:
    """Point estimates for one view of the pattern table, with a reason for every undefined value."""
    n = int(metrics.population(c))
    empty = "no individuals in this group"
    e = metrics.failure_rates(c)
    unseen = empty if n == 0 else "the decision-maker saw nobody here"
    rates = {name: Metric.of(v, unseen) for name, v in zip(names, e, strict=True)}
    s = metrics.systemic_failure(c)
    s_ind = metrics.expected_systemic_failure(c)
    h_reason = empty if n == 0 else _never_fails(e, names)
    h = Metric.of(metrics.homogenization(c), h_reason)
    if h.defined and n * float(s_ind) < UNSTABLE_EXPECTED:
        h.flags.append(f"unstable: N·S_ind = {n * float(s_ind):.2g} < 5 expected systemic failures")
    obs = metrics.failure_count_histogram(c)
    exp = metrics.expected_failure_count_histogram(c)
    hist = [
        HistogramBin(m, Metric.of(obs[m], empty), Metric.of(exp[m], unseen))
        for m in range(len(names) + 1)
    ]
    pairs = _pairs(c, names) if with_pairs else []
    return ScopeResult(
        n=n,
        failure_rates=rates,
        systemic_failure=Metric.of(s, empty),
        expected_systemic_failure=Metric.of(s_ind, empty),
        homogenization=h,
        consistent_success=Metric.of(metrics.consistent_success(c), empty),
        expected_consistent_success=Metric.of(metrics.expected_consistent_success(c), empty),
        failure_count_histogram=hist,
        pairwise=pairs,
    )


def _pairs(c: Counts, names: list[str]) -> list[PairResult]:
    t = metrics.pair_tables(c)
    ec, lift = metrics.error_consistency(t), metrics.cofailure_lift(t)
    df, q = metrics.double_fault(t), metrics.q_statistic(t)
    rho, dis = metrics.correlation(t), metrics.disagreement(t)
    out = []
    k = len(names)
    for a in range(k):
        for b in range(a + 1, k):
            n_ab = round(t.n[a, b])
            f_a, f_b = t.n11[a, b] + t.n10[a, b], t.n11[a, b] + t.n01[a, b]
            never = [nm for nm, f in ((names[a], f_a), (names[b], f_b)) if f == 0]
            degenerate = [nm for nm, f in ((names[a], f_a), (names[b], f_b)) if f in (0, n_ab)]
            if n_ab == 0:
                none = "no individual was seen by both"
                why_lift = why_kappa = why_q = why_rho = none
            else:
                on = "on the individuals both saw"
                why_lift = f"{' and '.join(never)} never fail{'s' if len(never) == 1 else ''} {on} (e = 0)"
                why_kappa = f"both never fail or both always fail {on} (c_exp = 1)"
                why_q = "n11·n00 + n01·n10 = 0 (0/0)"
                why_rho = f"{' and '.join(degenerate)} never or always fail{'s' if len(degenerate) == 1 else ''} {on}"
            out.append(PairResult(
                a=names[a], b=names[b], n=n_ab,
                error_consistency=Metric.of(ec[a, b], why_kappa),
                cofailure_lift=Metric.of(lift[a, b], why_lift),
                double_fault=Metric.of(df[a, b], "no individual was seen by both"),
                q_statistic=Metric.of(q[a, b], why_q),
                correlation=Metric.of(rho[a, b], why_rho),
                disagreement=Metric.of(dis[a, b], "no individual was seen by both"),
            ))
    return out


def _warnings(overall: ScopeResult, groups: list[GroupResult], coverage: Coverage) -> list[str]:
    out = []
    if not overall.homogenization.defined:
        out.append(f"overall H is undefined: {overall.homogenization.reason}")
    for flag in overall.homogenization.flags:
        out.append(f"overall H is {flag}")
    dropped = sum(s.missing_id + s.missing_decision + s.missing_label + s.duplicate_rows for s in coverage.sources)
    if dropped:
        out.append(f"{dropped} input rows were dropped (missing values or duplicate IDs); see coverage")
    if coverage.excluded_by_join:
        out.append(
            f"{coverage.excluded_by_join} individuals are not in the audit: "
            + ("not seen by every decision-maker (inner join; --join outer keeps those seen by two or more)"
               if coverage.join == "inner" else "seen by fewer than two decision-makers (outer join)")
        )
    for attr, n in coverage.group_conflicts.items():
        if n:
            out.append(f"{n} individuals have conflicting '{attr}' values across files and count as missing")
    for attr, n in coverage.missing_group.items():
        if n:
            out.append(f"{n} linked individuals have no '{attr}' value; they form the group '(missing)'")
    return out
