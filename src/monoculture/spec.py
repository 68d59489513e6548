"""The audit specification: everything an audit is asked to do, built once at the edge and passed down whole.

The CLI, a config file and the Python API (`monoculture.audit(...)`'s keywords) all build one `AuditSpec`;
every stage reads the part it needs (`spec.columns`, `spec.rule`, `spec.link`, ...). Each part is a frozen
dataclass that checks itself when built, so an option that cannot work stops the audit before any file is
read. Errors name the field in the library's words (`SpecError.field`, e.g. ``inference.alpha``); the CLI
says which flag that is. The report's `options` echo is derived from the spec (`AuditSpec.echo`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from . import choices
from .errors import UsageError


class SpecError(UsageError):
    """A specification that cannot work. `field` names the part (``link.join``), `problem` says what is wrong.

    The message reads ``<field> <problem>``; the CLI prints the flag in place of the field (see `errors`).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{{{field}}} {problem}")
        self.field, self.problem = field, problem

def one_of(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise SpecError(name, f"must be one of {', '.join(allowed)}; got '{value}'")


@dataclass(frozen=True)
class Columns:
    """Column names, as given by the user (see the CLI options of the same names)."""

    id: str = "id"
    decision: str = "decision"
    label: str | None = None
    groups: tuple[str, ...] = ()
    decision_columns: tuple[str, ...] = ()
    decision_maker_column: str = "decision_maker"
    score: str | None = None  # multiplicity: probability of the favourable class, per decision-maker
    round: str | None = None  # stacked layout: a round/version column; decision-makers become NAME@ROUND
    people_id: str | None = None  # the people file's ID column, when not named as the inputs' `id`


@dataclass(frozen=True)
class Inputs:
    """What to read: the input arguments (``NAME=PATH``, globs, ``-``), their layout and the people file.

    `patterns`: pattern tables written by `monoculture count`, summed instead of reading inputs.
    """

    paths: tuple[str, ...] = ()
    layout: str = "files"
    people: str | None = None
    patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        one_of("layout", self.layout, choices.LAYOUTS)
        if self.patterns and self.paths:
            raise SpecError("patterns", "are read instead of input files: give either, not both")
        if not self.patterns and not self.paths:
            raise SpecError("inputs", "are missing: give input files (or pattern tables)")


@dataclass(frozen=True)
class FailureRule:
    """What counts as failing a person. See metrics.md §0.

    kind
        ``error`` (decision ≠ label, multiclass allowed), ``outcome`` (decision is the unfavourable
        value), ``false-negative`` (label favourable, decision not), ``false-positive`` (label not
        favourable, decision favourable).
    threshold / thresholds / top_fraction
        Turn numeric scores into decisions: favourable when ``score >= threshold`` (``<=`` with
        `lower_is_favorable`), per decision-maker overrides in `thresholds`; or the top `top_fraction`
        of each decision-maker's own rows, ties broken by ID so row order never matters.
    population
        ``can-fail`` (default): a false-negative rule is measured among the people whose label is
        favourable, a false-positive rule among those whose label is not (FNR = FN / positives, FPR = FP /
        negatives); ``everyone``: among all people (FN / everyone). Other rules can fail anyone.
    """

    kind: str = "error"
    favorable: str | None = None  # the favourable decision (and label, unless favorable_label is given)
    unfavorable: str | None = None  # the unfavourable decision (and label, unless unfavorable_label is given)
    threshold: float | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)
    top_fraction: float | None = None
    lower_is_favorable: bool = False
    population: str = "can-fail"
    favorable_label: str | None = None  # the label's own vocabulary, when it is not the decisions'
    unfavorable_label: str | None = None

    def __post_init__(self) -> None:
        one_of("rule.kind", self.kind, choices.FAILURE_KINDS)
        one_of("rule.population", self.population, choices.POPULATIONS)
        if self.favorable_label is not None and self.unfavorable_label is not None:
            raise SpecError("rule.favorable_label", "and an unfavourable label exclude each other: give one")
        if self.top_fraction is not None and (self.threshold is not None or self.thresholds):
            raise SpecError("rule.top_fraction", "and a threshold exclude each other: give one")
        if self.top_fraction is not None and not 0 < self.top_fraction < 1:
            raise SpecError("rule.top_fraction", f"must be between 0 and 1 (exclusive); got {self.top_fraction}")
        for value in [self.threshold, *self.thresholds.values()]:
            if value is not None and not math.isfinite(value):
                raise SpecError("rule.threshold", f"must be a finite number; got {value}")

    @property
    def uses_scores(self) -> bool:
        return self.threshold is not None or bool(self.thresholds) or self.top_fraction is not None

    @property
    def needs_label(self) -> bool:
        return self.kind != "outcome"

    @property
    def own_label_vocabulary(self) -> bool:
        """Labels have values of their own (0/1 against Low/Medium/High): compared as favourable or not."""
        return self.favorable_label is not None or self.unfavorable_label is not None

    @property
    def conditional(self) -> bool:
        """Measured only among the people the rule can fail (false-negative and false-positive rules)."""
        return self.kind in ("false-negative", "false-positive") and self.population == "can-fail"

    def validate(self, names: list[str]) -> None:
        """Check the per-decision-maker thresholds against the decision-makers the inputs hold."""
        unknown = sorted(set(self.thresholds) - set(names))
        if unknown:
            raise SpecError("rule.threshold", f"names decision-maker '{unknown[0]}', which is not among the "
                                              f"inputs ({', '.join(names)})")
        if self.thresholds and self.threshold is None and set(self.thresholds) != set(names):
            missing = sorted(set(names) - set(self.thresholds))
            raise SpecError("rule.threshold", f"is missing for decision-maker '{missing[0]}': give a default "
                                              "threshold too")

    @classmethod
    def of(
        cls, kind: str | None, label: str | None, *, favorable: str | None = None, unfavorable: str | None = None,
        threshold: float | None = None, thresholds: Mapping[str, float] | None = None,
        top_fraction: float | None = None, lower_is_favorable: bool = False, population: str = "can-fail",
        favorable_label: str | None = None, unfavorable_label: str | None = None,
    ) -> FailureRule:
        """The rule the options describe. Without a kind the rule is ``error``, which needs a label."""
        if kind is None:
            if label is None:
                raise SpecError("rule.kind", "is not given and there is no label: name a label column (the "
                                             "rule is then error: decision ≠ label) or choose the outcome rule")
            kind = "error"
        return cls(kind=kind, favorable=favorable, unfavorable=unfavorable, threshold=threshold,
                   thresholds=dict(thresholds or {}), top_fraction=top_fraction,
                   lower_is_favorable=lower_is_favorable, population=population,
                   favorable_label=favorable_label, unfavorable_label=unfavorable_label)

    def echo(self) -> dict:
        return asdict(self) | {"thresholds": dict(sorted(self.thresholds.items()))}


@dataclass(frozen=True)
class LinkOptions:
    """How rows are joined by ID, and what happens to rows that cannot be."""

    join: str = "inner"
    on_duplicate: str = "error"  # or "drop": drop every row of an ID that occurs twice in one input
    on_missing: str = "error"  # or "drop": drop rows with a missing ID, decision or label
    missing_decision: str | None = None  # error, drop or fail (a blank decision fails); None: as on_missing
    on_group_conflict: str = "error"  # or "missing": treat the individual's group as missing
    per_person: bool = False  # keep each linked individual's decisions, label and scores (multiplicity)

    def __post_init__(self) -> None:
        one_of("link.join", self.join, choices.JOINS)
        one_of("link.on_duplicate", self.on_duplicate, choices.ON_DUPLICATE)
        one_of("link.on_missing", self.on_missing, choices.ON_MISSING)
        if self.missing_decision is not None:
            one_of("link.missing_decision", self.missing_decision, choices.MISSING_DECISION)

    @property
    def on_missing_decision(self) -> str:
        """What a row without a decision does: error, drop, or fail (it counts as a failure)."""
        return self.missing_decision if self.missing_decision is not None else self.on_missing
        one_of("link.on_group_conflict", self.on_group_conflict, choices.ON_GROUP_CONFLICT)


@dataclass(frozen=True)
class InferenceOptions:
    """Options for intervals and tests. One alpha drives both (confidence level 1 − alpha)."""

    bootstrap: int = 1000
    seed: int = 0
    alpha: float = 0.05
    ci: str = "percentile"
    permutations: int = 9999
    adjust: str = "holm"
    # Bootstrap intervals of the pairwise measures: auto (when there are at most choices.PAIR_INTERVALS_MAX pairs:
    # their cost grows as B·N·k²), all, or none. Point values are always given.
    pair_intervals: str = "auto"

    def __post_init__(self) -> None:
        if self.bootstrap < 0:
            raise SpecError("inference.bootstrap", f"takes a count >= 0; got {self.bootstrap}")
        if self.permutations < 0:
            raise SpecError("inference.permutations", f"takes a count >= 0; got {self.permutations}")
        if not 0 < self.alpha < 1:
            raise SpecError("inference.alpha", f"must be between 0 and 1 (exclusive); got {self.alpha}")
        one_of("inference.ci", self.ci, choices.CI_METHODS)
        one_of("inference.adjust", self.adjust, choices.ADJUSTMENTS)
        one_of("inference.pair_intervals", self.pair_intervals, choices.PAIR_INTERVALS)

    def intervals_for_pairs(self, k: int) -> bool:
        """Whether the k decision-makers' pairs get bootstrap intervals."""
        few = k * (k - 1) // 2 <= choices.PAIR_INTERVALS_MAX
        return self.pair_intervals == "all" or (self.pair_intervals == "auto" and few)


@dataclass(frozen=True)
class Thresholds:
    """The gates: limits whose breach makes the audit fail (exit code 1)."""

    max_homogenization: float | None = None
    max_systemic_failure: float | None = None
    max_group_systemic_failure_ratio: float | None = None
    gate_on: str = "point"

    def __post_init__(self) -> None:
        one_of("gates.gate_on", self.gate_on, choices.GATE_ON)

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.max_homogenization, self.max_systemic_failure,
                                            self.max_group_systemic_failure_ratio))


@dataclass(frozen=True)
class MeasureOptions:
    """What is measured beyond the overall numbers, and what is withheld."""

    intersect: bool = False
    min_group_size: int = 30
    suppress_below: int = 0
    parity: str | None = None
    components: str | None = None  # a file naming each decision-maker's shared components
    gates: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        if self.parity is not None:
            one_of("measure.parity", self.parity, choices.PARITY_MODES)


@dataclass(frozen=True)
class EngineOptions:
    """Which engine counts the pattern table, and its limits."""

    engine: str = "auto"
    memory_limit: str | None = None
    spark_master: str | None = None
    id_shards: int | None = None

    def __post_init__(self) -> None:
        one_of("engine.engine", self.engine, choices.ENGINES)


def reading(
    inputs: Sequence[str] = (),
    *,
    id_column: str = "id",
    decision: str = "decision",
    label: str | None = None,
    groups: Sequence[str] = (),
    people: str | None = None,
    layout: str | None = None,
    decision_columns: Sequence[str] = (),
    decision_maker_column: str = "decision_maker",
    score: str | None = None,
    round_column: str | None = None,
    people_id: str | None = None,
    patterns: Sequence[str] | None = None,
) -> tuple[Inputs, Columns]:
    """What to read and which columns, from the keywords every command shares (the CLI options' names).
    The layout defaults to ``wide`` when decision columns are named, else ``files``."""
    where = Inputs(paths=tuple(inputs), layout=layout or ("wide" if decision_columns else "files"), people=people,
                   patterns=tuple(patterns or ()))
    return where, Columns(id=id_column, decision=decision, label=label, groups=tuple(groups),
                          decision_columns=tuple(decision_columns), decision_maker_column=decision_maker_column,
                          score=score, round=round_column, people_id=people_id)


class LinkSpec(Protocol):
    """What read → link needs, as every command's spec has it (read-only)."""

    inputs: Inputs
    columns: Columns
    rule: FailureRule
    link: LinkOptions


@dataclass(frozen=True)
class AuditSpec:
    """One audit, whole. Build it with `AuditSpec.of` (keywords as `monoculture.audit` takes them)."""

    inputs: Inputs
    columns: Columns = field(default_factory=Columns)
    rule: FailureRule = field(default_factory=FailureRule)
    link: LinkOptions = field(default_factory=LinkOptions)
    inference: InferenceOptions = field(default_factory=InferenceOptions)
    measure: MeasureOptions = field(default_factory=MeasureOptions)
    engine: EngineOptions = field(default_factory=EngineOptions)
    emit_ids: str | None = None  # where to write the IDs of those failed by all (the only way IDs leave)

    def __post_init__(self) -> None:
        if self.link.on_missing_decision == "fail" and self.rule.uses_scores:
            raise SpecError("link.missing_decision", "fail takes decisions, not scores: a missing score has no "
                                                     "decision to count as a failure")
        if self.emit_ids is not None and self.inputs.patterns:
            raise SpecError("emit_ids", "needs the input files: a pattern table holds no IDs")

    @classmethod
    def of(
        cls,
        inputs: Sequence[str] = (),
        *,
        failure: str | None = None,
        favorable: str | None = None,
        unfavorable: str | None = None,
        threshold: float | None = None,
        thresholds: Mapping[str, float] | None = None,
        top_fraction: float | None = None,
        lower_is_favorable: bool = False,
        population: str = "can-fail",
        favorable_label: str | None = None,
        unfavorable_label: str | None = None,
        join: str = "inner",
        on_duplicate: str = "error",
        on_missing: str = "error",
        on_group_conflict: str = "error",
        missing_decision: str | None = None,
        inference: InferenceOptions | None = None,
        intersect: bool = False,
        min_group_size: int = 30,
        suppress_below: int = 0,
        parity: str | None = None,
        gates: Thresholds | None = None,
        emit_ids: str | os.PathLike | None = None,
        components: str | None = None,
        patterns: Sequence[str] | None = None,
        engine: str = "auto",
        memory_limit: str | None = None,
        spark_master: str | None = None,
        id_shards: int | None = None,
        **read: Any,
    ) -> AuditSpec:
        """The spec from the keywords of `monoculture.audit` (each as the CLI option of the same name).

        `read`: the keywords of `reading` (columns, layout, people file, round column).
        """
        where, columns = reading(inputs, patterns=patterns, **read)
        return cls(
            inputs=where,
            columns=columns,
            # A pattern table carries its own rule: none is needed (nor checked) to read one.
            rule=FailureRule() if patterns else FailureRule.of(
                failure, columns.label, favorable=favorable, unfavorable=unfavorable, threshold=threshold,
                thresholds=thresholds, top_fraction=top_fraction, lower_is_favorable=lower_is_favorable,
                population=population, favorable_label=favorable_label, unfavorable_label=unfavorable_label),
            link=LinkOptions(join=join, on_duplicate=on_duplicate, on_missing=on_missing,
                             on_group_conflict=on_group_conflict, missing_decision=missing_decision),
            inference=inference or InferenceOptions(),
            measure=MeasureOptions(intersect=intersect, min_group_size=min_group_size, suppress_below=suppress_below,
                                   parity=parity, components=components, gates=gates or Thresholds()),
            engine=EngineOptions(engine=engine, memory_limit=memory_limit, spark_master=spark_master,
                                 id_shards=id_shards),
            emit_ids=None if emit_ids is None else str(emit_ids),
        )

    def echo_counting(self) -> dict:
        """The reading, linking and rule settings, as the report's `options` (and a pattern file) record them."""
        c, layout, link = self.columns, self.inputs.layout, self.link
        return {
            "id": c.id, "decision": c.decision, "label": c.label, "groups": list(c.groups),
            "intersect": self.measure.intersect, "people": self.inputs.people, "people_id": c.people_id,
            "layout": layout,
            "decision_columns": list(c.decision_columns),
            "decision_maker_column": c.decision_maker_column if layout in ("stacked", "transposed") else None,
            "failure": self.rule.echo(),
            "join": link.join, "on_duplicate": link.on_duplicate, "on_missing": link.on_missing,
            "on_group_conflict": link.on_group_conflict, "missing_decision": link.on_missing_decision,
        }

    def echo_measuring(self) -> dict:
        """The measuring settings the report's `options` add to what was counted."""
        m = self.measure
        return {"inference": asdict(self.inference), "min_group_size": m.min_group_size,
                "suppress_below": m.suppress_below, "parity": m.parity}
