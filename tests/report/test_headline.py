"""The first lines a reader sees: a headline that leads with what is stable, at the terminal's width."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import monoculture
from monoculture.cli.output import FILE_WIDTH, report_width
from monoculture.report.terminal import render_terminal
from monoculture.report.text import verdict_sentence
from monoculture.spec import InferenceOptions

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = [str(ROOT / "sample_data" / n) for n in ("lender_a.csv", "lender_b.csv", "lender_c.parquet")]
FAST = InferenceOptions(bootstrap=50, permutations=99)


def _wide(tmp_path: Path, shared: int, n: int = 400, k: int = 8, seed: int = 0) -> str:
    """k rare-failing decision-makers; `shared` people failed by all of them."""
    rng = np.random.default_rng(seed)
    fail = rng.random((n, k)) < 0.05
    fail[:shared] = True
    lines = ["id,label," + ",".join(f"m{i}" for i in range(k))]
    lines += [f"{j},1," + ",".join("0" if f else "1" for f in row) for j, row in enumerate(fail)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_a_stable_h_leads():
    r = monoculture.audit(SAMPLE, id_column="applicant_id", decision="approved", label="repaid", inference=FAST)
    o = r.overall
    h, n = o.homogenization.value, o.n
    assert not o.homogenization.flags
    # H leads, then the counts of people it compares: failed by all three, and expected if independent.
    assert verdict_sentence(r) == (
        f"The same people are failed by all 3 decision-makers {h:.3g}× as often as if they failed people "
        f"independently: {round(o.systemic_failure.value * n):,} of the {n:,} people, where "
        f"{round(o.expected_systemic_failure.value * n):,} would be.")


def test_an_unstable_h_gives_way_to_counts_of_people_and_says_why(tmp_path):
    r = monoculture.audit([_wide(tmp_path, shared=12)], decision_columns=["m*"], label="label", inference=FAST)
    assert any(f.startswith("unstable") for f in r.overall.homogenization.flags)
    sentence = verdict_sentence(r)
    n_all = round(r.overall.systemic_failure.value * r.overall.n)
    assert sentence.startswith(f"{n_all} of the 400 people were failed by every decision-maker that saw them; ")
    assert "fewer than 0.01 would be if they failed people independently" in sentence
    assert "is not the headline: with fewer than 0.01 systemic failures expected under independence" in sentence
    assert "H beyond difficulty" in sentence


def test_nobody_failed_by_all_reads_as_such(tmp_path):
    r = monoculture.audit([_wide(tmp_path, shared=0, seed=3)], decision_columns=["m*"], label="label",
                          inference=FAST)
    assert r.overall.systemic_failure.value == 0
    assert verdict_sentence(r).startswith("No one of the 400 people was failed by every decision-maker")


@pytest.mark.parametrize("width, output, tty, columns, want", [
    (None, None, True, 80, 80),  # a terminal: its width
    (None, None, True, 20, 40),  # never narrower than 40
    (None, None, False, 80, FILE_WIDTH),  # a pipe: the same bytes everywhere
    (None, Path("r.txt"), True, 80, FILE_WIDTH),  # a file
    (120, None, True, 80, 120),  # --width wins
])
def test_the_table_follows_the_terminal_and_files_stay_fixed(width, output, tty, columns, want):
    assert report_width(width, output, tty, columns) == want


def test_an_80_column_report_has_no_line_wider_than_80():
    r = monoculture.audit(SAMPLE, id_column="applicant_id", decision="approved", label="repaid",
                          groups=["race"], people=str(ROOT / "sample_data" / "people.csv"), inference=FAST)
    text = render_terminal(r, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
