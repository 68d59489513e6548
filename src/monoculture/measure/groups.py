"""Per-group results, group-level homogenization, and the sensitivity of H to which decision-makers count.

Groups are unions of pattern-table cells: one attribute's values, or (with ``--intersect``) every
combination of all attributes. Each group is measured on its own individuals, with its own failure
rates as its independence baseline (metrics.md §2), and bootstrapped within the group (stratified).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np

from ..count.table import Counts, PatternTable
from ..spec import InferenceOptions
from . import metrics
from .draws import Draws, Job, population_draws
from .estimate import Estimate, attach, scope_result
from .inference import WIDE_CHUNK_ELEMS, adjust_pvalues, evaluate, permutation_p_value, wilson
from .metrics import groups as group_metrics
from .metrics._base import divide
from .result import GroupHomogenization, GroupResult, Metric, ParityResult, SizeSensitivity

MAX_SUBSETS = 200


def group_members(table: PatternTable, intersect: bool) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """(attribute, [(group, row mask)]) for each attribute, plus the intersection when asked."""
    out = [(attr, table.groups(attr)) for attr in table.attributes]
    if intersect and len(table.attributes) >= 2:
        label = " & ".join(table.attributes)
        out.append((label, [(" & ".join(c), table.row_cell == i) for i, c in enumerate(table.cell_labels)]))
    return out


def group_draws(
    table: PatternTable, inference: InferenceOptions, rng: np.random.Generator, intersect: bool,
) -> Iterator[Job]:
    """The draws `group_results` takes, in its order: each group's bootstrap weights, then its permutation
    null, all from `rng` (the groups' bootstrap is stratified: each group resampled on its own)."""
    for attr, groups in group_members(table, intersect):
        for group, rows in groups:
            yield from population_draws(f"{attr}={group}", table.counts(rows), inference, rng, rng)


def group_results(
    table: PatternTable, names: list[str], inference: InferenceOptions, draws: Draws,
    intersect: bool, min_group_size: int, suppress_below: int,
) -> list[GroupResult]:
    """One GroupResult per group, p-values adjusted over all groups, small cells marked or suppressed.

    `draws` yields the jobs of `group_draws` (possibly after others already taken)."""
    overall = table.counts()
    n_total = table.n
    s_count = float(metrics.systemic_failure(overall)) * n_total
    results: list[GroupResult] = []
    members = group_members(table, intersect)
    for attr, groups in members:
        for group, rows in groups:
            c = table.counts(rows)
            weights = draws.take(f"{attr}={group} weights")
            est = Estimate.of(c, inference, weights, with_pairs=False)
            base = scope_result(est, names, with_pairs=False)
            null = draws.take(f"{attr}={group} null")
            if base.homogenization.defined:
                base.homogenization.p_value = permutation_p_value(c, null)
            s_g = (base.systemic_failure.value or 0.0) * base.n
            share_sys = Metric(None, "no linked individual is failed by every decision-maker (S = 0)")
            if s_count > 0:
                share_sys = attach(Metric(s_g / s_count), wilson(s_g, s_count, inference.alpha)
                                   if inference.bootstrap > 0 else None)
            share_pop = attach(Metric(base.n / n_total), wilson(base.n, n_total, inference.alpha)
                               if inference.bootstrap > 0 else None)
            results.append(GroupResult(
                **vars(base), attribute=attr, group=group, share_of_population=share_pop,
                share_of_systemic_failures=share_sys, small=base.n < min_group_size,
            ))
    adjusted = adjust_pvalues([g.homogenization.p_value for g in results], inference.adjust)
    for g, p in zip(results, adjusted, strict=True):
        g.homogenization.p_adjusted = p if inference.adjust != "none" else None
    if suppress_below > 0:
        hidden = suppressed_groups(results, table, suppress_below)
        results = [suppress(g, names, suppress_below) if i in hidden else g for i, g in enumerate(results)]
    return results


def suppressed_groups(results: list[GroupResult], table: PatternTable, threshold: int) -> set[int]:
    """Indices of groups to suppress: those with 0 < n < threshold, plus complements so that no
    suppressed count can be recovered by subtracting published counts from a published total."""
    index = {(g.attribute, g.group): i for i, g in enumerate(results)}
    families: list[list[int]] = []
    for attr in table.attributes:
        families.append([i for (a, _), i in index.items() if a == attr])
    inter = " & ".join(table.attributes)
    cells = [(key, i) for key, i in index.items() if key[0] == inter and len(table.attributes) >= 2]
    if cells:
        families.append([i for _, i in cells])
        for a in range(len(table.attributes)):
            values = {key[1].split(" & ")[a] for key, _ in cells}
            for v in values:
                families.append([i for key, i in cells if key[1].split(" & ")[a] == v])
    hidden = {i for i, g in enumerate(results) if 0 < g.n < threshold}
    changed = True
    while changed:
        changed = False
        for fam in families:
            inside = [i for i in fam if i in hidden]
            if len(inside) == 1:
                rest = [i for i in fam if i not in hidden and results[i].n > 0]
                if rest:
                    hidden.add(min(rest, key=lambda i: (results[i].n, i)))
                    changed = True
    return hidden


def suppress(g: GroupResult, names: list[str], threshold: int) -> GroupResult:
    reason = f"suppressed: a group of fewer than {threshold} individuals, or its complement (--suppress-below)"
    blank = Metric(None, reason)
    return GroupResult(
        n=None,  # type: ignore[arg-type]  # the count itself is withheld
        failure_rates={name: Metric(None, reason) for name in names},
        systemic_failure=blank, expected_systemic_failure=Metric(None, reason), homogenization=Metric(None, reason),
        log_homogenization=Metric(None, reason), bounded_homogenization=Metric(None, reason),
        consistent_success=Metric(None, reason), expected_consistent_success=Metric(None, reason),
        failure_count_histogram=[], diversity={}, pairwise=[], attribute=g.attribute, group=g.group,
        share_of_population=Metric(None, reason), share_of_systemic_failures=Metric(None, reason),
        small=True, suppressed=True,
    )


def _attribute_stats(membership: np.ndarray):
    def fn(c: Counts) -> dict[str, np.ndarray]:
        q, e_g, n_g = group_metrics.group_shares_and_rates(c, membership)
        e = metrics.failure_rates(c)
        between, within = group_metrics.decomposition(c, membership, (e_g, n_g))
        if not c.complete:
            between = within = np.full_like(between, np.nan)
        return {
            "average": group_metrics.average_case(q, e_g, e),
            "uniform": group_metrics.uniform_case(e_g, e),
            "worst": group_metrics.worst_case(e_g, e),
            "variance": group_metrics.group_variance(e_g),
            "between": between,
            "within": within,
        }
    return fn


def attribute_homogenization(
    table: PatternTable, inference: InferenceOptions, weights: np.ndarray | None, intersect: bool = False,
) -> list[GroupHomogenization]:
    """H_avg, H_unif, H_worst, the variance over groups, and the between/within factors, per attribute.

    Intervals come from the same overall bootstrap replicates as the overall numbers (group sizes vary).
    """
    c = table.counts()
    out = []
    e = metrics.failure_rates(c)
    zero = [n for n, v in zip(table.names, e, strict=True) if v == 0]
    rate_reason = (f"{', '.join(zero)} never fail{'s' if len(zero) == 1 else ''} (e = 0): division by Π e_i = 0"
                   if zero else "undefined for these rates")
    for attr, groups in group_members(table, intersect):
        membership = np.stack([rows for _, rows in groups]).astype(float)
        fn = _attribute_stats(membership)
        est = Estimate(c, fn(c), inference)
        est.reps = evaluate(fn, c, weights) if weights is not None else None
        metric = est.metric
        inner = "needs the inner join (every rate over the same individuals)"
        out.append(GroupHomogenization(
            attribute=attr,
            population="linked individuals (each rate over the individuals a decision-maker saw)",
            groups=len(groups),
            average=metric("average", rate_reason),
            uniform=metric("uniform", rate_reason),
            worst=metric("worst", rate_reason),
            variance=metric("variance", "fewer than two groups with a defined rate"),
            between=metric("between", inner if not c.complete else rate_reason),
            within=metric("within", inner if not c.complete else rate_reason),
        ))
    return out


def leave_one_out(
    c: Counts, names: list[str], inference: InferenceOptions, weights: np.ndarray | None
) -> dict[str, Metric]:
    """H of the ecosystem without each decision-maker in turn (inner join, k ≥ 3): who drives the excess?"""
    if len(names) < 3 or not c.complete:
        return {}
    without = ~np.eye(len(names), dtype=bool)  # row i: everyone but decision-maker i
    failed = metrics.failed_by_all_of(c, without)
    est = Estimate(c, {"h": metrics.homogenization_of_subsets(c, without, failed)}, inference)
    if weights is not None:
        est.reps = evaluate(lambda v: {"h": metrics.homogenization_of_subsets(v, without, failed)}, c, weights,
                            WIDE_CHUNK_ELEMS)
    return {name: est.metric("h", f"H without {name} is undefined (some remaining decision-maker never fails)",
                             (i,)) for i, name in enumerate(names)}


def by_size(c: Counts, rng: np.random.Generator) -> list[SizeSensitivity]:
    """Mean H over subsets of m decision-makers, m = 2..k (all subsets, or MAX_SUBSETS sampled).

    H grows like 1/Π e_i with m, so this curve shows how much of H is ecosystem size.
    """
    k = c.k
    if not c.complete:
        return []
    sizes = list(range(2, k + 1)) if k <= 25 else sorted(set(np.linspace(2, k, 20).round().astype(int).tolist()))
    out = []
    for m in sizes:
        total = math.comb(k, m)
        if total <= MAX_SUBSETS:
            subsets = [list(s) for s in itertools.combinations(range(k), m)]
        else:
            subsets = [sorted(rng.choice(k, size=m, replace=False).tolist()) for _ in range(MAX_SUBSETS)]
        chosen = np.zeros((len(subsets), k), dtype=bool)
        chosen[np.repeat(np.arange(len(subsets)), m), np.concatenate(subsets)] = True
        values = metrics.homogenization_of_subsets(c, chosen)
        ok = values[~np.isnan(values)]
        metric = Metric(float(ok.mean())) if len(ok) else Metric(None, "undefined for every subset of this size")
        if len(ok) and len(ok) < len(values):
            metric.flags.append(f"mean over the {len(ok)} of {len(values)} subsets where H is defined")
        out.append(SizeSensitivity(m=m, subsets=len(subsets), sampled=total > MAX_SUBSETS, homogenization=metric))
    return out


PARITY_DESCRIPTION = (
    "bommasani2022 parity: failure rates over each decision-maker's whole input (not only the linked "
    "individuals); a (person, decision-maker) cell with a label but no decision counts as a failure; an "
    "empty group's failure rate is 1; systemic failure S over the linked individuals; variance with ddof = 1"
)


def parity_results(table: PatternTable, intersect: bool) -> tuple[ParityResult, list[GroupHomogenization]]:
    """The reference implementation's numbers (rishibommasani/HomogenizationNeurIPS2022, src/homogenization.py).

    Its choices, reproduced here only on request: an empty group's error rate is 1; a missing decision is
    an error; every rate is over the decision-maker's own population, while S is over the intersection.
    """
    assert table.input_counts is not None
    counts = table.input_counts  # (k, cells, 3)
    n_cells = counts[:, :, 0] + counts[:, :, 2]
    f_cells = counts[:, :, 1] + counts[:, :, 2]
    n_i, f_i = n_cells.sum(axis=1), f_cells.sum(axis=1)
    e = divide(f_i, n_i)
    s = float(metrics.systemic_failure(table.counts()))
    s_ind = float(np.prod(e))
    reason = "some decision-maker's whole-input failure rate is 0 (S_ind = 0)"
    overall = ParityResult(
        mode="bommasani2022", description=PARITY_DESCRIPTION,
        failure_rates={name: Metric.of(v, "empty input") for name, v in zip(table.names, e, strict=True)},
        systemic_failure=Metric(s), expected_systemic_failure=Metric.of(s_ind, "empty input"),
        homogenization=Metric.of(divide(s, s_ind), reason),
    )
    out = []
    for attr, groups in _cell_groups(table, intersect):
        n_g = np.stack([n_cells[:, cells].sum(axis=1) for _, cells in groups])  # (G, k)
        f_g = np.stack([f_cells[:, cells].sum(axis=1) for _, cells in groups])
        e_g = np.where(n_g > 0, divide(f_g, n_g), 1.0)  # the reference's empty-group rule
        q = divide(n_g, n_i[None, :])
        out.append(GroupHomogenization(
            attribute=attr, population="each decision-maker's whole input (parity: bommasani2022)",
            groups=len(groups),
            average=Metric.of(group_metrics.average_case(q, e_g, e), reason),
            uniform=Metric.of(group_metrics.uniform_case(e_g, e), reason),
            worst=Metric.of(group_metrics.worst_case(e_g, e), reason),
            variance=Metric.of(group_metrics.group_variance(e_g), "fewer than two groups"),
            between=Metric(None, "not part of the reference code (parity mode)"),
            within=Metric(None, "not part of the reference code (parity mode)"),
        ))
    return overall, out


def _cell_groups(table: PatternTable, intersect: bool) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """Like `group_members`, but as cell indices (the parity counts are per cell, not per table row)."""
    out = []
    for a, attr in enumerate(table.attributes):
        labels = sorted({c[a] for c in table.cell_labels})
        out.append((attr, [(g, np.array([i for i, c in enumerate(table.cell_labels) if c[a] == g]))
                           for g in labels]))
    if intersect and len(table.attributes) >= 2:
        out.append((" & ".join(table.attributes),
                    [(" & ".join(c), np.array([i])) for i, c in enumerate(table.cell_labels)]))
    return out


def withhold_group_level(group_h: list[GroupHomogenization], groups: list[GroupResult]) -> None:
    """Blank the group-level measures of any attribute with a suppressed group: H_worst, H_unif, H_avg
    and the variance are functions of every group's rates, so they could reveal the suppressed one."""
    hidden = {g.attribute for g in groups if g.suppressed}
    reason = "suppressed: depends on the rates of a suppressed group (--suppress-below)"
    for a in group_h:
        if a.attribute in hidden:
            a.average = Metric(None, reason)
            a.uniform = Metric(None, reason)
            a.worst = Metric(None, reason)
            a.variance = Metric(None, reason)
