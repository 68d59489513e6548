"""`monoculture simulate dynamics|urn`: what happens next, from the data or a synthetic setting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .. import simulate as simulation
from ..spec import InferenceOptions
from . import options as opt
from .app import app
from .help import LENDERS, PanelCommand, examples
from .output import errors_to_exit, render_for, stderr_console, write_with_notes
from .progress import StageReporter

simulate_app = typer.Typer(
    name="simulate", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
    help="What happens next: participation dynamics (Dean et al. 2024) and repeat-use feedback (Laufer 2020).",
)
app.add_typer(simulate_app)


# An audit's reading and rule options, for prediction files (frozen, menu); --people and --group are the
# command's own (a refit reads its people file too).
AUDIT_READ = tuple(p for p in opt.READ if p.name not in ("people", "group"))
DUPLICATES = tuple(p for p in opt.ROWS if p.name != "drop_missing")


@simulate_app.command("dynamics", no_args_is_help=True, cls=PanelCommand, epilog=examples(
    f"monoculture simulate dynamics {LENDERS} --id applicant_id --decision approved --label repaid --group race "
    "--epsilon 0.5 --rounds 300",
    "monoculture simulate dynamics a_v1.csv a_v2.csv b_v1.csv b_v2.csv --label y -g race --menu a=a_v1,a_v2 "
    "--menu b=b_v1,b_v2",
    "monoculture simulate dynamics --people sample_data/applicants.csv --features income,tenure_years,debt_ratio "
    "--target repaid --group race",
    "monoculture simulate dynamics --quadratic sample_data/quadratic.toml -f json"))
@opt.shares(AUDIT_READ, opt.RULE, DUPLICATES, opt.BOOTSTRAP, opt.SEED, opt.REPORT)
def simulate_dynamics(
    inputs: Annotated[list[str] | None, typer.Argument(
        help="Prediction files (as `audit` reads them) for --response frozen or menu: each file's failure rate "
             "in each subpopulation is its risk.", show_default=False)] = None,
    response: Annotated[str, typer.Option(
        help="How decision-makers respond when their users change: refit (learners refit to --people rows, or "
             "a --quadratic spec), frozen (prediction files never change; only people move), menu (each "
             "decision-maker deploys, each round, the best of its --menu files for its current users). "
             "Default: frozen with prediction files (menu with --menu), else refit.")] = "auto",
    menu: Annotated[list[str] | None, typer.Option(
        "--menu", metavar="NAME=INPUT,INPUT",
        help="--response menu: the prediction files (input names) one decision-maker offers; repeat per "
             "decision-maker. Every input in one menu.")] = None,
    quadratic: Annotated[Path | None, typer.Option(
        help="TOML spec of quadratic risks: one [[group]] table per subpopulation with name, phi, beta, and "
             "optional cov (default identity), sigma2 (default 1), alphas (initial split over the learners).")] = None,
    people: Annotated[str | None, typer.Option(
        help="People file (CSV/Parquet). refit: a row per person with the --features, --target and --group "
             "columns. frozen/menu: keyed by --id with group (and label) columns, as in audit.")] = None,
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
    **o: Any,
) -> None:
    """Participation dynamics: who ends up with which decision-maker (Dean et al., AISTATS 2024; metrics.md §8).

    Each round every decision-maker responds to the people it serves — refits to them (refit), keeps its
    predictions (frozen), or deploys the best of its prediction files for them (menu) — then each
    subpopulation shifts its participation towards those that serve it well (multiplicative weights).
    Reports the trajectory, the final segmentation, the average risk against one decision-maker serving
    everyone, and systemic failure and homogenization of the first-round and final decisions.
    """
    err = stderr_console(o["no_color"])
    with errors_to_exit(err, o["debug"]):
        request = simulation.SettingRequest(
            response=response, inputs=inputs or [], menus=opt.menus(menu or []),
            quadratic=None if quadratic is None else str(quadratic), people=people, features=opt.listed(features),
            target=target, groups=group or [], loss=loss, l2=l2, drop_missing=drop_missing)

        def spec() -> Any:
            from .audit import counting_spec

            defaults = {p.name: p.default for p in (*opt.JOIN, *opt.ENGINE)}
            return counting_spec(inputs or [], {**defaults, **o, "people": people, "group": group,
                                                "drop_missing": drop_missing})

        with StageReporter(err, quiet=o["quiet"]) as reporter:
            setting = simulation.setting_for(request, spec, on_stage=reporter.stage)
        result = simulation.dynamics(
            setting, learners=learners, init=init, epsilon=epsilon, rounds=rounds, update=learner_update,
            step_size=step_size, tol=tol, seed=o["seed"], fail_above=fail_above,
            inference=InferenceOptions(bootstrap=o["bootstrap"], seed=o["seed"], alpha=o["alpha"], permutations=0),
        )
        text = render_for(result, o["output_format"], o["output"], o["width"], o["no_color"])
    write_with_notes(result.warnings, text, o["output"], err, o["quiet"])


@simulate_app.command("urn", cls=PanelCommand, epilog=examples(
    "monoculture simulate urn --people sample_data/lender_a.csv --group race --decision approved --adverse 0",
    "monoculture simulate urn --rule threshold --initial-bias 0.05 --rounds 20 -f html -o urn.html"))
@opt.shares(opt.SEED, opt.REPORT)
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
    population: Annotated[int, typer.Option(rich_help_panel="Model",
        help="Without --people: people in each run, split into 'reference' and 'disadvantaged' halves.")] = 10_000,
    rounds: Annotated[int, typer.Option(help="Number of repeated uses of the score.")] = 10,
    rule: Annotated[str, typer.Option(
        help="polya (adverse with the urn's adverse share) or threshold (adverse when the share of adverse "
             "balls among --draws drawn reaches --cutoff).")] = "polya",
    reinforce: Annotated[str, typer.Option(
        help="drawn (add balls of the decision's colour: the plain Pólya urn) or adverse (only adverse "
             "decisions add balls).")] = "drawn",
    reinforcement: Annotated[float, typer.Option(help="Balls added to the urn per decision fed back.")] = 1.0,
    urn_size: Annotated[float, typer.Option(help="Balls in each urn at the start.")] = 2.0,
    draws: Annotated[int, typer.Option(help="Threshold rule: balls drawn for the score.")] = 10,
    cutoff: Annotated[float, typer.Option(help="Threshold rule: adverse when the score reaches this.")] = 0.5,
    replications: Annotated[int, typer.Option(help="Monte Carlo runs (seeded) for the intervals.")] = 200,
    **o: Any,
) -> None:
    """Repeat-use feedback of a risk score as Pólya urns (Laufer 2020; metrics.md §9).

    Reports, round by round with Monte Carlo intervals over seeded runs, how the gap in adverse decisions
    between groups and the share of people who always receive the adverse decision grow.
    """
    err = stderr_console(o["no_color"])
    with errors_to_exit(err, o["debug"]):
        from ..simulate.urn import UrnModel  # here: `--help` needs none of the simulation
        from ..simulate.urn import population as urn_population

        groups, sizes, rates, source = urn_population(people, group, decision, adverse, base_rate, initial_bias,
                                                      population)
        model = UrnModel(rule=rule, reinforce=reinforce, reinforcement=reinforcement, urn_size=urn_size,
                         draws=draws, cutoff=cutoff)
        result = simulation.urn_study(groups, sizes, rates, rounds=rounds, model=model, replications=replications,
                                      seed=o["seed"], alpha=o["alpha"], options=source)
        text = render_for(result, o["output_format"], o["output"], o["width"], o["no_color"])
    write_with_notes(result.warnings, text, o["output"], err, o["quiet"])
