"""Pairs and judge entries held as columns (`measure.records`): the same records, and the same JSON bytes
as the standard library's encoder gives for them one by one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import monoculture
from monoculture.measure.records import Floats, Ints, Labels, Objects, Points, Records
from monoculture.measure.result import Metric, PairResult, SameWrongAnswer
from monoculture.report import answers, rows
from monoculture.report.json import render_json, to_data


def _stdlib(result) -> str:
    return json.dumps(to_data(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _leaderboard(models: int, items: int, seed: int = 0) -> pd.DataFrame:
    """A stacked leaderboard with every kind of undefined pair: a model never wrong, one always wrong,
    one that answers nothing on half the items; names that need escaping in JSON."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 4, items)
    rows = []
    for i in range(models):
        right = rng.random(items) < rng.uniform(0.3, 0.9)
        pred = np.where(right, gold, (gold + rng.integers(1, 4, items)) % 4)
        if i == 0:
            pred = gold.copy()  # never wrong
        if i == 1:
            pred = (gold + 1) % 4  # always wrong
        name = f'm{i:02d} "ü"\\' if i == 2 else f"m{i:02d}"
        answers = ["ABCD"[p] for p in pred]
        if i == 3:
            answers = [a if j % 2 else None for j, a in enumerate(answers)]
        rows += [(j, name, "ABCD"[g], a, f"s{j % 3}") for j, (g, a) in enumerate(zip(gold, answers, strict=True))]
    return pd.DataFrame(rows, columns=["item", "model", "answer", "pred", "subject"])


COMMON = dict(decision_maker_column="model", id="item", decision="pred", label="answer",
              missing_decision="fail", bootstrap=30, permutations=19, seed=3)


@pytest.mark.parametrize("models,pair_intervals", [(52, "auto"), (6, "auto"), (6, "none"), (52, "all")])
def test_json_of_column_records_is_the_stdlib_encoders(models, pair_intervals):
    """52 models make 1,326 pairs: point values only by default, columns throughout; 6 make 15 pairs with
    intervals (ready-made metrics in the columns)."""
    r = monoculture.audit(_leaderboard(models, 120), group=["subject"], pair_intervals=pair_intervals, **COMMON)
    assert isinstance(r.overall.pairwise, Records) and isinstance(r.judges, Records)
    assert len(r.overall.pairwise) == models * (models - 1) // 2 and len(r.judges) == models * (models - 1)
    undefined = [p.cofailure_lift for p in r.overall.pairwise if not p.cofailure_lift.defined]
    assert undefined and all(m.reason for m in undefined)  # the never-wrong model's pairs
    assert render_json(r) == _stdlib(r)
    # The CSV and JSON Lines rows read from the columns are those of the pair objects one by one.
    kw = {"attribute": "", "group": ""}
    assert list(rows._pair_rows(r.overall.pairwise, kw)) == list(rows._pair_rows(list(r.overall.pairwise), kw))


def test_judges_are_a_loop_over_judges_and_judged():
    """Every entry against a direct count over the items, and the ranks against sorting by hand."""
    df = _leaderboard(5, 80, seed=1)
    r = monoculture.audit(df, **COMMON)
    wide = df.pivot(index="item", columns="model", values="pred")
    gold = df.groupby("item")["answer"].first().loc[wide.index]
    names = [dm.name for dm in r.decision_makers]
    expected = []
    for judge in names:
        for judged in names:
            if judged == judge:
                continue
            seen = wide[judged].notna() | True  # --missing-decision fail: every item counts
            acc = float(((wide[judged] == wide[judge]) & wide[judge].notna())[seen].mean())
            true = float((wide[judged] == gold)[seen].mean())
            expected.append((judge, judged, acc, true))
    got = [(j.judge, j.judged, j.judged_accuracy.value, j.true_accuracy.value) for j in r.judges]
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    np.testing.assert_allclose([g[2:] for g in got], [e[2:] for e in expected])
    for judge in names:
        entries = [j for j in r.judges if j.judge == judge]
        for key, rank in (("judged_accuracy", "judged_rank"), ("true_accuracy", "true_rank")):
            values = [getattr(j, key).value for j in entries]
            want = [1 + sum(v > x for v in values) for x in values]  # competition ranks, 1 = best
            assert [getattr(j, rank) for j in entries] == want
    # The reports' count of rank changes, from the columns and from a plain list of the entries
    moved = sum(j.true_rank != j.judged_rank for j in r.judges)
    assert answers.rank_changes(r) == moved
    r.judges = list(r.judges)
    assert answers.rank_changes(r) == moved


def test_records_behave_as_a_list():
    names = ["a", "b", "c"]
    rec = Records(PairResult, 3, {
        "a": Labels(np.array([0, 0, 1]), names), "b": Labels(np.array([1, 2, 2]), names),
        "n": Ints(np.array([5, 6, 7])),
        **{k: Points(np.array([0.5, np.nan, 1.0]), ["", "why", ""]) for k in
           ("error_consistency", "cofailure_lift", "double_fault", "q_statistic", "correlation", "disagreement")},
        "local_dependence_lift": Objects([Metric(1.0, ci=(0.5, 2.0), ci_method="m"), Metric(None, "x"),
                                          Metric(2.0)]),
        "same_wrong_answer": Points(np.array([np.inf, 0.25, 0.0]), "none", SameWrongAnswer,
                                    {"chance": Floats(np.array([np.nan, 0.5, 0.5])),
                                     "both_wrong": Ints(np.array([0, 4, 2])), "same": Ints(np.array([0, 1, 0]))}),
    })
    items = list(rec)
    assert len(rec) == 3 and rec[-1] == items[2] and rec[0:2] == items[:2] and rec == items
    assert items[1].error_consistency == Metric(None, "why") and items[0].error_consistency == Metric(0.5)
    assert items[0].same_wrong_answer == SameWrongAnswer(None, "none", chance=None, both_wrong=0, same=0)
    assert items[1].same_wrong_answer == SameWrongAnswer(0.25, chance=0.5, both_wrong=4, same=1)
    with pytest.raises(IndexError):
        rec[3]
    assert render_json({"pairs": rec}) == json.dumps({"pairs": to_data(items)}, indent=2, ensure_ascii=False) + "\n"
    assert render_json({"pairs": Records(PairResult, 0, {})}) == '{\n  "pairs": []\n}\n'
    with pytest.raises(ValueError, match="not JSON compliant"):
        render_json({"x": Records(dict, 1, {"v": Floats(np.array([np.inf]))})})
