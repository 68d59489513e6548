"""The result object: plain dataclasses that every renderer takes and none computes on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..link.coverage import Coverage, InputResult
from .metric import OMIT_NONE, Metric
from .result_answers import AnswerSummary, JudgeResult, SameWrongAnswer
from .result_rounds import HistogramBin, RoundsResult

# and the results below
__all__ = ["AnswerSummary", "HistogramBin", "JudgeResult", "Metric", "RoundsResult", "SameWrongAnswer"]

SCHEMA_VERSION = "1.0"


@dataclass
class PairResult:
    a: str
    b: str
    n: int
    error_consistency: Metric
    cofailure_lift: Metric
    double_fault: Metric
    q_statistic: Metric
    correlation: Metric
    disagreement: Metric
    # Observed over expected co-failure given each person's raw score (conditional Rasch, metrics.md §10)
    local_dependence_lift: Metric = field(default_factory=lambda: Metric(None, "not computed"))
    # Multi-class decisions only (metrics.md §11); absent from the JSON otherwise
    agreement: Metric | None = field(default=None, metadata=OMIT_NONE)
    same_wrong_answer: SameWrongAnswer | None = field(default=None, metadata=OMIT_NONE)
    capa: Metric | None = field(default=None, metadata=OMIT_NONE)
    capa_probabilistic: Metric | None = field(default=None, metadata=OMIT_NONE)  # where probabilities are logged


@dataclass
class HarmBin:
    """The share failed by at least `at_least` decision-makers, against independence (metrics.md §12)."""

    at_least: int
    rule: str | None  # "systemic" (r = k: nobody says yes), "majority" (r = ⌈k/2⌉), else None
    observed: Metric
    expected: Metric


@dataclass
class RaschBin:
    failures: int
    expected: Metric


@dataclass
class RaschFitResult:
    """G² of the failure-count histogram against the fitted model (an approximate check; metrics.md §10)."""

    g2: Metric
    df: int | None
    p_value: Metric
    log_likelihood: float | None
    converged: bool


@dataclass
class RaschResult:
    """The marginal Rasch null: one latent difficulty per person, nothing else shared (metrics.md §10)."""

    null: str
    sigma: Metric
    expected_systemic_failure: Metric
    homogenization: Metric  # S / S_rasch: homogenization beyond difficulty
    failure_count_histogram: list[RaschBin]
    fit: RaschFitResult
    flags: list[str] = field(default_factory=list)


@dataclass
class ScopeResult:
    """Metrics for one population: everyone linked (`overall`) or one group."""

    n: int | None  # None only for a suppressed group: its size is withheld
    failure_rates: dict[str, Metric]
    systemic_failure: Metric
    expected_systemic_failure: Metric
    homogenization: Metric
    log_homogenization: Metric
    bounded_homogenization: Metric
    consistent_success: Metric
    expected_consistent_success: Metric
    failure_count_histogram: list[HistogramBin]
    diversity: dict[str, Metric] = field(default_factory=dict)
    pairwise: Sequence[PairResult] = field(default_factory=list)  # a `records.Records` when computed
    rasch: RaschResult | None = None  # None: not computed for this population
    effective_decision_makers: Metric = field(default_factory=lambda: Metric(None, "not computed"))
    harm_by_rule: list[HarmBin] = field(default_factory=list)
    answers: AnswerSummary | None = field(default=None, metadata=OMIT_NONE)  # multi-class decisions (§11)


@dataclass
class GroupResult(ScopeResult):
    attribute: str = ""
    group: str = ""
    share_of_population: Metric = field(default_factory=lambda: Metric(None, "not computed"))
    share_of_systemic_failures: Metric = field(default_factory=lambda: Metric(None, "not computed"))
    small: bool = False  # below --min-group-size: computed, never flagged
    suppressed: bool = False  # below --suppress-below (or its complement): nothing published


@dataclass
class GroupHomogenization:
    """Group-level homogenization for one attribute (Bommasani et al. 2022) and the decomposition of H."""

    attribute: str
    population: str  # which population the rates use
    groups: int
    average: Metric
    uniform: Metric
    worst: Metric
    variance: Metric
    between: Metric
    within: Metric


@dataclass
class StratifiedResult:
    """The stratified null (metrics.md §10): independence within each stratum of a known-difficulty column."""

    attribute: str
    null: str
    strata: int
    expected_systemic_failure: Metric  # S_strat = Σ_s w_s Π_i e_{s,i}
    homogenization: Metric  # S / S_strat: the within factor of the between/within decomposition
    between: Metric  # how much of H the strata's differing rates explain


@dataclass
class ParityResult:
    """The reference code's choices (--parity bommasani2022), reported beside, never instead of, the defaults."""

    mode: str
    description: str
    failure_rates: dict[str, Metric]
    systemic_failure: Metric
    expected_systemic_failure: Metric
    homogenization: Metric


@dataclass
class SizeSensitivity:
    m: int
    subsets: int
    sampled: bool
    homogenization: Metric


@dataclass
class DecisionMakerResult:
    name: str
    n: int
    failure_rate: Metric
    input_rows: int
    input_failure_rate: Metric  # over every valid row of its own input, before linking
    recourse: Metric = field(default_factory=lambda: Metric(None, "not computed"))
    expected_recourse: Metric = field(default_factory=lambda: Metric(None, "not computed"))


@dataclass
class GateResult:
    """One threshold checked on one population: `status` is pass, fail or skipped."""

    name: str
    scope: str  # "overall" or "group"
    attribute: str | None
    group: str | None
    limit: float
    value: float | None
    compared: float | None  # the number compared with the limit (the estimate or the interval's lower bound)
    status: str
    reason: str


@dataclass
class SharingSet:
    value: str
    members: list[str]
    homogenization: Metric


@dataclass
class ComponentResult:
    attribute: str
    sharing_pairs: int
    other_pairs: int
    mean_lift_sharing: Metric
    mean_lift_other: Metric
    lift_difference: Metric  # sharing − other; p_value from the permutation test
    mean_kappa_sharing: Metric
    mean_kappa_other: Metric
    kappa_difference: Metric
    sets: list[SharingSet]


@dataclass
class AuditResult:
    schema_version: str
    tool_version: str
    rule: str
    join: str
    options: dict[str, Any]
    inputs: list[InputResult]
    decision_makers: list[DecisionMakerResult]
    overall: ScopeResult
    groups: list[GroupResult]
    coverage: Coverage
    warnings: list[str]
    group_homogenization: list[GroupHomogenization] = field(default_factory=list)
    parity: ParityResult | None = None
    gates: list[GateResult] = field(default_factory=list)
    verdict: str = "no thresholds"

    @property
    def failed_gates(self) -> int:
        """How many thresholds the audit breached."""
        return sum(g.status == "fail" for g in self.gates)
    components: list[ComponentResult] = field(default_factory=list)
    cluster_order: list[str] = field(default_factory=list)  # decision-makers clustered on κ
    lift_order: list[str] = field(default_factory=list)  # clustered on the local dependence lifts
    rounds: RoundsResult | None = None
    leave_one_out: dict[str, Metric] = field(default_factory=dict)
    homogenization_by_size: list[SizeSensitivity] = field(default_factory=list)
    stratified: StratifiedResult | None = None  # --strata COLUMN
    judges: Sequence[JudgeResult] | None = field(default=None, metadata=OMIT_NONE)  # multi-class decisions (§11)


@dataclass
class CandidateResult:
    """One candidate model: its loss and whether it is in the ε-Rashomon set."""

    name: str
    error_rate: Metric
    in_set: bool


@dataclass
class MultiplicityScope:
    """Multiplicity over the Rashomon set for everyone (attribute "") or one group."""

    attribute: str
    group: str
    n: int
    ambiguity: Metric
    discrepancy: Metric
    mean_disagreement: Metric
    disagreement_quantiles: dict[str, float]
    disagreement_histogram: list[float]  # shares in 10 bins of width 0.1 on [0, 1]
    share_highly_arbitrary: Metric  # share of this population with disagreement >= the threshold
    share_of_highly_arbitrary: Metric  # this group's share of all highly arbitrary people
    mean_viable_range: Metric
    mean_score_std: Metric
    mean_rashomon_capacity: Metric


@dataclass
class SheetRow:
    """Multiplicity sheet (Ganesh 2024): one candidate's accuracy and per-group rates."""

    name: str
    in_set: bool
    accuracy: Metric
    failure_rates: dict[str, Metric]
    selection_rates: dict[str, Metric]


@dataclass
class LDACandidate:
    name: str
    accuracy: Metric
    utility: Metric
    selection_rate_ratio: Metric
    failure_rate_gap: Metric
    within_epsilon: bool
    less_discriminatory: bool
    pareto: bool
    utility_difference: Metric  # candidate − baseline, paired bootstrap interval
    disparity_difference: Metric
    decisions_changed: int  # people whose decision differs from the baseline's
    # With a split: whether it was chosen as less discriminatory on the selection split (the verdict above
    # is the report split's); absent without a split
    chosen_on_selection: bool | None = field(default=None, metadata=OMIT_NONE)
    # Two groups: the first's selection rate minus the second's (the note names them); more: max − min
    selection_rate_difference: Metric = field(default_factory=lambda: Metric(None, "not computed"))


@dataclass
class LDAResult:
    """Is there a candidate about as good as the baseline with lower disparity? A search result over the
    candidates supplied and a convention (four-fifths), not a legal finding."""

    exists: bool | None
    attribute: str | None
    disparity: str
    utility: str
    baseline: str
    epsilon: float
    candidates: list[LDACandidate]
    note: str


@dataclass
class MultiplicityResult:
    schema_version: str
    tool_version: str
    kind: str
    rule: str
    options: dict[str, Any]
    inputs: list[InputResult]
    baseline: str
    epsilon: float
    rashomon_set: list[CandidateResult]
    ambiguity: Metric
    discrepancy: Metric
    mean_disagreement: Metric
    mean_viable_range: Metric
    mean_score_std: Metric
    mean_rashomon_capacity: Metric
    overall: MultiplicityScope
    groups: list[MultiplicityScope]
    sheet: list[SheetRow]
    sheet_spread: dict[str, Metric]
    lda: LDAResult
    coverage: Coverage
    warnings: list[str]
