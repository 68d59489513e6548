"""Hand-worked small ecosystems: every core metric against numbers computed on paper."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monoculture.count.table import Counts
from monoculture.measure import metrics

# Four people, three decision-makers. Rows are people, columns decision-makers (1 = failed).
F = np.array([[1, 1, 1], [1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=bool)
C = Counts(F, np.ones_like(F), np.ones(4, dtype=np.int64))


def test_failure_rates_by_hand():
    # e = (2/4, 2/4, 2/4)
    assert metrics.failure_rates(C).tolist() == [0.5, 0.5, 0.5]


def test_systemic_failure_and_homogenization_by_hand():
    # S = 1/4 (only person 0 failed by all); S_ind = 0.5^3 = 1/8; H = 2.
    assert float(metrics.systemic_failure(C)) == 0.25
    assert float(metrics.expected_systemic_failure(C)) == 0.125
    assert float(metrics.homogenization(C)) == 2.0


def test_consistent_success_by_hand():
    # Only person 3 is failed by nobody; expected (1 - 0.5)^3.
    assert float(metrics.consistent_success(C)) == 0.25
    assert float(metrics.expected_consistent_success(C)) == 0.125


def test_histogram_by_hand():
    # n_j = 3, 2, 1, 0 → a quarter each; baseline Binomial(3, 0.5) = 1/8, 3/8, 3/8, 1/8.
    assert metrics.failure_count_histogram(C).tolist() == [0.25, 0.25, 0.25, 0.25]
    assert np.allclose(metrics.expected_failure_count_histogram(C), [0.125, 0.375, 0.375, 0.125])


def test_pairwise_by_hand():
    t = metrics.pair_tables(C)
    # Pair (0, 1): identical failures → n11 = 2, n00 = 2; κ = 1, lift = (2/4)/(0.25) = 2.
    assert (t.n11[0, 1], t.n10[0, 1], t.n01[0, 1], t.n00[0, 1]) == (2, 0, 0, 2)
    assert float(metrics.error_consistency(t)[0, 1]) == pytest.approx(1.0)
    assert float(metrics.cofailure_lift(t)[0, 1]) == pytest.approx(2.0)
    # Pair (0, 2): n11 = 1, n10 = 1, n01 = 1, n00 = 1 → independent: κ = 0, lift = 1, Q = 0.
    assert float(metrics.error_consistency(t)[0, 2]) == pytest.approx(0.0)
    assert float(metrics.cofailure_lift(t)[0, 2]) == pytest.approx(1.0)
    assert float(metrics.q_statistic(t)[0, 2]) == pytest.approx(0.0)
    assert float(metrics.double_fault(t)[0, 2]) == 0.25
    assert float(metrics.disagreement(t)[0, 2]) == 0.5
    assert float(metrics.correlation(t)[0, 1]) == pytest.approx(1.0)


def test_weights_equal_repeated_rows():
    # The pattern table with counts equals the same rows written out.
    w = np.array([3, 1, 2, 5])
    repeated = np.repeat(F, w, axis=0)
    c_rep = Counts(repeated, np.ones_like(repeated), np.ones(len(repeated)))
    c_w = Counts(F, np.ones_like(F), w)
    assert float(metrics.homogenization(c_rep)) == pytest.approx(float(metrics.homogenization(c_w)))


def test_never_failing_decision_maker_makes_h_undefined():
    f = F.copy()
    f[:, 2] = False
    c = Counts(f, np.ones_like(f), np.ones(4))
    assert float(metrics.expected_systemic_failure(c)) == 0.0
    assert math.isnan(float(metrics.homogenization(c)))
    t = metrics.pair_tables(c)
    # One never fails: c_exp = p_a·1 + (1 - p_a)·0 = p_a < 1, so κ is defined (0); the lift is 0/0.
    assert float(metrics.error_consistency(t)[0, 2]) == pytest.approx(0.0)
    assert math.isnan(float(metrics.cofailure_lift(t)[0, 2]))


def test_kappa_undefined_when_expected_agreement_is_one():
    f = np.array([[0, 0], [0, 0], [0, 0]], dtype=bool)
    t = metrics.pair_tables(Counts(f, np.ones_like(f), np.ones(3)))
    assert math.isnan(float(metrics.error_consistency(t)[0, 1]))
    assert math.isnan(float(metrics.q_statistic(t)[0, 1]))


def test_zero_systemic_failure_gives_h_zero():
    f = np.array([[1, 0], [0, 1], [0, 0]], dtype=bool)
    c = Counts(f, np.ones_like(f), np.ones(3))
    assert float(metrics.homogenization(c)) == 0.0


def test_outer_join_uses_each_persons_decision_makers():
    # Person 0 seen by dm0, dm1 (fails both); person 1 seen by dm1, dm2 (fails dm1 only);
    # person 2 seen by all three (fails none).
    f = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=bool)
    m = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1]], dtype=bool)
    c = Counts(f, m, np.ones(3))
    # e = (1/2, 2/3, 0/2)
    assert np.allclose(metrics.failure_rates(c), [0.5, 2 / 3, 0.0])
    assert float(metrics.systemic_failure(c)) == pytest.approx(1 / 3)
    # S_ind = mean(e0 e1, e1 e2, e0 e1 e2) = (1/3 + 0 + 0) / 3
    assert float(metrics.expected_systemic_failure(c)) == pytest.approx(1 / 9)
    hist = metrics.expected_failure_count_histogram(c)
    assert hist.sum() == pytest.approx(1.0)


def test_batched_weights_match_one_at_a_time():
    rng = np.random.default_rng(0)
    w = rng.integers(0, 5, size=(7, 4))
    w[:, 0] += 1
    batched = metrics.homogenization(C.with_weights(w))
    single = [float(metrics.homogenization(C.with_weights(row))) for row in w]
    assert np.allclose(batched, single, equal_nan=True)


def test_docs_worked_example_numbers():
    # docs/metrics.md works every number out on this table; keep the two in step.
    from monoculture.measure.metrics import diversity

    assert float(diversity.kohavi_wolpert_variance(C)) == pytest.approx(1 / 9)
    assert float(diversity.generalized_diversity(C)) == pytest.approx(1 / 3)
    assert float(diversity.bounded_homogenization(C)) == pytest.approx(1 / 3)


def test_panels_and_recourse_by_hand():
    # A and B fail the same people (φ = 1), C neither's (φ = 0): ρ̄ = 1/3, n_eff = 3 / (1 + 2/3) = 1.8.
    assert math.isclose(float(metrics.effective_decision_makers(C)), 1.8)
    # Failed by at least 0, 1, 2, 3: 1, 3/4, 1/2, 1/4; independent (Poisson-binomial of ½, ½, ½): 1, 7/8, 1/2, 1/8.
    assert metrics.harm_at_least(C).tolist() == [1.0, 0.75, 0.5, 0.25]
    from monoculture.measure.metrics.panels import expected_harm_at_least
    np.testing.assert_allclose(expected_harm_at_least(C), [1.0, 0.875, 0.5, 0.125])
    # Recourse from each: 1 − S/e_i = 1 − 0.25/0.5; if the other two were independent: 1 − 0.5·0.5.
    assert metrics.recourse(C).tolist() == [0.5, 0.5, 0.5]
    assert metrics.expected_recourse(C).tolist() == [0.75, 0.75, 0.75]
