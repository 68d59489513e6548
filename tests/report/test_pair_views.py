"""Pairwise measures at any k (report.pair_views): the matrix, its blocks and the strongest pairs, read
from the pairs' columns, against loops over the pair objects; and the reports built on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_json_records import COMMON, _leaderboard

import monoculture
from monoculture.measure.records import Ranked, has_field, values_of
from monoculture.report.formats import Format
from monoculture.report.many import bins, ends
from monoculture.report.pair_views import blocks, pair_matrix, strongest
from monoculture.report.registry import render


@pytest.fixture(scope="module")
def wide():
    """60 models: 1,770 pairs, past the heat map's 50 blocks."""
    return monoculture.audit(_leaderboard(60, 90, seed=4), bootstrap=0, permutations=0,
                             **{k: v for k, v in COMMON.items() if k not in ("bootstrap", "permutations")})


def test_the_matrix_and_ranking_from_columns_equal_loops_over_the_pairs(wide):
    pairs = wide.overall.pairwise
    objects = list(pairs)  # the same records as result objects: the generic path
    names = list(reversed(wide.cluster_order))
    got = pair_matrix(pairs, names, "error_consistency")
    np.testing.assert_array_equal(got, pair_matrix(objects, names, "error_consistency"))
    where = {n: i for i, n in enumerate(names)}
    for p in objects:
        v = np.nan if p.error_consistency.value is None else p.error_consistency.value
        i, j = where[p.a], where[p.b]
        assert (math.isnan(v) and math.isnan(got[i, j]) and math.isnan(got[j, i])) or got[i, j] == got[j, i] == v
    assert np.isnan(np.diag(got)).all()
    np.testing.assert_array_equal(values_of(pairs, "cofailure_lift"), values_of(objects, "cofailure_lift"))
    # A field is there (or not) alike for the columns and the objects, and where values_of gives values.
    for name in ("cofailure_lift", "capa", "capa_probabilistic"):
        assert has_field(pairs, name) == has_field(objects, name) == (values_of(objects, name) is not None)
    assert has_field(pairs, "capa") and not has_field(pairs, "capa_probabilistic")
    top = strongest(pairs, "error_consistency", 7)
    by_hand = sorted(objects, key=lambda p: -(p.error_consistency.value if p.error_consistency.value is not None
                                               else -np.inf))[:7]
    assert top[:] == by_hand and isinstance(top, Ranked) and len(top) == 7


def test_blocks_are_the_means_of_their_pairs():
    rng = np.random.default_rng(2)
    k = 23
    m = rng.random((k, k))
    m = (m + m.T) / 2
    m[np.diag_indices(k)] = np.nan
    m[3, 5] = m[5, 3] = np.nan
    b = blocks(m, count=5)
    runs = np.array_split(np.arange(k), 5)
    assert b.starts.tolist() == [r[0] for r in runs]
    for i, ri in enumerate(runs):
        for j, rj in enumerate(runs):
            cell = m[np.ix_(ri, rj)]
            assert b.pairs[i, j] == (~np.isnan(cell)).sum()
            assert b.mean[i, j] == pytest.approx(np.nanmean(cell))


def test_reports_of_many_decision_makers_show_blocks_and_the_strongest_pairs(wide):
    html = render(wide, Format.html)
    assert "mean by block of the clustered order (60 decision-makers in 50 blocks)" in html
    assert "pairs with the highest κ (of 1,770" in html
    md = render(wide, Format.markdown)
    assert "The 25 pairs with the highest κ of 1,770" in md
    section = md.split("## Pairs")[1].split("\n## ")[0]
    assert section.count("\n| m") == 25  # rows, the header apart
    text = " ".join(render(wide, Format.table).split())  # titles wrap
    assert "Strongest co-failing pairs (of 1,770)" in text
    assert "Judges" in text and "judged places change rank" in text
    # a row per decision-maker would be 60 lines a table: the ends of each list, the rest counted
    assert "the 10 lowest and 10 highest failure rates of 60" in text and "… 40 more" in text
    assert "without one decision-maker: the 10 lowest and 10 highest H of 60" in text
    assert "… 40 more" in text.split("Coverage")[1].split("Decision-makers")[0]
    assert "failed by: 60 decision-makers in runs of 2" in text


def test_the_ends_of_a_long_list_and_runs_of_bins():
    items = list(range(35))
    head, tail, left = ends(items, lambda x: -x if x != 3 else math.nan)
    assert head == list(range(34, 24, -1)) and tail == [9, 8, 7, 6, 5, 4, 2, 1, 0, 3] and left == 15  # NaN last
    assert ends(items[:30], float) == (items[:30], [], 0)  # short: whole, in order
    assert [list(r) for r in bins(7, most=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(bins(1001)) == 39 and sum(len(r) for r in bins(1001)) == 1001
