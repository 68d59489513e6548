"""Linking: layouts, ID rules, coverage counts that add up, groups from files and the people file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import monoculture
from monoculture.errors import InputError, UsageError
from monoculture.report.json import render_json

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def _write(d: Path, name: str, text: str) -> str:
    p = d / name
    p.write_text(text)
    return str(p)


def _coverage_adds_up(result) -> None:
    for s in result.coverage.sources:
        parts = (s.missing_id + s.missing_decision + s.missing_label + s.blank_cells + s.duplicate_rows
                 + s.not_linked + s.linked)
        assert parts == s.rows, s


def test_coverage_counts_add_up_with_partial_overlap(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n1,1,1\n2,0,1\n3,1,1\n4,,1\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n2,0,1\n3,1,1\n5,0,0\n,1,1\n")
    c = _write(tmp_path, "c.csv", "id,decision,label\n1,1,1\n2,1,1\n3,0,1\n5,1,0\n")
    with pytest.raises(InputError, match="missing decision"):
        monoculture.audit([a, b, c], label="label")
    r = monoculture.audit([a, b, c], label="label", on_missing="drop")
    assert r.coverage.linked == 2  # IDs 2 and 3
    cov = {s.name: s for s in r.coverage.sources}
    assert cov["a"].missing_decision == 1 and cov["b"].missing_id == 1
    assert cov["a"].not_linked == 1 and cov["b"].not_linked == 1 and cov["c"].not_linked == 2
    _coverage_adds_up(r)
    outer = monoculture.audit([a, b, c], label="label", on_missing="drop", join="outer")
    assert outer.coverage.linked == 4  # 1 (a, c), 2, 3, 5 (b, c)
    _coverage_adds_up(outer)
    assert {s.name: s.linked_individuals_unseen for s in outer.coverage.sources} == {"a": 1, "b": 1, "c": 0}


def test_integer_ids_compare_as_integers_and_text_ids_are_trimmed(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n007,1,1\n8,0,1\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n7,1,1\n8,1,1\n")
    r = monoculture.audit([a, b], label="label")
    assert r.coverage.id_type == "integer" and r.coverage.linked == 2
    c = _write(tmp_path, "c.csv", 'id,decision,label\n"  p1 ",1,1\np2,0,1\n')
    d = _write(tmp_path, "d.csv", "id,decision,label\np1,1,1\np2 ,1,1\n")
    r = monoculture.audit([c, d], label="label")
    assert r.coverage.id_type == "string" and r.coverage.linked == 2


def test_mixed_integer_and_text_ids_warn(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n7,1,1\n8,0,1\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n7,1,1\nx8,1,1\n")
    r = monoculture.audit([a, b], label="label")
    assert r.coverage.linked == 1
    assert any("'007' and '7' do not match" in w for w in r.warnings)


def test_groups_from_people_file_and_conflicts(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label,g\n1,1,1,x\n2,0,1,y\n3,1,1,y\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n1,1,1\n2,1,1\n3,0,1\n")
    people = _write(tmp_path, "people.csv", "id,g,h\n1,x,u\n2,y,u\n3,x,v\n")
    with pytest.raises(InputError, match="1 linked individuals have conflicting values"):
        monoculture.audit([a, b], label="label", groups=["g"], people=people)
    r = monoculture.audit([a, b], label="label", groups=["g", "h"], people=people, on_group_conflict="missing",
                          intersect=True)
    assert r.coverage.group_conflicts == {"g": 1, "h": 0}
    got = {(g.attribute, g.group): g.n for g in r.groups}
    assert got == {("g", "(missing)"): 1, ("g", "x"): 1, ("g", "y"): 1, ("h", "u"): 2, ("h", "v"): 1,
                   ("g & h", "(missing) & v"): 1, ("g & h", "x & u"): 1, ("g & h", "y & u"): 1}


def test_wide_layout_blank_cells_mean_not_seen(tmp_path):
    w = _write(tmp_path, "w.csv", "id,r1,r2,r3,gold\n1,a,a,,a\n2,b,,a,a\n3,,b,b,b\n4,a,b,,b\n")
    with pytest.raises(InputError, match="no individual is seen by every decision-maker"):
        monoculture.audit([w], decision_columns=["r*"], label="gold")
    r = monoculture.audit([w], decision_columns=["r*"], label="gold", join="outer")
    assert [d.name for d in r.decision_makers] == ["r1", "r2", "r3"]
    assert {s.name: s.blank_cells for s in r.coverage.sources} == {"r1": 1, "r2": 1, "r3": 2}
    assert r.overall.n == 4
    _coverage_adds_up(r)


def test_stacked_layout_with_label_in_people_file(tmp_path):
    s = _write(tmp_path, "s.csv", "item,worker,answer\n1,w1,0\n1,w2,1\n2,w1,1\n2,w2,1\n3,w2,0\n3,w1,1\n")
    truth = _write(tmp_path, "t.csv", "item,truth\n1,1\n2,1\n3,0\n")
    r = monoculture.audit([s], layout="stacked", decision_maker_column="worker", id_column="item",
                          decision="answer", label="truth", people=truth)
    assert {k: v.value for k, v in r.overall.failure_rates.items()} == {"w1": pytest.approx(2 / 3), "w2": 0.0}
    assert r.overall.homogenization.value is None
    assert "w2 never fails" in r.overall.homogenization.reason


def test_transposed_layout(tmp_path):
    t = _write(tmp_path, "t.csv", "userid,q1,q2,q3\nm1,1,0,0\nm2,1,0,1\n")
    r = monoculture.audit([t], layout="transposed", decision_maker_column="userid", failure="outcome",
                          unfavorable="0")
    assert r.overall.n == 3 and r.overall.systemic_failure.value == pytest.approx(1 / 3)


def test_same_decision_maker_twice_is_an_error(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n1,1,1\n")
    with pytest.raises(UsageError, match="named twice"):
        monoculture.audit([f"x={a}", f"x={a}"], label="label")


def test_json_has_no_nan_and_undefined_has_reason(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n1,1,1\n2,1,1\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n1,0,1\n2,1,1\n")
    text = render_json(monoculture.audit([a, b], label="label"))
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    h = data["overall"]["homogenization"]
    assert h["value"] is None and "a never fails" in h["reason"]


@pytest.mark.skipif(not SHARED.exists(), reason="shared real data not present")
def test_real_data_runs():
    hc = monoculture.audit([str(SHARED / "hatecheck/all_annotations.csv")], id_column="case_id",
                           decision_columns=["label_[0-9]*"], label="label_gold", join="outer",
                           people=str(SHARED / "hatecheck/all_cases.csv"), groups=["target_ident"])
    assert hc.overall.n == 3901 and len(hc.decision_makers) == 10
    _coverage_adds_up(hc)
    duck = monoculture.audit([str(SHARED / "crowd-duck/answer.csv")], layout="stacked", decision_maker_column="worker",
                             id_column="question", decision="answer", label="truth",
                             people=str(SHARED / "crowd-duck/truth.csv"))
    assert len(duck.decision_makers) == 39 and duck.overall.n == 108
    boolq = monoculture.audit([str(SHARED / "nlu-boolq/boolq_irt_all_coded.csv")], layout="transposed",
                              decision_maker_column="userid", failure="outcome", unfavorable="0")
    assert len(boolq.decision_makers) == 90 and boolq.overall.n == 1635
    assert np.isclose(sum(b.observed.value for b in boolq.overall.failure_count_histogram), 1.0)
