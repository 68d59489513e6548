"""Metrics: pure functions of a pattern-table view (`Counts`), batched over bootstrap replicates.

Undefined values follow one policy (see `_base.divide`): a ratio whose denominator is zero is NaN in
these arrays, and the audit layer reports it as ``{"value": null, "reason": ...}``, never as 0, 1 or ∞.
"""

from .ecosystem import expected_failure_count_histogram, failure_count_histogram
from .homogenization import (
    consistent_success,
    expected_consistent_success,
    expected_systemic_failure,
    failure_rates,
    homogenization,
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

__all__ = [
    "PairTables",
    "cofailure_lift",
    "consistent_success",
    "correlation",
    "disagreement",
    "double_fault",
    "error_consistency",
    "expected_consistent_success",
    "expected_failure_count_histogram",
    "expected_systemic_failure",
    "failure_count_histogram",
    "failure_rates",
    "homogenization",
    "pair_tables",
    "population",
    "q_statistic",
    "systemic_failure",
]
