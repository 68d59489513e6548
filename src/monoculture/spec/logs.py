"""Which evaluation-log format a folder holds, from its file names alone (the readers are in
`read.evallogs`; a spec only needs to know which one to call)."""

from __future__ import annotations

import os
import re

HELM_FILE = "per_instance_stats.json"  # one per HELM run directory
EEE_SUFFIXES = ("_samples.jsonl", "_samples.jsonl.gz")  # Every Eval Ever instance files
LM_EVAL_SAMPLES = re.compile(r"^samples_(?P<task>.+)_(?P<time>\d{4}-\d{2}-\d{2}T[\d.\-]+?)\.jsonl?(\.gz)?$")
# Columns of the stacked table every log reader returns; an audit of logs reads these.
LOG_COLUMNS = {"id": "item", "decision": "answer", "label": "gold", "decision_maker": "model", "task": "task"}


def log_format(name: str) -> str | None:
    """The evaluation-log format a file of this name belongs to, if any."""
    if name == HELM_FILE:
        return "helm"
    if name.endswith(EEE_SUFFIXES):
        return "eee"
    if LM_EVAL_SAMPLES.match(name):
        return "lm-eval"
    return None


def detect_log_layout(paths: list[str], limit: int = 10_000) -> str | None:
    """The one evaluation-log format the inputs hold: None when they hold none, or several (or when a path
    is a CSV or Parquet file: those are read as tables)."""
    found = set()
    for path in paths:
        if os.path.isdir(path):
            seen = 0
            for _root, dirs, files in os.walk(path):
                dirs.sort()
                found.update(f for f in map(log_format, files) if f)
                seen += len(files)
                if seen > limit:
                    break
        elif os.path.isfile(path):
            found.update(f for f in [log_format(os.path.basename(path))] if f)
    return found.pop() if len(found) == 1 else None
