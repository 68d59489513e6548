"""The chosen answers of the linked individuals, for the same-wrong-answer measures (metrics.md §11).

With multi-class decisions (an option of a multiple-choice question, a label among many) two decision-makers
can fail a person the same way. The failure matrix cannot say so; the answers themselves can. They cost
nothing to keep: each input's kind column already holds every row's decision and label code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from .failures import ResolvedRule
    from .linker import Linker

UNSEEN = -2  # the decision-maker has no row for the person
INVALID = -1  # it has a row, but no answer (a blank decision kept as a failure): never equal to another's


@dataclass(frozen=True)
class AnswerTable:
    """Per linked individual: each decision-maker's answer code and the gold answer's code.

    ``codes[j, i]`` is decision-maker i's answer for individual j (an index into `tokens`), `INVALID` when
    its row has no answer, `UNSEEN` when it has no row. ``gold[j]`` is the label's code. A correct answer is
    ``codes[j, i] == gold[j]``, exactly the failure rule ``decision ≠ label`` read the other way.
    """

    codes: np.ndarray  # (N, k) int32
    gold: np.ndarray  # (N,) int32
    cell: np.ndarray  # (N,) each individual's group cell (as the pattern table's cells)
    tokens: list[str]
    options: np.ndarray | None = None  # (N,) each item's answer options, where the input says (else -1)

    @property
    def distinct_answers(self) -> int:
        """How many distinct values the answers and gold answers take."""
        return distinct_codes(self.codes, self.gold)


def wants_answers(resolved: ResolvedRule, answers: str) -> bool:
    """Whether the rule compares a decision with a label in one vocabulary (`error`), so that an answer and
    the gold answer are comparable, and the user has not turned the answers off."""
    rule = resolved.rule
    return (answers != "off" and rule.kind == "error" and not rule.uses_scores
            and not rule.own_label_vocabulary and rule.needs_label)


def note_options(held: np.ndarray | None, options: pa.ChunkedArray | None, code: np.ndarray,
                 universe: int) -> np.ndarray | None:
    """Add one input's per-item answer options (`code`: its rows' ID codes) to those held (-1: unknown).
    Where inputs disagree on an item, the larger count holds (an option nobody listed cannot be chosen)."""
    if options is None:
        return held
    held = np.full(universe, -1, dtype=np.int32) if held is None else held
    values = options.to_numpy(zero_copy_only=False)
    given = (code >= 0) & ~np.isnan(values.astype(float))
    np.maximum.at(held, code[given], values[given].astype(np.int32))
    return held


def answer_table(linker: Linker, rows: np.ndarray, cell: np.ndarray, answers: str) -> AnswerTable | None:
    """The answers of the linked individuals `rows` (ID codes), from the inputs' kind columns.

    ``answers``: ``auto`` keeps them when the decisions are multi-class (more than two distinct values among
    decisions and labels); ``on`` always. None when they are not kept."""
    dec_of_kind = linker.kind_table(0)
    lab_of_kind = linker.kind_table(1)
    if answers == "auto" and distinct_codes(dec_of_kind, lab_of_kind) <= 2:
        return None  # the linked rows' answers are among these: no (N × k) table to build and discard
    codes = np.empty((len(rows), len(linker.kind_cols)), dtype=np.int32)
    gold = np.full(len(rows), -1, dtype=np.int32)
    for i, col in enumerate(linker.kind_cols):
        kind = col[rows].astype(np.int64)
        dec = dec_of_kind[kind]
        codes[:, i] = np.where(kind < 0, UNSEEN, np.where(dec < 0, INVALID, dec))
        lab = lab_of_kind[kind]
        np.copyto(gold, lab.astype(np.int32), where=(gold < 0) & (lab >= 0))
    options = None if linker.item_options is None else linker.item_options[rows]
    table = AnswerTable(codes=codes, gold=gold, cell=cell, tokens=list(linker.vocab.tokens), options=options)
    if answers == "auto" and table.distinct_answers <= 2:
        return None
    return table


def distinct_codes(*arrays: np.ndarray) -> int:
    """How many distinct codes (>= 0) the arrays hold together (answer and gold codes, or the kind tables'
    decision and label codes, which hold the answers of every row of every input)."""
    return len(np.unique(np.concatenate([a[a >= 0].ravel() for a in arrays])))
