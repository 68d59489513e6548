"""Evaluation logs read as their tools write them: HELM run directories, Every Eval Ever instance files and
lm-evaluation-harness samples. Each reader returns the audit's stacked shape (`common.EvalLog.table`): the
model is the decision-maker, the item the person, the log's own scoring the failure, the chosen and gold
answers the decision and label, the task a group attribute (``--group task``)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

import pyarrow as pa

from ...choices import EVAL_LAYOUTS
from ...errors import InputError
from ..files import InputFile
from .common import ANSWER, GOLD, ITEM, MODEL, OPTIONS, PROBABILITIES, TASK, EvalLog
from .eee import read_eee
from .helm import read_helm
from .lm_eval import read_lm_eval

READERS = {"helm": read_helm, "eee": read_eee, "lm-eval": read_lm_eval}
__all__ = ["ANSWER", "EVAL_LAYOUTS", "GOLD", "ITEM", "MODEL", "OPTIONS", "PROBABILITIES", "TASK", "EvalLog",
           "log_table", "read_log"]


def log_table(layout: str, path: str, metric: str | None, groups: list[str]) -> tuple[pa.Table, InputFile]:
    """The stacked table of the log at `path` and how it is recorded among the inputs; `groups`: the group
    columns the audit wants of it."""
    with _collector_paused():
        log = read_log(layout, path, metric)
        table = log.table()
    for g in groups:
        if g not in table.column_names:
            raise InputError(f"has no column '{g}': evaluation logs give {', '.join(table.column_names)}",
                             file=path, column=g)
    probabilities = table[PROBABILITIES] if PROBABILITIES in table.column_names else None
    info = InputFile(path=path, format=layout, sha256=log.digest(), rows=table.num_rows,
                     log={"format": log.format, "metric": log.metric, "files": len(log.files),
                          # records whose options have probabilities (the softmax of their log-likelihoods)
                          "option_probabilities": 0 if probabilities is None else
                          len(probabilities) - probabilities.null_count,
                          "notes": list(log.notes)})
    return table, info


def read_log(layout: str, path: str, metric: str | None) -> EvalLog:
    """The records of the evaluation log at `path` (a file or a folder) in `layout`'s format."""
    with _collector_paused():
        return READERS[layout](path, metric)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a log is read: JSON records are trees (freed as their counts
    fall to zero), but the collector scanned every object made so far again and again as the records came:
    two thirds of reading 100 lm-eval runs of 2,000 records (bench/README.md)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
