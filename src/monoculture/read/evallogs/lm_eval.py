"""lm-evaluation-harness ``--log_samples`` files: ``samples_<task>_<timestamp>.json[l][.gz]`` (JSON Lines,
whatever the suffix), beside ``results_<timestamp>.json`` (the model's name and its number of shots).

- Metric: ``--metric acc`` (or ``exact_match``…; ``NAME,FILTER`` picks a filter: generative tasks write one
  record per filter). Default: ``acc`` where logged, else ``exact_match``; filter ``none`` where logged, else
  the first. Scores may be written as strings (``"0.0"``).
- Multiple choice (log-likelihood per option): the chosen answer is the continuation with the largest
  log-likelihood (strings such as ``"-0.98"`` converted), the gold answer the ``target`` (an index or the
  text); options: the requests per document; each option's probability the softmax of the logged
  log-likelihoods over the document's options (for probabilistic CAPA, metrics.md §11). Generative: the
  filtered response and the target, as text.
- Item: ``doc_id`` within the task (``doc_hash`` collides for duplicate documents; it is only checked to
  agree across runs). Decision-maker: the model, with its shots when one model ran under two settings.
"""

from __future__ import annotations

import functools
import os
import re

from ...errors import InputError
from ...spec.logs import LM_EVAL_SAMPLES
from .common import (
    EvalLog,
    OptionScores,
    Record,
    as_float,
    files_under,
    json_lines,
    load_json,
    option_scores,
    unique_names,
)


def read_lm_eval(path: str, metric: str | None) -> EvalLog:
    files = files_under(path, lambda name: LM_EVAL_SAMPLES.match(name) is not None)
    if not files:
        raise InputError("holds no lm-evaluation-harness samples file (samples_<task>_<time>.jsonl)", file=path)
    wanted, wanted_filter = [*metric.split(",", 1), None][:2] if metric else (None, None)
    runs, read = [], list(files)
    for f in files:
        m = LM_EVAL_SAMPLES.match(os.path.basename(f))
        assert m is not None
        results_path = os.path.join(os.path.dirname(f), f"results_{m['time']}.json")  # beside, same time
        results = {}
        if os.path.exists(results_path):
            results = load_json(results_path)
            read.append(results_path)
        model = results.get("model_name") or os.path.basename(os.path.dirname(f)).replace("__", "/")
        shots = (results.get("n-shot") or {}).get(m["task"])
        runs.append((f, m["task"], (str(model), f"{shots}-shot" if shots is not None else "", m["time"])))
    names = unique_names([key for _f, _t, key in runs])
    log = EvalLog(path=path, format="lm-eval", metric="", files=sorted(set(read)))
    hashes: dict[str, tuple[str, str]] = {}
    chosen_metrics, other_filters = set(), 0
    for f, task, key in runs:
        records = list(json_lines(f))
        name = wanted or _default_metric([r for _n, r in records], f)
        filters = sorted({str(r.get("filter", "none")) for _n, r in records})
        keep = wanted_filter or ("none" if "none" in filters else filters[0])
        chosen_metrics.add(f"{name},{keep}")
        seen: set[str] = set()
        for number, r in records:
            if str(r.get("filter", "none")) != keep:
                other_filters += 1
                continue
            doc = str(r.get("doc_id"))
            if doc in seen:
                raise InputError(f"doc_id {doc} appears twice under filter {keep}", file=f, row=number)
            seen.add(doc)
            item = f"{task}/{doc}"
            if r.get("doc_hash"):
                first = hashes.setdefault(item, (r["doc_hash"], f))
                if first[0] != r["doc_hash"]:
                    raise InputError(f"doc_id {doc} of {task} is another document here than in {first[1]} "
                                     "(doc_hash differs): the runs did not see the same items", file=f, row=number)
            if name not in r:
                raise InputError(f"the record has no '{name}' score (--metric names one it has)", file=f, row=number)
            answer, gold, options, likelihoods = _answers(r, f, number)
            log.records.append(Record(item=item, task=task, model=names[key],
                                      correct=as_float(r[name], f, name) >= 0.5, answer=answer, gold=gold,
                                      options=options, likelihoods=likelihoods))
    log.metric = "; ".join(sorted(chosen_metrics))
    if other_filters:
        log.notes.append(f"{other_filters} records of other filters left out")
    return log


def _default_metric(records: list[dict], file: str) -> str:
    keys = set(records[0]) if records else set()
    for name in ("acc", "exact_match"):
        if name in keys:
            return name
    logged = records[0].get("metrics") if records else None
    if isinstance(logged, list) and logged:
        return str(logged[0])
    raise InputError("no acc or exact_match score in the records: pass --metric", file=file)


@functools.lru_cache(maxsize=256)
def _in_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """``gen_args_0``, ``gen_args_1``, … by their number (every record of a task has the same keys)."""
    return tuple(sorted(keys, key=lambda k: int(re.sub(r"\D", "", k) or 0)))


def _continuations(arguments: object) -> list[str]:
    """The requests' continuations (the options of a log-likelihood task), in order."""
    if isinstance(arguments, dict):
        args = [arguments[k] for k in _in_order(tuple(arguments))]
        return [str(a.get("arg_1")) if isinstance(a, dict) else str(a) for a in args]
    if isinstance(arguments, list):
        return [str(a[1]) if isinstance(a, list | tuple) and len(a) > 1 else str(a) for a in arguments]
    return []


def _answers(r: dict, file: str, row: int) -> tuple[str | None, str | None, int | None, OptionScores | None]:
    """(chosen answer, gold answer, number of options, the options' log-likelihoods) of one record; the last
    two None for generated text."""
    responses = r.get("filtered_resps")
    target = r.get("target")
    options = _continuations(r.get("arguments"))
    if isinstance(responses, list) and responses and all(isinstance(x, list | tuple) for x in responses):
        likelihoods = [as_float(x[0], file, "log-likelihood") for x in responses]
        best = max(range(len(likelihoods)), key=likelihoods.__getitem__)
        texts = [o.strip() for o in options] if len(options) == len(likelihoods) else [str(i) for i in
                                                                                      range(len(likelihoods))]
        if isinstance(target, int) and 0 <= target < len(texts):
            gold = texts[target]
        else:
            gold = str(target).strip() if target is not None else None
        return texts[best], gold, len(likelihoods), option_scores(texts, likelihoods, file, row)
    generated = responses[0] if isinstance(responses, list) and responses else responses
    return (str(generated).strip() if generated is not None else None,
            str(target).strip() if target is not None else None, None, None)
