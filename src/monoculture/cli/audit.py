"""`monoculture audit` and `monoculture count`: options in, one `AuditSpec`, the library, the report out."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ..errors import UsageError
from ..report.formats import Format

if TYPE_CHECKING:
    from ..measure.result import AuditResult
from ..spec import AuditSpec, InferenceOptions, Thresholds
from . import options as opt
from .app import app
from .help import LENDERS, PanelCommand, examples
from .output import EXIT_OK, EXIT_THRESHOLD, errors_to_exit, render_for, stderr_console, write_report
from .progress import StageReporter


def counting_spec(inputs: list[str] | None, o: dict[str, Any], **more: Any) -> AuditSpec:
    """The spec from the option groups `audit` and `count` share (READ, RULE, ROWS, JOIN, ENGINE) and `more`."""
    default_t, per_t = opt.thresholds(o["threshold"] or [])
    return AuditSpec.of(
        inputs or [], **opt.reading(o), **opt.rows(o), failure=o["failure"].value if o["failure"] else None,
        favorable=_one_value(o, "favorable", "favorable_decision"),
        unfavorable=_one_value(o, "unfavorable", "unfavorable_decision"),
        favorable_label=o["favorable_label"], unfavorable_label=o["unfavorable_label"],
        threshold=default_t, thresholds=per_t,
        top_fraction=o["top_fraction"], lower_is_favorable=o["lower_is_favorable"],
        population=o["population"].value, join=o["join"].value,
        on_group_conflict=o["group_conflicts"].value,
        missing_decision=o["missing_decision"].value if o["missing_decision"] else None, engine=o["engine"],
        memory_limit=o["memory_limit"],
        spark_master=o["spark_master"], id_shards=o["id_shards"], **more)


def _one_value(o: dict[str, Any], both: str, decision: str) -> str | None:
    """`--favorable` (decisions and labels) or `--favorable-decision` (decisions only), not both."""
    if o[both] is not None and o[decision] is not None:
        flag = "--" + decision.replace("_", "-")
        raise UsageError(f"--{both} sets the decision's value and the label's; give it or {flag}, not both")
    return o[decision] if o[decision] is not None else o[both]


@app.command(no_args_is_help=True, cls=PanelCommand, epilog=examples(
    f"monoculture audit {LENDERS} --id applicant_id --decision approved --label repaid --group race",
    "monoculture audit lender_*.csv --id applicant_id --label repaid --max-homogenization 2 -f junit -o audit.xml",
    "monoculture audit predictions.parquet --layout stacked --decision-maker-column model --label y -f json",
    "monoculture audit helm_runs/ --metric exact_match      # evaluation logs: each model a decision-maker"))
@opt.shares(opt.READ, opt.RULE, opt.ROWS, opt.JOIN, opt.BOOTSTRAP, opt.SEED, opt.ENGINE, opt.REPORT)
def audit(
    inputs: opt.OptionalInputs = None,
    intersect: opt.Intersect = False,
    ci: opt.CI = opt.CIMethod.percentile,
    permutations: opt.Permutations = 9999,
    adjust: opt.AdjustOpt = opt.Adjust.holm,
    pair_intervals: opt.PairIntervalsOpt = opt.PairIntervals.auto,
    answers: opt.AnswersOpt = opt.Answers.auto,
    options: opt.AnswerOptions = None,
    options_column: opt.OptionsColumn = None,
    min_group_size: opt.MinGroupSize = 30,
    suppress_below: opt.SuppressBelow = 0,
    parity: opt.ParityOpt = None,
    strata: opt.Strata = None,
    max_homogenization: opt.MaxHomogenization = None,
    max_systemic_failure: opt.MaxSystemicFailure = None,
    max_group_systemic_failure_ratio: opt.MaxGroupRatio = None,
    gate_on: opt.GateOnOpt = opt.GateOn.point,
    exit_zero: opt.ExitZero = False,
    github: opt.Github = False,
    emit_ids: opt.EmitIds = None,
    verbose: opt.Verbose = False,
    config: opt.ConfigFile = None,
    components: opt.Components = None,
    round_column: opt.RoundColumn = None,
    round_order: opt.RoundOrder = "natural",
    patterns: opt.Patterns = None,
    **o: Any,
) -> None:
    """Audit decision-makers for systemic failure and outcome homogenization.

    Exit codes: 0 the audit ran (and every threshold passed); 1 a threshold failed; 2 usage, configuration
    or input error.
    """
    err = stderr_console(o["no_color"])
    reporter = StageReporter(err, verbose=verbose, quiet=o["quiet"])
    with errors_to_exit(err, o["debug"]):
        if not inputs and not patterns:
            raise UsageError("no input files given (or pass pattern tables with --patterns)")
        if patterns:  # `--patterns a.parquet b.parquet`: the files after the first arrive as arguments
            patterns, inputs = [*patterns, *(inputs or [])], []
        spec = counting_spec(
            inputs, o, intersect=intersect, round_column=round_column, options_column=options_column,
            patterns=patterns, emit_ids=emit_ids,
            components=components, min_group_size=min_group_size, suppress_below=suppress_below,
            parity=parity.value if parity else None, strata=strata, answers=answers.value, options=options,
            round_order=round_order,
            inference=InferenceOptions(bootstrap=o["bootstrap"], seed=o["seed"], alpha=o["alpha"], ci=ci.value,
                                       permutations=permutations, adjust=adjust.value,
                                       pair_intervals=pair_intervals.value),
            gates=Thresholds(max_homogenization=max_homogenization, max_systemic_failure=max_systemic_failure,
                             max_group_systemic_failure_ratio=max_group_systemic_failure_ratio,
                             gate_on=gate_on.value))
        if o["emit_sql"]:
            from ..count.engines import sql_of  # here: `--help` needs none of the engines

            sys.stdout.write(sql_of(spec, o["sql_dialect"]))
            raise typer.Exit(EXIT_OK)
        with reporter:
            from ..audit import audit as run_audit

            result = run_audit(spec, on_stage=reporter.stage)
        text = render_for(result, o["output_format"], o["output"], o["width"], o["no_color"])
    if not o["quiet"]:
        for w in result.warnings:
            err.print(f"Warning: {escape(w)}", soft_wrap=True)
    write_report(text, o["output"], err, o["quiet"])
    if github:
        github_outputs(result)
    failed = result.verdict == "fail"
    if failed and not o["quiet"]:
        n = result.failed_gates
        err.print(f"{n} threshold{'s' if n != 1 else ''} failed" + (" (--exit-zero: exiting 0)" if exit_zero else ""))
    raise typer.Exit(EXIT_THRESHOLD if failed and not exit_zero else EXIT_OK)


@app.command("count", no_args_is_help=True, cls=PanelCommand, epilog=examples(
    f"monoculture count {LENDERS} --id applicant_id --decision approved --label repaid -o patterns.parquet",
    "monoculture audit --patterns patterns.parquet --group race"))
@opt.shares(opt.READ, opt.RULE, opt.ROWS, opt.JOIN, opt.ENGINE, opt.QUIET)
def count_command(
    inputs: opt.Inputs,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The pattern table to write (Parquet).")]
    = None,
    **o: Any,
) -> None:
    """Read, link and count: write the pattern table (counts per group cell and failure pattern, with the
    coverage counts) to Parquet, for `monoculture audit --patterns`.

    The table holds no individual ID. Tables of disjoint shards of one population (counted separately, e.g.
    one per ID range) are summed by `audit --patterns a.parquet b.parquet ...`.
    """
    err = stderr_console(False)
    with errors_to_exit(err, o["debug"]):
        spec = counting_spec(inputs, o)
        if o["emit_sql"]:
            from ..count.engines import sql_of  # here: `--help` needs none of the engines

            sys.stdout.write(sql_of(spec, o["sql_dialect"]))
            raise typer.Exit(EXIT_OK)
        if output is None:
            raise UsageError("name the pattern table to write with -o FILE.parquet (or pass --emit-sql)")
        from ..audit import count as run_count
        from ..count.table_file import write_patterns

        counted = run_count(spec)
        write_patterns(counted, output)
    if not o["quiet"]:
        for w in counted.warnings:
            err.print(f"Warning: {escape(w)}", soft_wrap=True)
        t = counted.table
        err.print(f"wrote {len(t.row_count):,} pattern rows for {t.n:,} linked individuals to {escape(str(output))}")


def github_outputs(result: AuditResult) -> None:
    from ..report import render
    from ..report.github import annotations

    """GitHub Actions: the Markdown report into the step summary, and one annotation per failed gate."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(render(result, Format.markdown))
    sys.stdout.flush()
    for line in annotations(result):
        print(line, file=sys.stderr)
