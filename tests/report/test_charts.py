"""Charts that read: the dashed line the caption promises, axis titles inside the picture, round ticks."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import monoculture
from monoculture.report.charts import log_ticks, nice_ticks
from monoculture.report.html import render_html
from monoculture.spec import InferenceOptions

ROOT = Path(__file__).resolve().parents[2] / "sample_data"
FILES = [str(ROOT / n) for n in ("lender_a.csv", "lender_b.csv", "lender_c.parquet")]


def _round(v: float) -> bool:
    """0, or 1, 2, 2.5 or 5 times a power of ten."""
    if v == 0:
        return True
    mantissa = abs(v) / 10 ** math.floor(math.log10(abs(v)))
    return any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 2.5, 5, 10))


@pytest.fixture(scope="module")
def svgs() -> list[ET.Element]:
    r = monoculture.audit(FILES, id_column="applicant_id", decision="approved", label="repaid", groups=["race"],
                          people=str(ROOT / "people.csv"), inference=InferenceOptions(bootstrap=50, permutations=99))
    html = render_html(r)
    return [ET.fromstring(m) for m in re.findall(r"<svg.*?</svg>", html, flags=re.S)]


def test_the_h_by_group_chart_draws_the_dashed_line_at_one(svgs):
    dots = [s for s in svgs if "H by group" in (s.get("aria-label") or "")]
    assert dots and any(line.get("stroke-dasharray") for line in dots[0].iter("line"))


def test_every_label_is_inside_the_picture(svgs):
    for svg in svgs:
        height = float(svg.get("height"))
        for text in svg.iter("text"):
            if text.get("y") is not None:
                assert float(text.get("y")) <= height - 3, (svg.get("aria-label"), text.text)


def _evenly_round(values: list[float]) -> bool:
    """Multiples of one step that is 1, 2 or 5 times a power of ten."""
    distinct = sorted(set(values))
    if len(distinct) < 2:
        return all(_round(v) for v in distinct)
    step = distinct[1] - distinct[0]
    if not _round(step):
        return False
    # The difference of two ticks near 2 carries their rounding error (2.000005 − 2 = 4.9999999998e-06), which
    # v / step multiplies by 4·10⁵: test against the round step it stands for.
    power = 10 ** math.floor(math.log10(step))
    step = min((m * power for m in (1, 2, 2.5, 5, 10)), key=lambda s: abs(s - step))
    return all(math.isclose((v / step) - round(v / step), 0, abs_tol=1e-6) for v in distinct)


def test_axis_ticks_are_round(svgs):
    checked = 0
    for svg in svgs:
        labels = [(t.text or "").strip() for t in svg.iter("text") if t.get("text-anchor") in ("end", "middle")]
        ticks = [float(x.rstrip("%")) for x in labels if re.fullmatch(r"-?[0-9.]+(e[+-]?[0-9]+)?%?", x)]
        if not ticks or "by pair" in (svg.get("aria-label") or ""):  # a heat map's cells are values, not ticks
            continue
        checked += 1
        if "H by group" in (svg.get("aria-label") or ""):  # a log scale: each tick a round value
            assert all(_round(t) for t in ticks), ticks
        else:
            assert _evenly_round([t for t in ticks if not float(t).is_integer() or t >= 0]), ticks
    assert checked >= 3


@given(st.floats(1e-6, 1e3), st.floats(1e-6, 1e3))
def test_tick_helpers_give_round_values_covering_the_range(a, b):
    lo, hi = min(a, b), max(a, b)
    ticks = nice_ticks(lo, hi, 4)
    assert ticks[0] <= lo + 1e-12 and ticks[-1] >= hi - 1e-12 * max(1, hi) and _evenly_round(ticks)
    logs = log_ticks(lo, hi)
    assert logs[0] <= lo * (1 + 1e-9) and logs[-1] >= hi * (1 - 1e-9) and len(logs) <= 7
    assert all(_round(t) for t in logs)


def test_ticks_of_a_range_narrower_than_floats_can_step_end():
    """A regression: a range of 1e-13 at 1000 gave a step below the float spacing there, so the tick loop
    never reached its end and filled the memory (a Hypothesis example once did, killing the test run)."""
    for lo, hi in [(1000.0, 1000.0 + 1e-13), (1e-6, 1e-6 * (1 + 1e-12)), (5.0, 5.0), (0.0, 0.0)]:
        ticks = nice_ticks(lo, hi, 4)
        assert 2 <= len(ticks) <= 10 and ticks[0] <= lo and ticks[-1] >= hi and _evenly_round(ticks)


def test_every_chart_has_a_visible_title_and_no_text_runs_off_the_right(svgs):
    """Each chart says what it shows in bold at the top; at about 6.5 px per character of the 11-px font, no
    left-anchored label runs past the picture's right edge (the unstable legend once did)."""
    for svg in svgs:
        titles = [t for t in svg.iter("text") if t.get("class") == "title"]
        assert titles and titles[0].text, svg.get("aria-label")
        width = float(svg.get("width"))
        for text in svg.iter("text"):
            if text.get("x") is not None and text.get("text-anchor") is None and text.text:
                assert float(text.get("x")) + 6.5 * len(text.text) <= width + 2, (svg.get("aria-label"), text.text)


def test_unstable_groups_are_drawn_hollow_with_a_legend():
    import numpy as np

    rng = np.random.default_rng(1)
    group = np.where(np.arange(2000) < 1900, "big", "small")
    fails = rng.random((2000, 4)) < 0.3
    fails[:60] = True  # shared failures, so H is defined in both groups
    r = monoculture.from_failures(fails, groups={"g": group}, inference=InferenceOptions(bootstrap=30, permutations=0))
    unstable = {g.group: any(f.startswith("unstable") for f in g.homogenization.flags) for g in r.groups}
    assert unstable == {"big": False, "small": True}
    dots = next(ET.fromstring(m) for m in re.findall(r"<svg.*?</svg>", render_html(r), flags=re.S)
                if "H by group" in m)
    fills = [c.get("fill") for c in dots.iter("circle") if c.find("title") is not None]
    assert fills.count("white") == 1  # the small group's dot, hollow; the big group's filled
    assert any("unstable" in (t.text or "") for t in dots.iter("text"))


def test_the_html_has_group_terms_sensitivity_and_a_reproducible_footer():
    r = monoculture.audit(FILES, id_column="applicant_id", decision="approved", label="repaid", groups=["race"],
                          inference=InferenceOptions(bootstrap=20, permutations=0, seed=7))
    html = render_html(r)
    for term in ("H_avg", "H_unif", "H_worst", "between", "within"):
        assert f"<dt>{term}</dt>" in html
    assert "Sensitivity of H" in html and "without lender_a" in html
    footer = html.split("<footer")[1]
    assert "seed 7" in footer and r.inputs[0].sha256[:12] in footer and "docs/metrics.md" in footer
    assert str(ROOT) not in html  # names and hashes, never paths
