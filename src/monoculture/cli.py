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

from . import __version__
from . import options as opt
from . import pseudonymize as pseudo
from .audit import audit as run_audit
from .config import find_config, load_config, to_defaults
from .errors import MonocultureError, UsageError
from .gates import Thresholds
from .inference import InferenceOptions
from .multiplicity import multiplicity as run_multiplicity
from .progress import StageReporter
from .report import EXTENSIONS, Format, render
from .schema import report_schema

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


@app.command(no_args_is_help=True)
def audit(
    inputs: opt.Inputs,
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
) -> None:
    """Audit decision-makers for systemic failure and outcome homogenization.

    Exit codes: 0 the audit ran (and every threshold passed); 1 a threshold failed; 2 usage, configuration
    or input error.
    """
    err = _stderr(no_color)
    reporter = StageReporter(err, verbose=verbose, quiet=quiet)
    with errors_to_exit(err, debug):
        default_t, per_t = _thresholds(threshold or [])
        with reporter:
            result = run_audit(
                inputs, id_column=id_column, decision=decision, label=label, groups=group or [],
                intersect=intersect, people=people, layout=layout.value if layout else None,
                decision_columns=decision_columns or [], decision_maker_column=decision_maker_column,
                failure=failure.value if failure else None, favorable=favorable, unfavorable=unfavorable,
                threshold=default_t, thresholds=per_t, top_fraction=top_fraction,
                lower_is_favorable=lower_is_favorable, join=join.value, on_duplicate=duplicates.value,
                on_missing="drop" if drop_missing else "error", on_group_conflict=group_conflicts.value,
                inference=InferenceOptions(bootstrap=bootstrap, seed=seed, alpha=alpha, ci=ci.value,
                                           permutations=permutations, adjust=adjust.value),
                min_group_size=min_group_size, suppress_below=suppress_below,
                parity=parity.value if parity else None,
                gates=Thresholds(max_homogenization=max_homogenization, max_systemic_failure=max_systemic_failure,
                                 max_group_systemic_failure_ratio=max_group_systemic_failure_ratio,
                                 gate_on=gate_on.value),
                emit_ids=emit_ids, on_stage=reporter.stage, components=components, round_column=round_column,
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
    if not quiet:
        for w in result.warnings:
            err.print(f"Note: {escape(w)}", soft_wrap=True)
    write_report(text, output, err)
    raise typer.Exit(EXIT_OK)


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
