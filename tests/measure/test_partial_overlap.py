"""Partial overlap (the outer join): the independence baseline over many distinct sets of decision-makers,
the histogram that stops at the largest coverage, the coverage distribution, and pairwise intervals."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import monoculture
from monoculture.count.table import Counts
from monoculture.measure.metrics import ecosystem
from monoculture.measure.metrics.ecosystem import (
    expected_failure_count_histogram,
    failure_rates,
    poisson_binomial_pmf,
)
from monoculture.spec import InferenceOptions
from profiles import examples


@settings(max_examples=examples(80), deadline=None)
@given(st.data())
def test_the_batched_baseline_is_the_mixture_of_per_mask_poisson_binomials(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    k = data.draw(st.integers(2, 8))
    rows = data.draw(st.integers(2, 30))
    present = rng.random((rows, k)) < 0.6
    present[:, :2] = True  # everyone seen by at least two
    fail = (rng.random((rows, k)) < 0.4) & present
    weights = rng.integers(1, 5, (3, rows)).astype(float)  # a batch of three weightings, as the bootstrap
    c = Counts(fail, present, weights)
    got = expected_failure_count_histogram(c)
    e = failure_rates(c)
    for b in range(3):
        want = np.zeros(k + 1)
        for row in range(rows):  # one scipy call per individual: the definition, independently of masks
            mask = present[row]
            pmf = stats.poisson_binom.pmf(np.arange(mask.sum() + 1), e[b, mask])
            want[:mask.sum() + 1] += weights[b, row] * pmf
        np.testing.assert_allclose(got[b], want / weights[b].sum(), rtol=1e-10, atol=1e-14)


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.floats(0, 1), min_size=0, max_size=40), st.integers(1, 45), st.integers(1, 3))
def test_the_poisson_binomial_pmf_is_scipys(p, size, rows):
    """All masses at once, for a batch of rows, equal scipy.stats.poisson_binom's mass by mass (compiled
    where it is built; the NumPy recursion is held to the same bits below)."""
    p = np.tile(np.array(p, dtype=float), (rows, 1))
    got = poisson_binomial_pmf(p, size)
    want = (stats.poisson_binom.pmf(np.arange(size)[:, None], p).T if p.shape[-1]
            else np.eye(1, size).repeat(rows, axis=0))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    if len(p[0]):
        p[0, 0] = np.nan
        assert np.isnan(poisson_binomial_pmf(p, size)[0]).all()


@contextlib.contextmanager
def _numpy_recursion():
    kept, ecosystem.COMPILED = ecosystem.COMPILED, None
    try:
        yield
    finally:
        ecosystem.COMPILED = kept


@settings(max_examples=examples(100), deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 35), st.integers(1, 40), st.lists(st.integers(1, 4), max_size=3))
def test_the_compiled_recursion_gives_the_numpy_recursions_bits(seed, k, size, lead):
    """Over batches of any shape, with certain successes and failures, a row with a NaN, and more or fewer
    masses than k + 1: the same bits (no fused multiply-add in the C, the same order of operations)."""
    if ecosystem.COMPILED is None:
        pytest.skip("the C recursion is not built here")
    rng = np.random.default_rng(seed)
    p = rng.random((*lead, k))
    p[rng.random(p.shape) < 0.1] = 0.0
    p[rng.random(p.shape) < 0.1] = 1.0
    if p.size:
        p.reshape(-1)[rng.integers(p.size)] = np.nan
    got = poisson_binomial_pmf(p, size)
    with _numpy_recursion():
        want = poisson_binomial_pmf(p, size)
    assert got.shape == want.shape == (*lead, size)
    np.testing.assert_array_equal(got, want)
    # and a view that is not contiguous, as the Rasch histogram passes
    with _numpy_recursion():
        want = poisson_binomial_pmf(p[..., ::-1], size)
    np.testing.assert_array_equal(poisson_binomial_pmf(p[..., ::-1], size), want)


@settings(max_examples=examples(60), deadline=None)
@given(st.data())
def test_mask_weights_sum_each_masks_rows_and_survive_reweighting(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    k, rows = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 25))
    present = rng.random((rows, k)) < 0.5
    present[:, 0] = True
    c = Counts(present & (rng.random((rows, k)) < 0.5), present, rng.integers(0, 5, rows).astype(float))
    masks, inverse = c.masks
    want = np.array([c.weights[inverse == d].sum() for d in range(len(masks))])
    np.testing.assert_allclose(c.mask_weights(), want)
    batch = rng.integers(0, 5, (4, rows)).astype(float)
    again = c.with_weights(batch)
    np.testing.assert_allclose(again.mask_weights(), [[b[inverse == d].sum() for d in range(len(masks))]
                                                      for b in batch])
    index, used = c.members
    for d, mask in enumerate(masks):  # each mask's members, in order, then padding
        assert index[d, used[d]].tolist() == np.flatnonzero(mask).tolist() and used[d].sum() == mask.sum()


def _crowd(tmp_path, items: int = 60, workers: int = 12, per: int = 4, seed: int = 2) -> str:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, items)
    cells = np.full((items, workers), "", dtype=object)
    for i in range(items):
        for j in rng.choice(workers, per, replace=False):
            cells[i, j] = str(truth[i] if rng.random() < 0.7 else 1 - truth[i])
    frame = pd.DataFrame(cells, columns=[f"w{j:02d}" for j in range(workers)])
    frame.insert(0, "truth", truth)
    frame.insert(0, "id", np.arange(items))
    path = tmp_path / "crowd.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_the_histogram_stops_at_the_largest_coverage_and_coverage_is_reported(tmp_path):
    path = _crowd(tmp_path)
    r = monoculture.audit([path], decision_columns=["w*"], label="truth", join="outer",
                          inference=InferenceOptions(bootstrap=50, permutations=99))
    assert len(r.decision_makers) == 12
    assert [b.failures for b in r.overall.failure_count_histogram] == [0, 1, 2, 3, 4]  # 4 workers per item
    assert r.coverage.seen_by == [0, 0, 0, 0, 60]
    observed = sum(b.observed.value for b in r.overall.failure_count_histogram)
    expected = sum(b.expected.value for b in r.overall.failure_count_histogram)
    assert observed == pytest.approx(1.0) and expected == pytest.approx(1.0)


def test_pair_intervals_are_computed_for_the_pairs_a_reader_can_read(tmp_path):
    path = _crowd(tmp_path, workers=52, per=6)
    fast = InferenceOptions(bootstrap=30, permutations=0)
    auto = monoculture.audit([path], decision_columns=["w*"], label="truth", join="outer", inference=fast)
    assert len(auto.overall.pairwise) == 52 * 51 // 2
    assert all(p.error_consistency.ci is None for p in auto.overall.pairwise)
    assert any("1,326 pairs of decision-makers have point values without intervals" in w for w in auto.warnings)
    every = monoculture.audit([path], decision_columns=["w*"], label="truth", join="outer",
                              inference=InferenceOptions(bootstrap=30, permutations=0, pair_intervals="all"))
    assert any(p.error_consistency.ci is not None for p in every.overall.pairwise)
    assert [p.error_consistency.value for p in auto.overall.pairwise] == \
        [p.error_consistency.value for p in every.overall.pairwise]
    assert auto.overall.homogenization.ci == every.overall.homogenization.ci  # only the pairs differ
