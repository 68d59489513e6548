"""Group attributes per individual: values compared across inputs, conflicts found, cells formed."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..read.values import dictionary_codes, group_text
from ..spec import LinkOptions
from .coverage import Coverage, group_conflict_message

MISSING_GROUP = "(missing)"


class GroupValues:
    """One group attribute's value per individual (-1: none yet), and who was given two values."""

    def __init__(self, universe: int) -> None:
        self.vocab: dict[str, int] = {}
        # Narrow values keep the random reads and writes below in cache; widened if the values outgrow it.
        self.value = np.full(universe, -1, dtype=np.int8)
        self.differs = np.zeros(universe, dtype=bool)

    def add(self, arr: pa.ChunkedArray, code: np.ndarray) -> None:
        """Take one input's values of the attribute (`code`: each row's ID code, -1 where missing)."""
        self.add_codes(code, group_codes(arr, self.vocab))

    def add_codes(self, code: np.ndarray, vals: np.ndarray) -> None:
        """Take values already coded in `vocab` (-1: missing) of the rows with ID codes `code`."""
        if len(self.vocab) > np.iinfo(self.value.dtype).max:
            self.value = self.value.astype(np.int32)
        vals = vals.astype(self.value.dtype)
        ok = (code >= 0) & (vals >= 0)
        ids, vals = (code, vals) if ok.all() else (code[ok], vals[ok])
        # One value given for an ID stands; any other value is a conflict.
        current = self.value[ids]
        new = current < 0
        self.differs[ids[~new & (current != vals)]] = True
        if not new.all():  # after the first input, usually few are new
            ids, vals = ids[new], vals[new]
        self.value[ids] = vals
        # Rows of one file giving an ID two values: only one of them was written.
        self.differs[ids[self.value[ids] != vals]] = True


def group_codes(arr: pa.ChunkedArray, vocab: dict[str, int]) -> np.ndarray:
    """Each row's group value as a code in `vocab` (-1 when missing or blank).

    Values compare as trimmed text (numbers as values.group_text writes them); the work is done once per distinct
    value, not once per row.
    """
    mapping, indices = dictionary_codes(arr, lambda words: group_word_codes(words, vocab))
    return mapping.astype(np.int16 if len(vocab) < 1 << 15 else np.int32)[indices]


def group_word_codes(words: pa.Array, vocab: dict[str, int]) -> list[int]:
    """The codes in `vocab` of distinct group values (-1: missing or blank), adding new values."""
    trimmed = pc.utf8_trim_whitespace(group_text(words)).to_pylist()
    return [vocab.setdefault(w, len(vocab)) if w else -1 for w in trimmed]


def dictionary_of(arr: pa.ChunkedArray) -> pa.Array:
    """The dictionary of a dictionary-encoded column in one chunk (the reader's combinations index it)."""
    return arr.chunk(0).dictionary


def cells(
    groups: dict[str, GroupValues], keep: np.ndarray, seen: np.ndarray, options: LinkOptions,
    coverage: Coverage,
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each ID's cell (one value per attribute; -1 if no input saw the ID) and the sorted cell labels.

    Cells are formed over every individual some decision-maker saw, so a group with no linked member
    still shows (as an empty group). Conflicts and missing values are counted over the linked ones.
    """
    if not groups:
        return np.where(seen, 0, -1).astype(np.int32), [()]
    per_attr = []
    for attr, g in groups.items():
        conflict = g.differs & keep
        if conflict.any():
            if options.on_group_conflict == "error":
                raise InputError(group_conflict_message(int(conflict.sum())), column=attr)
            g.value[g.differs] = -1
        coverage.group_conflicts[attr] = int(conflict.sum())
        # Rank labels alphabetically so cell order never depends on row or file order.
        labels = sorted(g.vocab)
        rank = np.empty(len(g.vocab) + 1, dtype=np.int32)
        rank[-1] = -1
        for r, v in enumerate(labels):
            rank[g.vocab[v]] = r
        ranked = rank[g.value]
        coverage.missing_group[attr] = int(np.count_nonzero((ranked < 0) & keep)) - int(conflict.sum())
        per_attr.append((ranked, labels))
    # One integer key per individual (mixed radix over the attributes' ranks, missing = 0): a 1-D sort,
    # in label order because ranks are alphabetical and missing sorts first. Individuals nobody saw get the
    # key `space`, past every cell's: whole-array passes in a narrow type, no selection of the seen.
    space = math.prod(len(labels) + 1 for _ranked, labels in per_attr)
    key = np.zeros(len(seen), dtype=np.int32 if space < (1 << 31) - 1 else np.int64)
    for ranked, labels in per_attr:
        key *= len(labels) + 1
        key += ranked
        key += 1
    np.copyto(key, space, where=~seen)
    if space <= 1 << 22:  # few possible cells: number the occurring ones by direct indexing, not a sort
        ukeys = np.flatnonzero(np.bincount(key, minlength=space + 1)[:space])
        number = np.full(space + 1, -1, dtype=np.int32)
        number[ukeys] = np.arange(len(ukeys))
        cell_u = number[key]
    else:
        ukeys, inverse = np.unique(key[seen], return_inverse=True)
        cell_u = np.full(len(seen), -1, dtype=np.int32)
        cell_u[seen] = inverse.reshape(-1)
    cell_labels = []
    for k in ukeys.tolist():
        digits = []
        for _ranked, labels in reversed(per_attr):
            k, d = divmod(k, len(labels) + 1)
            digits.append(MISSING_GROUP if d == 0 else labels[d - 1])
        cell_labels.append(tuple(reversed(digits)))
    return cell_u, cell_labels
