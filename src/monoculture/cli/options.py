"""Shared CLI option definitions (typer `Annotated` aliases), so every command spells them the same way."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from enum import StrEnum
from inspect import Parameter
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import choices
from ..errors import UsageError
from ..multiplicity.spec import DISPARITIES, UTILITIES
from ..report.formats import Format


def _choices(name: str, values: tuple[str, ...]) -> type[StrEnum]:
    """The CLI's choices for an option, from the values the spec accepts (one list for both)."""
    return StrEnum(name, [(v.replace("-", "_"), v) for v in values])  # type: ignore[return-value]


FailureKind = _choices("FailureKind", choices.FAILURE_KINDS)


MissingDecision = _choices("MissingDecision", choices.MISSING_DECISION)


Population = _choices("Population", choices.POPULATIONS)


Layout = _choices("Layout", choices.LAYOUTS)


Join = _choices("Join", choices.JOINS)


OnDuplicate = _choices("OnDuplicate", choices.ON_DUPLICATE)


OnConflict = _choices("OnConflict", choices.ON_GROUP_CONFLICT)


INPUTS_HELP = (
    "Input files (CSV, CSV.gz or Parquet), globs or directories; '-' reads CSV from stdin. "
    "Layout 'files': one per decision-maker, named NAME=PATH or by the file stem."
)
LAYOUT_HELP = (
    "Input shape: files (one per decision-maker), wide (a decision column per decision-maker), stacked "
    "(a decision-maker column), transposed (a row per decision-maker); or evaluation logs as their tools "
    "write them: helm (run directories), eee (Every Eval Ever *_samples.jsonl), lm-eval (the samples "
    "files log_samples writes), each model a decision-maker, each item a person, the log's scoring the "
    "failure, columns item, model, answer, gold, task. Default: the log format a folder holds, else wide "
    "if --decision-columns is given, else files."
)
FAILURE_HELP = (
    "What counts as failing a person: error (decision ≠ label), outcome (the unfavourable decision), "
    "false-negative, false-positive. Default: error when --label is given."
)
JOIN_HELP = (
    "inner: individuals seen by every decision-maker; outer: seen by at least two (each person measured "
    "over the decision-makers that saw them)."
)

Inputs = Annotated[list[str], typer.Argument(help=INPUTS_HELP, show_default=False)]
OptionalInputs = Annotated[list[str] | None, typer.Argument(help=INPUTS_HELP, show_default=False)]
Patterns = Annotated[list[str] | None, typer.Option(
    "--patterns", help="Audit from pattern tables written by `monoculture count` instead of input files; "
    "repeat (or give several) to sum shards of one population.")]
IdColumn = Annotated[str, typer.Option("--id", help="Column holding the individual's ID (the link key).")]
PER_INPUT = " NAME=COLUMN gives one input's own name for it (files layout); repeatable."
IdColumns = Annotated[list[str] | None, typer.Option(
    "--id", help="Column holding the individual's ID (the link key); default: id." + PER_INPUT, show_default=False)]
Decision = Annotated[list[str] | None, typer.Option(
    help="Column holding the decision (or a score that a threshold or top-fraction rule turns into decisions); "
    "default: decision." + PER_INPUT,
    show_default=False)]
Label = Annotated[list[str] | None, typer.Option(
    help="Column holding the true outcome; from the input or the --people file." + PER_INPUT, show_default=False)]
Delimiter = Annotated[str | None, typer.Option(
    help="Field separator of CSV inputs and the people file, e.g. ';' or '\\t' (default: tab for .tsv, else "
    "comma).")]
Groups = Annotated[list[str] | None, typer.Option("--group", "-g", help="Group attribute column; repeat for several.")]
Intersect = Annotated[bool, typer.Option(
    "--intersect", help="Also report the intersections of all --group attributes.")]
People = Annotated[str | None, typer.Option(help="People file keyed by --id with group (and label) columns.")]
PeopleId = Annotated[str | None, typer.Option(
    help="The people file's ID column, when it is not named as the inputs' --id column.")]
LayoutOpt = Annotated[Layout | None, typer.Option(help=LAYOUT_HELP)]
Metric = Annotated[str | None, typer.Option(
    help="Evaluation logs: the score that decides failure where several are logged: a HELM stat "
    "(default exact_match), an Every Eval Ever evaluation_result_id (default exact_match:*), an lm-eval "
    "metric with an optional filter, NAME or NAME,FILTER (default acc, else exact_match; filter none).")]
DecisionColumns = Annotated[list[str] | None, typer.Option(
    "--decision-columns", help="Wide layout: decision columns, names or glob patterns (e.g. 'label_*'); repeatable.")]
DecisionMakerColumn = Annotated[str, typer.Option(
    help="Stacked/transposed layout: the column naming the decision-maker.")]
Failure = Annotated[FailureKind | None, typer.Option(help=FAILURE_HELP)]
Favorable = Annotated[str | None, typer.Option(
    help="The favourable decision/label value (false-negative/-positive, outcome).")]
Unfavorable = Annotated[str | None, typer.Option(help="The unfavourable decision value (--failure outcome).")]
Threshold = Annotated[list[str] | None, typer.Option(
    help="Scores: score >= T is favourable. NAME=T overrides it for one decision-maker; repeatable.")]
TopFraction = Annotated[float | None, typer.Option(
    help="Scores: the top Q of each decision-maker's rows are favourable (ties broken by ID).")]
LowerIsFavorable = Annotated[bool, typer.Option(
    "--lower-is-favorable", help="Scores: lower scores are favourable (score <= T).")]
FavorableDecision = Annotated[str | None, typer.Option(
    help="The favourable decision value, when decisions and labels use different words (Low/Medium/High "
    "against 0/1); --favorable sets both.")]
FavorableLabel = Annotated[str | None, typer.Option(
    help="The favourable label value, when labels use words of their own (e.g. 0 = not re-arrested).")]
UnfavorableDecision = Annotated[str | None, typer.Option(
    help="The unfavourable decision value (--failure outcome), when decisions and labels use different words.")]
UnfavorableLabel = Annotated[str | None, typer.Option(
    help="The unfavourable label value: every other label is favourable.")]
MissingDecisionOpt = Annotated[MissingDecision | None, typer.Option(
    help="A row with an ID but no decision: error, drop it (counted in coverage), or fail (a failure of the "
    "person, as LLM evaluations score an answer that could not be extracted; never a false positive). "
    "Default: as --drop-missing says. Wide layouts read a blank cell as 'not seen' whatever this says.")]
PairIntervals = _choices("PairIntervals", choices.PAIR_INTERVALS)
Answers = _choices("Answers", choices.ANSWERS)
AnswersOpt = Annotated[Answers, typer.Option(
    help="The same-wrong-answer measures (agreement, agreement when both are wrong, CAPA, the judge matrix; "
    "--failure error only): auto (when decisions take more than two values, as multiple-choice answers do), "
    "on, or off.")]
AnswerOptions = Annotated[int | None, typer.Option(
    "--options", min=2, metavar="N", help="Answer options per item, for the chance rate of two wrong answers "
    "agreeing (1/(N − 1)), where the input does not list an item's own. Default: the distinct answers seen.")]
OptionsColumn = Annotated[str | None, typer.Option(
    "--options-column", help="Stacked layout: a column of each item's number of answer options (a whole number "
    "of at least 2; empty where unknown), for the chance rate of two wrong answers agreeing.")]
PairIntervalsOpt = Annotated[PairIntervals, typer.Option(
    help="Bootstrap intervals of the pairwise measures (error consistency, lift, ...): auto (when there are at "
    "most 1,225 pairs, i.e. 50 decision-makers; their cost grows as B·N·k²), all, or none. Point values are "
    "always given.")]
PopulationOpt = Annotated[Population, typer.Option(
    help="Among whom false-negative and false-positive rules are measured: can-fail (people whose label is "
    "favourable, resp. not: FNR = FN / positives and FPR = FP / negatives, as error rates are reported; "
    "every number, S and H included, is over that population) or everyone (the share of all people).")]
JoinOpt = Annotated[Join, typer.Option(help=JOIN_HELP)]
Duplicates = Annotated[OnDuplicate, typer.Option(
    help="An ID twice in one input: error, or drop all its rows (counted in coverage).")]
DropMissing = Annotated[bool, typer.Option("--drop-missing",
    help="Drop (and count) rows with a missing ID, decision or label instead of stopping.")]
GroupConflicts = Annotated[OnConflict, typer.Option(
    help="Group values that differ between files: error, or treat as missing (counted).")]
CIMethod = _choices("CIMethod", choices.CI_METHODS)


Adjust = _choices("Adjust", choices.ADJUSTMENTS)


Bootstrap = Annotated[int, typer.Option(
    help="Bootstrap replicates (multinomial draws on the pattern table) for intervals; 0 turns intervals off.")]
Seed = Annotated[int, typer.Option(help="Random seed for the bootstrap and permutations (same seed, same output).")]
Alpha = Annotated[float, typer.Option(help="One alpha for every interval (level 1 − alpha) and test.")]
CI = Annotated[CIMethod, typer.Option(
    "--ci", help="Bootstrap interval: percentile or bca (bias-corrected, accelerated).")]
Permutations = Annotated[int, typer.Option(
    help="Permutations for the independence test of systemic failure; 0 turns tests off.")]
AdjustOpt = Annotated[Adjust, typer.Option(
    "--adjust", help="Multiple-comparison adjustment of the per-group p-values: holm, bh (Benjamini–Hochberg), none.")]
MinGroupSize = Annotated[int, typer.Option(
    help="Groups smaller than this are computed and shown, with a warning, but never flagged.")]
SuppressBelow = Annotated[int, typer.Option(
    help="Groups smaller than this (and the complements that would reveal them) publish no count or rate; "
    "0 = off.")]
Strata = Annotated[str | None, typer.Option(
    help="A column of known difficulty strata (exam subject, loan grade): also report H within strata, against "
    "independence within each stratum (the column is reported as a --group too).")]
Parity = _choices("Parity", choices.PARITY_MODES)


ParityOpt = Annotated[Parity | None, typer.Option(
    "--parity", help="Also reproduce a reference implementation's choices exactly (bommasani2022: whole-input "
    "rates, empty group rate 1, missing cells as failures); the default numbers are unchanged.")]
GateOn = _choices("GateOn", choices.GATE_ON)


MaxHomogenization = Annotated[float | None, typer.Option(
    help="Gate: fail (exit 1) when H, overall or in any group, is above this.")]
MaxSystemicFailure = Annotated[float | None, typer.Option(
    help="Gate: fail when systemic failure S (a share, e.g. 0.05), overall or in any group, is above this.")]
MaxGroupRatio = Annotated[float | None, typer.Option(
    "--max-group-systemic-failure-ratio",
    help="Gate: fail when a group's share of the systemically failed over its share of the population is above this.")]
GateOnOpt = Annotated[GateOn, typer.Option(
    "--gate-on", help="Compare thresholds with the estimate (point) or with the interval's lower bound (ci).")]
ExitZero = Annotated[bool, typer.Option("--exit-zero", help="Report threshold failures but exit 0.")]
Github = Annotated[bool, typer.Option(
    "--github", help="In GitHub Actions: append the Markdown report to $GITHUB_STEP_SUMMARY and print ::error "
    "annotations for failed thresholds.")]
EmitIds = Annotated[Path | None, typer.Option(
    "--emit-ids", help="Write the IDs of the individuals failed by every decision-maker to FILE (one per line). "
    "Off by default: the only way IDs leave the tool.")]
Verbose = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Say on stderr what each stage did and how long it took.")]
ConfigFile = Annotated[Path | None, typer.Option(
    "--config", help="Settings file (TOML). Default: monoculture.toml, or [tool.monoculture] in pyproject.toml, "
    "found from the current directory upward. Command-line options win over it.")]
Score = Annotated[str | None, typer.Option(
    help="Column with each candidate's probability of the favourable class (viable range, Rashomon capacity).")]
Probabilities = Annotated[list[str] | None, typer.Option(
    "--probabilities", metavar="COLUMNS",
    help="One probability column per class in every candidate's file (comma-separated or repeated names, or "
         "a glob such as 'p_*' matched in header order): the multi-class Rashomon capacity (Blahut–Arimoto). "
         "Each row's probabilities must sum to 1. Instead of --score.")]
Epsilon = Annotated[float, typer.Option(
    help="Rashomon set: candidates whose error rate is at most the baseline's + epsilon.")]
Baseline = Annotated[str | None, typer.Option(help="The baseline candidate (default: the lowest error rate).")]
ArbitraryThreshold = Annotated[float, typer.Option(
    help="A person is highly arbitrary when the set's pairwise disagreement on them is at least this.")]


Utility = _choices("Utility", UTILITIES)


Disparity = _choices("Disparity", DISPARITIES)
RoundOrder = Annotated[str, typer.Option(
    "--round-order", metavar="ORDER", help="Rounds (NAME@ROUND): natural (digits as numbers: v2 before v10; the "
    "default), appearance (as the inputs give them), or the rounds in order, comma-separated (v1,v2,v3).")]
LdaEpsilon = Annotated[float | None, typer.Option(
    "--lda-epsilon", min=0, help="How much utility a less discriminatory alternative may give up against the "
    "baseline (default: --epsilon, the Rashomon set's tolerance).")]
FprWeight = Annotated[float, typer.Option(
    "--lambda", min=0, help="λ of the TPR − λ·FPR utility (--utility tpr-fpr; Laufer et al.'s reference code: 1).")]


UtilityOpt = Annotated[Utility, typer.Option(
    "--utility", help="LDA utility: accuracy, or tpr-fpr (TPR − FPR, as Laufer, Raghavan, Barocas 2024).")]
DisparityOpt = Annotated[Disparity, typer.Option(
    "--disparity", help="LDA disparity over the first --group attribute: selection-rate-ratio (four-fifths "
    "convention), selection-rate-difference (Laufer et al.'s reference code; ratio and difference can pick "
    "different alternatives) or failure-rate-gap.")]
Split = Annotated[str | None, typer.Option(
    help="LDA: a column splitting people (e.g. train/test): choose alternatives on --select-on, report on "
    "--report-on, because the lowest in-sample disparity among many candidates is optimistically biased.")]
SelectOn = Annotated[str | None, typer.Option(help="LDA: the --split value on which alternatives are chosen.")]
ReportOn = Annotated[str | None, typer.Option(help="LDA: the --split value on which they are reported.")]
KeyFile = Annotated[Path | None, typer.Option("--key-file", help="The shared key (from monoculture keygen).")]
PseudoOutput = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Where to write the pseudonymised file (Parquet or CSV, by its extension).")]
Casefold = Annotated[bool, typer.Option("--casefold", help="Case-fold IDs before hashing (all firms alike).")]
Drop = Annotated[list[str] | None, typer.Option(
    "--drop", help="A column that must not leave the firm; repeatable.")]
Components = Annotated[str | None, typer.Option(
    help="Shared components per decision-maker (TOML tables, or CSV with a decision_maker column): tests whether "
    "pairs sharing a vendor, base model or training data co-fail more.")]
RoundColumn = Annotated[str | None, typer.Option(
    "--round", help="Stacked layout: a round or version column; each decision-maker in each round becomes "
    "NAME@ROUND (persistence over rounds, where improvements land). Files: name them NAME@ROUND=PATH.")]
OutputFormat = Annotated[Format | None, typer.Option(
    "--format", "-f", help="Report format (default: from the -o extension, else table).")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE instead of stdout.")]
Width = Annotated[int | None, typer.Option(
    min=40, help="Width of the table report in columns (default: the terminal's when the report goes to a "
    "terminal, else 100, so a file or pipe gets the same bytes wherever it runs).")]
NoColor = Annotated[bool, typer.Option("--no-color", help="No colour (also when NO_COLOR is set).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No warnings on stderr.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show the Python traceback of an error (for bug reports).")]
EmitSql = Annotated[bool, typer.Option(
    "--emit-sql", help="Print the SQL that computes the pattern table from the inputs (run it in your own "
    "warehouse, save the result as Parquet, then audit --patterns FILE) and exit.")]
SqlDialect = Annotated[str, typer.Option(help="Dialect of --emit-sql: duckdb or spark.")]
Engine = Annotated[str, typer.Option(
    help="Where reading, linking and counting run: auto (memory, or duckdb when the inputs would not fit in "
    "memory even one at a time; the report says which), memory (checks and counts every row; with one file "
    "per decision-maker and IDs like p000123, integers or fixed-width tokens (pseudonymised IDs, UUIDs) it "
    "reads one input at a time), duckdb (streams and spills to disk; needs monoculture[duckdb]) or spark "
    "(Spark SQL on --spark-master; needs monoculture[spark] and "
    "Java 17+). duckdb and spark read the files layout; they count missing values, repeated IDs and "
    "conflicting group values as the memory engine does (errors name no row).")]
MemoryLimit = Annotated[str | None, typer.Option(
    help="Memory limit of the duckdb engine, e.g. 8GB (default: half the memory available).")]
IdShards = Annotated[int | None, typer.Option(
    min=1, help="duckdb engine: count the ID space in this many hash slices, one after another, each "
    "reading every input (default: as many as keep the count within half its memory limit, or, where an "
    "ID repeats within an input, its spill within half the free temporary disk).")]
SparkMaster = Annotated[str | None, typer.Option(
    help="Spark master URL of the spark engine: local[*] (the default: this machine), spark://HOST:7077, "
    "yarn, k8s://... Inputs may then be HDFS or object-store URIs (hdfs://, s3a://, gs://).")]


def menus(values: list[str]) -> dict[str, list[str]]:
    """`--menu NAME=INPUT,INPUT` (repeated): each decision-maker's prediction files."""
    out: dict[str, list[str]] = {}
    for v in values:
        name, sep, files = v.partition("=")
        if not sep or not name.strip() or not listed([files]):
            raise UsageError(f"--menu takes NAME=INPUT,INPUT (input names); got '{v}'")
        if name.strip() in out:
            raise UsageError(f"--menu names the decision-maker '{name.strip()}' twice")
        out[name.strip()] = listed([files])
    return out


def listed(values: list[str] | None) -> list[str]:
    """An option given repeated or comma-separated (``--features a,b --features c``), as one list."""
    return [v.strip() for given in values or [] for v in given.split(",") if v.strip()]


# --- Option groups several commands share, declared once ---------------------------------------------------
# `shares(...)` adds them to a command's signature (Typer reads `inspect.signature`, which honours
# `__signature__`); the command receives them in its `**options`.


def _group(**params: tuple[Any, Any]) -> tuple[Parameter, ...]:
    return tuple(Parameter(name, Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
                 for name, (annotation, default) in params.items())


READ = _group(id_column=(IdColumns, None), decision=(Decision, None), label=(Label, None), delimiter=(Delimiter, None),
              group=(Groups, None), people=(People, None), people_id=(PeopleId, None), layout=(LayoutOpt, None),
              decision_columns=(DecisionColumns, None), decision_maker_column=(DecisionMakerColumn, "decision_maker"),
              metric=(Metric, None))
RULE = _group(failure=(Failure, None), favorable=(Favorable, None), unfavorable=(Unfavorable, None),
              threshold=(Threshold, None), top_fraction=(TopFraction, None),
              lower_is_favorable=(LowerIsFavorable, False), population=(PopulationOpt, Population.can_fail),
              favorable_decision=(FavorableDecision, None), favorable_label=(FavorableLabel, None),
              unfavorable_decision=(UnfavorableDecision, None), unfavorable_label=(UnfavorableLabel, None))
ROWS = _group(duplicates=(Duplicates, OnDuplicate.error), drop_missing=(DropMissing, False))
JOIN = _group(join=(JoinOpt, Join.inner), group_conflicts=(GroupConflicts, OnConflict.error),
              missing_decision=(MissingDecisionOpt, None))
ENGINE = _group(engine=(Engine, "auto"), memory_limit=(MemoryLimit, None), spark_master=(SparkMaster, None),
                id_shards=(IdShards, None), emit_sql=(EmitSql, False), sql_dialect=(SqlDialect, "duckdb"))
SEED = _group(seed=(Seed, 0), alpha=(Alpha, 0.05))
BOOTSTRAP = _group(bootstrap=(Bootstrap, 1000))
REPORT = _group(output_format=(OutputFormat, None), output=(Output, None), width=(Width, None),
                no_color=(NoColor, False), quiet=(Quiet, False), debug=(Debug, False))
QUIET = _group(quiet=(Quiet, False), debug=(Debug, False))


def shares(*groups: tuple[Parameter, ...]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command (declared with `**options`) the options of `groups` after its own."""
    def add(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)  # the module's annotations are strings
        own = [p for p in signature.parameters.values() if p.kind is not Parameter.VAR_KEYWORD]
        command.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*own, *(p for g in groups for p in g)])
        return command
    return add


def reading(o: dict[str, Any]) -> dict[str, Any]:
    """The READ group's values as the library's keywords (`spec.reading`)."""
    per_input: dict[str, dict[str, str]] = {}
    names = {}
    for role, key, flag, default in (("id", "id_column", "--id", "id"), ("decision", "decision", "--decision",
                                     "decision"), ("label", "label", "--label", None)):
        names[key], own = column_names(flag, o[key], default)
        for name, column in own.items():
            per_input.setdefault(name, {})[role] = column
    return {**names, "groups": o["group"] or [], "people": o["people"], "people_id": o["people_id"],
            "layout": o["layout"].value if o["layout"] else None, "decision_columns": o["decision_columns"] or [],
            "decision_maker_column": o["decision_maker_column"], "per_input": per_input, "delimiter": o["delimiter"],
            "metric": o["metric"]}


def column_names(flag: str, values: list[str] | str | None, default: str | None) -> tuple[str | None, dict[str, str]]:
    """`--id COLUMN` and `--id NAME=COLUMN`: the column every input uses, and the inputs' own names for it."""
    if isinstance(values, str):  # a config file's single value
        values = [values]
    plain = [v for v in values or [] if "=" not in v]
    if len(plain) > 1:
        raise UsageError(f"{flag} takes one column for every input (and NAME=COLUMN for one input's own); got "
                         f"{', '.join(repr(v) for v in plain)}")
    own: dict[str, str] = {}
    for value in values or []:
        if "=" in value:
            name, _, column = value.partition("=")
            if not name.strip() or not column.strip():
                raise UsageError(f"{flag} takes COLUMN or NAME=COLUMN; got '{value}'")
            own[name.strip()] = column.strip()
    return (plain[0] if plain else default), own


def rows(o: dict[str, Any]) -> dict[str, Any]:
    """The ROWS group's values as the library's keywords."""
    return {"on_duplicate": o["duplicates"].value, "on_missing": "drop" if o["drop_missing"] else "error"}


def thresholds(values: list[str]) -> tuple[float | None, dict[str, float]]:
    """`--threshold T` and `--threshold NAME=T`: the default and the per-decision-maker thresholds."""
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
