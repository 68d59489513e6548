"""Results of the analysis over rounds: persistence and where improvements land (metrics.md §9)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .metric import Metric

SYSTEMIC = "failed by every decision-maker"  # the series of the systemic failures, beside each decision-maker's


@dataclass
class HistogramBin:
    failures: int
    observed: Metric
    expected: Metric


@dataclass
class ImprovementBucket:
    others_failing: int
    n: int | None  # None when suppressed (--suppress-below)
    improved_share: Metric
    expected_share: Metric  # improvements spread evenly: the overall share


@dataclass
class ImprovementResult:
    """Where one decision-maker's version change helped the people its old version failed."""

    decision_maker: str
    from_round: str
    to_round: str
    failed_before: int
    improved_share: Metric
    buckets: list[ImprovementBucket]


@dataclass
class TransitionResult:
    """Failure after failure: of the people every decision-maker failed in one round, the share they all
    fail again in the next, against that round's systemic failure rate (what independent rounds give)."""

    from_round: str
    to_round: str
    failed_before: int
    failed_again: Metric
    independent: Metric


@dataclass
class Overdispersion:
    """Persistence of one series over rounds: each person's count of rounds failed, against independent rounds
    (a Beta-Binomial fit tested against the binomial; `metrics.persistence.beta_binomial_overdispersion`)."""

    series: str  # "failed by every decision-maker", or a decision-maker's name
    rounds: int
    mean_rounds_failed: Metric
    dispersion_ratio: Metric  # Var(count) / Σ s_t(1 − s_t); 1 = independent rounds
    rho: Metric  # intra-person correlation of the Beta-Binomial fit; p_value tests rho = 0
    beta_a: float | None = None
    beta_b: float | None = None
    lr_statistic: float | None = None


@dataclass
class RoundsResult:
    """Persistence over rounds (inputs named NAME@ROUND) and where improvements land."""

    rounds: list[str]
    decision_makers: list[str]
    systemic_failure_by_round: dict[str, Metric]
    failed_in_every_round: Metric
    expected_failed_in_every_round: Metric
    rounds_failed_histogram: list[HistogramBin]
    improvements: list[ImprovementResult]
    transitions: list[TransitionResult] = field(default_factory=list)  # consecutive rounds, in round order
    overdispersion: list[Overdispersion] = field(default_factory=list)  # systemic first, then each decision-maker
