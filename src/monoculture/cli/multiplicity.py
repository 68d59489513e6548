"""`monoculture multiplicity`: the inputs as candidate models for one decision."""

from __future__ import annotations

import typer

from ..multiplicity.candidates import multiplicity as run_multiplicity
from ..spec import InferenceOptions, MultiplicitySpec
from . import options as opt
from .app import app
from .output import EXIT_OK, errors_to_exit, render_for, stderr_console, write_with_notes


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
    err = stderr_console(no_color)
    with errors_to_exit(err, debug):
        spec = MultiplicitySpec.of(
            inputs, id_column=id_column, decision=decision, label=label, score=score, groups=group or [],
            intersect=intersect, people=people, layout=layout.value if layout else None,
            decision_columns=decision_columns or [], decision_maker_column=decision_maker_column,
            favorable=favorable, epsilon=epsilon, baseline=baseline, arbitrary_threshold=arbitrary_threshold,
            utility=utility.value, disparity=disparity.value, split=split, select_on=select_on,
            report_on=report_on, on_duplicate=duplicates.value, on_missing="drop" if drop_missing else "error",
            inference=InferenceOptions(bootstrap=bootstrap, seed=seed, alpha=alpha))
        result = run_multiplicity(spec)
        text = render_for(result, output_format, output, width, no_color)
    write_with_notes(result.warnings, text, output, err, quiet)
    raise typer.Exit(EXIT_OK)
