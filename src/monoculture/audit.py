"""`audit()`: read → link → failures → pattern table → metrics → result. The CLI is a thin layer on this."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from itertools import chain

import numpy as np

from . import __version__
from .components import analyse, cluster_order, load_components
from .draws import Draws, population_draws
from .engines import choose, count_external
from .errors import UsageError
from .failures import rule_from_options
from .gates import GATE_ON, Thresholds, verdict
from .gates import evaluate as evaluate_gates
from .grouping import (
    PARITY_MODES,
    attribute_homogenization,
    by_size,
    group_draws,
    group_results,
    leave_one_out,
    parity_results,
    withhold_group_level,
)
from .inference import InferenceOptions, check_inference, permutation_p_value
from .lazy import Imports
from .link import Coverage, Linked, LinkOptions
from .patterns import PatternTable
from .pipeline import load_and_link
from .result import SCHEMA_VERSION, AuditResult, DecisionMakerResult, InputResult, Metric
from .rounds import analyse as analyse_rounds
from .rounds import suppress_small
from .scope import Estimate, scope_result
from .shards import Counted, read_patterns
from .sources import Columns


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
    inference: InferenceOptions | None = None,
    min_group_size: int = 30,
    suppress_below: int = 0,
    parity: str | None = None,
    gates: Thresholds | None = None,
    emit_ids: str | os.PathLike | None = None,
    on_stage: Callable[[str], None] | None = None,
    components: str | None = None,
    round_column: str | None = None,
    patterns: Sequence[str] | None = None,
    engine: str = "auto",
    memory_limit: str | None = None,
    spark_master: str | None = None,
    id_shards: int | None = None,
) -> AuditResult:
    """Audit an ecosystem of decision-makers for systemic failure and outcome homogenization.

    Parameters mirror the options of ``monoculture audit`` (see ``monoculture audit --help``).
    With ``patterns`` (pattern tables written by `count`, summed) no input is read: every metric comes from
    the tables. Raises `monoculture.MonocultureError` (with file/column/row) on any input it cannot audit.
    """

    stage = on_stage or (lambda _name: None)
    imports = Imports()
    if patterns:
        if inputs:
            raise UsageError("give either input files or --patterns, not both")
        if emit_ids is not None:
            raise UsageError("--emit-ids needs the input files: a pattern table holds no IDs")
        counted = read_patterns(list(patterns))
        linked_names = list(counted.table.names)
    elif (chosen := choose(engine, inputs, layout=layout or ("wide" if decision_columns else "files")))[0] in (
            "duckdb", "spark"):
        if emit_ids is not None:
            raise UsageError(f"--emit-ids needs --engine memory (the {chosen[0]} engine brings back counts only)")
        counted = _count_external(
            *chosen, inputs, memory_limit=memory_limit, spark_master=spark_master, id_shards=id_shards,
            id_column=id_column,
            decision=decision, label=label, groups=groups, intersect=intersect, people=people, layout=layout,
            failure=failure, favorable=favorable, unfavorable=unfavorable, threshold=threshold,
            thresholds=thresholds, top_fraction=top_fraction, lower_is_favorable=lower_is_favorable, join=join,
            on_duplicate=on_duplicate, on_missing=on_missing, on_group_conflict=on_group_conflict)
        linked_names = list(counted.table.names)
    else:
        counted, linked = _count(
            inputs, id_column=id_column, decision=decision, label=label, groups=groups, intersect=intersect,
            people=people, layout=layout, decision_columns=decision_columns,
            decision_maker_column=decision_maker_column, failure=failure, favorable=favorable,
            unfavorable=unfavorable, threshold=threshold, thresholds=thresholds, top_fraction=top_fraction,
            lower_is_favorable=lower_is_favorable, join=join, on_duplicate=on_duplicate, on_missing=on_missing,
            on_group_conflict=on_group_conflict, round_column=round_column, on_stage=stage, on_rows=imports.start,
        )
        linked_names = linked.names
        if chosen[1]:
            counted.warnings.insert(0, chosen[1])
        if emit_ids is not None:
            write_systemic_ids(linked, emit_ids)
    component_map = load_components(components, linked_names) if components else None
    stage("measuring (bootstrap and permutation tests)")
    imports.wait()
    return measure(
        counted.table, rule=counted.rule, join=counted.join, options=counted.options, inputs=counted.inputs,
        coverage=counted.coverage, warnings=list(counted.warnings), intersect=intersect,
        inference=inference or InferenceOptions(), min_group_size=min_group_size, suppress_below=suppress_below,
        parity=parity, gates=gates, components=component_map,
    )


def count(
    inputs: Sequence[str], *, engine: str = "auto", memory_limit: str | None = None,
    spark_master: str | None = None, id_shards: int | None = None, **kwargs,
) -> Counted:
    """Read, link and count: the pattern table of an audit with its coverage (`monoculture count`).

    Takes the reading, linking, failure-rule and engine parameters of `audit`.
    """
    layout = kwargs.get("layout") or ("wide" if kwargs.get("decision_columns") else "files")
    chosen = choose(engine, inputs, layout=layout)
    if chosen[0] == "memory":
        counted = _count(inputs, **kwargs)[0]
        if chosen[1]:
            counted.warnings.insert(0, chosen[1])
        return counted
    return _count_external(*chosen, inputs, memory_limit=memory_limit, spark_master=spark_master,
                           id_shards=id_shards, **kwargs)


def _count_external(
    engine: str, why: str | None, inputs: Sequence[str], *, memory_limit: str | None, spark_master: str | None,
    id_shards: int | None = None,
    id_column: str = "id", decision: str = "decision", label: str | None = None, groups: Sequence[str] = (),
    intersect: bool = False, people: str | None = None, layout: str | None = None, failure: str | None = None,
    favorable: str | None = None, unfavorable: str | None = None, threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None, top_fraction: float | None = None,
    lower_is_favorable: bool = False, join: str = "inner", on_duplicate: str = "error", on_missing: str = "error",
    on_group_conflict: str = "error", **_memory_only: object,
) -> Counted:
    """The DuckDB or Spark engine (`why`: the sentence saying it was chosen for size, if it was)."""
    counted = count_external(
        engine, inputs, id_column=id_column, decision=decision, label=label, groups=groups, people=people,
        rule=rule_from_options(failure, label, favorable=favorable, unfavorable=unfavorable, threshold=threshold,
                               thresholds=thresholds, top_fraction=top_fraction,
                               lower_is_favorable=lower_is_favorable),
        join=join, layout=layout, memory_limit=memory_limit, spark_master=spark_master, id_shards=id_shards,
        on_duplicate=on_duplicate, on_missing=on_missing, on_group_conflict=on_group_conflict,
        options={"id": id_column, "decision": decision, "label": label, "groups": list(groups),
                 "intersect": intersect, "people": people, "join": join, "on_duplicate": on_duplicate,
                 "on_missing": on_missing, "on_group_conflict": on_group_conflict},
    )
    if why:
        counted.warnings.insert(0, why)
    return counted


def _count(
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
    round_column: str | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_rows: Callable[[], None] = lambda: None,
) -> tuple[Counted, Linked]:
    rule = rule_from_options(failure, label, favorable=favorable, unfavorable=unfavorable, threshold=threshold,
                             thresholds=thresholds, top_fraction=top_fraction, lower_is_favorable=lower_is_favorable)
    layout = layout or ("wide" if decision_columns else "files")
    cols = Columns(
        id=id_column, decision=decision, label=label, groups=tuple(groups),
        decision_columns=tuple(decision_columns), decision_maker_column=decision_maker_column, round=round_column,
    )
    stage = on_stage or (lambda _name: None)
    linked, input_results = load_and_link(
        inputs, cols, rule, layout=layout, people=people,
        link_options=LinkOptions(join=join, on_duplicate=on_duplicate, on_missing=on_missing,
                                 on_group_conflict=on_group_conflict),
        on_stage=stage, on_rows=on_rows,
    )
    table = PatternTable.build(linked)
    options = {
        "id": id_column, "decision": decision, "label": label, "groups": list(groups), "intersect": intersect,
        "people": people, "layout": layout, "decision_columns": list(decision_columns),
        "decision_maker_column": decision_maker_column if layout in ("stacked", "transposed") else None,
        "failure": asdict(rule) | {"thresholds": dict(sorted(rule.thresholds.items()))},
        "join": join, "on_duplicate": on_duplicate, "on_missing": on_missing, "on_group_conflict": on_group_conflict,
    }
    counted = Counted(table, linked.rule.description, join, options, input_results, linked.coverage,
                      list(linked.warnings))
    return counted, linked


def write_systemic_ids(linked: Linked, path: str | os.PathLike) -> int:
    """Write the IDs of everyone failed by every decision-maker that saw them, sorted, one per line.

    The only way individual IDs leave monoculture; the user must ask for it (--emit-ids).
    """
    failed_by_all = (linked.fail | ~linked.present).all(axis=1)
    ids = sorted(linked.ids.text(failed_by_all))
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(f"{v}\n" for v in ids)
    except OSError as exc:
        raise UsageError(f"cannot write the ID file ({exc.strerror})", file=str(path)) from None
    return len(ids)


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
    inference: InferenceOptions | None = None,
    min_group_size: int = 30,
    suppress_below: int = 0,
    parity: str | None = None,
    gates: Thresholds | None = None,
    components: dict[str, dict[str, str]] | None = None,
) -> AuditResult:
    """Every metric, interval and test from the pattern table alone (no row is read again)."""
    inference = inference or InferenceOptions()
    check_inference(inference)
    if parity is not None and parity not in PARITY_MODES:
        raise UsageError(f"--parity must be one of {', '.join(PARITY_MODES)}; got '{parity}'")
    if parity is not None and table.input_counts is None:
        raise UsageError("--parity needs the input files (a pattern table alone lacks whole-input rates)")
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
        est = Estimate.of(c, inference, pattern_weights, with_pairs=True)
        overall = scope_result(est, names, with_pairs=True)
        overall.homogenization.p_value = permutation_p_value(c, draws.take("overall null"))
        groups = group_results(table, names, inference, draws, intersect, min_group_size, suppress_below)
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
        ))
    options = options | {"inference": asdict(inference), "min_group_size": min_group_size,
                         "suppress_below": suppress_below, "parity": parity}
    parity_overall, group_h = None, attribute_homogenization(table, inference, weights, intersect)
    if parity is not None:
        parity_overall, group_h = parity_results(table, intersect)
    withhold_group_level(group_h, groups)
    result = AuditResult(
        schema_version=SCHEMA_VERSION, tool_version=__version__, rule=rule, join=join, options=options,
        inputs=inputs, decision_makers=dms, overall=overall, groups=groups, coverage=coverage,
        warnings=[],
        group_homogenization=group_h,
        parity=parity_overall,
        leave_one_out=leave_one_out(c, names, inference, pattern_weights),
        homogenization_by_size=by_size(c, rng_size),
    )
    result.cluster_order = cluster_order(est.point["error_consistency"], names)
    result.rounds = analyse_rounds(c, names, inference.alpha)
    suppress_small(result.rounds, suppress_below)
    if components:
        rng_components = np.random.default_rng(np.random.SeedSequence(inference.seed).spawn(5)[4])
        result.components = analyse(est, names, components, inference, rng_components, pattern_weights)
    result.warnings = warnings + _warnings(result, min_group_size)
    gates = gates or Thresholds()
    if gates.gate_on not in GATE_ON:
        raise UsageError(f"--gate-on must be one of {', '.join(GATE_ON)}; got '{gates.gate_on}'")
    result.options["gates"] = asdict(gates)
    result.gates = evaluate_gates(result, gates)
    result.verdict = verdict(result.gates)
    return result


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
