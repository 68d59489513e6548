"""The pattern-table path through `audit()` equals brute force over rows, on random ecosystems."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import monoculture
from conftest import brute_force, write_ecosystem
from profiles import examples


@st.composite
def ecosystems(draw, outer: bool = False):
    k = draw(st.integers(2, 5))
    n = draw(st.integers(3, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.05, 0.9, size=k)
    fail = rng.random((n, k)) < rates
    # Guarantee every decision-maker fails someone and succeeds on someone (so H is defined).
    fail[0, :] = True
    fail[1, :] = False
    present = np.ones((n, k), dtype=bool)
    if outer:
        present = rng.random((n, k)) < 0.75
        present[:2, :] = True
    group = rng.choice(["x", "y", "z"], size=n).tolist()
    fmt = draw(st.sampled_from(["csv", "parquet"]))
    return fail, present, group, fmt, seed


def _audit(fail, present, group, fmt, seed, join="inner"):
    with tempfile.TemporaryDirectory() as d:
        args = write_ecosystem(Path(d), fail, present=present, groups={"g": group}, fmt=fmt, shuffle_seed=seed)
        return monoculture.audit(args, label="label", groups=["g"], join=join)


def _check(result, expected, names):
    o = result.overall
    assert o.n == expected["n"]
    for i, name in enumerate(names):
        assert o.failure_rates[name].value == pytest.approx(expected["e"][i])
    assert o.systemic_failure.value == pytest.approx(expected["S"])
    assert o.expected_systemic_failure.value == pytest.approx(expected["S_ind"])
    if expected["H"] is None:
        assert o.homogenization.value is None
    else:
        assert o.homogenization.value == pytest.approx(expected["H"])
    assert o.consistent_success.value == pytest.approx(expected["none"])
    assert [b.observed.value for b in o.failure_count_histogram] == pytest.approx(expected["hist"])
    assert [b.expected.value for b in o.failure_count_histogram] == pytest.approx(expected["expected"])
    for p in o.pairwise:
        a, b = names.index(p.a), names.index(p.b)
        want = expected["pairs"][(a, b)]
        assert p.n == want["n"]
        assert p.error_consistency.value == (pytest.approx(want["kappa"]) if want["kappa"] is not None else None)
        assert p.cofailure_lift.value == (pytest.approx(want["lift"]) if want["lift"] is not None else None)


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ecosystems())
def test_inner_join_equals_brute_force(eco):
    fail, present, group, fmt, seed = eco
    result = _audit(fail, present, group, fmt, seed)
    names = [f"dm{i}" for i in range(fail.shape[1])]
    _check(result, brute_force(fail), names)
    # Per group: each group's own rates (its own baseline).
    for g in result.groups:
        rows = np.array(group) == g.group
        exp = brute_force(fail[rows])
        assert g.n == exp["n"]
        assert g.systemic_failure.value == pytest.approx(exp["S"])
        assert g.expected_systemic_failure.value == pytest.approx(exp["S_ind"])
        assert g.homogenization.value == (pytest.approx(exp["H"]) if exp["H"] is not None else None)
        assert g.share_of_population.value == pytest.approx(exp["n"] / len(fail))


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ecosystems(outer=True))
def test_outer_join_equals_brute_force(eco):
    fail, present, group, fmt, seed = eco
    result = _audit(fail, present, group, fmt, seed, join="outer")
    names = [f"dm{i}" for i in range(fail.shape[1])]
    expected = brute_force(fail, present, join="outer")
    o = result.overall
    for i, s in enumerate(result.coverage.sources):  # every input row is accounted for
        assert s.rows == int(present[:, i].sum()) == s.linked + s.not_linked + s.duplicate_rows + s.missing_id
    assert o.n == expected["n"]
    assert o.systemic_failure.value == pytest.approx(expected["S"])
    assert o.expected_systemic_failure.value == pytest.approx(expected["S_ind"])
    assert [b.expected.value for b in o.failure_count_histogram] == pytest.approx(expected["expected"])
    for i, name in enumerate(names):
        assert o.failure_rates[name].value == pytest.approx(expected["e"][i])


def test_kinds_of_row_outgrowing_a_byte_in_a_later_input_change_nothing():
    """Each individual's kind of row (decision, label, group value) is held in a byte while an ecosystem
    has fewer than 128 kinds, and in wider integers once a later input brings more (here: the first input
    sees two group values, the others 300): the numbers are brute force's, overall and per group."""
    rng = np.random.default_rng(5)
    n, k = 1500, 3
    group = [f"g{v:03d}" for v in rng.integers(0, 300, n)]
    group[:40] = ["g000"] * 20 + ["g001"] * 20
    fail = rng.random((n, k)) < 0.3
    present = np.ones((n, k), dtype=bool)
    present[:, 0] = np.isin(group, ["g000", "g001"])
    with tempfile.TemporaryDirectory() as d:
        args = write_ecosystem(Path(d), fail, present=present, groups={"g": group}, fmt="parquet", shuffle_seed=1)
        result = monoculture.audit(args, label="label", groups=["g"], join="outer", min_group_size=1)
    expected = brute_force(fail, present, join="outer")
    assert result.overall.n == expected["n"]
    assert result.overall.systemic_failure.value == pytest.approx(expected["S"])
    by_group = {g.group: g for g in result.groups}
    assert len(by_group) == len(set(group))
    for value in ["g000", "g001", "g150", "g299"]:
        rows = np.array(group) == value
        linked = rows & (present.sum(axis=1) >= 2)  # outer join: seen by two or more
        failed_by_all = [fail[j, present[j]].all() for j in np.flatnonzero(linked)]
        assert by_group[value].n == linked.sum()
        assert by_group[value].systemic_failure.value == pytest.approx(np.mean(failed_by_all))
