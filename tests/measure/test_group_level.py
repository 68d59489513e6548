"""Group-level homogenization, parity with the reference code, decomposition, diversity, suppression."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pytest

import monoculture
from monoculture.count.table import Counts
from monoculture.measure.metrics import diversity
from monoculture.measure.metrics import groups as gm
from monoculture.report.json import render_json
from monoculture.spec import InferenceOptions

NO_INFERENCE = InferenceOptions(bootstrap=0, permutations=0)


def _reference(apps: dict[str, dict[str, dict]], groups: list[str]) -> dict[str, float]:
    """A direct transcription of the published formulas with the reference code's conventions:
    rates over each application's own data, an empty group's rate = 1, a missing prediction is an error."""
    stats = {}
    for name, data in apps.items():
        n = len(data)
        g_count = dict.fromkeys(groups, 0)
        g_err = dict.fromkeys(groups, 0)
        errors = 0
        for entry in data.values():
            err = entry["prediction"] != entry["label"]
            g_count[entry["group"]] += 1
            g_err[entry["group"]] += err
            errors += err
        stats[name] = {
            "e": errors / n,
            "freq": {g: g_count[g] / n for g in groups},
            "rate": {g: (g_err[g] / g_count[g] if g_count[g] else 1) for g in groups},
        }
    prod_e = math.prod(s["e"] for s in stats.values())
    joint = {g: math.prod(s["freq"][g] * s["rate"][g] for s in stats.values()) for g in groups}
    freq = {g: math.prod(s["freq"][g] for s in stats.values()) for g in groups}
    rates = {g: math.prod(s["rate"][g] for s in stats.values()) for g in groups}
    return {
        "avg": sum(joint.values()) / (prod_e * sum(freq.values())),
        "unif": statistics.mean(rates.values()) / prod_e,
        "worst": max(rates.values()) / prod_e,
        "var": statistics.variance(rates.values()),
        "e": prod_e,
    }


def test_parity_mode_equals_reference_formulas_with_empty_group_and_missing_cell(tmp_path: Path):
    # Person 3 has a label but no decision from A (a missing cell); group z exists only in B's input
    # (empty for A); person 6 is seen only by A (not linked).
    (tmp_path / "a.csv").write_text("id,decision,label\n1,1,1\n2,0,1\n3,,0\n4,1,0\n6,0,0\n")
    (tmp_path / "b.csv").write_text("id,decision,label\n1,0,1\n2,0,1\n3,0,0\n4,1,1\n5,1,0\n")
    (tmp_path / "people.csv").write_text("id,g\n1,x\n2,x\n3,y\n4,y\n5,z\n6,x\n")
    result = monoculture.audit(
        [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], label="label", groups=["g"],
        people=str(tmp_path / "people.csv"), on_missing="drop", parity="bommasani2022", inference=NO_INFERENCE,
    )
    apps = {
        "a": {1: {"prediction": 1, "label": 1, "group": "x"}, 2: {"prediction": 0, "label": 1, "group": "x"},
              3: {"prediction": None, "label": 0, "group": "y"}, 4: {"prediction": 1, "label": 0, "group": "y"},
              6: {"prediction": 0, "label": 0, "group": "x"}},
        "b": {1: {"prediction": 0, "label": 1, "group": "x"}, 2: {"prediction": 0, "label": 1, "group": "x"},
              3: {"prediction": 0, "label": 0, "group": "y"}, 4: {"prediction": 1, "label": 1, "group": "y"},
              5: {"prediction": 1, "label": 0, "group": "z"}},
    }
    want = _reference(apps, ["x", "y", "z"])
    got = result.group_homogenization[0]
    assert got.groups == 3
    assert got.average.value == pytest.approx(want["avg"])
    assert got.uniform.value == pytest.approx(want["unif"])
    assert got.worst.value == pytest.approx(want["worst"])
    assert got.variance.value == pytest.approx(want["var"])
    assert result.parity.expected_systemic_failure.value == pytest.approx(want["e"])
    # S over the linked intersection (IDs 1, 2, 4; 3 dropped from A): only 2 is failed by both.
    assert result.parity.systemic_failure.value == pytest.approx(1 / 3)
    # The default numbers are not changed by parity mode.
    default = monoculture.audit(
        [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], label="label", groups=["g"],
        people=str(tmp_path / "people.csv"), on_missing="drop", inference=NO_INFERENCE,
    )
    assert default.overall.homogenization.value == result.overall.homogenization.value
    assert default.group_homogenization[0].uniform.value != pytest.approx(want["unif"])


def _counts(rng, n=300, k=3):
    shared = rng.random(n) < 0.2
    fail = (rng.random((n, k)) < 0.3) | (shared[:, None] & (rng.random((n, k)) < 0.7))
    return Counts(fail, np.ones_like(fail), np.ones(n))


def test_singleton_groups_give_h_avg_equal_h_unif_equal_h():
    # metrics.md §1: with one group per person and full coverage, H_avg = H_unif = H.
    c = _counts(np.random.default_rng(1), n=60)
    membership = np.eye(60)
    q, e_g, _ = gm.group_shares_and_rates(c, membership)
    e = monoculture.measure.metrics.failure_rates(c)
    h = float(monoculture.measure.metrics.homogenization(c))
    assert float(gm.average_case(q, e_g, e)) == pytest.approx(h)
    assert float(gm.uniform_case(e_g, e)) == pytest.approx(h)


def test_decomposition_multiplies_to_h():
    rng = np.random.default_rng(2)
    c = _counts(rng)
    membership = np.stack([rng.random(300) < 0.3])
    membership = np.concatenate([membership, ~membership]).astype(float)
    between, within = gm.decomposition(c, membership)
    assert float(between * within) == pytest.approx(float(monoculture.measure.metrics.homogenization(c)))
    # One group only: no between-group part.
    between1, _ = gm.decomposition(c, np.ones((1, 300)))
    assert float(between1) == pytest.approx(1.0)


def test_diversity_measures_by_hand():
    # k = 3; people failed by 0, 1, 2, 3 decision-makers: shares 0.4, 0.3, 0.2, 0.1.
    f = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=bool)
    c = Counts(f, np.ones_like(f), np.array([4, 3, 2, 1]))
    p = np.array([0.4, 0.3, 0.2, 0.1])
    k = 3
    m = np.arange(4)
    kw = float((p * m * (k - m)).sum() / k**2)
    assert float(diversity.kohavi_wolpert_variance(c)) == pytest.approx(kw)
    pbar = 1 - (p * m).sum() / k  # mean accuracy
    assert float(diversity.interrater_kappa(c)) == pytest.approx(1 - k * kw / ((k - 1) * pbar * (1 - pbar)))
    p1 = (p * m / k).sum()
    p2 = (p * m * (m - 1) / (k * (k - 1))).sum()
    assert float(diversity.generalized_diversity(c)) == pytest.approx(1 - p2 / p1)
    cfd = sum((k - i) / (k - 1) * p[i] for i in range(1, 4)) / (1 - p[0])
    assert float(diversity.coincident_failure_diversity(c)) == pytest.approx(cfd)
    # E = Σ p_m min(m, k − m) / (k − ⌈k/2⌉) = (0.3·1 + 0.2·1) / 1
    assert float(diversity.failure_entropy(c)) == pytest.approx(0.5)


def test_diversity_undefined_cases():
    nobody = np.zeros((3, 2), dtype=bool)
    c = Counts(nobody, np.ones_like(nobody), np.ones(3))
    assert math.isnan(float(diversity.generalized_diversity(c)))  # p(1) = 0
    assert math.isnan(float(diversity.interrater_kappa(c)))  # p̄ = 1
    assert float(diversity.coincident_failure_diversity(c)) == 0.0  # p_0 = 1 → 0 by definition
    outer = Counts(np.array([[1, 0]], bool), np.array([[1, 0]], bool), np.ones(1))
    assert math.isnan(float(diversity.kohavi_wolpert_variance(outer)))


def test_bounded_homogenization_hits_its_bounds():
    # Perfectly nested failures (the Fréchet upper bound): S = min e → H̃ = 1.
    f = np.array([[1, 1], [1, 0], [0, 0], [0, 0]], dtype=bool)
    assert float(diversity.bounded_homogenization(Counts(f, np.ones_like(f), np.ones(4)))) == pytest.approx(1.0)
    # Disjoint failures (lower bound max(0, Σe − 1) = 0): S = 0 → H̃ = −1.
    g = np.array([[1, 0], [0, 1], [0, 0], [0, 0]], dtype=bool)
    assert float(diversity.bounded_homogenization(Counts(g, np.ones_like(g), np.ones(4)))) == pytest.approx(-1.0)


def test_suppression_hides_small_groups_and_their_complement(tmp_path: Path):
    rng = np.random.default_rng(0)
    n = 200
    groups = ["big"] * 150 + ["mid"] * 46 + ["tiny"] * 4
    for name in ("a", "b"):
        rows = "".join(f"{j},{int(rng.random() < .6)},1,{groups[j]}\n" for j in range(n))
        (tmp_path / f"{name}.csv").write_text("id,decision,label,g\n" + rows)
    files = [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    r = monoculture.audit(files, label="label", groups=["g"], suppress_below=10, inference=NO_INFERENCE)
    by = {g.group: g for g in r.groups}
    assert by["tiny"].suppressed and by["tiny"].n is None
    # With N published, 'tiny' = N − big − mid: the smallest other group is suppressed too.
    assert by["mid"].suppressed and not by["big"].suppressed
    text = render_json(r)
    assert '"n": 4,' not in text and '"n": 46,' not in text
    # Group-level measures that depend on a suppressed group's rates are withheld as well.
    assert r.group_homogenization[0].worst.value is None and "suppressed" in r.group_homogenization[0].worst.reason
    r = monoculture.audit(files, label="label", groups=["g"], min_group_size=50, inference=NO_INFERENCE)
    assert {g.group for g in r.groups if g.small} == {"mid", "tiny"}
    assert any("--min-group-size" in w for w in r.warnings)
