"""Result records of `monoculture simulate` (rendered by report/simulate.py; JSON keys are a contract)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..measure.result import GroupResult, Metric, ScopeResult


@dataclass
class RoundRecord:
    """One round of the participation dynamics.

    ``allocations[g][i]`` is α_{g,i}, the share of subpopulation g with learner i during the round;
    ``learner_risks[g][i]`` is R_g(θ_i) for the learners fitted to those allocations; ``risks[g]`` is the
    risk g experiences, Σ_i α_{g,i} R_g(θ_i); ``total_risk`` is Σ_g β_g risks[g].
    """

    round: int
    allocations: dict[str, list[float]]
    risks: dict[str, float]
    learner_risks: dict[str, list[float]]
    total_risk: float
    deployed: list[str] = field(default_factory=list)  # frozen or menu: the prediction file each learner deploys


@dataclass
class Segment:
    group: str
    learner: str  # the learner holding most of the group at the end
    share: float
    segmented: bool  # that learner holds at least 99% of the group


@dataclass
class FinalRecord(RoundRecord):
    """The allocations after the last update, with the last learners' parameters and risks."""

    thetas: list[list[float]] = field(default_factory=list)
    segmentation: list[Segment] = field(default_factory=list)


@dataclass
class Baseline:
    """One learner serving everyone: the monopoly the k learners are compared with."""

    theta: list[float]
    risks: dict[str, float]
    total_risk: float


@dataclass
class Feature:
    name: str
    mean: float  # the standardisation: z = (x − mean) / sd
    sd: float


@dataclass
class LearnerAudit:
    """Systemic failure and homogenization of the learners' decisions on the people file (metrics.md §1)."""

    learners: str  # "first round" or "final"
    rule: str
    overall: ScopeResult
    groups: list[GroupResult]


@dataclass
class DynamicsResult:
    kind: str
    setting: str  # "quadratic" or "data"
    loss: str
    groups: list[str]
    beta: dict[str, float]
    learners: list[str]
    options: dict
    rounds_run: int
    converged: bool
    trajectory: list[RoundRecord]
    final: FinalRecord
    baseline: Baseline
    risk_vs_baseline: Metric  # final total risk / single-learner total risk
    segmented: bool  # every subpopulation ends on one learner
    features: list[Feature] = field(default_factory=list)
    rows: int | None = None
    excluded_rows: int = 0
    audit: list[LearnerAudit] = field(default_factory=list)
    audit_reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    response: str = "refit"  # refit, frozen or menu (metrics.md §8)
    menus: dict[str, list[str]] = field(default_factory=dict)  # menu: each decision-maker's prediction files


@dataclass
class Band:
    """A Monte Carlo mean with its percentile interval over replications."""

    mean: float
    low: float
    high: float


@dataclass
class UrnRound:
    round: int
    adverse_rate: dict[str, Band]  # share of the group receiving the adverse decision this round
    always_adverse: dict[str, Band]  # share adverse in every round so far
    mean_urn_share: dict[str, Band]  # mean adverse share of the group's urns after the round
    gap: Band  # adverse_rate of the most-affected group minus the least-affected one (by initial rate)
    always_adverse_gap: Band


@dataclass
class UrnResult:
    kind: str
    rule: str  # "polya" or "threshold"
    explanation: str
    groups: list[str]
    sizes: dict[str, int]
    initial_rate: dict[str, float]
    options: dict
    rounds: list[UrnRound]
    closed_form: dict[str, dict[str, float]]  # round-1 expected adverse rate, and Pólya's always-adverse share
    warnings: list[str] = field(default_factory=list)
