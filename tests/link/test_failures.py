"""Failure rules, thresholds and top-fraction selection, against hand-built decisions."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monoculture
from monoculture.errors import InputError, UsageError
from monoculture.read.values import Vocabulary, canonical
from profiles import examples


def _write(d: Path, name: str, text: str) -> str:
    p = d / f"{name}.csv"
    p.write_text(text)
    return str(p)


def _rates(result) -> dict[str, float]:
    return {k: v.value for k, v in result.overall.failure_rates.items()}


def test_error_rule_multiclass_and_canonical_values(tmp_path):
    a = _write(tmp_path, "a", "id,decision,label\n1,cat,cat\n2,dog,cat\n3,bird,bird\n4,cat,dog\n")
    b = _write(tmp_path, "b", "id,decision,label\n1, cat ,cat\n2,cat,cat\n3,dog,bird\n4,dog,dog\n")
    r = monoculture.audit([a, b], label="label")
    assert _rates(r) == {"a": 0.5, "b": 0.25}
    c = _write(tmp_path, "c", "id,decision,label\n1,True,1\n2,1.0,1\n3,false,0\n4,0,1\n")
    d = _write(tmp_path, "d", "id,decision,label\n1,1,1\n2,0,1\n3,0,0\n4,1,1\n")
    assert _rates(monoculture.audit([c, d], label="label")) == {"c": 0.25, "d": 0.25}


def test_outcome_rule(tmp_path):
    a = _write(tmp_path, "a", "id,decision\n1,rejected\n2,approved\n3,rejected\n4,approved\n")
    b = _write(tmp_path, "b", "id,decision\n1,rejected\n2,rejected\n3,approved\n4,approved\n")
    r = monoculture.audit([a, b], failure="outcome", unfavorable="rejected")
    assert _rates(r) == {"a": 0.5, "b": 0.5}
    assert r.overall.systemic_failure.value == 0.25
    assert r.rule == "failure = unfavourable outcome (decision = rejected)"
    r = monoculture.audit([a, b], failure="outcome", favorable="approved")
    assert _rates(r) == {"a": 0.5, "b": 0.5}
    with pytest.raises(UsageError, match=r"needs rule\.unfavorable"):
        monoculture.audit([a, b], failure="outcome")


def test_false_negative_and_false_positive(tmp_path):
    # label 1 = qualified. FN: qualified and rejected. FP: unqualified and accepted.
    text = "id,decision,label\n1,0,1\n2,1,1\n3,1,0\n4,0,0\n"
    a, b = _write(tmp_path, "a", text), _write(tmp_path, "b", text)
    # Among the people each rule can fail (2 qualified, 2 not): FNR = 1/2, FPR = 1/2; among everyone: 1/4.
    assert _rates(monoculture.audit([a, b], label="label", failure="false-negative")) == {"a": 0.5, "b": 0.5}
    assert _rates(monoculture.audit([a, b], label="label", failure="false-positive")) == {"a": 0.5, "b": 0.5}
    for kind in ("false-negative", "false-positive"):
        everyone = monoculture.audit([a, b], label="label", failure=kind, population="everyone")
        assert _rates(everyone) == {"a": 0.25, "b": 0.25}
    yn = "id,decision,label\n1,no,yes\n2,yes,yes\n3,yes,no\n4,no,no\n"
    c, d = _write(tmp_path, "c", yn), _write(tmp_path, "d", yn)
    with pytest.raises(UsageError, match=r"needs rule\.favorable"):
        monoculture.audit([c, d], label="label", failure="false-negative")
    r = monoculture.audit([c, d], label="label", failure="false-negative", favorable="yes")
    assert _rates(r) == {"c": 0.5, "d": 0.5}


def test_threshold_with_per_source_override(tmp_path):
    a = _write(tmp_path, "a", "id,decision,label\n1,0.9,1\n2,0.5,1\n3,0.2,0\n4,0.7,0\n")
    b = _write(tmp_path, "b", "id,decision,label\n1,0.9,1\n2,0.5,1\n3,0.2,0\n4,0.7,0\n")
    # T = 0.5: favourable = {1, 2, 4} → a fails only 4. b with T = 0.8: favourable = {1} → fails 2.
    r = monoculture.audit([a, b], label="label", threshold=0.5, thresholds={"b": 0.8})
    assert _rates(r) == {"a": 0.25, "b": 0.25}
    assert r.overall.systemic_failure.value == 0.0
    r = monoculture.audit([a, b], label="label", threshold=0.5, lower_is_favorable=True)
    assert _rates(r) == {"a": 0.5, "b": 0.5}  # favourable = {2, 3}: fails 1 (qualified) and 3 (not)
    with pytest.raises(UsageError, match="not among the inputs"):
        monoculture.audit([a, b], label="label", threshold=0.5, thresholds={"zzz": 1.0})


def test_top_fraction_ties_broken_by_id_not_row_order(tmp_path):
    # Four people with tied scores; top 0.5 selects ⌈0.5·4⌉ = 2, ties by ID ascending: 1 and 2.
    rows = ["1,0.5,1", "2,0.5,1", "3,0.5,1", "4,0.5,1"]
    a = _write(tmp_path, "a", "id,decision,label\n" + "\n".join(rows) + "\n")
    b = _write(tmp_path, "b", "id,decision,label\n" + "\n".join(reversed(rows)) + "\n")
    r = monoculture.audit([a, b], label="label", top_fraction=0.5)
    # Same people selected in both files despite the reversed order: 3 and 4 are failed by both.
    assert r.overall.systemic_failure.value == 0.5
    assert r.overall.consistent_success.value == 0.5


def test_threshold_on_text_column_is_an_error_naming_the_row(tmp_path):
    a = _write(tmp_path, "a", "id,decision,label\n1,0.9,1\n2,high,1\n")
    b = _write(tmp_path, "b", "id,decision,label\n1,0.9,1\n2,0.1,1\n")
    with pytest.raises(InputError) as exc:
        monoculture.audit([a, b], label="label", threshold=0.5)
    assert "line 3" in str(exc.value) and "a.csv" in str(exc.value)


def test_label_set_that_never_matches_decisions_is_an_error(tmp_path):
    a = _write(tmp_path, "a", "id,decision,label\n1,approved,1\n2,rejected,0\n")
    b = _write(tmp_path, "b", "id,decision,label\n1,approved,1\n2,approved,0\n")
    with pytest.raises(InputError, match="no decision value ever equals a label value"):
        monoculture.audit([a, b], label="label")


@settings(max_examples=examples(300), deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(-6, 6)), min_size=1, max_size=40),
    wide=st.booleans(),
    known=st.lists(st.sampled_from(["0", "1", "-2", "yes", "5"]), max_size=4),
    width=st.sampled_from([pa.int8(), pa.int64()]),
)
def test_integer_columns_code_as_their_canonical_tokens(values, wide, known, width):
    """The integer fast path of `Vocabulary.encode_tokens` (arithmetic for two values, a lookup table
    for a narrow range) against coding each value's canonical token one by one."""
    values = [v * 1000 if wide and v is not None else v for v in values]
    vocab = Vocabulary()
    for token in known:  # codes already handed out, in any order
        vocab.code(token)
    codes, tokens = vocab.encode_tokens(pa.array(values, type=pa.int64() if wide else width))
    want = [-1 if v is None else vocab.tokens.index(canonical(v)) for v in values]
    assert codes.tolist() == want
    assert tokens == {canonical(v) for v in values if v is not None}
