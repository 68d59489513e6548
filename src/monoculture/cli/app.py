"""The `monoculture` command: parse options, call the library, render, map the outcome to an exit code.

Exit codes: 0 the audit ran; 1 a threshold failed (reserved for gates); 2 usage, configuration or input
error (one line on stderr, no traceback).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .. import __version__
from .. import simulate as simulation
from ..audit import audit as run_audit
from ..audit import count as run_count
from ..count.sql import emit_sql
from ..count.table_file import write_patterns
from ..errors import MonocultureError, UsageError
from ..link import pseudonymize as pseudo
from ..link.failures import rule_from_options
from ..measure.gates import Thresholds
from ..measure.inference import InferenceOptions
from ..multiplicity.candidates import multiplicity as run_multiplicity
from ..report import EXTENSIONS, Format, render
from ..report.schema import report_schema
from ..simulate.urn import UrnModel
from ..simulate.urn import population as urn_population
from . import options as opt
from .config import find_config, load_config, to_defaults
from .progress import StageReporter

EXIT_OK, EXIT_THRESHOLD, EXIT_ERROR = 0, 1, 2

app = typer.Typer(
    name="monoculture",
    help="Audit algorithmic monoculture: are the same people failed by every decision-maker?\n\n"
    "Exit codes: 0 ran; 1 a threshold failed; 2 usage, configuration or input error.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


def _stderr(no_color: bool) -> Console:
    return Console(stderr=True, no_color=no_color or "NO_COLOR" in os.environ, highlight=False)


@contextmanager
def errors_to_exit(err: Console, debug: bool = False) -> Iterator[None]:
    """The one place library errors become one line on stderr and exit code 2 (--debug re-raises)."""
    try:
        yield
    except MonocultureError as exc:
        if debug:
            raise
        err.print(f"Error: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None


def render_for(result, output_format: Format | None, output: Path | None, width: int, no_color: bool) -> str:
    """Pick the format (explicit, else from the -o extension, else table) and colour, and render."""
    fmt = output_format or (EXTENSIONS.get(output.suffix.lower(), Format.table) if output else Format.table)
    color = (output is None and fmt is Format.table and sys.stdout.isatty() and not no_color
             and "NO_COLOR" not in os.environ)
    return render(result, fmt, width=width, color=color)


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


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"monoculture {__version__}")
        raise typer.Exit(EXIT_OK)


def _count_kwargs(*, threshold: list[str] | None, layout, failure, join, duplicates, drop_missing: bool,
                  group_conflicts, group: list[str] | None, decision_columns: list[str] | None, **rest) -> dict:
    """The reading, linking and failure-rule options shared by `audit` and `count`, as library arguments."""
    default_t, per_t = _thresholds(threshold or [])
    return rest | {
        "groups": group or [], "layout": layout.value if layout else None,
        "decision_columns": decision_columns or [], "failure": failure.value if failure else None,
        "threshold": default_t, "thresholds": per_t, "join": join.value, "on_duplicate": duplicates.value,
        "on_missing": "drop" if drop_missing else "error", "on_group_conflict": group_conflicts.value,
    }


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
    err = _stderr(no_color)
    reporter = StageReporter(err, verbose=verbose, quiet=quiet)
    with errors_to_exit(err, debug):
        if not inputs and not patterns:
            raise UsageError("no input files given (or pass pattern tables with --patterns)")
        if patterns:  # `--patterns a.parquet b.parquet`: the files after the first arrive as arguments
            patterns, inputs = [*patterns, *(inputs or [])], []
        kwargs = _count_kwargs(
            id_column=id_column, decision=decision, label=label, group=group, intersect=intersect,
            people=people, layout=layout, decision_columns=decision_columns,
            decision_maker_column=decision_maker_column, failure=failure, favorable=favorable,
            unfavorable=unfavorable, threshold=threshold, top_fraction=top_fraction,
            lower_is_favorable=lower_is_favorable, join=join, duplicates=duplicates,
            drop_missing=drop_missing, group_conflicts=group_conflicts, round_column=round_column)
        if emit_sql:
            sys.stdout.write(sql_for(inputs or [], kwargs, sql_dialect))
            raise typer.Exit(EXIT_OK)
        with reporter:
            result = run_audit(
                inputs or [], **kwargs,
                inference=InferenceOptions(bootstrap=bootstrap, seed=seed, alpha=alpha, ci=ci.value,
                                           permutations=permutations, adjust=adjust.value),
                min_group_size=min_group_size, suppress_below=suppress_below,
                parity=parity.value if parity else None,
                gates=Thresholds(max_homogenization=max_homogenization, max_systemic_failure=max_systemic_failure,
                                 max_group_systemic_failure_ratio=max_group_systemic_failure_ratio,
                                 gate_on=gate_on.value),
                emit_ids=emit_ids, on_stage=reporter.stage, components=components, patterns=patterns,
                engine=engine, memory_limit=memory_limit, spark_master=spark_master, id_shards=id_shards,
            )
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
    err = _stderr(False)
    with errors_to_exit(err, debug):
        kwargs = _count_kwargs(
            id_column=id_column, decision=decision, label=label, group=group, people=people, layout=layout,
            decision_columns=decision_columns, decision_maker_column=decision_maker_column, failure=failure,
            favorable=favorable, unfavorable=unfavorable, threshold=threshold, top_fraction=top_fraction,
            lower_is_favorable=lower_is_favorable, join=join, duplicates=duplicates, drop_missing=drop_missing,
            group_conflicts=group_conflicts)
        if emit_sql:
            sys.stdout.write(sql_for(inputs, kwargs, sql_dialect))
            raise typer.Exit(EXIT_OK)
        if output is None:
            raise UsageError("name the pattern table to write with -o FILE.parquet (or pass --emit-sql)")
        counted = run_count(inputs, **kwargs, engine=engine, memory_limit=memory_limit, spark_master=spark_master,
                            id_shards=id_shards)
        write_patterns(counted, output)
    if not quiet:
        for w in counted.warnings:
            err.print(f"Warning: {escape(w)}", soft_wrap=True)
        t = counted.table
        err.print(f"wrote {len(t.row_count):,} pattern rows for {t.n:,} linked individuals to {escape(str(output))}")


def sql_for(inputs: list[str], kwargs: dict, dialect: str) -> str:
    rule = rule_from_options(
        kwargs["failure"], kwargs["label"], favorable=kwargs["favorable"], unfavorable=kwargs["unfavorable"],
        threshold=kwargs["threshold"], thresholds=kwargs["thresholds"], top_fraction=kwargs["top_fraction"],
        lower_is_favorable=kwargs["lower_is_favorable"])
    return emit_sql(inputs, id_column=kwargs["id_column"], decision=kwargs["decision"], label=kwargs["label"],
                    groups=kwargs["groups"], people=kwargs["people"], rule=rule, join=kwargs["join"],
                    layout=kwargs["layout"], dialect=dialect)


def write_with_notes(notes: list[str], text: str, output: Path | None, err: Console, quiet: bool) -> None:
    """The notes on stderr (unless --quiet), then the report to stdout or -o FILE."""
    if not quiet:
        for note in notes:
            err.print(f"Note: {escape(note)}", soft_wrap=True)
    write_report(text, output, err)


def write_report(text: str, output: Path | None, err: Console) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        err.print(f"Error: {escape(str(output))}: cannot write the report ({exc.strerror})")
        raise typer.Exit(EXIT_ERROR) from None


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


@app.command("multiplicity", no_args_is_help=True)
def multiplicity_command(
    inputs: opt.Inputs,
    id_column: opt.IdColumn = "id",
    decision: opt.Decision = "decision",
    label: opt.Label = None,
    score: opt.Score = None,
    group: opt.Groups = None,
    intersect: opt.Intersect = False,
    people: opt.People = None,
    layout: opt.LayoutOpt = None,
    decision_columns: opt.DecisionColumns = None,
    decision_maker_column: opt.DecisionMakerColumn = "decision_maker",
    favorable: opt.Favorable = None,
    epsilon: opt.Epsilon = 0.01,
    baseline: opt.Baseline = None,
    arbitrary_threshold: opt.ArbitraryThreshold = 0.2,
    utility: opt.UtilityOpt = opt.Utility.accuracy,
    disparity: opt.DisparityOpt = opt.Disparity.selection_rate_ratio,
    split: opt.Split = None,
    select_on: opt.SelectOn = None,
    report_on: opt.ReportOn = None,
    duplicates: opt.Duplicates = opt.OnDuplicate.error,
    drop_missing: opt.DropMissing = False,
    bootstrap: opt.Bootstrap = 1000,
    seed: opt.Seed = 0,
    alpha: opt.Alpha = 0.05,
    output_format: opt.OutputFormat = None,
    output: opt.Output = None,
    width: opt.Width = 100,
    no_color: opt.NoColor = False,
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Predictive multiplicity and less discriminatory alternatives among candidate models (metrics.md §6–§7).

    Exit codes: 0 ran; 2 usage or input error.
    """
    err = _stderr(no_color)
    with errors_to_exit(err, debug):
        result = run_multiplicity(
            inputs, id_column=id_column, decision=decision, label=label, score=score, groups=group or [],
            intersect=intersect, people=people, layout=layout.value if layout else None,
            decision_columns=decision_columns or [], decision_maker_column=decision_maker_column,
            favorable=favorable, epsilon=epsilon, baseline=baseline, arbitrary_threshold=arbitrary_threshold,
            utility=utility.value, disparity=disparity.value, split=split, select_on=select_on,
            report_on=report_on, on_duplicate=duplicates.value,
            on_missing="drop" if drop_missing else "error",
            inference=InferenceOptions(bootstrap=bootstrap, seed=seed, alpha=alpha),
        )
        text = render_for(result, output_format, output, width, no_color)
    write_with_notes(result.warnings, text, output, err, quiet)
    raise typer.Exit(EXIT_OK)


simulate_app = typer.Typer(
    name="simulate", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
    help="What happens next: participation dynamics (Dean et al. 2024) and repeat-use feedback (Laufer 2020).",
)
app.add_typer(simulate_app)


@simulate_app.command("dynamics", no_args_is_help=True)
def simulate_dynamics(
    quadratic: Annotated[Path | None, typer.Option(
        help="TOML spec of quadratic risks: one [[group]] table per subpopulation with name, phi, beta, and "
             "optional cov (default identity), sigma2 (default 1), alphas (initial split over the learners).")] = None,
    people: Annotated[str | None, typer.Option(
        help="People file (CSV/Parquet): a row per person with the --features, --target and --group columns.")] = None,
    features: Annotated[list[str] | None, typer.Option(
        "--features",
        help="Numeric feature columns (comma-separated or repeated); standardised, intercept added.")] = None,
    target: Annotated[str | None, typer.Option(help="The column the learners predict (numeric, or 0/1).")] = None,
    group: opt.Groups = None,
    loss: Annotated[str, typer.Option(
        help="auto (logistic for a 0/1 target, else squared), squared, or logistic.")] = "auto",
    learners: Annotated[int | None, typer.Option(
        help="Number of learners k (default 2; a spec with alphas sets it).")] = None,
    init: Annotated[str, typer.Option(
        help="Initial split of each group over the learners: random (flat Dirichlet, seeded), uniform (a "
             "symmetric fixed point: nothing moves), or a CSV with a row per group (name, then one column "
             "per learner).")] = "random",
    epsilon: Annotated[float, typer.Option(
        help="Multiplicative-weights rate ε in α ← α (1 − ε)^R, in (0, 1).")] = 0.1,
    rounds: Annotated[int, typer.Option(help="At most this many rounds.")] = 100,
    tol: Annotated[float, typer.Option(
        help="Stop early once no allocation moves by more than this in a round.")] = 1e-9,
    learner_update: Annotated[str, typer.Option(
        help="exact (each learner refits to its current participants) or gradient (one step).")] = "exact",
    step_size: Annotated[float, typer.Option(help="Gradient step size (with --learner-update gradient).")] = 0.1,
    l2: Annotated[float, typer.Option(help="Ridge penalty λ‖θ‖² on the data risks (intercept excluded).")] = 0.0,
    fail_above: Annotated[float | None, typer.Option(
        help="Squared loss: a person is failed when |error| exceeds this (default: the single learner's "
             "90th percentile). Logistic: failed when the decision differs from the target.")] = None,
    drop_missing: Annotated[bool, typer.Option(
        "--drop-missing", help="Leave out (and count) people-file rows with a missing value.")] = False,
    bootstrap: opt.Bootstrap = 1000,
    seed: opt.Seed = 0,
    alpha: opt.Alpha = 0.05,
    output_format: opt.OutputFormat = None,
    output: opt.Output = None,
    width: opt.Width = 100,
    no_color: opt.NoColor = False,
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Participation dynamics with multi-learner retraining (Dean et al., AISTATS 2024; metrics.md §8).

    Each round every learner refits to the people it serves; then each subpopulation shifts its
    participation towards the learners that serve it well (multiplicative weights). Reports the
    trajectory, the final segmentation, the average risk against one learner serving everyone, and
    (from a people file) systemic failure and homogenization of the first-round and final learners.
    """
    err = _stderr(no_color)
    with errors_to_exit(err, debug):
        if (quadratic is None) == (people is None):
            raise UsageError("give either --quadratic SPEC.toml or --people FILE (with --features, --target, --group)")
        if quadratic is not None:
            setting = simulation.quadratic_setting(str(quadratic))
        else:
            if target is None:
                raise UsageError("name the target column with --target")
            cols = [c.strip() for f in features or [] for c in f.split(",") if c.strip()]
            setting = simulation.data_setting(people or "", cols, target, group or [], loss=loss, l2=l2,
                                              drop_missing=drop_missing)
        result = simulation.dynamics(
            setting, learners=learners, init=init, epsilon=epsilon, rounds=rounds, update=learner_update,
            step_size=step_size, tol=tol, seed=seed, fail_above=fail_above,
            inference=InferenceOptions(bootstrap=bootstrap, seed=seed, alpha=alpha, permutations=0),
        )
        text = render_for(result, output_format, output, width, no_color)
    write_with_notes(result.warnings, text, output, err, quiet)


@simulate_app.command("urn")
def simulate_urn(
    people: Annotated[str | None, typer.Option(
        help="People file: group sizes (and, with --decision, initial adverse rates) from the data.")] = None,
    group: Annotated[str | None, typer.Option("--group", "-g", help="Group column of --people.")] = None,
    decision: Annotated[str | None, typer.Option(
        help="Decision column of --people: each group's observed adverse share is its initial rate.")] = None,
    adverse: Annotated[str | None, typer.Option(help="The adverse value of --decision (e.g. 0).")] = None,
    base_rate: Annotated[float, typer.Option(
        help="Initial adverse rate of the reference (largest) group, without --decision.")] = 0.3,
    initial_bias: Annotated[float, typer.Option(
        help="Added to the other groups' initial rate: the small initial difference.")] = 0.05,
    population: Annotated[int, typer.Option(
        help="Without --people: people in each run, split into 'reference' and 'disadvantaged' halves.")] = 10_000,
    rounds: Annotated[int, typer.Option(help="Number of repeated uses of the score.")] = 10,
    rule: Annotated[str, typer.Option(
        help="polya (adverse with the urn's adverse share) or threshold (adverse when a --draws-ball score "
             "reaches --cutoff).")] = "polya",
    reinforce: Annotated[str, typer.Option(
        help="drawn (add balls of the decision's colour: the plain Pólya urn) or adverse (only adverse "
             "decisions add balls).")] = "drawn",
    reinforcement: Annotated[float, typer.Option(help="Balls added to the urn per decision fed back.")] = 1.0,
    urn_size: Annotated[float, typer.Option(help="Balls in each urn at the start.")] = 2.0,
    draws: Annotated[int, typer.Option(help="Threshold rule: balls drawn for the score.")] = 10,
    cutoff: Annotated[float, typer.Option(help="Threshold rule: adverse when the score reaches this.")] = 0.5,
    replications: Annotated[int, typer.Option(help="Monte Carlo runs (seeded) for the intervals.")] = 200,
    seed: opt.Seed = 0,
    alpha: opt.Alpha = 0.05,
    output_format: opt.OutputFormat = None,
    output: opt.Output = None,
    width: opt.Width = 100,
    no_color: opt.NoColor = False,
    quiet: opt.Quiet = False,
    debug: opt.Debug = False,
) -> None:
    """Repeat-use feedback of a risk score as Pólya urns (Laufer 2020; metrics.md §9).

    Reports, round by round with Monte Carlo intervals over seeded runs, how the gap in adverse decisions
    between groups and the share of people who always receive the adverse decision grow.
    """
    err = _stderr(no_color)
    with errors_to_exit(err, debug):
        groups, sizes, rates, source = urn_population(people, group, decision, adverse, base_rate, initial_bias,
                                                      population)
        model = UrnModel(rule=rule, reinforce=reinforce, reinforcement=reinforcement, urn_size=urn_size,
                         draws=draws, cutoff=cutoff)
        result = simulation.urn_study(groups, sizes, rates, rounds=rounds, model=model, replications=replications,
                                      seed=seed, alpha=alpha, options=source)
        text = render_for(result, output_format, output, width, no_color)
    write_with_notes(result.warnings, text, output, err, quiet)


@app.command("keygen")
def keygen_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the key (mode 0600).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key file.")] = False,
) -> None:
    """Write a fresh random 32-byte key for `pseudonymize`. Share it among the firms, never with the auditor."""
    err = _stderr(False)
    with errors_to_exit(err):
        pseudo.keygen(output, force=force)
    err.print(f"wrote a new key to {escape(str(output))} (mode 0600)")


@app.command("pseudonymize")
def pseudonymize_command(
    source: Annotated[str, typer.Argument(help="The dump to pseudonymise (CSV or Parquet).")],
    id_column: opt.IdColumn = "id",
    key_file: opt.KeyFile = Path(),
    output: opt.Output = None,
    casefold: opt.Casefold = False,
    drop: opt.Drop = None,
) -> None:
    """Replace the ID column by HMAC-SHA256 tokens under a shared key, streaming; other columns pass through.

    IDs are canonicalised first (text, NFC, trimmed, optionally case-folded; integers in decimal), so the
    same person gets the same token in every firm's file. The key is never printed.
    """
    err = _stderr(False)
    with errors_to_exit(err):
        if output is None:
            raise UsageError("name the output file with -o")
        if str(key_file) in ("", "."):
            raise UsageError("name the key with --key-file (create one with monoculture keygen)")
        key = pseudo.load_key(key_file)
        rows = pseudo.pseudonymize(source, str(output), id_column=id_column, key=key, casefold=casefold,
                                   drop=tuple(drop or ()))
    err.print(f"wrote {rows:,} rows with pseudonymous IDs to {escape(str(output))}")


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the JSON report (`audit --format json`)."""
    print(json.dumps(report_schema(), indent=2, ensure_ascii=False))


@app.command("config")
def show_config(
    config: opt.ConfigFile = None,
) -> None:
    """Print the audit settings in effect here: each value and where it comes from (config file or default).

    The config file is monoculture.toml, or [tool.monoculture] in pyproject.toml, found from the current
    directory upward, or the file named with --config. Precedence: command line > config file > defaults.
    """
    err = _stderr(False)
    with errors_to_exit(err):
        path, defaults = _config_defaults(config)
    command = typer.main.get_command(app).commands["audit"]  # type: ignore[attr-defined]
    print(f"# config file: {path if path else 'none found'}")
    for param in command.params:
        if param.name in ("inputs", "config") or param.name is None:
            continue
        key = param.opts[0].lstrip("-") if param.opts else param.name
        if param.name in defaults:
            value, source = defaults[param.name], "config"
        else:
            value, source = param.default, "default"
        value = value.value if hasattr(value, "value") else value
        shown = "# (unset)" if value is None else json.dumps(value if not isinstance(value, Path) else str(value))
        print(f"{key} = {shown}  # {source}" if value is not None else f"# {key} (unset)  # {source}")


def _setting_names() -> dict[str, str]:
    command = typer.main.get_command(app).commands["audit"]  # type: ignore[attr-defined]
    names: dict[str, str] = {}
    for param in command.params:
        if param.name in ("inputs", "config") or param.name is None:
            continue
        names[param.name] = param.name
        for o in param.opts:
            names[o.lstrip("-").replace("-", "_")] = param.name
    return names


def _config_defaults(explicit: Path | None) -> tuple[Path | None, dict]:
    path = explicit if explicit is not None else find_config()
    if path is None:
        return None, {}
    command = typer.main.get_command(app).commands["audit"]  # type: ignore[attr-defined]
    known = [o.lstrip("-") for p in command.params if p.name not in ("inputs", "config") for o in p.opts
             if o.startswith("--")]
    return path, to_defaults(load_config(Path(path)), _setting_names(), Path(path), known)


def _config_arg(argv: list[str]) -> Path | None:
    for i, a in enumerate(argv):
        if a == "--config" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if a.startswith("--config="):
            return Path(a.split("=", 1)[1])
    return None


def main() -> None:
    """Entry point: settings from the config file become defaults; errors are one line with exit code 2."""
    try:
        _, defaults = _config_defaults(_config_arg(sys.argv[1:]))
    except MonocultureError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        sys.exit(EXIT_ERROR)
    try:
        typer.main.get_command(app)(default_map={"audit": defaults}, prog_name="monoculture")
    except SystemExit:
        raise
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        sys.stderr.write(f"Error: internal error ({type(exc).__name__}); rerun with --debug and report it\n")
        sys.exit(EXIT_ERROR)
