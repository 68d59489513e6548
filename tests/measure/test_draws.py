"""Draws made ahead on a worker thread equal draws made inline, and the overall view by pattern equals the
view by (cell, pattern)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monoculture.count.table import PatternTable
from monoculture.count.table_file import Counted
from monoculture.link.coverage import Coverage, SourceCoverage
from monoculture.measure import measure
from monoculture.measure.draws import Draws
from monoculture.measure.estimate import Estimate, scope_stats
from monoculture.measure.groups import group_members
from monoculture.measure.inference import (
    bootstrap_weights,
    evaluate,
    intervals,
    multinomial_weights,
    permutation_p_value,
    systemic_failure_permutation_null,
)
from monoculture.spec import InferenceOptions, MeasureOptions
from profiles import examples


def _table(seed: int, n: int = 3000, k: int = 4, outer: bool = False) -> PatternTable:
    """Two attributes (3 × 2 cells); decision-maker 0 never fails in sex=f (its H there is undefined)."""
    rng = np.random.default_rng(seed)
    cell = rng.integers(0, 6, n)
    shared = rng.random(n) < 0.1
    fail = (rng.random((n, k)) < 0.2) | shared[:, None]
    fail[cell % 2 == 1, 0] = False
    present = rng.random((n, k)) < 0.9 if outer else np.ones((n, k), bool)
    labels = [(r, s) for r in ("a", "b", "c") for s in ("m", "f")]
    return PatternTable.from_matrix([f"dm{i}" for i in range(k)], fail, present, cell, labels, ["race", "sex"])


def _measure(table: PatternTable, inference: InferenceOptions, intersect: bool = True):
    names = list(table.names)
    coverage = Coverage(join="inner", id_type="text", individuals_seen=table.n, linked=table.n, excluded_by_join=0,
                        sources=[SourceCoverage(name=n, file=f"{n}.csv", rows=table.n, valid_rows=table.n)
                                 for n in names])
    counted = Counted(table, "test", "inner", {}, [], coverage, [])
    return measure(counted, inference, MeasureOptions(intersect=intersect, min_group_size=0))


@pytest.mark.parametrize("seed", [0, 1])
def test_group_draws_made_ahead_equal_draws_made_inline(seed):
    # Reference: every draw made inline, in the order an audit lists them (overall weights from the first
    # generator, the overall null from the second, then each group's weights and null from the third).
    table = _table(seed)
    inference = InferenceOptions(bootstrap=200, permutations=499, seed=seed)
    result = _measure(table, inference)
    rng_boot, rng_perm, rng_groups, _ = (np.random.default_rng(s)
                                         for s in np.random.SeedSequence(seed).spawn(4))
    cells = table.counts()
    multinomial_weights(cells.weights, inference.bootstrap, rng_boot)
    null = systemic_failure_permutation_null(cells, inference.permutations, rng_perm)
    assert result.overall.homogenization.p_value == permutation_p_value(cells, null)
    by_key = {(g.attribute, g.group): g for g in result.groups}
    undefined = 0
    for attr, groups in group_members(table, intersect=True):
        for group, rows in groups:
            c = table.counts(rows)
            weights = bootstrap_weights(c, inference, rng_groups)
            null = systemic_failure_permutation_null(c, inference.permutations, rng_groups)
            got = by_key[(attr, group)].homogenization
            if not got.defined:  # decision-maker 0 never fails here: no H, no p-value, its draws still made
                undefined += 1
                assert got.p_value is None
                continue
            assert got.p_value == permutation_p_value(c, null)
            h = scope_stats(c.with_weights(weights), with_pairs=False)["homogenization"]
            lo, hi, _, _ = intervals(np.asarray(got.value), h, inference.alpha)
            assert got.ci == (float(lo), float(hi))
    assert undefined == 4  # sex=f, and the three race & sex=f cells


def test_draws_do_not_depend_on_how_far_ahead_they_run():
    table = _table(3)
    inference = InferenceOptions(bootstrap=100, permutations=99, seed=3)
    a = _measure(table, inference)
    import monoculture.measure.draws as draws_module

    original = draws_module.Draws.__init__
    try:
        draws_module.Draws.__init__ = lambda self, jobs, ahead=8: original(self, jobs, ahead=1)
        b = _measure(table, inference)
    finally:
        draws_module.Draws.__init__ = original
    assert [(g.homogenization.ci, g.homogenization.p_value) for g in a.groups] == [
        (g.homogenization.ci, g.homogenization.p_value) for g in b.groups]
    assert a.overall.homogenization.ci == b.overall.homogenization.ci


def test_draws_taken_out_of_order_raise():
    with Draws([("a", lambda: 1), ("b", lambda: 2)]) as draws:
        with pytest.raises(RuntimeError, match="out of order"):
            draws.take("b")
    with Draws([("a", lambda: 1)]) as draws:
        assert draws.take("a") == 1
        with pytest.raises(RuntimeError, match="no draw left"):
            draws.take("a")


def test_draws_list_at_most_ahead_jobs_and_stop_on_close():
    listed: list[int] = []
    ran: list[int] = []

    def jobs():
        for i in range(100):
            listed.append(i)
            yield str(i), (lambda i=i: ran.append(i) or i)

    with Draws(jobs(), ahead=3) as draws:
        assert draws.take("0") == 0
    assert listed == [0, 1, 2, 3]  # three ahead of the one taken; the other 96 never listed
    assert ran == list(range(len(ran)))  # in order; those not started when closed never run


def test_a_failing_draw_raises_where_it_is_taken():
    def boom() -> None:
        raise ValueError("bad draw")

    with Draws([("a", boom)]) as draws, pytest.raises(ValueError, match="bad draw"):
        draws.take("a")


@settings(max_examples=examples(40), deadline=None)
@given(st.integers(0, 10_000), st.booleans(), st.integers(2, 5))
def test_overall_view_by_pattern_equals_view_by_cell(seed, outer, k):
    table = _table(seed, n=400, k=k, outer=outer)
    # Rows in any order (a table summed from shards need not be sorted by pattern).
    order = np.random.default_rng(seed).permutation(len(table.row_count))
    table = replace(table, row_cell=table.row_cell[order], row_pattern=table.row_pattern[order],
                    row_count=table.row_count[order])
    cells, patterns = table.counts(), table.pattern_counts()
    assert len(patterns.weights) == len(np.unique(table.row_pattern)) <= len(cells.weights)
    assert patterns.weights.sum() == cells.weights.sum() == table.n
    weights = np.random.default_rng(seed).multinomial(table.n, cells.weights / table.n, size=7)
    for a, b in ((cells, patterns), (cells.with_weights(weights), patterns.with_weights(table.by_pattern(weights)))):
        sa, sb = scope_stats(a), scope_stats(b)
        for key in sa:
            np.testing.assert_allclose(sb[key], sa[key], rtol=1e-12, atol=0, equal_nan=True, err_msg=key)


@pytest.mark.parametrize("ci", ["percentile", "bca"])
def test_intervals_and_replicates_do_not_depend_on_how_they_are_blocked(ci):
    # Memory bounds (replicates evaluated in chunks, intervals taken over blocks of statistics) must not
    # change a number: every statistic is elementwise over replicates and columns. BCa's jackknife sums may
    # round in another order when a block holds one column (NumPy sums a single column pairwise).
    table = _table(5, n=500, k=6, outer=True)
    c = table.counts()
    options = InferenceOptions(bootstrap=60, ci=ci)
    weights = bootstrap_weights(c, options, np.random.default_rng(5))
    whole = Estimate.of(c, options, weights, with_pairs=True)
    rasch = None if whole.rasch is None else whole.rasch.stepper(c)
    fn = lambda v: scope_stats(v, True, rasch, whole.conditional)  # noqa: E731
    chunked = evaluate(fn, c, weights, chunk_elems=1)  # one replicate per chunk
    assert whole.reps.keys() == chunked.keys()
    for key in chunked:
        np.testing.assert_array_equal(chunked[key], whole.reps[key], err_msg=key)
    one_pass = whole._intervals(whole.reps, block_elems=10**12)
    blocked = whole._intervals(whole.reps, block_elems=1)  # one statistic per block
    for key, parts in one_pass.items():
        for a, b in zip(parts, blocked[key], strict=True):
            if ci == "bca":
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=key)
            else:
                np.testing.assert_array_equal(a, b, err_msg=key)
