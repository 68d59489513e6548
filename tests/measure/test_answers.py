"""The same-wrong-answer measures (metrics.md §11) against hand-worked cases, loops over rows and lm-sim."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monoculture
from monoculture.link.answers import UNSEEN, AnswerTable
from monoculture.measure import answers
from monoculture.measure.metrics import answers as m
from monoculture.spec import InferenceOptions

FAST = InferenceOptions(bootstrap=200, permutations=0)


def _stacked(tmp_path, rows: list[tuple[str, str, str, str]]) -> str:
    path = tmp_path / "answers.csv"
    pd.DataFrame(rows, columns=["item", "model", "pred", "gold"]).to_csv(path, index=False)
    return str(path)


def test_a_hand_worked_pair(tmp_path):
    # Six items with four options (A-D). x and y: both right on 1-2, both wrong with the same answer on 3-4,
    # both wrong with different answers on 5, x right and y wrong on 6.
    gold = "AABBCD"
    x = "AACCAD"
    y = "AACCBA"
    rows = [(str(j), name, ans[j], gold[j]) for name, ans in (("x", x), ("y", y)) for j in range(6)]
    r = monoculture.audit([_stacked(tmp_path, rows)], layout="stacked", decision_maker_column="model",
                          id_column="item", decision="pred", label="gold", options=4, inference=FAST)
    (pair,) = r.overall.pairwise
    assert pair.agreement.value == pytest.approx(4 / 6)
    assert (pair.same_wrong_answer.both_wrong, pair.same_wrong_answer.same) == (3, 2)
    assert pair.same_wrong_answer.value == pytest.approx(2 / 3)
    assert pair.same_wrong_answer.chance == pytest.approx(1 / 3)
    acc_x, acc_y = 3 / 6, 2 / 6
    c_exp = acc_x * acc_y + (1 / 3) * (1 - acc_x) * (1 - acc_y)
    assert pair.capa.value == pytest.approx((4 / 6 - c_exp) / (1 - c_exp))
    judged = {(j.judge, j.judged): j for j in r.judges}
    # y judged by x's answers: agreement 4/6 against a true accuracy of 2/6.
    assert judged["x", "y"].judged_accuracy.value == pytest.approx(4 / 6)
    assert judged["x", "y"].inflation.value == pytest.approx(4 / 6 - 2 / 6)
    pooled = r.overall.answers.same_wrong_answer
    assert (pooled.value, pooled.both_wrong) == (pytest.approx(2 / 3), 3)


def test_an_options_column_gives_each_item_its_own_chance_rate(tmp_path):
    """The hand-worked pair with each item's options in a column: both wrong on items 3, 4 (4 and 6 options)
    and 5 (left empty: --options 5 stands in), so chance = mean(1/3, 1/5, 1/4); CAPA's chance term is the
    mean of 1/(|O_j| − 1) over all six items (2, 4, 4, 6, empty → 5, 10 options)."""
    gold, x, y = "AABBCD", "AACCAD", "AACCBA"
    n_options = ["2", "4", "4", "6", "", "10"]
    rows = [(str(j), name, ans[j], gold[j], n_options[j]) for name, ans in (("x", x), ("y", y)) for j in range(6)]
    path = tmp_path / "answers.csv"
    pd.DataFrame(rows, columns=["item", "model", "pred", "gold", "n_opt"]).to_csv(path, index=False)
    common = dict(layout="stacked", decision_maker_column="model", id_column="item", decision="pred", label="gold",
                  inference=FAST)
    r = monoculture.audit([str(path)], options_column="n_opt", options=5, **common)
    (pair,) = r.overall.pairwise
    assert pair.same_wrong_answer.chance == pytest.approx((1 / 3 + 1 / 5 + 1 / 4) / 3)
    q = np.mean([1 / 1, 1 / 3, 1 / 3, 1 / 5, 1 / 4, 1 / 9])
    acc_x, acc_y = 3 / 6, 2 / 6
    c_exp = acc_x * acc_y + q * (1 - acc_x) * (1 - acc_y)
    assert pair.capa.value == pytest.approx((4 / 6 - c_exp) / (1 - c_exp))
    assert r.options["options_column"] == "n_opt"
    assert "1 items without one: 5, --options" in r.overall.answers.options_from
    # A count that is no count is an input error naming the file, column and row.
    pd.DataFrame([(*row[:4], "four" if row[0] == "2" else row[4]) for row in rows],
                 columns=["item", "model", "pred", "gold", "n_opt"]).to_csv(path, index=False)
    with pytest.raises(monoculture.MonocultureError, match="row 3 has 'four'") as bad:
        monoculture.audit([str(path)], options_column="n_opt", **common)
    assert (bad.value.column, bad.value.row) == ("n_opt", 3)
    with pytest.raises(monoculture.MonocultureError, match="stacked layout"):
        monoculture.audit([str(path)], options_column="n_opt", id_column="item", decision="pred", label="gold")


def test_binary_decisions_get_no_answer_measures_unless_asked(tmp_path):
    rows = [(str(j), name, str((j + i) % 2), str(j % 2)) for i, name in enumerate("xyz") for j in range(8)]
    path = _stacked(tmp_path, rows)
    common = dict(layout="stacked", decision_maker_column="model", id_column="item", decision="pred", label="gold",
                  inference=FAST)
    assert monoculture.audit([path], **common).judges is None
    forced = monoculture.audit([path], answers="on", **common)
    # Binary: two wrong answers are the same answer.
    assert all(p.same_wrong_answer.value in (1.0, None) for p in forced.overall.pairwise)


def test_an_invalid_answer_is_wrong_and_never_the_same_as_another(tmp_path):
    rows = [("1", "x", "", "A"), ("1", "y", "", "A"), ("2", "x", "B", "B"), ("2", "y", "C", "B"),
            ("3", "x", "D", "A"), ("3", "y", "D", "A")]
    r = monoculture.audit([_stacked(tmp_path, rows)], layout="stacked", decision_maker_column="model",
                          id_column="item", decision="pred", label="gold", missing_decision="fail", inference=FAST)
    (pair,) = r.overall.pairwise
    assert (pair.same_wrong_answer.both_wrong, pair.same_wrong_answer.same) == (2, 1)
    assert pair.agreement.value == pytest.approx(1 / 3)


def _brute(codes: np.ndarray, gold: np.ndarray, q: np.ndarray) -> dict[str, np.ndarray]:
    n, k = codes.shape
    out = {key: np.zeros((k, k)) for key in ("n", "agree", "both_right", "both_wrong", "right", "cc", "cw")}
    for a, b in itertools.product(range(k), repeat=2):
        for j in range(n):
            if codes[j, a] == UNSEEN or codes[j, b] == UNSEEN:
                continue
            ra, rb = codes[j, a] == gold[j], codes[j, b] == gold[j]
            out["n"][a, b] += 1
            out["agree"][a, b] += codes[j, a] == codes[j, b] and codes[j, a] >= 0
            out["both_right"][a, b] += ra and rb
            out["both_wrong"][a, b] += not ra and not rb
            out["right"][a, b] += ra
            out["cc"][a, b] += q[j]
            out["cw"][a, b] += q[j] * (not ra and not rb)
    return out


answer_tables = st.integers(1, 30).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.integers(UNSEEN, 4), min_size=4, max_size=4), min_size=n, max_size=n),
    st.lists(st.integers(0, 4), min_size=n, max_size=n),
    st.lists(st.integers(2, 6), min_size=n, max_size=n)))


@settings(max_examples=60, deadline=None)
@given(answer_tables)
def test_answer_counts_equal_a_loop_over_rows(data):
    codes, gold, options = (np.array(v, dtype=np.int32) for v in data)
    table = AnswerTable(codes, gold, np.zeros(len(gold), int), list("ABCDE"))
    c = m.answer_counts(table, options)
    want = _brute(codes, gold, 1.0 / (options - 1))
    for mine, key in ((c.n, "n"), (c.agree, "agree"), (c.both_right, "both_right"), (c.both_wrong, "both_wrong"),
                      (c.right, "right"), (c.chance_common, "cc"), (c.chance_wrong, "cw")):
        np.testing.assert_allclose(mine, want[key], err_msg=key)
    # The pooled rates are the pair sums over every pair, each counted once.
    pooled = m.pooled_answers(table, options)
    iu = np.triu_indices(4, 1)
    assert pooled.wrong_pairs.sum() == pytest.approx(c.both_wrong[iu].sum())
    assert pooled.same_wrong_pairs.sum() == pytest.approx(c.same_wrong[iu].sum())
    assert pooled.agreeing.sum() == pytest.approx(c.agree[iu].sum())
    assert pooled.pairs.sum() == pytest.approx(c.n[iu].sum())
    assert pooled.chance_wrong.sum() == pytest.approx(c.chance_wrong[iu].sum())
    # Reordering the decision-makers reorders the pairs and changes nothing else.
    order = np.array([2, 0, 3, 1])
    swapped = m.answer_counts(AnswerTable(codes[:, order], gold, table.cell, table.tokens), options)
    np.testing.assert_allclose(m.capa(swapped), m.capa(c)[np.ix_(order, order)])
    # Judged minus true accuracy: both wrong the same way, less a right and the judge wrong.
    inflation = m.judge_inflation(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        identity = (c.same_wrong - (c.right - c.both_right)) / c.n
    np.testing.assert_allclose(inflation, identity)


@settings(max_examples=40, deadline=None)
@given(answer_tables, st.booleans(), st.integers(0, 2**32 - 1))
def test_pair_replicates_equal_the_measures_of_each_reweighted_table(data, complete, seed):
    """Each bootstrap replicate of a pair's agreement, same wrong answer and CAPA is the measure of the table
    with every person counted as often as the replicate draws them (`answer_counts` of the expanded rows);
    with everyone seen (the leaderboard case, four of the seven sums shared) and without."""
    codes, gold, options = (np.array(v, dtype=np.int32) for v in data)
    if complete:
        codes[codes == UNSEEN] = 0
    table = AnswerTable(codes, gold, np.zeros(len(gold), int), list("ABCDE"))
    weights = np.random.default_rng(seed).poisson(1.0, (5, len(gold))).astype(np.float32)
    iu = np.triu_indices(4, 1)
    reps = answers.pair_replicates(table, options, iu, weights)
    for r, w in enumerate(weights.astype(int)):
        rows = np.repeat(np.arange(len(gold)), w)
        c = m.answer_counts(table, options, rows)
        for key, fn in (("agreement", m.agreement), ("same", m.same_wrong_answer), ("capa", m.capa)):
            np.testing.assert_allclose(reps[key][r], fn(c)[iu], rtol=1e-12, atol=1e-12, err_msg=key)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 8), st.integers(5, 60), st.integers(0, 2**32 - 1))
def test_discrete_capa_is_lm_sims(options, n, seed):
    lmsim = pytest.importorskip("lmsim.metrics")
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, options, n)
    a = np.where(rng.random(n) < 0.6, gold, rng.integers(0, options, n))
    b = np.where(rng.random(n) < 0.5, a, rng.integers(0, options, n))
    eye = np.eye(options)
    with np.errstate(all="ignore"):  # lm-sim divides 0 by 0 when both are always right
        want = lmsim.CAPA(prob=False).compute_k(list(eye[a]), list(eye[b]), list(gold))
    table = AnswerTable(np.column_stack([a, b]).astype(np.int32), gold.astype(np.int32), np.zeros(n, int),
                        [str(i) for i in range(options)])
    got = m.capa(m.answer_counts(table, options))[0, 1]
    if np.isnan(got):
        assert not np.isfinite(want) or want == pytest.approx(0, abs=1e-9)
    else:
        assert got == pytest.approx(want)


def _gold_first(dists: list[np.ndarray], gold: list[int], width: int) -> np.ndarray:
    """Distributions in the table's order: the gold option first, then the others as they were."""
    out = np.full((len(dists), width), np.nan)
    for j, (d, g) in enumerate(zip(dists, gold, strict=True)):
        out[j, :len(d)] = [d[g], *np.delete(d, g)]
    return out


def _probability_table(per_model: list[np.ndarray], sizes: np.ndarray) -> AnswerTable:
    """A table of distributions (gold first): each answer the most likely option, gold the code 0."""
    probs = np.stack(per_model, axis=1)
    codes = np.where(np.isnan(probs[:, :, 0]), UNSEEN, np.nanargmax(np.nan_to_num(probs, nan=-1), axis=2))
    return AnswerTable(codes.astype(np.int32), np.zeros(len(sizes), np.int32), np.zeros(len(sizes), int),
                       [str(i) for i in range(probs.shape[2])], options=sizes, probabilities=probs)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.floats(0.05, 5), st.integers(0, 2**32 - 1))
def test_probabilistic_capa_is_lm_sims(n, concentration, seed):
    """κ_p against lm-sim's CAPA(prob=True), items of 2 to 6 options, the gold option anywhere."""
    lmsim = pytest.importorskip("lmsim.metrics")
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 7, n)
    gold = [int(rng.integers(0, s)) for s in sizes]
    da = [rng.dirichlet(np.full(s, concentration)) for s in sizes]
    db = [a if rng.random() < 0.3 else rng.dirichlet(np.full(len(a), concentration)) for a in da]
    one_hot = [[np.eye(len(d))[np.argmax(d)] for d in model] for model in (da, db)]
    with np.errstate(all="ignore"):
        want = lmsim.CAPA(prob=True).compute_k(da, db, gold)
        want_discrete = lmsim.CAPA(prob=False).compute_k(*one_hot, gold)
    table = _probability_table([_gold_first(d, gold, 6) for d in (da, db)], sizes)
    c = m.answer_counts(table, sizes)
    got = m.capa_probabilistic(c, m.probability_counts(table))
    assert got[0, 1] == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert got[1, 0] == pytest.approx(got[0, 1], rel=1e-12, abs=1e-15)
    if np.isfinite(want_discrete):
        assert m.capa(c)[0, 1] == pytest.approx(want_discrete, rel=1e-9, abs=1e-12)


def test_probabilistic_capa_of_one_hot_distributions_is_discrete_capa():
    rng = np.random.default_rng(3)
    sizes = np.full(50, 4)
    gold = [int(g) for g in rng.integers(0, 4, 50)]
    picks = [rng.integers(0, 4, 50) for _ in range(3)]
    table = _probability_table([_gold_first(list(np.eye(4)[p]), gold, 4) for p in picks], sizes)
    c = m.answer_counts(table, sizes)
    np.testing.assert_allclose(m.capa_probabilistic(c, m.probability_counts(table)), m.capa(c), rtol=1e-12)


def test_probabilistic_capa_is_undefined_where_one_gave_no_distribution():
    """A model without probabilities for an item the pair shares: κ_p is undefined for its pairs only
    (averaging over fewer items than the pair's other measures would mislead)."""
    sizes = np.full(3, 2)
    full = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    partial = full.copy()
    partial[1] = np.nan  # model c has an answer but no probabilities for item 1
    table = _probability_table([full, full[::-1].copy(), partial], sizes)
    table.codes[1, 2] = 0
    got = m.capa_probabilistic(m.answer_counts(table, sizes), m.probability_counts(table))
    assert np.isfinite(got[0, 1]) and np.isnan(got[0, 2]) and np.isnan(got[1, 2])


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 25), st.booleans(), st.integers(0, 2**32 - 1))
def test_probabilistic_capa_replicates_equal_the_measure_of_each_reweighted_table(n, complete, seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 5, n)
    per_model = []
    for _ in range(4):
        d = np.full((n, 4), np.nan)
        for j, s in enumerate(sizes):
            d[j, :s] = rng.dirichlet(np.ones(s))
        if not complete:
            d[rng.random(n) < 0.2] = np.nan
        per_model.append(d)
    table = _probability_table(per_model, sizes)
    weights = rng.poisson(1.0, (5, n)).astype(np.float32)
    iu = np.triu_indices(4, 1)
    reps = answers.pair_replicates(table, sizes, iu, weights)
    for r, w in enumerate(weights.astype(int)):
        rows = np.repeat(np.arange(n), w)
        want = m.capa_probabilistic(m.answer_counts(table, sizes, rows), m.probability_counts(table, rows))[iu]
        defined = np.isfinite(want)
        np.testing.assert_allclose(reps["capa_probabilistic"][r][defined], want[defined], rtol=1e-9, atol=1e-12)


def test_mmlu_pro_philosophy_pairs_match_the_data_readme(tmp_path):
    """Both wrong / same wrong answer per pair, as ../shared/data/evallogs/README.md lists them."""
    folder = Path(__file__).resolve().parents[3] / "shared" / "data" / "evallogs" / "other" / "mmlu_pro_philosophy"
    if not folder.is_dir():
        pytest.skip("the shared evaluation logs are not on this machine")
    frames = []
    for f in sorted(folder.glob("*.json")):
        records = [r for r in json.loads(f.read_text()) if isinstance(r, dict)]
        model = f.name.removeprefix("model_outputs_").removesuffix("_5shots.json")
        frames.append(pd.DataFrame({"item": [r["question_id"] for r in records], "model": model,
                                    "pred": [r["pred"] for r in records], "gold": [r["answer"] for r in records]}))
    csv = tmp_path / "mmlu.csv"
    pd.concat(frames).to_csv(csv, index=False)
    # A pathlib.Path is an input as its string is.
    r = monoculture.audit([csv], layout="stacked", decision_maker_column="model", id_column="item",
                          decision="pred", label="gold", missing_decision="fail", inference=FAST)
    got = {frozenset((p.a.split("-")[0], p.b.split("-")[0])): (p.same_wrong_answer.both_wrong,
                                                              p.same_wrong_answer.same)
           for p in r.overall.pairwise}
    want = {("Llama", "Mistral"): (34, 8), ("Llama", "Yi"): (25, 8), ("Llama", "gemma"): (32, 4),
            ("Mistral", "Yi"): (22, 9), ("Mistral", "gemma"): (27, 7), ("Yi", "gemma"): (22, 4)}
    assert got == {frozenset(k): v for k, v in want.items()}
