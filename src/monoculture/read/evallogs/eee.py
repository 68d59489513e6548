"""Every Eval Ever instance files (``*_samples.jsonl``, schema ``instance_level_eval`` 0.2.x–0.3.x).

- One line per (sample, metric) in schema 0.3: the metric (``--metric``, default ``exact_match``) picks the
  lines whose ``evaluation_result_id`` is it, or starts with it and a colon (``exact_match:test``).
- Correctness: ``evaluation.is_correct`` (else ``score`` ≥ 0.5). Gold answer: ``input.reference`` (option
  text); options: ``input.choices``. Chosen answer: the last ``answer_attribution``'s ``extracted_value``, a
  letter mapped through the choices (A = the first); anything else that is no option is invalid.
- Item: ``sample_id`` within ``evaluation_name`` (``sample_hash`` hashes the prompt, which differs by model).
  Decision-maker: ``model_id``; one model with two evaluations of one benchmark is two decision-makers.
"""

from __future__ import annotations

import string

from ...errors import InputError
from ...spec.logs import EEE_SUFFIXES
from .common import EvalLog, Record, files_under, json_lines, unique_names

DEFAULT_METRIC = "exact_match"


def is_samples_file(name: str) -> bool:
    return name.endswith(EEE_SUFFIXES)


def read_eee(path: str, metric: str | None) -> EvalLog:
    files = files_under(path, is_samples_file)
    if not files:
        raise InputError("holds no Every Eval Ever instance file (*_samples.jsonl)", file=path)
    rows: list[tuple[str, int, dict]] = [(f, n, r) for f in files for n, r in json_lines(f)]
    chosen, left_out = _select(rows, metric, path)
    log = EvalLog(path=path, format="eee", metric=chosen or "(one record per sample)", files=files)
    if left_out:
        log.notes.append(f"{left_out} records of other metrics left out (evaluation_result_id ≠ {chosen})")
    # One model evaluated twice on one benchmark is two decision-makers (their evaluation ids tell them apart).
    runs = {(r.get("model_id", ""), r.get("evaluation_name", ""), r.get("evaluation_id", "")) for _f, _n, r in rows}
    twice = {(m, e) for m, e, _i in runs if sum(1 for x in runs if x[:2] == (m, e)) > 1}
    keys = {(m, e, i): (m, "", i if (m, e) in twice else "") for m, e, i in runs}
    names = unique_names(sorted(set(keys.values())))
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for file, number, r in rows:
        if chosen is not None and not _is_metric(r.get("evaluation_result_id"), chosen):
            continue
        model = names[keys[r.get("model_id", ""), r.get("evaluation_name", ""), r.get("evaluation_id", "")]]
        task = str(r.get("evaluation_name") or "")
        item = f"{task}/{r.get('sample_id')}"
        if (model, item) in seen:
            first = seen[model, item]
            raise InputError(f"sample {r.get('sample_id')} of {task} appears twice for {model} (also {first[0]} "
                             f"line {first[1]}); pass --metric to pick one record per sample", file=file, row=number)
        seen[model, item] = (file, number)
        inp = r.get("input") or {}
        choices = [str(c) for c in inp.get("choices") or []]
        reference = inp.get("reference") or []
        gold = str(reference[0]) if reference else None
        evaluation = r.get("evaluation") or {}
        correct = evaluation.get("is_correct")
        if correct is None:
            correct = float(evaluation.get("score") or 0.0) >= 0.5
        log.records.append(Record(item=item, task=task, model=model, correct=bool(correct),
                                  answer=_chosen(r, choices), gold=gold, options=len(choices) or None))
    return log


def _chosen(r: dict, choices: list[str]) -> str | None:
    """The extracted answer as option text: a letter maps through the choices; other text must be an option."""
    attributions = r.get("answer_attribution") or []
    value = attributions[-1].get("extracted_value") if attributions else None
    if value is None:
        return None
    text = str(value).strip()
    letters = string.ascii_uppercase[:len(choices)]
    if len(text) == 1 and text in letters:
        return choices[letters.index(text)]
    return text if text in choices or not choices else None


def _is_metric(result_id: str | None, metric: str) -> bool:
    return result_id is not None and (result_id == metric or result_id.startswith(metric + ":"))


def _select(rows: list[tuple[str, int, dict]], metric: str | None, path: str) -> tuple[str | None, int]:
    """The metric whose records are kept (None: the files have one record per sample) and how many are not."""
    ids = sorted({r["evaluation_result_id"] for _f, _n, r in rows if r.get("evaluation_result_id")})
    if not ids:
        return None, 0
    wanted = metric or DEFAULT_METRIC
    matching = [i for i in ids if _is_metric(i, wanted)]
    if not matching:
        if metric is None and len(ids) == 1:
            return ids[0], 0
        raise InputError(f"no record has the metric '{wanted}'; the records' evaluation_result_id are "
                         f"{', '.join(ids[:12])}: pass one with --metric", file=path)
    if len(matching) > 1:
        exact = [i for i in matching if i == wanted]
        if not exact:
            raise InputError(f"--metric {wanted} matches {', '.join(matching)}: pass one of them", file=path)
        matching = exact
    kept = matching[0]
    return kept, sum(1 for _f, _n, r in rows if not _is_metric(r.get("evaluation_result_id"), kept))
