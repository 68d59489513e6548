"""`audit()`: read → link → failures → pattern table → metrics → result. The CLI is a thin layer on this."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict

from .count.engines import choose, count_external
from .count.table import PatternTable
from .count.table_file import Counted, read_patterns
from .errors import UsageError
from .lazy_imports import Imports
from .link.failures import rule_from_options
from .link.linked import Linked, LinkOptions
from .link.load import load_and_link
from .measure import measure
from .measure.components import load_components
from .measure.gates import Thresholds
from .measure.inference import InferenceOptions
from .measure.result import AuditResult
from .read.sources import Columns


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
