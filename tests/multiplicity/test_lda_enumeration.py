"""Full-information LDA (metrics.md §7): every rule over four feature cells is a candidate, and the less
discriminatory alternatives are found by enumeration here, independently of the tool — for both
disparities, both utilities, with and without a selection/report split."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from monoculture.multiplicity.candidates import multiplicity
from monoculture.spec import InferenceOptions

# Four cells of two binary features: (people in x, people in y, qualified share) per cell.
CELLS = [(40, 10, 0.7), (10, 30, 0.6), (25, 15, 0.5), (20, 10, 0.3)]
RULES = {"".join(map(str, bits)): bits for bits in itertools.product((0, 1), repeat=4)}  # approve cell c if bit c
BASELINE = "1010"  # approves the two cells where x is the majority


def _people(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cell, group (0 = x, 1 = y), label (1 = qualified) and split (train/test by a seeded draw) per person."""
    rng = np.random.default_rng(seed)
    cell, group, label = [], [], []
    for c, (nx, ny, q) in enumerate(CELLS):
        for g, n in ((0, nx), (1, ny)):
            cell += [c] * n
            group += [g] * n
            label += list((rng.random(n) < q).astype(int))
    split = rng.random(len(cell)) < 0.5
    return np.array(cell), np.array(group), np.array(label), split


def _files(d: Path, cell: np.ndarray, group: np.ndarray, label: np.ndarray, split: np.ndarray) -> tuple[list[str], str]:
    paths = []
    for name, bits in RULES.items():
        dec = np.array(bits)[cell]
        path = d / f"r{name}.csv"
        path.write_text("id,decision,label,g\n" + "".join(f"{j},{dec[j]},{label[j]},{'xy'[group[j]]}\n"
                                                          for j in range(len(cell))))
        paths.append(str(path))
    people = d / "people.csv"
    people.write_text("id,split\n" + "".join(f"{j},{'train' if s else 'test'}\n" for j, s in enumerate(split)))
    return paths, str(people)


def _by_hand(rows: np.ndarray, cell, group, label, utility: str, disparity: str, lam: float = 1.0) -> dict:
    """Utility and disparity of every rule on the given rows, from their definitions."""
    out = {}
    for name, bits in RULES.items():
        dec = np.array(bits)[cell[rows]]
        y, g = label[rows], group[rows]
        acc = float((dec == y).mean())
        tpr, fpr = dec[y == 1].mean(), dec[y == 0].mean()
        util = acc if utility == "accuracy" else float(tpr - lam * fpr)
        rx, ry = dec[g == 0].mean(), dec[g == 1].mean()
        if disparity == "selection-rate-ratio":
            disp = 1 - min(rx, ry) / max(rx, ry) if max(rx, ry) > 0 else np.nan
        else:
            disp = abs(rx - ry)
        out[name] = (util, disp)
    return out


def _alternatives(scores: dict, eps: float) -> set[str]:
    u0, d0 = scores[BASELINE]
    return {f"r{n}" for n, (u, d) in scores.items() if n != BASELINE and u >= u0 - eps - 1e-12
            and not np.isnan(d) and d < d0 - 1e-12}


@pytest.mark.parametrize("utility", ["accuracy", "tpr-fpr"])
@pytest.mark.parametrize("disparity", ["selection-rate-ratio", "selection-rate-difference"])
@pytest.mark.parametrize("split", [False, True])
def test_the_less_discriminatory_alternatives_are_those_enumeration_finds(tmp_path, utility, disparity, split):
    cell, group, label, train = _people(2)
    files, people = _files(tmp_path, cell, group, label, train)
    eps = 0.03
    kwargs = dict(label="label", groups=["g"], baseline=f"r{BASELINE}", epsilon=1.0, lda_epsilon=eps,
                  utility=utility, disparity=disparity, inference=InferenceOptions(bootstrap=0))
    if split:
        kwargs |= dict(people=people, split="split", select_on="train", report_on="test")
    r = multiplicity(files, **kwargs)
    everyone = np.ones(len(cell), bool)
    if split:
        chosen = _alternatives(_by_hand(train, cell, group, label, utility, disparity), eps)
        held = _alternatives(_by_hand(~train, cell, group, label, utility, disparity), eps)
        expected = chosen & held
        assert {c.name for c in r.lda.candidates if c.chosen_on_selection} == chosen
    else:
        expected = _alternatives(_by_hand(everyone, cell, group, label, utility, disparity), eps)
    assert {c.name for c in r.lda.candidates if c.less_discriminatory} == expected
    assert r.lda.exists is bool(expected)
    # The numbers reported are those of the report rows (all, or the held-out split).
    rows = ~train if split else everyone
    hand = _by_hand(rows, cell, group, label, utility, disparity)
    for c in r.lda.candidates:
        assert c.utility.value == pytest.approx(hand[c.name[1:]][0])


def test_the_enumerated_case_has_alternatives_to_find(tmp_path):
    """The fixture is not vacuous: with the full sample, each disparity and utility finds some alternatives,
    and the split keeps some of those chosen on the training half and rejects others."""
    cell, group, label, train = _people(2)
    everyone = np.ones(len(cell), bool)
    kept = rejected = False
    for utility, disparity in itertools.product(("accuracy", "tpr-fpr"),
                                                ("selection-rate-ratio", "selection-rate-difference")):
        assert _alternatives(_by_hand(everyone, cell, group, label, utility, disparity), 0.03)
        chosen = _alternatives(_by_hand(train, cell, group, label, utility, disparity), 0.03)
        held = _alternatives(_by_hand(~train, cell, group, label, utility, disparity), 0.03)
        kept, rejected = kept or bool(chosen & held), rejected or bool(chosen - held)
    assert kept and rejected
