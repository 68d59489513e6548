"""What every evaluation-log reader returns: one row per (model, item) in the audit's stacked shape.

The log's own scoring decides failure. The chosen and gold answers come along for the same-wrong-answer
measures, made consistent with that scoring: a record the log scores correct gets the gold answer as its
answer (a generated "The answer is 3" is the gold "3"); a record it scores wrong whose answer equals the
gold answer (a scorer stricter than string equality) keeps no answer, and is counted. So ``answer ≠ gold``
(a missing answer counting as wrong) is exactly the log's scoring, row for row.

Where the log has a probability per option (lm-eval's log-likelihoods), each row also carries its item's
distribution, the gold option first and the others in the order of their text, so that every model's
distribution over an item lines up, whichever input it came from (probabilistic CAPA, metrics.md §11).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from ...errors import InputError
from ...spec.logs import LOG_COLUMNS
from ..files import file_sha256

# The columns of the table a reader returns (the audit reads them as a stacked layout).
ITEM, MODEL, ANSWER, GOLD, TASK = (LOG_COLUMNS[k] for k in ("id", "decision_maker", "decision", "label", "task"))
OPTIONS = "options"
PROBABILITIES = "option_probabilities"  # per row: its item's options' probabilities, the gold option first


class OptionScores(NamedTuple):
    """A multiple-choice record's options (their text, in the order asked) and their log-likelihoods."""

    texts: tuple[str, ...]
    loglik: list[float]


@dataclass
class Record:
    item: str
    task: str
    model: str
    correct: bool
    answer: str | None
    gold: str | None
    options: int | None = None  # answer options of a multiple-choice item; None: free text
    likelihoods: OptionScores | None = None  # each option's log-likelihood, where the log has them


@dataclass
class EvalLog:
    """The records of one input (a run directory, a folder of runs, a samples file) and what reading chose."""

    path: str
    format: str
    metric: str
    records: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was selected or left out, each counted
    files: list[str] = field(default_factory=list)  # every file read

    def digest(self) -> str:
        """SHA-256 over the files read (each file's name under the input, and its own SHA-256)."""
        import hashlib

        whole = hashlib.sha256()
        for f in sorted(self.files):
            whole.update(os.path.relpath(f, self.path).encode() + b"\0" + bytes.fromhex(file_sha256(f)))
        return whole.hexdigest()

    def table(self) -> pa.Table:
        """The records as the stacked table the audit reads, answers made consistent with the log's scoring."""
        wrong_equal = 0
        answers = []
        golds = [r.gold if r.gold is not None else "(no gold answer)" for r in self.records]
        for r, gold in zip(self.records, golds, strict=True):
            if r.correct:
                answers.append(gold)
            elif r.answer is not None and r.answer == gold:
                wrong_equal += 1
                answers.append(None)
            else:
                answers.append(r.answer)
        if wrong_equal:
            self.notes.append(f"{wrong_equal} records scored wrong by the log give the gold answer as written "
                              "(its scorer is stricter than equality): counted wrong, their answer as invalid")
        invalid = sum(1 for r, a in zip(self.records, answers, strict=True) if a is None) - wrong_equal
        if invalid:
            self.notes.append(f"{invalid} records have no answer that is an option (none could be extracted): "
                              "counted wrong, and never the same answer as another's")
        columns = {
            ITEM: pa.array([r.item for r in self.records], pa.string()),
            MODEL: pa.array([r.model for r in self.records], pa.string()),
            ANSWER: pa.array(answers, pa.string()),
            GOLD: pa.array(golds, pa.string()),
            TASK: pa.array([r.task for r in self.records], pa.string()),
            OPTIONS: pa.array([r.options for r in self.records], pa.int32()),
        }
        if any(r.likelihoods is not None for r in self.records):
            columns[PROBABILITIES] = self._aligned_probabilities()
        return pa.table(columns)

    def _aligned_probabilities(self) -> pa.ListArray:
        """Each record's option probabilities (the softmax of its log-likelihoods), the gold option first
        (probability 0 when the gold answer is none of the options), then the others by their text; options
        of one text add up. Every model of an item must list the same options. Records that ask the same
        options in the same order with the same gold answer are one matrix product."""
        from scipy.special import softmax

        options_of: dict[str, tuple[str, tuple[str, ...]]] = {}
        alike: dict[tuple[tuple[str, ...], str | None], list[int]] = {}
        for i, r in enumerate(self.records):
            if r.likelihoods is None:
                continue
            texts = r.likelihoods.texts
            model, first = options_of.setdefault(r.item, (r.model, texts))
            if first != texts and set(first) != set(texts):
                raise InputError(f"item {r.item} has other answer options for {r.model} than for {model}: the runs "
                                 "did not ask the same question", file=self.path)
            alike.setdefault((texts, r.gold), []).append(i)
        rows: list[np.ndarray | None] = [None] * len(self.records)
        for (texts, gold), members in alike.items():
            others = sorted(set(texts) - {gold})
            place = {t: n + 1 for n, t in enumerate(others)} | {gold: 0}
            merge = np.zeros((len(texts), len(others) + 1))  # 0/1: the products add exact zeros
            merge[np.arange(len(texts)), [place[t] for t in texts]] = 1.0
            p = softmax(np.array([self.records[i].likelihoods.loglik for i in members]), axis=1) @ merge
            for i, row in zip(members, p, strict=True):
                rows[i] = row
        lengths = np.array([0 if r is None else len(r) for r in rows])
        values = np.concatenate([r for r in rows if r is not None])
        return pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(lengths)]), pa.int32()), values,
                                        mask=pa.array([r is None for r in rows]))


def load_json(path: str) -> Any:
    """A JSON file, or the error that names it."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read this evaluation log as JSON ({exc})", file=path) from None


def json_lines(path: str) -> Iterator[tuple[int, dict]]:
    """(line number, record) of a JSON Lines file (whatever its suffix: lm-eval writes ``.json``), gzip too."""
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except ValueError as exc:
                        raise InputError(f"line {number} is not a JSON record ({exc})", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", file=path) from None


def as_float(value: Any, path: str, what: str) -> float:
    """A score as logged: a number, or a number written as a string ("0.0", "True")."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text in ("True", "False"):
            return float(text == "True")
        try:
            return float(text)
        except ValueError:
            pass
    raise InputError(f"{what} is not a number: {value!r}", file=path)


def files_under(path: str, match: Any) -> list[str]:
    """Every file under `path` (itself, when a file) whose name `match` accepts, sorted."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise InputError("not found", file=path)
    found = []
    for root, dirs, names in os.walk(path):
        dirs.sort()
        found.extend(os.path.join(root, n) for n in sorted(names) if match(n))
    return found


def option_scores(texts: list[str], likelihoods: list[float], file: str, row: int) -> OptionScores:
    """A record's options and log-likelihoods, checked: each a number, not +inf, not all -inf (which is
    probability 0). The probabilities are their softmax (`EvalLog.table`)."""
    if any(math.isnan(v) or v == math.inf for v in likelihoods) or all(v == -math.inf for v in likelihoods):
        raise InputError(f"the options' log-likelihoods {likelihoods} give no probabilities", file=file, row=row)
    return OptionScores(tuple(texts), likelihoods)


def unique_names(keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """Decision-maker names for (model, setting, run) keys: the model alone where that is unique, then with
    its setting (``0-shot``), then with the run; one model under two settings is two decision-makers."""
    out = {}
    for key in keys:
        model, setting, run = key
        same_model = {k for k in keys if k[0] == model}
        if len(same_model) == 1:
            out[key] = model
        elif len({k for k in same_model if k[1] == setting}) == 1:
            out[key] = f"{model} ({setting})"
        else:
            out[key] = f"{model} ({setting}, {run})" if setting else f"{model} ({run})"
    return out
