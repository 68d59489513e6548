"""`monoculture audit` and `monoculture count`: options in, one `AuditSpec`, the library, the report out."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ..audit import audit as run_audit
from ..audit import count as run_count
from ..count.engines import sql_of
from ..count.table_file import write_patterns
from ..errors import UsageError
from ..report import Format, render
from ..spec import AuditSpec, InferenceOptions, Thresholds
from . import options as opt
from .app import app
from .output import EXIT_OK, EXIT_THRESHOLD, errors_to_exit, render_for, stderr_console, write_report
from .progress import StageReporter


def _thresholds(values: list[str]) -> tuple[float | None, dict[str, float]]:
    default: float | None = None
    per: dict[str, float] = {}
    for v in values:
        name, _, num = v.rpartition("=")
        try:
            t = float(num)
        except ValueError:
            raise UsageError(f"--threshold takes T or NAME=T with T a number; got '{v}'") from None
        if name:
            per[name] = t
        else:
            default = t
    return default, per


def _spec(*, inputs: list[str] | None, threshold: list[str] | None, layout, failure, join, duplicates,
          drop_missing: bool, group_conflicts, group: list[str] | None, decision_columns: list[str] | None,
          **rest) -> AuditSpec:
    """The spec of the reading, linking and rule options `audit` and `count` share (and `audit`'s others)."""
    default_t, per_t = _thresholds(threshold or [])
    return AuditSpec.of(
        inputs or [], groups=group or [], layout=layout.value if layout else None,
        decision_columns=decision_columns or [], failure=failure.value if failure else None,
        threshold=default_t, thresholds=per_t, join=join.value, on_duplicate=duplicates.value,
        on_missing="drop" if drop_missing else "error", on_group_conflict=group_conflicts.value, **rest)


@app.command(no_args_is_help=True)
def audit(
    inputs: opt.OptionalInputs = None,
    id_column: opt.IdColumn = "id",
    decision: opt.Decision = "decision",
    label: opt.Label = None,
    group: opt.Groups = None,
    intersect: opt.Intersect = False,
    people: opt.People = None,
    layout: opt.LayoutOpt = None,
    decision_columns: opt.DecisionColumns = None,
    decision_maker_column: opt.DecisionMakerColumn = "decision_maker",
    failure: opt.Failure = None,
    favorable: opt.Favorable = None,
    unfavorable: opt.Unfavorable = None,
    threshold: opt.Threshold = None,
    top_fraction: opt.TopFraction = None,
    lower_is_favorable: opt.LowerIsFavorable = False,
    join: opt.JoinOpt = opt.Join.inner,
    duplicates: opt.Duplicates = opt.OnDuplicate.error,
    drop_missing: opt.DropMissing = False,
    group_conflicts: opt.GroupConflicts = opt.OnConflict.error,
    bootstrap: opt.Bootstrap = 1000,
    seed: opt.Seed = 0,
    alpha: opt.Alpha = 0.05,
    ci: opt.CI = opt.CIMethod.percentile,
    permutations: opt.Permutations = 9999,
    adjust: opt.AdjustOpt = opt.Adjust.holm,
    min_group_size: opt.MinGroupSize = 30,
    suppress_below: opt.SuppressBelow = 0,
    parity: opt.ParityOpt = None,
    max_homogenization: opt.MaxHomogenization = None,
    max_systemic_failure: opt.MaxSystemicFailure = None,
    max_group_systemic_failure_ratio: opt.MaxGroupRatio = None,
    gate_on: opt.GateOnOpt = opt.GateOn.point,
    exit_zero: opt.ExitZero = False,
    github: opt.Github = False,
    emit_ids: opt.EmitIds = None,
    output_format: opt.OutputFormat = None,
    output: opt.Output = None,
    width: opt.Width = 100,
    no_color: opt.NoColor = False,
    quiet: opt.Quiet = False,
    verbose: opt.Verbose = False,
    debug: opt.Debug = False,
    config: opt.ConfigFile = None,
    components: opt.Components = None,
    round_column: opt.RoundColumn = None,
    patterns: opt.Patterns = None,
    engine: opt.Engine = "auto",
    memory_limit: opt.MemoryLimit = None,
    spark_master: opt.SparkMaster = None,
    id_shards: opt.IdShards = None,
    emit_sql: opt.EmitSql = False,
    sql_dialect: opt.SqlDialect = "duckdb",
) -> None:
    """Audit decision-makers for systemic failure and outcome homogenization.

    Exit codes: 0 the audit ran (and every threshold passed); 1 a threshold failed; 2 usage, configuration
    or input error.
    """
    err = stderr_console(no_color)
    reporter = StageReporter(err, verbose=verbose, quiet=quiet)
    with errors_to_exit(err, debug):
        if not inputs and not patterns:
            raise UsageError("no input files given (or pass pattern tables with --patterns)")
        if patterns:  # `--patterns a.parquet b.parquet`: the files after the first arrive as arguments
            patterns, inputs = [*patterns, *(inputs or [])], []
        spec = _spec(
            inputs=inputs, id_column=id_column, decision=decision, label=label, group=group, intersect=intersect,
            people=people, layout=layout, decision_columns=decision_columns,
            decision_maker_column=decision_maker_column, failure=failure, favorable=favorable,
            unfavorable=unfavorable, threshold=threshold, top_fraction=top_fraction,
            lower_is_favorable=lower_is_favorable, join=join, duplicates=duplicates, drop_missing=drop_missing,
            group_conflicts=group_conflicts, round_column=round_column,
            inference=InferenceOptions(bootstrap=bootstrap, seed=seed, alpha=alpha, ci=ci.value,
                                       permutations=permutations, adjust=adjust.value),
            min_group_size=min_group_size, suppress_below=suppress_below, parity=parity.value if parity else None,
            gates=Thresholds(max_homogenization=max_homogenization, max_systemic_failure=max_systemic_failure,
                             max_group_systemic_failure_ratio=max_group_systemic_failure_ratio,
                             gate_on=gate_on.value),
            emit_ids=emit_ids, components=components, patterns=patterns, engine=engine, memory_limit=memory_limit,
            spark_master=spark_master, id_shards=id_shards)
        if emit_sql:
            sys.stdout.write(sql_of(spec, sql_dialect))
            raise typer.Exit(EXIT_OK)
        with reporter:
            result = run_audit(spec, on_stage=reporter.stage)
        text = render_for(result, output_format, output, width, no_color)
    if not quiet:
        for w in result.warnings:
            err.print(f"Warning: {escape(w)}", soft_wrap=True)
    write_report(text, output, err)
    if github:
        github_outputs(result, err)
    failed = result.verdict == "fail"
    if failed and not quiet:
        n = sum(g.status == "fail" for g in result.gates)
        err.print(f"{n} threshold{'s' if n != 1 else ''} failed" + (" (--exit-zero: exiting 0)" if exit_zero else ""))
    raise typer.Exit(EXIT_THRESHOLD if failed and not exit_zero else EXIT_OK)


@app.command("count", no_args_is_help=True)
def count_command(
    inputs: opt.Inputs,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The pattern table to write (Parquet).")]
    = None,
    id_column: opt.IdColumn = "id",
    decision: opt.Decision = "decision",
    label: opt.Label = None,
    group: opt.Groups = None,
    people: opt.People = None,
    layout: opt.LayoutOpt = None,
    decision_columns: opt.DecisionColumns = None,
    decision_maker_column: opt.DecisionMakerColumn = "decision_maker",
    failure: opt.Failure = None,
    favorable: opt.Favorable = None,
    unfavorable: opt.Unfavorable = None,
    threshold: opt.Threshold = None,
    top_fraction: opt.TopFraction = None,
    lower_is_favorable: opt.LowerIsFavorable = False,
    join: opt.JoinOpt = opt.Join.inner,
    duplicates: opt.Duplicates = opt.OnDuplicate.error,
    drop_missing: opt.DropMissing = False,
    group_conflicts: opt.GroupConflicts = opt.OnConflict.error,
    engine: opt.Engine = "auto",
    memory_limit: opt.MemoryLimit = None,
    spark_master: opt.SparkMaster = None,
    id_shards: opt.IdShards = None,
    emit_sql: opt.EmitSql = False,
    sql_dialect: opt.SqlDialect = "duckdb",
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Read, link and count: write the pattern table (counts per group cell and failure pattern, with the
    coverage counts) to Parquet, for `monoculture audit --patterns`.

    The table holds no individual ID. Tables of disjoint shards of one population (counted separately, e.g.
    one per ID range) are summed by `audit --patterns a.parquet b.parquet ...`.
    """
    err = stderr_console(False)
    with errors_to_exit(err, debug):
        spec = _spec(
            inputs=inputs, id_column=id_column, decision=decision, label=label, group=group, people=people,
            layout=layout, decision_columns=decision_columns, decision_maker_column=decision_maker_column,
            failure=failure, favorable=favorable, unfavorable=unfavorable, threshold=threshold,
            top_fraction=top_fraction, lower_is_favorable=lower_is_favorable, join=join, duplicates=duplicates,
            drop_missing=drop_missing, group_conflicts=group_conflicts, engine=engine, memory_limit=memory_limit,
            spark_master=spark_master, id_shards=id_shards)
        if emit_sql:
            sys.stdout.write(sql_of(spec, sql_dialect))
            raise typer.Exit(EXIT_OK)
        if output is None:
            raise UsageError("name the pattern table to write with -o FILE.parquet (or pass --emit-sql)")
        counted = run_count(spec)
        write_patterns(counted, output)
    if not quiet:
        for w in counted.warnings:
            err.print(f"Warning: {escape(w)}", soft_wrap=True)
        t = counted.table
        err.print(f"wrote {len(t.row_count):,} pattern rows for {t.n:,} linked individuals to {escape(str(output))}")


def github_outputs(result, err: Console) -> None:
    """GitHub Actions: the Markdown report into the step summary, and one annotation per failed gate."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(render(result, Format.markdown))
    for g in result.gates:
        if g.status == "fail":
            where = "overall" if g.scope == "overall" else f"{g.attribute}={g.group}"
            sys.stdout.flush()
            print(f"::error title=monoculture {g.name}::{where}: {g.reason}".replace("\n", " "), file=sys.stderr)
