"""`monoculture multiplicity`: the inputs as candidate models for one decision."""

from __future__ import annotations

from typing import Any

import typer

from ..multiplicity.spec import MultiplicitySpec
from ..spec import InferenceOptions
from . import options as opt
from .app import app
from .help import LENDERS, PanelCommand, examples
from .output import EXIT_OK, errors_to_exit, render_for, stderr_console, write_with_notes
from .progress import StageReporter


@app.command("multiplicity", no_args_is_help=True, cls=PanelCommand, epilog=examples(
    f"monoculture multiplicity {LENDERS} --id applicant_id --decision approved --label repaid --score score -g race",
    "monoculture multiplicity model_*.csv --label y --probabilities 'p_*'       # multi-class capacity",
    "monoculture multiplicity model_*.csv --label y -g race --people people.csv --split fold --select-on train "
    "--report-on test"))
@opt.shares(opt.READ, opt.ROWS, opt.BOOTSTRAP, opt.SEED, opt.REPORT)
def multiplicity_command(
    inputs: opt.Inputs,
    score: opt.Score = None,
    probabilities: opt.Probabilities = None,
    intersect: opt.Intersect = False,
    favorable: opt.Favorable = None,
    threshold: opt.Threshold = None,
    top_fraction: opt.TopFraction = None,
    lower_is_favorable: opt.LowerIsFavorable = False,
    epsilon: opt.Epsilon = 0.01,
    lda_epsilon: opt.LdaEpsilon = None,
    fpr_weight: opt.FprWeight = 1.0,
    baseline: opt.Baseline = None,
    arbitrary_threshold: opt.ArbitraryThreshold = 0.2,
    utility: opt.UtilityOpt = opt.Utility.accuracy,
    disparity: opt.DisparityOpt = opt.Disparity.selection_rate_ratio,
    split: opt.Split = None,
    select_on: opt.SelectOn = None,
    report_on: opt.ReportOn = None,
    **o: Any,
) -> None:
    """Predictive multiplicity and less discriminatory alternatives among candidate models (metrics.md §6–§7).

    Exit codes: 0 ran; 2 usage or input error.
    """
    err = stderr_console(o["no_color"])
    with errors_to_exit(err, o["debug"]):
        default_t, per_t = opt.thresholds(threshold or [])
        spec = MultiplicitySpec.of(
            inputs, **opt.reading(o), **opt.rows(o), score=score,
            probabilities=opt.listed(probabilities), intersect=intersect, favorable=favorable,
            threshold=default_t, thresholds=per_t, top_fraction=top_fraction, lower_is_favorable=lower_is_favorable,
            epsilon=epsilon, baseline=baseline, arbitrary_threshold=arbitrary_threshold, utility=utility.value,
            disparity=disparity.value, lda_epsilon=lda_epsilon, fpr_weight=fpr_weight, split=split,
            select_on=select_on, report_on=report_on,
            inference=InferenceOptions(bootstrap=o["bootstrap"], seed=o["seed"], alpha=o["alpha"]))
        from ..multiplicity.candidates import multiplicity as run_multiplicity  # here: `--help` needs none of it

        with StageReporter(err, quiet=o["quiet"]) as reporter:
            result = run_multiplicity(spec, on_stage=reporter.stage)
        text = render_for(result, o["output_format"], o["output"], o["width"], o["no_color"])
    write_with_notes(result.warnings, text, o["output"], err, o["quiet"])
    raise typer.Exit(EXIT_OK)
