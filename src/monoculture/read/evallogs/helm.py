"""HELM run directories: ``run_spec.json``, ``per_instance_stats.json``, ``scenario_state.json`` and (when
written) ``display_predictions.json``, one directory per (scenario, model) run.

- Correctness: the per-instance stat named by the metric (default ``exact_match``), unperturbed, train trial
  0, its ``mean`` (1 or 0). ``display_predictions``' stats are not used: other HELM versions carry only token
  counts there.
- Gold answer: the reference tagged ``correct``; options: the instance's references.
- Chosen answer: ``mapped_output`` (the option text the letter maps to), else the completion's letter mapped
  through ``output_mapping``; an answer that is no option is invalid (wrong, and nobody's same answer).
- Item: the ``instance_id`` within the run's scenario (the run name without its model); the scenario is the
  task. Decision-maker: ``adapter_spec.model``, with its number of in-context examples when one model ran
  under two settings.
"""

from __future__ import annotations

import os

from ...errors import InputError
from ...spec.logs import HELM_FILE
from .common import EvalLog, Record, files_under, load_json, unique_names

DEFAULT_METRIC = "exact_match"
RUN_FILES = ("run_spec.json", HELM_FILE, "scenario_state.json", "display_predictions.json")


def run_directories(path: str) -> list[str]:
    """The HELM run directories at or under `path` (each holds a per_instance_stats.json)."""
    if os.path.isfile(path):
        path = os.path.dirname(path) or "."
    found = files_under(path, lambda name: name == HELM_FILE)
    if not found:
        raise InputError("holds no HELM run directory (no per_instance_stats.json)", file=path)
    return [os.path.dirname(f) for f in found]


def read_helm(path: str, metric: str | None) -> EvalLog:
    """Every run under `path`, one record per (run, instance)."""
    metric = metric or DEFAULT_METRIC
    log = EvalLog(path=path, format="helm", metric=metric)
    runs = []
    for run in run_directories(path):
        spec = load_json(os.path.join(run, "run_spec.json")) if os.path.exists(os.path.join(run, "run_spec.json")) \
            else {"name": os.path.basename(run), "adapter_spec": {}}
        adapter = spec.get("adapter_spec") or {}
        name = spec.get("name") or os.path.basename(run)
        model = adapter.get("model") or _model_of_run(name) or os.path.basename(run)
        shots = adapter.get("max_train_instances")
        runs.append((run, name, (model, f"{shots}-shot" if shots is not None else "", name)))
    names = unique_names([key for _run, _name, key in runs])
    skipped_trials = skipped_no_stat = 0
    for run, name, key in runs:
        task = _task_of_run(name)
        state = _instances(run)
        predictions = _predictions(run)
        for entry in load_json(os.path.join(run, "per_instance_stats.json")):
            if entry.get("train_trial_index", 0) != 0:
                skipped_trials += 1
                continue
            instance = str(entry["instance_id"])
            score = _stat(entry.get("stats", []), metric)
            if score is None:
                skipped_no_stat += 1
                continue
            gold, options, mapping, completion = state.get(instance, (None, None, {}, None))
            answer = predictions.get(instance)
            if answer is None and completion is not None:
                answer = mapping.get(completion.strip())
            log.records.append(Record(item=f"{task}/{instance}", task=task, model=names[key],
                                      correct=score >= 0.5, answer=answer or None, gold=gold, options=options))
    log.files = [os.path.join(run, f) for run, _n, _k in runs for f in RUN_FILES
                 if os.path.exists(os.path.join(run, f))]
    if not log.records:
        raise InputError(f"no instance has an unperturbed '{metric}' stat (--metric names the stat)", file=path)
    if skipped_trials:
        log.notes.append(f"{skipped_trials} instance records of train trials other than 0 left out")
    if skipped_no_stat:
        log.notes.append(f"{skipped_no_stat} instance records without an unperturbed '{metric}' stat left out")
    return log


def _stat(stats: list[dict], metric: str) -> float | None:
    """The instance's unperturbed `metric` mean (None when absent, or counted 0 times: then no mean)."""
    for s in stats:
        name = s.get("name") or {}
        if name.get("name") == metric and not name.get("perturbation") and "mean" in s:
            return float(s["mean"])
    return None


def _instances(run: str) -> dict[str, tuple[str | None, int, dict[str, str], str | None]]:
    """Per instance (train trial 0): the gold answer, the number of options, letter → option, the completion."""
    path = os.path.join(run, "scenario_state.json")
    if not os.path.exists(path):
        return {}
    out = {}
    for state in load_json(path).get("request_states", []):
        if state.get("train_trial_index", 0) != 0:
            continue
        instance = state.get("instance") or {}
        refs = instance.get("references") or []
        gold = next((r["output"]["text"] for r in refs if "correct" in (r.get("tags") or [])), None)
        completions = (state.get("result") or {}).get("completions") or []
        out[str(instance.get("id"))] = (gold, len(refs), state.get("output_mapping") or {},
                                        completions[0].get("text") if completions else None)
    return out


def _predictions(run: str) -> dict[str, str | None]:
    path = os.path.join(run, "display_predictions.json")
    if not os.path.exists(path):
        return {}
    return {str(p["instance_id"]): p.get("mapped_output") for p in load_json(path)
            if p.get("train_trial_index", 0) == 0}


def _run_args(name: str) -> tuple[str, list[str]]:
    scenario, _, args = name.partition(":")
    return scenario, [a for a in args.split(",") if a]


def _model_of_run(name: str) -> str | None:
    for arg in _run_args(name)[1]:
        if arg.startswith("model="):
            return arg.removeprefix("model=").replace("_", "/", 1)
    return None


def _task_of_run(name: str) -> str:
    """The run name without the model: ``bbq:subject=all,method=multiple_choice_joint``."""
    scenario, args = _run_args(name)
    kept = [a for a in args if not a.startswith(("model=", "model_deployment="))]
    return scenario + (":" + ",".join(kept) if kept else "")
