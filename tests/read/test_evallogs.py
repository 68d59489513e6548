"""Evaluation logs read as their tools write them: the real files in ../shared/data/evallogs (their own
aggregate results as the check) and each pitfall of its README as a small file written here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import monoculture
from monoculture.errors import InputError
from monoculture.read.evallogs import read_log
from monoculture.spec import InferenceOptions
from monoculture.spec.logs import detect_log_layout

LOGS = Path(__file__).resolve().parents[3] / "shared" / "data" / "evallogs"
FAST = InferenceOptions(bootstrap=50, permutations=0)
real = pytest.mark.skipif(not LOGS.is_dir(), reason="the shared evaluation logs are not on this machine")


def _accuracy(log) -> dict[str, float]:
    by: dict[str, list[bool]] = {}
    for r in log.records:
        by.setdefault(r.model, []).append(r.correct)
    return {m: sum(v) / len(v) for m, v in by.items()}


@real
def test_helm_accuracy_is_each_runs_own_aggregate():
    log = read_log("helm", str(LOGS / "helm" / "bbq_v1"), None)
    got = _accuracy(log)
    for run in (LOGS / "helm" / "bbq_v1").iterdir():
        stats = json.loads((run / "stats.json").read_text())
        want = next(s["mean"] for s in stats if s["name"] == {"name": "exact_match", "split": "test"})
        model = json.loads((run / "run_spec.json").read_text())["adapter_spec"]["model"]
        assert got[model] == pytest.approx(want)


@real
def test_eee_accuracy_is_the_aggregate_files_score_and_equals_helms():
    log = read_log("eee", str(LOGS / "eee" / "converted_bbq_v1"), None)
    got = _accuracy(log)
    for aggregate in (LOGS / "eee" / "converted_bbq_v1").rglob("*.json"):
        data = json.loads(aggregate.read_text())
        score = next(e["score_details"]["score"] for e in data["evaluation_results"]
                     if e["evaluation_result_id"] == "exact_match:test")
        assert got[data["model_info"]["id"]] == pytest.approx(score)
    assert got == _accuracy(read_log("helm", str(LOGS / "helm" / "bbq_v1"), None))
    assert any("200 records of other metrics" in n for n in log.notes)  # one line per metric: 8 kept of 16


@real
def test_lm_eval_reads_json_lines_named_json_with_numbers_as_strings():
    log = read_log("lm-eval", str(LOGS / "lm_eval" / "math_perturbed"), None)
    results = json.loads(next((LOGS / "lm_eval" / "math_perturbed").rglob("results_*.json")).read_text())
    assert list(_accuracy(log).values()) == [results["results"]["math_perturbed_full"]["exact_match,none"]]
    assert all(r.options is None for r in log.records)  # generated text: no option list
    two = read_log("lm-eval", str(LOGS / "lm_eval" / "bias_classification"), None)
    # One model under two settings is two decision-makers; the README's accuracies over the 150 kept.
    assert _accuracy(two) == {"meta-llama/Meta-Llama-3-8B (0-shot)": pytest.approx(0.62),
                              "meta-llama/Meta-Llama-3-8B (5-shot)": pytest.approx(0.5867, abs=1e-4)}


@real
@pytest.mark.parametrize(("folder", "layout"), [("helm/bbq_v1", "helm"), ("eee/converted_bbq_v1", "eee"),
                                                ("lm_eval/bias_classification", "lm-eval")])
def test_the_layout_is_detected_from_the_files(folder, layout):
    assert detect_log_layout([str(LOGS / folder)]) == layout


@real
@pytest.mark.parametrize("folder", ["helm/bbq_v1", "eee/converted_bbq_v1"])
def test_bbq_audits_to_the_readmes_pair_counts(folder):
    r = monoculture.audit([LOGS / folder], inference=FAST)
    assert r.overall.systemic_failure.value * r.overall.n == pytest.approx(2)
    pairs = {frozenset((p.a.split("/")[0], p.b.split("/")[0])): (p.same_wrong_answer.both_wrong,
                                                                p.same_wrong_answer.same)
             for p in r.overall.pairwise}
    want = {("anthropic", "google"): 3, ("anthropic", "meta"): 5, ("anthropic", "openai"): 3,
            ("google", "meta"): 3, ("google", "openai"): 2, ("meta", "openai"): 5}
    assert pairs == {frozenset(k): (v, v) for k, v in want.items()}
    assert r.overall.answers.options == 3  # BBQ items have three options each
    assert r.inputs[0].log["format"] == r.inputs[0].format


@real
def test_a_binary_task_gives_both_wrong_the_same_answer(tmp_path):
    r = monoculture.audit([LOGS / "lm_eval" / "bias_classification"], answers="on", inference=FAST)
    (pair,) = r.overall.pairwise
    assert (pair.same_wrong_answer.both_wrong, pair.same_wrong_answer.same) == (32, 32)


@real
def test_lm_eval_probabilistic_capa_is_lm_sims_from_the_raw_files():
    """Both runs' log-likelihoods read here with json, softmax by hand, and handed to lm-sim; the audit reads
    the folder as it is (no --answers: a log with probabilities keeps its answer measures, binary or not)."""
    lmsim = pytest.importorskip("lmsim.metrics")
    folder = LOGS / "lm_eval" / "bias_classification"
    runs = []
    for f in sorted(folder.glob("*/samples_*.json")):
        records = sorted((json.loads(line) for line in f.read_text().splitlines() if line.strip()),
                         key=lambda r: r["doc_id"])
        ll = np.array([[float(x[0]) for x in r["filtered_resps"]] for r in records])
        p = np.exp(ll - ll.max(axis=1, keepdims=True))
        options = [[a["arg_1"].strip() for a in r["arguments"].values()] for r in records]
        gold = [o.index(r["target"]) for o, r in zip(options, records, strict=True)]
        runs.append((p / p.sum(axis=1, keepdims=True), gold))
    (pa_, gold), (pb_, gold_b) = runs
    assert gold == gold_b
    want = lmsim.CAPA(prob=True).compute_k(list(pa_), list(pb_), gold)
    eye = np.eye(2)
    want_discrete = lmsim.CAPA(prob=False).compute_k(list(eye[pa_.argmax(1)]), list(eye[pb_.argmax(1)]), gold)
    r = monoculture.audit([folder], inference=FAST)
    (pair,) = r.overall.pairwise
    assert pair.capa_probabilistic.value == pytest.approx(want, rel=1e-9)
    assert pair.capa.value == pytest.approx(want_discrete, rel=1e-9)
    assert pair.capa_probabilistic.ci[0] < want < pair.capa_probabilistic.ci[1]
    assert r.inputs[0].log["option_probabilities"] == 300


@real
def test_an_incomplete_run_is_reported_not_silently_joined():
    r = monoculture.audit([LOGS / "helm" / "bbq_v1", LOGS / "helm" / "bbq_v1_incomplete_run"], layout="helm",
                          join="outer", inference=FAST)
    by = {s.name: s for s in r.coverage.sources}
    assert by["openai/gpt-4-turbo-2024-04-09"].valid_rows == 1
    assert r.overall.n == 50


# --- pitfalls, each in a file written here --------------------------------------------------------------


def _write_lines(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _lm_record(doc: int, likelihoods: list[str], target, acc: str, **more) -> dict:
    return {"doc_id": doc, "target": target, "acc": acc, "doc_hash": f"h{doc}",
            "arguments": {f"gen_args_{i}": {"arg_0": "ctx", "arg_1": f" {c}"} for i, c in enumerate("ABCD")},
            "filtered_resps": [[v, "False"] for v in likelihoods], **more}


def test_lm_eval_argmax_of_string_loglikelihoods_and_index_targets(tmp_path):
    for model, picks in (("m1", [0, 2, 1]), ("m2", [0, 2, 3])):
        records = []
        for doc, pick in enumerate(picks):
            ll = ["-5.0"] * 4
            ll[pick] = "-0.5"
            records.append(_lm_record(doc, ll, 0 if doc == 0 else 1, "1.0" if pick == (0 if doc == 0 else 1)
                                      else "0.0"))
        _write_lines(tmp_path / model / "samples_quiz_2024-01-01T00-00-00.000001.json", records)
    log = read_log("lm-eval", str(tmp_path), None)
    assert [(r.answer, r.gold, r.correct) for r in log.records if r.model == "m1"] == [
        ("A", "A", True), ("C", "B", False), ("B", "B", True)]
    assert all(r.options == 4 for r in log.records)


def test_lm_eval_one_record_per_filter_keeps_one_filter(tmp_path):
    records = [{"doc_id": d, "target": "3", "exact_match": em, "filter": f, "filtered_resps": [ans]}
               for d in range(3) for f, em, ans in (("strict-match", 0.0, "x"), ("flexible-extract", 1.0, "3"))]
    _write_lines(tmp_path / "m" / "samples_math_2024-01-01T00-00-00.1.jsonl", records)
    flexible = read_log("lm-eval", str(tmp_path), "exact_match,flexible-extract")
    assert len(flexible.records) == 3 and all(r.correct for r in flexible.records)
    default = read_log("lm-eval", str(tmp_path), None)
    assert len(default.records) == 3 and "3 records of other filters left out" in default.notes


def test_lm_eval_doc_hash_that_differs_across_runs_is_an_error(tmp_path):
    for model, h in (("a", "h0"), ("b", "other")):
        _write_lines(tmp_path / model / "samples_t_2024-01-01T00-00-00.1.jsonl",
                     [_lm_record(0, ["-1", "-2", "-3", "-4"], 0, "1.0") | {"doc_hash": h}])
    with pytest.raises(InputError, match="doc_hash differs"):
        read_log("lm-eval", str(tmp_path), None)


def test_lm_eval_probabilities_line_up_by_option_text_gold_first(tmp_path):
    """Each record's softmax, gold option first then the others by text, whatever order the run asked in;
    a gold answer that is none of the options has probability 0; options of one text add up."""
    def record(texts: list[str], ll: list[str], target) -> dict:
        return {"doc_id": 0, "target": target, "acc": "0.0", "filtered_resps": [[v, "False"] for v in ll],
                "arguments": {f"gen_args_{i}": {"arg_0": "ctx", "arg_1": f" {t}"} for i, t in enumerate(texts)}}
    _write_lines(tmp_path / "a" / "samples_t_2024-01-01T00-00-00.1.jsonl",
                 [record(["C", "A", "B"], ["-1", "-2", "-3"], 2)])  # gold B
    _write_lines(tmp_path / "b" / "samples_t_2024-01-01T00-00-00.1.jsonl",
                 [record(["A", "B", "C"], ["-2", "-3", "-1"], "B")])  # the same numbers, another order
    table = read_log("lm-eval", str(tmp_path), None).table()
    e = np.exp([-3.0, -2.0, -1.0])
    for got in table["option_probabilities"].to_pylist():
        np.testing.assert_allclose(got, e / e.sum(), rtol=1e-12)  # B, then A, C
    for bad in (["nan", "-1"], ["-inf", "-inf"], ["inf", "-1"]):
        _write_lines(tmp_path / "a" / "samples_t_2024-01-01T00-00-00.1.jsonl", [record(["A", "B"], bad, 0)])
        with pytest.raises(InputError, match="give no probabilities"):
            read_log("lm-eval", str(tmp_path / "a"), None)


def test_lm_eval_options_of_one_text_add_up(tmp_path):
    texts = ["x", "y", "x"]
    rec = {"doc_id": 0, "target": "y", "acc": "1.0",
           "filtered_resps": [["-1", "False"], ["0", "False"], ["-2", "False"]],
           "arguments": {f"gen_args_{i}": {"arg_0": "ctx", "arg_1": f" {t}"} for i, t in enumerate(texts)}}
    _write_lines(tmp_path / "a" / "samples_t_2024-01-01T00-00-00.1.jsonl", [rec])
    (got,) = read_log("lm-eval", str(tmp_path), None).table()["option_probabilities"].to_pylist()
    e = np.exp([-1.0, 0.0, -2.0])
    np.testing.assert_allclose(got, [e[1] / e.sum(), (e[0] + e[2]) / e.sum()], rtol=1e-12)


def test_lm_eval_runs_that_list_other_options_for_an_item_are_an_error(tmp_path):
    for model, last in (("a", "D"), ("b", "E")):
        rec = _lm_record(0, ["-1", "-2", "-3", "-4"], 0, "1.0")
        rec["arguments"]["gen_args_3"]["arg_1"] = f" {last}"
        _write_lines(tmp_path / model / "samples_t_2024-01-01T00-00-00.1.jsonl", [rec])
    with pytest.raises(InputError, match="other answer options for b than for a"):
        read_log("lm-eval", str(tmp_path), None).table()


def _eee(sample: str, model: str, metric: str, letter: str | None, correct: bool) -> dict:
    return {"schema_version": "0.3.0", "evaluation_id": f"e/{model}", "model_id": model, "evaluation_name": "quiz",
            "evaluation_result_id": metric, "sample_id": sample, "sample_hash": f"{model}{sample}",
            "input": {"raw": "...", "reference": ["yes"], "choices": ["no", "yes", "maybe"]},
            "answer_attribution": [{"extracted_value": letter}],
            "evaluation": {"score": float(correct), "is_correct": correct}}


def test_eee_maps_letters_through_choices_and_keeps_non_letters_invalid(tmp_path):
    records = [_eee("s1", "m", "exact_match:test", "B", True), _eee("s2", "m", "exact_match:test", "The", False),
               _eee("s1", "m", "quasi_exact_match:test", "B", True),
               _eee("s2", "m", "quasi_exact_match:test", "C", False)]
    _write_lines(tmp_path / "x_samples.jsonl", records)
    log = read_log("eee", str(tmp_path), None)
    assert [(r.answer, r.gold) for r in log.records] == [("yes", "yes"), (None, "yes")]
    assert log.metric == "exact_match:test"
    table = log.table()
    assert table["answer"].to_pylist() == ["yes", None]
    with pytest.raises(InputError, match="no record has the metric 'f1'"):
        read_log("eee", str(tmp_path), "f1")


def test_eee_two_lines_for_one_sample_is_an_error_naming_the_line(tmp_path):
    _write_lines(tmp_path / "x_samples.jsonl", [_eee("s1", "m", "exact_match:test", "B", True)] * 2)
    with pytest.raises(InputError, match="appears twice") as err:
        read_log("eee", str(tmp_path), None)
    assert err.value.row == 2


def test_a_wrong_score_with_the_gold_answer_keeps_the_logs_scoring(tmp_path):
    records = [_eee("s1", "m", "exact_match:test", "B", False)]  # a scorer stricter than equality
    _write_lines(tmp_path / "x_samples.jsonl", records)
    log = read_log("eee", str(tmp_path), None)
    assert log.table()["answer"].to_pylist() == [None]
    assert any("scored wrong by the log give the gold answer" in n for n in log.notes)


def _helm_run(root: Path, model: str, answers: dict[str, str | None], correct: dict[str, float | None],
              display: bool = True) -> None:
    run = root / f"quiz:method=multiple_choice_joint,model={model.replace('/', '_')}"
    run.mkdir(parents=True)
    (run / "run_spec.json").write_text(json.dumps({"name": run.name, "adapter_spec": {
        "model": model, "max_train_instances": 5}}))
    stats = []
    for iid, score in correct.items():
        stat = {"name": {"name": "exact_match", "split": "test"}, "count": 0 if score is None else 1}
        if score is not None:
            stat |= {"sum": score, "mean": score}
        stats.append({"instance_id": iid, "train_trial_index": 0, "stats": [stat]})
    (run / "per_instance_stats.json").write_text(json.dumps(stats))
    refs = [{"output": {"text": t}, "tags": ["correct"] if t == "yes" else []} for t in ("no", "yes", "maybe")]
    states = [{"instance": {"id": iid, "references": refs}, "train_trial_index": 0,
               "output_mapping": {"A": "no", "B": "yes", "C": "maybe"},
               "result": {"completions": [{"text": " B" if answers[iid] == "yes" else " The"}]}} for iid in answers]
    (run / "scenario_state.json").write_text(json.dumps({"request_states": states}))
    if display:
        (run / "display_predictions.json").write_text(json.dumps(
            [{"instance_id": iid, "train_trial_index": 0, "predicted_text": "x",
              **({"mapped_output": a} if a is not None else {})} for iid, a in answers.items()]))


def test_helm_without_display_predictions_maps_the_completion_and_skips_stats_without_a_mean(tmp_path):
    _helm_run(tmp_path, "org/a", {"i1": "yes", "i2": None, "i3": "yes"}, {"i1": 1.0, "i2": 0.0, "i3": None},
              display=False)
    log = read_log("helm", str(tmp_path), None)
    assert [(r.item.split("/")[-1], r.answer, r.correct) for r in log.records] == [("i1", "yes", True),
                                                                                   ("i2", None, False)]
    assert any("1 instance records without" in n for n in log.notes)
    assert log.records[0].task == "quiz:method=multiple_choice_joint"


def test_a_metric_flag_on_a_table_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,decision_maker,decision\n1,a,1\n")
    with pytest.raises(monoculture.MonocultureError, match="metric"):
        monoculture.audit([str(path)], layout="stacked", failure="outcome", metric="acc")


def test_reading_a_log_pauses_the_cycle_collector_and_restores_it(tmp_path):
    """The collector is paused while records are read (it rescanned every record made so far, again and
    again) and left as it was found, enabled or not, also when reading fails."""
    import gc

    _write_lines(tmp_path / "m" / "samples_t_2024-01-01T00-00-00.1.jsonl",
                 [_lm_record(0, ["-1", "-2", "-3", "-4"], 0, "1.0")])
    seen: list[bool] = []
    from monoculture.read import evallogs

    real = evallogs.READERS["lm-eval"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(evallogs.READERS, "lm-eval", lambda *a: (seen.append(gc.isenabled()), real(*a))[1])
        assert gc.isenabled()
        read_log("lm-eval", str(tmp_path), None)
        assert gc.isenabled() and seen == [False]
        gc.disable()
        try:
            read_log("lm-eval", str(tmp_path), None)
            assert not gc.isenabled()
        finally:
            gc.enable()
        with pytest.raises(InputError):
            read_log("lm-eval", str(tmp_path / "missing"), None)
        assert gc.isenabled()
