"""Invariances every metric must have: row order, decision-maker order, ID labels, file format."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import monoculture
from conftest import write_ecosystem
from profiles import examples

SETTINGS = settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _random(seed: int, n: int = 60, k: int = 4):
    rng = np.random.default_rng(seed)
    shared = rng.random(n) < 0.3
    fail = (rng.random((n, k)) < 0.25) | (shared[:, None] & (rng.random((n, k)) < 0.7))
    group = rng.choice(["a", "b"], size=n).tolist()
    return fail, group


def _summary(result):
    o = result.overall
    pairs = {frozenset((p.a, p.b)): (p.error_consistency.value, p.cofailure_lift.value) for p in o.pairwise}
    groups = {(g.attribute, g.group): (g.n, g.systemic_failure.value, g.homogenization.value) for g in result.groups}
    return (o.n, o.systemic_failure.value, o.expected_systemic_failure.value, o.homogenization.value,
            dict(sorted((k, v.value) for k, v in o.failure_rates.items())),
            [b.observed.value for b in o.failure_count_histogram], pairs, groups)


def _run(fail, group, **kw):
    with tempfile.TemporaryDirectory() as d:
        args = write_ecosystem(Path(d), fail, groups={"g": group}, **kw)
        return monoculture.audit(args, label="label", groups=["g"])


def _approx_equal(a, b):
    assert a[0] == b[0]
    for x, y in zip(a[1:4], b[1:4], strict=True):
        assert x == pytest.approx(y)
    assert a[4] == pytest.approx(b[4])
    assert a[5] == pytest.approx(b[5])
    assert a[6].keys() == b[6].keys()
    for key in a[6]:
        assert a[6][key] == pytest.approx(b[6][key])
    assert a[7].keys() == b[7].keys()
    for key in a[7]:
        assert a[7][key] == pytest.approx(b[7][key])


@SETTINGS
@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_row_order_changes_nothing(seed, shuffle):
    fail, group = _random(seed)
    _approx_equal(_summary(_run(fail, group)), _summary(_run(fail, group, shuffle_seed=shuffle)))


@SETTINGS
@given(st.integers(0, 10_000), st.permutations(range(4)))
def test_decision_maker_order_changes_nothing(seed, perm):
    fail, group = _random(seed)
    with tempfile.TemporaryDirectory() as d:
        args = write_ecosystem(Path(d), fail, groups={"g": group})
        a = monoculture.audit(args, label="label", groups=["g"])
        b = monoculture.audit([args[i] for i in perm], label="label", groups=["g"])
    _approx_equal(_summary(a), _summary(b))


@SETTINGS
@given(st.integers(0, 10_000))
def test_id_relabelling_and_format_change_nothing(seed):
    fail, group = _random(seed)
    rng = np.random.default_rng(seed)
    ids = [f"person-{x}" for x in rng.permutation(10**6)[: len(fail)]]
    base = _summary(_run(fail, group))
    _approx_equal(base, _summary(_run(fail, group, ids=ids, fmt="parquet")))


@SETTINGS
@given(st.integers(0, 10_000))
def test_duplicating_every_individual_changes_no_rate(seed):
    fail, group = _random(seed)
    twice = np.concatenate([fail, fail])
    a = _summary(_run(fail, group))
    b = _summary(_run(twice, group + group))
    assert b[0] == 2 * a[0]
    for x, y in zip(a[1:4], b[1:4], strict=True):
        assert x == pytest.approx(y)
    assert a[5] == pytest.approx(b[5])


def test_kappa_identity_on_random_pairs():
    # κ = 2 e_a e_b (H_ab − 1) / (e_a + e_b − 2 e_a e_b)  (metrics.md §3)
    for seed in range(20):
        fail, group = _random(seed, n=200)
        result = _run(fail, group)
        rates = {k: v.value for k, v in result.overall.failure_rates.items()}
        for p in result.overall.pairwise:
            ea, eb = rates[p.a], rates[p.b]
            rhs = 2 * ea * eb * (p.cofailure_lift.value - 1) / (ea + eb - 2 * ea * eb)
            assert p.error_consistency.value == pytest.approx(rhs)


def test_independent_decision_makers_give_h_near_one():
    # 200,000 people, 3 independent decision-makers failing 30%, 40%, 50%: S_ind = 0.06, so
    # N·S_ind = 12,000 and the sd of H is about sqrt((1 - S)/(N S)) ≈ 0.009.
    rng = np.random.default_rng(7)
    n = 200_000
    fail = rng.random((n, 3)) < np.array([0.3, 0.4, 0.5])
    from monoculture.count.table import Counts
    from monoculture.measure import metrics

    c = Counts(fail, np.ones_like(fail), np.ones(n))
    assert float(metrics.homogenization(c)) == pytest.approx(1.0, abs=0.04)
    t = metrics.pair_tables(c)
    k = metrics.error_consistency(t)
    assert np.all(np.abs(k[np.triu_indices(3, 1)]) < 0.02)
