"""How rows are linked, how intervals are drawn, what is measured and gated, which engine counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import choices
from .base import SpecError, one_of


@dataclass(frozen=True)
class LinkOptions:
    """How rows are joined by ID, and what happens to rows that cannot be."""

    join: str = "inner"
    on_duplicate: str = "error"  # or "drop": drop every row of an ID that occurs twice in one input
    on_missing: str = "error"  # or "drop": drop rows with a missing ID, decision or label
    missing_decision: str | None = None  # error, drop or fail (a blank decision fails); None: as on_missing
    on_group_conflict: str = "error"  # or "missing": treat the individual's group as missing
    per_person: bool = False  # keep each linked individual's decisions, label and scores (multiplicity)
    # The chosen answers for the same-wrong-answer measures (error rule): auto (multi-class decisions), on, off
    answers: str = "auto"

    def __post_init__(self) -> None:
        one_of("link.join", self.join, choices.JOINS)
        one_of("link.on_duplicate", self.on_duplicate, choices.ON_DUPLICATE)
        one_of("link.on_missing", self.on_missing, choices.ON_MISSING)
        if self.missing_decision is not None:
            one_of("link.missing_decision", self.missing_decision, choices.MISSING_DECISION)
        one_of("link.on_group_conflict", self.on_group_conflict, choices.ON_GROUP_CONFLICT)
        one_of("link.answers", self.answers, choices.ANSWERS)

    @property
    def on_missing_decision(self) -> str:
        """What a row without a decision does: error, drop, or fail (it counts as a failure)."""
        return self.missing_decision if self.missing_decision is not None else self.on_missing


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
    strata: str | None = None  # a group column of known difficulty strata: the stratified null (metrics.md §10)
    components: str | None = None  # a file naming each decision-maker's shared components
    gates: Thresholds = field(default_factory=Thresholds)
    options: int | None = None  # answer options per item, for the chance rate of the same wrong answer (§11)
    round_order: str = "natural"  # rounds NAME@ROUND: natural (v2 < v10), appearance, or "v1,v2,v3"

    def __post_init__(self) -> None:
        if self.parity is not None:
            one_of("measure.parity", self.parity, choices.PARITY_MODES)
        if self.options is not None and self.options < 2:
            raise SpecError("measure.options", f"takes the number of answer options, at least 2; got {self.options}")


@dataclass(frozen=True)
class EngineOptions:
    """Which engine counts the pattern table, and its limits."""

    engine: str = "auto"
    memory_limit: str | None = None
    spark_master: str | None = None
    id_shards: int | None = None

    def __post_init__(self) -> None:
        one_of("engine.engine", self.engine, choices.ENGINES)
