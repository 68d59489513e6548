"""Rows without a decision: refused (counted over every decision-maker), dropped, or failed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import monoculture
from monoculture.spec import InferenceOptions, SpecError

FAST = InferenceOptions(bootstrap=0, permutations=0)
# Stacked like an LLM leaderboard: three models, four questions; a blank answer could not be extracted.
STACKED = """question,model,pred,answer
1,m1,A,A
2,m1,,B
3,m1,C,C
4,m1,,D
1,m2,B,A
2,m2,B,B
3,m2,,C
4,m2,D,D
1,m3,A,A
2,m3,A,B
3,m3,C,C
4,m3,D,D
"""


def _stacked(tmp_path: Path) -> str:
    path = tmp_path / "answers.csv"
    path.write_text(STACKED)
    return str(path)


def _kw(**more):
    return dict(layout="stacked", decision_maker_column="model", id_column="question", decision="pred",
                label="answer", inference=FAST, **more)


def test_the_error_counts_missing_decisions_over_every_decision_maker(tmp_path):
    with pytest.raises(monoculture.InputError) as caught:
        monoculture.audit([_stacked(tmp_path)], **_kw())
    assert caught.value.row == 2  # m1's first blank, row 2 of its rows
    assert caught.value.message == (
        "3 rows have a missing decision (from 2 of 3 decision-makers; the first here); fix them, pass "
        "{link.on_missing=drop}, or count a missing decision as a failure with {link.missing_decision=fail}")


def test_a_missing_decision_can_count_as_a_failure(tmp_path):
    result = monoculture.audit([_stacked(tmp_path)], **_kw(missing_decision="fail"))
    frame = pd.read_csv(tmp_path / "answers.csv", dtype=str, keep_default_na=False)
    wrong = (frame.pred != frame.answer).groupby(frame.model).mean()  # a blank is never the answer
    assert {d.name: d.failure_rate.value for d in result.decision_makers} == pytest.approx(wrong.to_dict())
    assert {s.name: s.missing_decision_failed for s in result.coverage.sources} == {"m1": 2, "m2": 1, "m3": 0}
    assert all(s.missing_decision == 0 for s in result.coverage.sources)
    # Question 2: m1 blank, m2 right, m3 wrong; question 4: m1 blank, the others right; none failed by all three.
    assert result.overall.n == 4 and result.overall.systemic_failure.value == 0.0

    dropped = monoculture.audit([_stacked(tmp_path)], **_kw(missing_decision="drop", join="outer"))
    assert {s.name: s.missing_decision for s in dropped.coverage.sources} == {"m1": 2, "m2": 1, "m3": 0}
    assert dropped.decision_makers[0].failure_rate.value == 0.0  # m1 is right on both questions it answered


def test_a_missing_decision_fails_every_rule_but_false_positive(tmp_path):
    rows = "id,decision,label\n1,,1\n2,,0\n3,1,1\n4,0,0\n"
    inputs = []
    for name in ("a", "b"):
        (tmp_path / f"{name}.csv").write_text(rows)
        inputs.append(str(tmp_path / f"{name}.csv"))
    kw = dict(label="label", missing_decision="fail", inference=FAST)
    outcome = monoculture.audit(inputs, failure="outcome", **kw)
    assert outcome.decision_makers[0].failure_rate.value == pytest.approx(3 / 4)  # the blanks and the 0
    fn = monoculture.audit(inputs, failure="false-negative", **kw)
    assert fn.decision_makers[0].failure_rate.value == pytest.approx(1 / 2)  # among label 1: the blank
    fp = monoculture.audit(inputs, failure="false-positive", **kw)
    assert fp.decision_makers[0].failure_rate.value == 0.0  # a blank is no favourable decision


def test_failing_missing_scores_and_the_sql_engines_are_refused(tmp_path):
    with pytest.raises(SpecError) as caught:
        monoculture.audit(["a.csv", "b.csv"], label="y", threshold=0.5, missing_decision="fail")
    assert caught.value.field == "link.missing_decision"
    pytest.importorskip("duckdb")
    rows = "id,decision,label\n1,,1\n2,1,1\n"
    for name in ("a", "b"):
        (tmp_path / f"{name}.csv").write_text(rows)
    inputs = [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    with pytest.raises(monoculture.UsageError, match="treats a missing decision as any missing value"):
        monoculture.audit(inputs, label="label", missing_decision="fail", engine="duckdb", inference=FAST)
    memory, duck = [], []
    for engine, out in (("memory", memory), ("duckdb", duck)):
        with pytest.raises(monoculture.InputError) as caught:
            monoculture.audit(inputs, label="label", engine=engine, inference=FAST)
        out.append((caught.value.file, caught.value.message.split(" ({engine.engine=memory}")[0]))
    assert memory == duck == [(inputs[0], (
        "2 rows have a missing decision (from 2 of 2 decision-makers; the first here); fix them, pass "
        "{link.on_missing=drop}, or count a missing decision as a failure with {link.missing_decision=fail}"))]
