"""The measure stage as one call: a pattern table in, an `AuditResult` with every number out."""

from __future__ import annotations

from dataclasses import asdict, replace
from itertools import chain

import numpy as np

from .. import __version__
from ..choices import PAIR_INTERVALS_MAX
from ..count.table_file import Counted
from ..spec import InferenceOptions, MeasureOptions, SpecError
from . import answers, beyond
from .components import analyse, cluster_order
from .draws import Draws, population_draws
from .estimate import Estimate, scope_result
from .gates import evaluate as evaluate_gates
from .gates import verdict
from .groups import (
    attribute_homogenization,
    by_size,
    group_draws,
    group_results,
    leave_one_out,
    parity_results,
    withhold_group_level,
)
from .inference import permutation_p_value
from .metrics.answers import answer_counts
from .result import SCHEMA_VERSION, AuditResult, DecisionMakerResult, Metric
from .rounds import analyse as analyse_rounds
from .rounds import suppress_small


def measure(
    counted: Counted,
    inference: InferenceOptions = InferenceOptions(),
    options: MeasureOptions = MeasureOptions(),
    components: dict[str, dict[str, str]] | None = None,
) -> AuditResult:
    """Every metric, interval and test from a counted pattern table alone (no row is read again).

    `counted`: the table with what counting recorded (rule, join, options echo, inputs, coverage, warnings),
    from `monoculture.count` or `count.table_file.read_patterns`. `components`: each decision-maker's shared
    components (`measure.components.load_components`).
    """
    table, intersect, parity = counted.table, options.intersect, options.parity
    if parity is not None and table.input_counts is None:
        raise SpecError("measure.parity", "needs the input files (a pattern table alone lacks whole-input rates)")
    names = list(table.names)
    seeds = np.random.SeedSequence(inference.seed).spawn(4)
    rng_boot, rng_perm, rng_groups, rng_size = (np.random.default_rng(s) for s in seeds)
    # The bootstrap resamples rows of (cell, pattern), so that group shares vary between replicates; the
    # overall statistics need only patterns.
    cells = table.counts()
    c = table.pattern_counts()
    with Draws(chain(population_draws("overall", cells, inference, rng_boot, rng_perm),
                     group_draws(table, inference, rng_groups, intersect))) as draws:
        weights = draws.take("overall weights")
        pattern_weights = None if weights is None else table.by_pattern(weights)
        pair_replicates = components is not None or inference.intervals_for_pairs(len(names))
        est = Estimate.of(c, inference, pattern_weights, with_pairs=True, pair_replicates=pair_replicates)
        overall = scope_result(est, names, with_pairs=True)
        overall.homogenization.p_value = permutation_p_value(c, draws.take("overall null"))
        groups = group_results(table, names, inference, draws, intersect, options.min_group_size,
                               options.suppress_below)
    # The caller's coverage is left as counted: the result's copy adds how many saw each linked person.
    coverage = replace(counted.coverage,
                       seen_by=np.bincount(c.present.sum(axis=1), weights=c.weights).round().astype(int).tolist())
    dms = []
    by_name = {cov.name: cov for cov in coverage.sources}
    for i, name in enumerate(names):
        cov = by_name[name]
        dms.append(DecisionMakerResult(
            name=name,
            n=int(c.weights @ c.present[:, i]),
            failure_rate=overall.failure_rates[name],
            input_rows=cov.rows,
            input_failure_rate=Metric.of(cov.failed_rows / cov.valid_rows if cov.valid_rows else np.nan,
                                         "no valid row in the input"),
            **dict(zip(("recourse", "expected_recourse"), beyond.recourse(est, i), strict=True)),
        ))
    echo = counted.options | {"inference": asdict(inference), "min_group_size": options.min_group_size,
                              "suppress_below": options.suppress_below, "parity": parity}
    parity_overall, group_h = None, attribute_homogenization(table, inference, weights, intersect)
    if parity is not None:
        parity_overall, group_h = parity_results(table, intersect)
    withhold_group_level(group_h, groups)
    stratified = (None if options.strata is None else
                  beyond.stratified_result(table, group_h, options.strata, overall.systemic_failure.value))
    result = AuditResult(
        schema_version=SCHEMA_VERSION, tool_version=__version__, rule=counted.rule, join=counted.join,
        options=echo, inputs=counted.inputs, decision_makers=dms, overall=overall, groups=groups,
        coverage=coverage,
        warnings=[],
        group_homogenization=group_h,
        parity=parity_overall,
        leave_one_out=leave_one_out(c, names, inference, pattern_weights),
        homogenization_by_size=by_size(c, rng_size),
        stratified=stratified,
    )
    result.cluster_order = cluster_order(est.point["error_consistency"], names)
    if "local_dependence_lift" in est.point:  # similarity: log2 of the lift, from 0 (≤ 1) to 1 (≥ 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            similarity = np.clip(np.log2(est.point["local_dependence_lift"]), 0.0, 1.0)
        result.lift_order = cluster_order(similarity, names)
    if counted.answers is not None:
        _answer_measures(result, counted, inference, options)
    result.rounds = analyse_rounds(c, names, inference.alpha, options.round_order)
    if result.rounds is not None:
        result.options["round_order"] = options.round_order
    suppress_small(result.rounds, options.suppress_below)
    if components:
        rng_components = np.random.default_rng(np.random.SeedSequence(inference.seed).spawn(5)[4])
        result.components = analyse(est, names, components, inference, rng_components, pattern_weights)
    result.warnings = list(counted.warnings) + _warnings(result, options.min_group_size)
    if not pair_replicates and weights is not None:
        pairs = len(names) * (len(names) - 1) // 2
        result.warnings.append(f"the {pairs:,} pairs of decision-makers have point values without intervals "
                               f"(more than {PAIR_INTERVALS_MAX:,} pairs: the cost grows as B·N·k²); "
                               "--pair-intervals all computes them")
    result.options["gates"] = asdict(options.gates)
    result.gates = evaluate_gates(result, options.gates)
    result.verdict = verdict(result.gates)
    return result


def _answer_measures(result: AuditResult, counted: Counted, inference: InferenceOptions,
                     options: MeasureOptions) -> None:
    """The same-wrong-answer measures (metrics.md §11), from the linked individuals' answers."""
    table = counted.answers
    assert table is not None
    rng = np.random.default_rng(np.random.SeedSequence(inference.seed).spawn(6)[5])
    n_options, source = answers.item_options(table, options.options)
    # The resampling weights are drawn on a worker thread while the pair counts are formed and used.
    rows = answers.group_rows(counted.table, table, options.intersect)
    with Draws(answers.answer_draws(table, rows, result.groups, inference, rng)) as draws:
        counts = answer_counts(table, n_options)  # k² products per answer value: once, for pairs and judges
        result.overall.pairwise = answers.attach_pairs(result.overall.pairwise, counts, table, n_options, inference,
                                                       draws.take("pairs"))
        result.overall.answers = answers.summary(table, n_options, None, inference, draws.take("overall"), source)
        answers.group_summaries(result.groups, rows, table, n_options, inference, draws.take, source)
    result.judges = answers.judges(counts, [dm.name for dm in result.decision_makers])


def _warnings(result: AuditResult, min_group_size: int) -> list[str]:
    overall, coverage = result.overall, result.coverage
    out = []
    if not overall.homogenization.defined:
        out.append(f"overall H is undefined: {overall.homogenization.reason}")
    for flag in overall.homogenization.flags:
        if flag.startswith("unstable"):
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
    small = [g for g in result.groups if g.small and not g.suppressed]
    if small:
        out.append(f"{len(small)} groups have fewer than {min_group_size} individuals (--min-group-size): "
                   "their numbers are shown but never flagged")
    suppressed = [g for g in result.groups if g.suppressed]
    if suppressed:
        out.append(f"{len(suppressed)} groups are suppressed (--suppress-below): their counts are not published")
    return out
