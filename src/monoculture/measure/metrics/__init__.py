"""Metrics: pure functions of a pattern-table view (`Counts`), batched over bootstrap replicates.

Undefined values follow one policy (see `_base.divide`): a ratio whose denominator is zero is NaN in
these arrays, and the audit layer reports it as ``{"value": null, "reason": ...}``, never as 0, 1 or ∞.
"""

from .ecosystem import expected_failure_count_histogram, failure_count_histogram
from .homogenization import (
    consistent_success,
    expected_consistent_success,
    expected_systemic_failure,
    failed_by_all_of,
    failure_rates,
    homogenization,
    homogenization_of_subsets,
    population,
    systemic_failure,
)
from .pairwise import (
    PairTables,
    cofailure_lift,
    correlation,
    disagreement,
    double_fault,
    error_consistency,
    pair_tables,
    q_statistic,
)
from .panels import effective_decision_makers, expected_recourse, harm_at_least, recourse
from .rasch import RaschFit, rasch_expected_systemic_failure, rasch_failure_count_histogram

__all__ = [
    "PairTables",
    "RaschFit",
    "cofailure_lift",
    "consistent_success",
    "correlation",
    "disagreement",
    "double_fault",
    "effective_decision_makers",
    "error_consistency",
    "expected_consistent_success",
    "expected_failure_count_histogram",
    "expected_recourse",
    "expected_systemic_failure",
    "failed_by_all_of",
    "failure_count_histogram",
    "failure_rates",
    "harm_at_least",
    "homogenization",
    "homogenization_of_subsets",
    "pair_tables",
    "population",
    "q_statistic",
    "rasch_expected_systemic_failure",
    "rasch_failure_count_histogram",
    "recourse",
    "systemic_failure",
]
