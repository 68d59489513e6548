"""The sharing analysis recovers a planted shared-vendor effect and finds none when nothing is shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import monoculture
from conftest import write_ecosystem
from monoculture.spec import InferenceOptions

OPTIONS = InferenceOptions(bootstrap=300, permutations=999)


def _ecosystem(tmp_path: Path, shared_vendor: bool, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    n, k = 4000, 6
    vendor_error = rng.random(n) < 0.15
    fail = rng.random((n, k)) < 0.15
    if shared_vendor:  # decision-makers 0-2 buy one vendor model and inherit its errors
        fail[:, :3] |= vendor_error[:, None] & (rng.random((n, 3)) < 0.9)
    else:
        fail |= (rng.random((n, k)) < 0.135)  # same failure rates, no shared errors
    return write_ecosystem(tmp_path, fail)


def _components(tmp_path: Path) -> str:
    p = tmp_path / "components.csv"
    p.write_text("decision_maker,vendor\n" + "".join(
        f"dm{i},{'acme' if i < 3 else f'own{i}'}\n" for i in range(6)))
    return str(p)


def test_planted_shared_vendor_effect_is_recovered(tmp_path):
    r = monoculture.audit(_ecosystem(tmp_path, True), label="label", components=_components(tmp_path),
                          inference=OPTIONS)
    c = r.components[0]
    assert (c.sharing_pairs, c.other_pairs) == (3, 12)
    assert c.lift_difference.value > 1 and c.lift_difference.ci[0] > 0
    assert c.kappa_difference.ci[0] > 0
    # Exact permutation test: the 3 sharing decision-makers are the top co-failers among C(6,3) = 20 choices.
    assert c.lift_difference.p_value == 1 / 20
    assert c.sets[0].members == ["dm0", "dm1", "dm2"] and c.sets[0].homogenization.value > 2
    # The clustered order keeps the vendor's three decision-makers next to each other.
    positions = sorted(r.cluster_order.index(f"dm{i}") for i in range(3))
    assert positions[2] - positions[0] == 2


def test_no_effect_when_nothing_is_shared(tmp_path):
    r = monoculture.audit(_ecosystem(tmp_path, False, seed=3), label="label", components=_components(tmp_path),
                          inference=OPTIONS)
    c = r.components[0]
    assert c.lift_difference.ci[0] < 0 < c.lift_difference.ci[1]
    assert c.lift_difference.p_value > 0.05
