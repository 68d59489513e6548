"""The terminal table follows the width it is given: nothing runs past it, intervals are never split across
lines, and what does not fit is left out by design (and said) or turned into a ranked list."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import monoculture
from monoculture.report import Format, render
from monoculture.spec import InferenceOptions

ROOT = Path(__file__).resolve().parents[2] / "sample_data"
LENDERS = [str(ROOT / n) for n in ("lender_a.csv", "lender_b.csv", "lender_c.parquet", "lender_d.csv.gz",
                                   "lender_e.parquet")]
FAST = InferenceOptions(bootstrap=100, permutations=99)


@pytest.fixture(scope="module")
def demo():
    return monoculture.audit(LENDERS, id_column="applicant_id", decision="approved", label="repaid",
                             groups=["race", "sex"], inference=FAST)


@pytest.fixture(scope="module")
def ten():
    rng = np.random.default_rng(3)
    hard = rng.random(3000) < 0.2
    fails = rng.random((3000, 10)) < np.where(hard, 0.7, 0.1)[:, None]
    names = [f"decision_maker_{i:02d}" for i in range(10)]
    return monoculture.from_failures(fails, names, groups={"g": rng.choice(["x", "y"], 3000)}, inference=FAST)


def _split_interval(lines: list[str]) -> list[str]:
    """Lines where a bracketed interval opens and does not close: a cell wrapped apart."""
    return [line for line in lines if re.search(r"\[[-\d.,e+%]*,?\s*│", line)]


@pytest.mark.parametrize("width", [80, 100, 140])
def test_nothing_runs_past_the_width_and_no_interval_is_split(demo, ten, width):
    for result in (demo, ten):
        lines = render(result, Format.table, width=width).splitlines()
        assert max(len(line) for line in lines) <= width
        assert not _split_interval(lines), _split_interval(lines)[:3]


def test_a_narrow_terminal_leaves_columns_out_and_says_which(demo):
    narrow = render(demo, Format.table, width=80)
    wide = render(demo, Format.table, width=140)
    assert "failure rate (own input)" in wide and "left out to fit" not in wide
    assert "left out to fit 80 columns (--width shows them)" in " ".join(narrow.split())


def test_ten_decision_makers_get_a_ranked_list_not_clipped_labels(ten):
    narrow = render(ten, Format.table, width=80)
    assert "Strongest co-failing pairs" in narrow and "decision_maker_0…" not in narrow
    wide = render(ten, Format.table, width=200)
    assert "Error consistency κ" in wide  # a matrix where it fits


def test_undefined_agreement_measures_give_their_reason_in_the_terminal():
    fails = np.ones((50, 3), dtype=bool)  # everyone failed by all: interrater κ and bounded H are 0/0
    r = monoculture.from_failures(fails, inference=InferenceOptions(bootstrap=0, permutations=0))
    text = " ".join(render(r, Format.table, width=120).split())
    undefined = [m for m in (*r.overall.diversity.values(), r.overall.bounded_homogenization) if m.value is None]
    assert undefined and all(f"undefined: {m.reason}" in text for m in undefined)


def test_long_names_head_the_matrix_as_numbers_not_as_clipped_look_alikes(ten):
    wide = render(ten, Format.table, width=200)
    header = next(line for line in wide.splitlines() if line.startswith("┃") and "1" in line)
    labels = [c.strip() for c in header.strip("┃").split("┃")][1:]
    assert labels == [str(i) for i in range(1, 11)]
    assert "1 decision_maker_" in wide and "columns are numbered as the rows" in wide
