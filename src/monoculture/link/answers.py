"""The chosen answers of the linked individuals, for the same-wrong-answer measures (metrics.md §11).

With multi-class decisions (an option of a multiple-choice question, a label among many) two decision-makers
can fail a person the same way. The failure matrix cannot say so; the answers themselves can. They cost
nothing to keep: each input's kind column already holds every row's decision and label code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from ..read.sources import Source
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
    # (N, k, W): each decision-maker's probability of each of the item's options, the gold option first;
    # NaN where it gave none (unseen, or its log has no probabilities). None when no input has any.
    probabilities: np.ndarray | None = None

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


@dataclass
class HeldAnswers:
    """What evaluation logs say about answers beyond the answer itself, per ID code while linking: each
    item's number of options, and each input's option probabilities (`held_probabilities`)."""

    options: np.ndarray | None = None
    probabilities: list[np.ndarray | None] = field(default_factory=list)

    def add(self, s: Source, code: np.ndarray, valid: np.ndarray, universe: int) -> None:
        """Take one input's (`code`: its rows' ID codes; `valid`: the rows the link keeps)."""
        self.options = note_options(self.options, s.options, code, universe)
        self.probabilities.append(held_probabilities(s.option_probabilities, code, valid, universe))

    def move(self, widen: Callable[[np.ndarray, object], np.ndarray]) -> None:
        """Follow the link's codes as they move (`Linker.grow`)."""
        self.options = None if self.options is None else widen(self.options, -1)
        self.probabilities = [None if p is None else widen(p, np.nan) for p in self.probabilities]


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


def held_probabilities(column: pa.ChunkedArray | None, code: np.ndarray, valid: np.ndarray,
                       universe: int) -> np.ndarray | None:
    """One input's option probabilities (a list per row, the gold option first) per ID code: (universe,
    widest list), NaN where it has none. `valid`: the rows the link keeps (`code`: their ID codes)."""
    if column is None or column.null_count == len(column):
        return None
    lists = column.combine_chunks()
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    held = np.full((universe, int(lengths.max())), np.nan)
    row = np.repeat(np.arange(len(lengths)), lengths)
    position = np.arange(len(row)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    keep = valid[row] & (code[row] >= 0)
    held[code[row[keep]], position[keep]] = lists.flatten().to_numpy(zero_copy_only=False)[keep]
    return held


def stacked_probabilities(held: list[np.ndarray | None], rows: np.ndarray) -> np.ndarray | None:
    """(N, k, W) of the linked individuals `rows`: each input's `held_probabilities`, NaN-padded to the widest."""
    if all(h is None for h in held):
        return None
    width = max(h.shape[1] for h in held if h is not None)
    out = np.full((len(rows), len(held), width), np.nan)
    for i, h in enumerate(held):
        if h is not None:
            out[:, i, :h.shape[1]] = h[rows]
    return out


def answer_table(linker: Linker, rows: np.ndarray, cell: np.ndarray, answers: str) -> AnswerTable | None:
    """The answers of the linked individuals `rows` (ID codes), from the inputs' kind columns.

    ``answers``: ``auto`` keeps them when the decisions are multi-class (more than two distinct values among
    decisions and labels) or an input gives option probabilities; ``on`` always. None when they are not
    kept."""
    dec_of_kind = linker.kind_table(0)
    lab_of_kind = linker.kind_table(1)
    probabilities = stacked_probabilities(linker.held_answers.probabilities, rows)
    binary = probabilities is None and answers == "auto"
    if binary and distinct_codes(dec_of_kind, lab_of_kind) <= 2:
        return None  # the linked rows' answers are among these: no (N × k) table to build and discard
    codes = np.empty((len(rows), len(linker.kind_cols)), dtype=np.int32)
    gold = np.full(len(rows), -1, dtype=np.int32)
    for i, col in enumerate(linker.kind_cols):
        kind = col[rows].astype(np.int64)
        dec = dec_of_kind[kind]
        codes[:, i] = np.where(kind < 0, UNSEEN, np.where(dec < 0, INVALID, dec))
        lab = lab_of_kind[kind]
        np.copyto(gold, lab.astype(np.int32), where=(gold < 0) & (lab >= 0))
    options = None if linker.held_answers.options is None else linker.held_answers.options[rows]
    table = AnswerTable(codes=codes, gold=gold, cell=cell, tokens=list(linker.vocab.tokens), options=options,
                        probabilities=probabilities)
    if binary and table.distinct_answers <= 2:
        return None
    return table


def distinct_codes(*arrays: np.ndarray) -> int:
    """How many distinct codes (>= 0) the arrays hold together (answer and gold codes, or the kind tables'
    decision and label codes, which hold the answers of every row of every input)."""
    return len(np.unique(np.concatenate([a[a >= 0].ravel() for a in arrays])))
