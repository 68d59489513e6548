"""False-negative and false-positive rules measured among the people they can fail (conditional error rates).

FNR = FN / people whose label is favourable, FPR = FP / people whose label is not; S, H and the histogram
are over that population. Checked by hand and against an independent route: the error rule on the people
of that population alone (among positives, a false negative is exactly a decision that differs from the
label).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import monoculture
from monoculture.errors import UsageError
from monoculture.spec import InferenceOptions
from profiles import examples

FAST = InferenceOptions(bootstrap=0, permutations=0)
ROOT = Path(__file__).resolve().parents[2]


def _write(directory: Path, decisions: np.ndarray, labels: np.ndarray, groups: list[str] | None = None,
           keep: np.ndarray | None = None) -> list[str]:
    """One CSV per decision-maker (columns id, decision, label[, g]) of the people `keep` selects."""
    n, k = decisions.shape
    keep = np.ones(n, dtype=bool) if keep is None else keep
    paths = []
    for i in range(k):
        frame = pd.DataFrame({"id": np.arange(n), "decision": decisions[:, i], "label": labels})
        if groups is not None:
            frame["g"] = groups
        path = directory / f"dm{i}.csv"
        frame[keep].to_csv(path, index=False)
        paths.append(f"dm{i}={path}")
    return paths


def test_hand_worked_false_negative_and_false_positive_rates(tmp_path):
    # Six people: three positives (label 1), three negatives. dm0 misses positives 0 and 1 and approves
    # negative 3; dm1 misses positive 0 and approves negatives 3 and 4.
    labels = np.array([1, 1, 1, 0, 0, 0])
    decisions = np.array([[0, 0], [0, 1], [1, 1], [1, 1], [0, 1], [0, 0]])
    inputs = _write(tmp_path, decisions, labels)

    fn = monoculture.audit(inputs, label="label", failure="false-negative", inference=FAST)
    assert fn.overall.n == 3
    assert [d.failure_rate.value for d in fn.decision_makers] == pytest.approx([2 / 3, 1 / 3])
    assert [d.input_failure_rate.value for d in fn.decision_makers] == pytest.approx([2 / 3, 1 / 3])
    assert fn.overall.systemic_failure.value == pytest.approx(1 / 3)  # person 0, failed by both
    assert fn.overall.homogenization.value == pytest.approx((1 / 3) / (2 / 3 * 1 / 3))
    assert [b.observed.value for b in fn.overall.failure_count_histogram] == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert "among people whose label is 1" in fn.rule
    for s in fn.coverage.sources:
        assert s.outside_population == 3 and s.linked == 3 and s.valid_rows == 3
        assert s.missing_id + s.missing_decision + s.missing_label + s.blank_cells + s.duplicate_rows \
            + s.outside_population + s.not_linked + s.linked == s.rows

    fp = monoculture.audit(inputs, label="label", failure="false-positive", inference=FAST)
    assert fp.overall.n == 3
    assert [d.failure_rate.value for d in fp.decision_makers] == pytest.approx([1 / 3, 2 / 3])
    assert fp.overall.systemic_failure.value == pytest.approx(1 / 3)  # person 3
    assert "among people whose label is not 1" in fp.rule

    everyone = monoculture.audit(inputs, label="label", failure="false-negative", population="everyone",
                                 inference=FAST)
    assert everyone.overall.n == 6
    assert [d.failure_rate.value for d in everyone.decision_makers] == pytest.approx([2 / 6, 1 / 6])
    assert everyone.coverage.sources[0].outside_population == 0
    assert "measured among everyone" in everyone.rule


@settings(max_examples=examples(60), deadline=None)
@given(st.data())
def test_conditional_rates_equal_the_error_rule_on_that_population(tmp_path_factory, data):
    n = data.draw(st.integers(8, 40), label="n")
    k = data.draw(st.integers(2, 4), label="k")
    kind = data.draw(st.sampled_from(["false-negative", "false-positive"]), label="kind")
    join = data.draw(st.sampled_from(["inner", "outer"]), label="join")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]  # both populations occur
    decisions = rng.integers(0, 2, (n, k))
    groups = [str(g) for g in rng.choice(["a", "b"], n)]
    base = tmp_path_factory.mktemp("population")
    (base / "all").mkdir()
    (base / "only").mkdir()
    inputs = _write(base / "all", decisions, labels, groups)
    population = labels == (1 if kind == "false-negative" else 0)
    subset = _write(base / "only", decisions, labels, groups, keep=population)
    try:
        conditional = monoculture.audit(inputs, label="label", failure=kind, groups=["g"], join=join,
                                        inference=FAST, min_group_size=0)
    except monoculture.InputError as exc:  # too few people in the population to link: the route agrees
        with pytest.raises(monoculture.InputError):
            monoculture.audit(subset, label="label", groups=["g"], join=join, inference=FAST)
        assert "nothing to audit" in str(exc)
        return
    try:
        reference = monoculture.audit(subset, label="label", groups=["g"], join=join, inference=FAST,
                                      min_group_size=0)
    except monoculture.InputError as exc:
        # In the population every label is one value; a decision-maker that decides the other for all of
        # them makes the error rule refuse the reference (no decision equals a label), so there is none.
        assert "no decision value ever equals a label value" in str(exc)
        reject()
    for got, want in [(conditional.overall, reference.overall),
                      *zip(conditional.groups, reference.groups, strict=True)]:
        assert got.n == want.n
        for name in ("systemic_failure", "expected_systemic_failure", "homogenization"):
            assert getattr(got, name).value == pytest.approx(getattr(want, name).value, nan_ok=True), name
        assert [b.observed.value for b in got.failure_count_histogram] == pytest.approx(
            [b.observed.value for b in want.failure_count_histogram])
    assert [d.failure_rate.value for d in conditional.decision_makers] == pytest.approx(
        [d.failure_rate.value for d in reference.decision_makers])
    assert [d.input_failure_rate.value for d in conditional.decision_makers] == pytest.approx(
        [d.input_failure_rate.value for d in reference.decision_makers])
    for s in conditional.coverage.sources:
        assert s.outside_population == int((~population).sum())


def test_the_cli_reads_the_population_and_the_sql_engines_refuse_it(tmp_path):
    inputs = _write(tmp_path, np.array([[0, 1], [1, 1], [1, 0], [0, 0]]), np.array([1, 1, 0, 0]))
    base = [sys.executable, "-m", "monoculture", "audit", *inputs, "--label", "label", "--failure",
            "false-negative", "--bootstrap", "0", "--permutations", "0", "-f", "json"]
    got = json.loads(subprocess.run(base, capture_output=True, check=True, cwd=ROOT).stdout)
    assert got["overall"]["n"] == 2 and got["options"]["failure"]["population"] == "can-fail"
    everyone = json.loads(subprocess.run([*base, "--population", "everyone"], capture_output=True, check=True,
                                         cwd=ROOT).stdout)
    assert everyone["overall"]["n"] == 4
    refused = subprocess.run([*base, "--emit-sql"], capture_output=True, cwd=ROOT)
    assert refused.returncode == 2
    assert refused.stderr.decode().strip() == (
        "Error: --emit-sql measures --failure false-negative among everyone only: pass --population everyone, "
        "or count with --engine memory")
    with pytest.raises(UsageError, match="among everyone only"):
        monoculture.audit(inputs, label="label", failure="false-positive", engine="duckdb", inference=FAST)


def test_a_favourable_value_no_decision_takes_is_an_error_not_a_rate(tmp_path):
    """COMPAS's score_text is Low/Medium/High: `--favorable 0` must not report P(label = 0) as a rate."""
    for i in range(2):
        (tmp_path / f"d{i}.csv").write_text("id,decision,label\n1,Low,0\n2,High,1\n3,Medium,0\n4,Low,1\n")
    inputs = [str(tmp_path / "d0.csv"), str(tmp_path / "d1.csv")]
    for kind in ("false-negative", "false-positive"):
        with pytest.raises(monoculture.InputError) as caught:
            monoculture.audit(inputs, label="label", failure=kind, favorable="0", inference=FAST)
        assert str(caught.value) == (
            "rule.favorable '0' never occurs among the decisions ('High', 'Low', 'Medium'); name the favourable "
            "decision value, or turn scores into decisions with rule.threshold")
    got = subprocess.run([sys.executable, "-m", "monoculture", "audit", *inputs, "--label", "label", "--failure",
                          "false-negative", "--favorable", "0"], capture_output=True, cwd=ROOT)
    assert got.returncode == 2
    assert got.stderr.decode().strip().endswith(
        "--favorable '0' never occurs among the decisions ('High', 'Low', 'Medium'); name the favourable "
        "decision value, or turn scores into decisions with --threshold")


def _compas_like(directory: Path, n: int = 400, seed: int = 5) -> Path:
    """A wide file shaped like ProPublica's: two scores in words, a 0/1 outcome, race."""
    rng = np.random.default_rng(seed)
    race = rng.choice(["African-American", "Caucasian", "Hispanic"], n, p=[0.5, 0.35, 0.15])
    recid = rng.integers(0, 2, n)
    words = np.array(["Low", "Medium", "High"])
    frame = pd.DataFrame({"id": np.arange(1, n + 1), "decile_score": rng.integers(1, 11, n),
                          "score_text": words[np.clip(recid + rng.integers(-1, 2, n), 0, 2)],
                          "v_score_text": words[rng.integers(0, 3, n)], "two_year_recid": recid, "race": race})
    path = directory / "compas.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("kind", ["false-negative", "false-positive"])
def test_two_vocabularies_reproduce_the_truth_table_by_group(tmp_path, kind):
    """Decisions Low/Medium/High, labels 0/1: `--favorable-decision Low --favorable-label 0`. ProPublica's
    false-positive rate (high risk among the not re-arrested) is the false-negative rule here."""
    path = _compas_like(tmp_path)
    frame = pd.read_csv(path)
    result = monoculture.audit([str(path)], decision_columns=["score_text", "v_score_text"],
                               label="two_year_recid", failure=kind, favorable="Low", favorable_label="0",
                               groups=["race"], inference=FAST, min_group_size=0)
    population = frame[frame.two_year_recid == (0 if kind == "false-negative" else 1)]
    for name in ("score_text", "v_score_text"):
        failed = population[name] != "Low" if kind == "false-negative" else population[name] == "Low"
        rate = next(d for d in result.decision_makers if d.name == name).failure_rate.value
        assert rate == pytest.approx(failed.mean())
        for g in result.groups:
            members = population.race == g.group
            assert g.n == members.sum()
            assert g.failure_rates[name].value == pytest.approx(failed[members].mean())
    both = (population.score_text != "Low") & (population.v_score_text != "Low") if kind == "false-negative" \
        else (population.score_text == "Low") & (population.v_score_text == "Low")
    assert result.overall.systemic_failure.value == pytest.approx(both.mean())


def test_the_label_vocabulary_in_the_sql_engine_and_on_the_command_line(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    del duckdb
    inputs = []
    rng = np.random.default_rng(3)
    for i in range(3):
        frame = pd.DataFrame({"id": np.arange(60), "decision": rng.choice(["Low", "High"], 60),
                              "label": rng.choice(["yes", "no"], 60)})
        frame.to_csv(tmp_path / f"d{i}.csv", index=False)
        inputs.append(str(tmp_path / f"d{i}.csv"))
    for kind in ("error", "false-negative", "false-positive"):
        kw = dict(label="label", failure=kind, favorable="Low", favorable_label="no", population="everyone",
                  inference=FAST)
        memory, sql = (monoculture.audit(inputs, engine=e, **kw) for e in ("memory", "duckdb"))
        assert memory.overall.systemic_failure.value == pytest.approx(sql.overall.systemic_failure.value)
        assert [d.failure_rate.value for d in memory.decision_makers] == pytest.approx(
            [d.failure_rate.value for d in sql.decision_makers])
    error = monoculture.audit(inputs, label="label", failure="error", unfavorable_label="yes", favorable="Low",
                              inference=FAST)
    frame = pd.read_csv(inputs[0])
    assert error.decision_makers[0].failure_rate.value == pytest.approx(
        ((frame.decision == "Low") != (frame.label == "no")).mean())
    both = subprocess.run([sys.executable, "-m", "monoculture", "audit", *inputs, "--label", "label",
                           "--favorable", "Low", "--favorable-decision", "Low"], capture_output=True, cwd=ROOT)
    assert both.returncode == 2
    assert both.stderr.decode().strip() == (
        "Error: --favorable sets the decision's value and the label's; give it or --favorable-decision, not both")


def test_scores_given_as_decisions_get_a_hint(tmp_path):
    rows = "id,decision\n" + "".join(f"{i},{i / 40:.3f}\n" for i in range(40))
    for name in ("a", "b"):
        (tmp_path / f"{name}.csv").write_text(rows)
    with pytest.raises(UsageError) as caught:
        monoculture.audit([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], failure="outcome", inference=FAST)
    assert str(caught.value).endswith("40 distinct numbers look like scores; turn them into decisions with "
                                      "rule.threshold")
