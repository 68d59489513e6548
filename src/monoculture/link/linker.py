"""The linking state: what is kept per individual while inputs are added one decision-maker at a time."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from ..errors import InputError, UsageError
from ..read.sources import People, Source
from ..read.values import Vocabulary, as_numbers
from ..spec import FailureRule, LinkOptions
from .answers import HeldAnswers
from .coverage import (
    SourceCoverage,
    check_people_duplicates,
    duplicate_ids_message,
    first_repeat_row,
    first_row,
    missing_rows_message,
)
from .failure_matrix import failure_matrix
from .failures import favourable_from_scores, per_person_scores
from .group_values import GroupValues, dictionary_of, group_codes, group_word_codes
from .id_codes import IdCodes, recoded, relocated
from .linked import Linked


class Linker:
    """What linking keeps per individual, filled one decision-maker at a time.

    Every array is indexed by ID code. Per decision-maker it keeps one small integer per individual (a byte
    while there are fewer than 128 kinds): the *kind* of their valid row (-1: no valid row), an index into
    `kinds`, the distinct (decision, label, group values...) combinations. Whether a kind is a failure can
    be decided only once every input's values are known (the rule's defaults come from them); group values
    are compared across inputs then too, by passes over these columns instead of a random read per row and
    input.
    """

    def __init__(self, k: int, rule: FailureRule, attributes: list[str], options: LinkOptions,
                 universe: int) -> None:
        self.k, self.rule, self.options, self.universe = k, rule, options, universe
        self.vocab = Vocabulary()
        self.kinds: dict[tuple[int, ...], int] = {}
        self.kind_cols: list[np.ndarray] = []
        self.covs: list[SourceCoverage] = []
        self.missing_decisions: list[tuple[str, int, int]] = []  # (file, rows, first row) under "error"
        self.unseen: list[np.ndarray] = []  # per source: IDs of rows with a label but no decision (parity)
        self.dec_tokens: set[str] = set()
        self.lab_tokens: set[str] = set()
        self.groups = {attr: GroupValues(universe) for attr in attributes}
        self.people: People | None = None
        self.people_codes = np.zeros(0, dtype=np.int64)
        self.people_label: np.ndarray | None = None
        # Per-person decisions cost bytes per individual and decision-maker: only multiplicity needs them.
        self.decisions: list[np.ndarray] = []
        self.labels = np.full(universe, -1, dtype=np.int64) if options.per_person else None
        self.scores: list[np.ndarray | None] = []
        self.classes: tuple[str, list[str]] | None = None  # the first input's file and class-probability columns
        self.held_answers = HeldAnswers()  # evaluation logs: each item's options, each input's probabilities

    def grow(self, shift: int, universe: int, mapping: np.ndarray | None = None) -> None:
        """Move the codes: `shift` new codes before the old ones, or each old code c to `mapping[c]` (-1 for
        codes nothing is held for); `universe` codes in all."""
        def widen(a: np.ndarray, fill: object) -> np.ndarray:
            return relocated(a, fill, universe, shift, mapping)

        self.kind_cols = [widen(c, -1) for c in self.kind_cols]
        if self.people_label is not None:
            self.people_label = widen(self.people_label, -1)
        self.people_codes = recoded(self.people_codes, shift, mapping)
        self.unseen = [recoded(u, shift, mapping) for u in self.unseen]
        self.decisions = [widen(d, -1) for d in self.decisions]
        self.scores = [None if s is None else widen(s, np.nan) for s in self.scores]
        self.labels = None if self.labels is None else widen(self.labels, -1)
        self.held_answers.move(widen)
        for g in self.groups.values():
            g.value, g.differs = widen(g.value, -1), widen(g.differs, False)
        self.universe = universe

    def used_codes(self) -> np.ndarray:
        """Which codes the link holds anything for (an individual some input or the people file gave)."""
        used = np.zeros(self.universe, dtype=bool)
        for col in self.kind_cols:
            used |= col >= 0
        for codes in [self.people_codes, *self.unseen]:
            used[codes[codes >= 0]] = True
        for g in self.groups.values():
            used |= g.value >= 0
        return used

    def add_people(self, people: People, codes: np.ndarray) -> None:
        check_people_duplicates(codes, people.file)
        self.people, self.people_codes = people, codes
        if people.label is not None:
            ok = codes >= 0
            self.people_label = np.full(self.universe, -1, dtype=np.int64)
            self.people_label[codes[ok]] = self.vocab.encode(people.label)[ok]
        for attr, g in self.groups.items():
            if attr in people.groups:
                g.add(people.groups[attr], codes)

    def add(self, i: int, s: Source, code: np.ndarray, sort_keys: Callable[[], pa.Array]) -> None:
        """Check and take decision-maker i's rows (`code`: each row's ID code, -1 where missing)."""
        rule = self.rule
        if rule.needs_label and s.label is None and self.people_label is None:
            raise UsageError(f"{{rule.kind={rule.kind}}} needs labels: pass {{columns.label=COLUMN}} "
                             "(or use {rule.kind=outcome})")
        cov = SourceCoverage(name=s.name, file=s.file, rows=s.rows)
        # The rows' values, per row or (from the reader) as combinations: the checks below need only which
        # rows lack a decision or a label, and those come from the combinations by one lookup each.
        combos = self._combinations(s)
        scores, dec, dec_missing = self._decisions(s, combos)
        lab, lab_absent = self._labels(s, code, combos)
        has_id = code >= 0
        valid, missing_cells = self._valid_rows(s, has_id, dec_missing, lab_absent, cov)
        if scores is not None:  # a top fraction is of the rows that count: drop duplicates first
            seen = np.zeros(self.universe, dtype=bool)
            seen[code[valid]] = True
            if np.count_nonzero(seen) != np.count_nonzero(valid):
                valid = self._without_duplicates(s, code, valid, cov)
            del seen
            dec = favourable_from_scores(rule, s.name, scores, sort_keys(), valid).astype(np.int16)
        values = ({} if combos is not None else
                  {attr: group_codes(s.groups[attr], g.vocab) for attr, g in self.groups.items() if attr in s.groups})
        s.release("groups")
        parts = [dec, *([lab] if lab_absent is not None else []), *[values.get(attr) for attr in self.groups]]
        col, rows = self._kind_column(code, valid, parts, combos)
        if np.count_nonzero(col >= 0) != len(rows):  # some ID occurs twice
            valid = self._without_duplicates(s, code, valid, cov)
            col, rows = self._kind_column(code, valid, parts, combos)
        self.kind_cols.append(col)
        if self.groups:
            self._merge_group_values(col)
        cov.valid_rows = len(rows)
        self._take_left_out_group_values(code, has_id & ~valid, len(parts), values, combos)
        if self.options.per_person:
            self._keep_per_person(s, rows, valid, dec, lab)
        self.held_answers.add(s, code, valid, self.universe)
        self.covs.append(cov)
        self.unseen.append(code[missing_cells] if missing_cells.any() else np.zeros(0, code.dtype))  # not a view

    def _decisions(
        self, s: Source, combos: tuple[np.ndarray, np.ndarray] | None,
    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
        """The input's scores (score rules), decision codes (per-row route) and which rows lack a decision."""
        scores = dec = None
        if combos is not None:
            dec_missing = _rows_where(combos[1][:, 0] < 0, combos[0])
        elif self.rule.uses_scores:
            scores = as_numbers(s.decision, s.file, "decision")
            dec = np.zeros(s.rows, np.int16)
            dec_missing = np.isnan(scores)
        else:
            dec, tokens = self.vocab.encode_tokens(s.decision)
            self.dec_tokens |= tokens
            dec_missing = dec < 0
        s.release("decision")
        return scores, dec, dec_missing

    def _labels(
        self, s: Source, code: np.ndarray, combos: tuple[np.ndarray, np.ndarray] | None,
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The rows' label codes (per-row route, or kept for multiplicity) and, when the rule uses labels,
        which rows lack one (None when it does not)."""
        rule, vocab = self.rule, self.vocab
        lab = None
        if combos is not None:
            lab_absent = _rows_where(combos[1][:, 1] < 0, combos[0]) if rule.needs_label else None
        elif rule.needs_label:
            if s.label is not None:
                lab, tokens = vocab.encode_tokens(s.label)
                self.lab_tokens |= tokens
            else:  # a source without its own label column takes the people file's label for each ID
                assert self.people_label is not None
                lab = np.where(code >= 0, self.people_label[np.maximum(code, 0)], -1)
                self.lab_tokens |= {vocab.tokens[c] for c in _used(lab)}
            lab_absent = lab < 0
        else:
            lab_absent = None
            if s.label is not None and self.labels is not None:
                lab = vocab.encode(s.label)
        s.release("label")
        return lab, lab_absent

    def _valid_rows(
        self, s: Source, has_id: np.ndarray, dec_missing: np.ndarray, lab_absent: np.ndarray | None,
        cov: SourceCoverage,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows with an ID, a decision and (when the rule uses labels) a label, each exclusion counted or
        refused; and the rows with a label but no decision (parity mode counts them as failures)."""
        on_missing = self.options.on_missing
        valid = has_id.copy()
        if not valid.all() and on_missing == "error":
            raise InputError(missing_rows_message(int((~valid).sum()), "a missing or blank ID"),
                             file=s.file, column=None, row=s.row_in_file(first_row(~valid)))
        cov.missing_id = s.rows - int(valid.sum())
        dec_missing &= valid
        missing_cells = dec_missing if lab_absent is None else dec_missing & ~lab_absent
        if s.blank_is_unseen:
            cov.blank_cells = int(dec_missing.sum())
            valid &= ~dec_missing
        elif self.options.on_missing_decision == "fail":  # kept: the kind's decision code -1 is a failure
            cov.missing_decision_failed = int(dec_missing.sum())
            missing_cells = np.zeros_like(dec_missing)  # parity: already counted as failures
        else:
            if dec_missing.any() and self.options.on_missing_decision == "error":
                # Counted over every decision-maker before anyone is told: the error comes at the end of linking.
                self.missing_decisions.append((s.file, int(dec_missing.sum()), s.row_in_file(first_row(dec_missing))))
            cov.missing_decision = int(dec_missing.sum())
            valid &= ~dec_missing
        if lab_absent is not None:
            lab_missing = lab_absent & valid
            if lab_missing.any() and on_missing == "error":
                where = " in the people file" if s.label is None else ""
                raise InputError(missing_rows_message(int(lab_missing.sum()), f"no label{where}"),
                                 file=s.file, row=s.row_in_file(first_row(lab_missing)))
            cov.missing_label = int(lab_missing.sum())
            valid &= ~lab_missing
        return valid, missing_cells

    def _take_left_out_group_values(
        self, code: np.ndarray, left_out: np.ndarray, n_parts: int, values: dict[str, np.ndarray],
        combos: tuple[np.ndarray, np.ndarray] | None,
    ) -> None:
        """Rows that do not count (a missing decision, a repeated ID) may still give a group value."""
        if not left_out.any():
            return
        first = n_parts - len(self.groups)
        for a, (attr, g) in enumerate(self.groups.items()):
            if combos is not None:  # an attribute the input lacks is all -1 there: nothing to add
                g.add_codes(code[left_out], combos[1][combos[0][left_out], first + a])
            elif attr in values:
                g.add_codes(code[left_out], values[attr][left_out])

    def _keep_per_person(
        self, s: Source, rows: np.ndarray, valid: np.ndarray, dec: np.ndarray | None, lab: np.ndarray | None,
    ) -> None:
        """Multiplicity: each linked individual's decision, label and score from this input."""
        assert dec is not None
        decisions = np.full(self.universe, -1, dtype=np.int64)
        decisions[rows] = dec[valid]
        self.decisions.append(decisions)
        if lab is not None and self.labels is not None:
            self.labels[rows] = np.where(self.labels[rows] < 0, lab[valid], self.labels[rows])
        self.scores.append(per_person_scores(s, rows, valid, self.universe, self.classes))
        self.classes = self.classes or ((s.file, list(s.probabilities)) if s.probabilities else None)

    def _combinations(self, s: Source) -> tuple[np.ndarray, np.ndarray] | None:
        """Each row's combination of values and, per combination, its parts as `_kind_column` takes them
        (decision code, label code when the rule uses labels, each attribute's group value code; -1 =
        missing): when the reader gave the combinations and the rule reads nothing per row (scores, the
        people file's labels, per-person decisions)."""
        c, rule = s.combinations, self.rule
        if (c is None or rule.uses_scores or self.options.per_person or len(c.decision) > _MAX_COMBINATIONS
                or (rule.needs_label and c.label is None)):
            return None
        columns = [self._token_codes(s.decision, c.decision, self.dec_tokens)]
        if rule.needs_label:
            assert s.label is not None and c.label is not None
            columns.append(self._token_codes(s.label, c.label, self.lab_tokens))
        for attr, g in self.groups.items():
            if attr in c.groups:
                codes = np.asarray(group_word_codes(dictionary_of(s.groups[attr]), g.vocab), dtype=np.int64)
                columns.append(codes[c.groups[attr]])
            else:
                columns.append(np.full(len(c.decision), -1, dtype=np.int64))
        return c.rows, np.column_stack(columns)

    def _token_codes(self, arr: pa.ChunkedArray, index: np.ndarray, tokens: set[str]) -> np.ndarray:
        """Per combination, the vocabulary code of its value in the dictionary column `arr` (`index`: each
        combination's entry there), adding the tokens seen to `tokens` (every entry occurs in some row)."""
        codes = self.vocab.word_codes(dictionary_of(arr))
        tokens |= {self.vocab.tokens[t] for t in codes if t >= 0}
        return np.asarray(codes, dtype=np.int64)[index]

    def _without_duplicates(self, s: Source, code: np.ndarray, valid: np.ndarray, cov: SourceCoverage) -> np.ndarray:
        """`valid` without the rows of IDs that occur more than once (or the error saying so)."""
        counts = np.bincount(code[valid], minlength=self.universe)
        dup = valid & (counts[np.maximum(code, 0)] > 1)
        n_ids = int((counts > 1).sum())
        if self.options.on_duplicate == "error":
            raise InputError(duplicate_ids_message(n_ids, int(dup.sum())), file=s.file,
                             row=s.row_in_file(first_repeat_row(code, valid)))
        cov.duplicate_ids, cov.duplicate_rows = n_ids, int(dup.sum())
        return valid & ~dup

    def _kind_column(
        self, code: np.ndarray, valid: np.ndarray, parts: list[np.ndarray | None],
        combos: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per individual, the index in `kinds` of their valid row's values (-1: no valid row), and the valid
        rows' ID codes. `parts`: decision codes, label codes (when the rule uses labels), then each group
        attribute's value codes (None: not in this input); -1 = missing. `combos` (each row's combination
        and the combinations' parts, `_combinations`) stands for `parts` when given."""
        everything = bool(valid.all())
        rows = code if everything else code[valid]
        if combos is not None:
            row_combo, table = combos
            row_combo = row_combo if everything else row_combo[valid]
            occurs = np.ones(len(table), bool) if everything else np.bincount(row_combo, minlength=len(table)) > 0
            used = np.flatnonzero(occurs)
            index = [self.kinds.setdefault(tuple(v), len(self.kinds)) for v in table[used].tolist()]
            dtype = self._kind_dtype()
            lookup = np.full(len(table), -1, dtype=dtype)
            lookup[used] = index
            kind = lookup[row_combo]
        else:
            kind, dtype = self._kinds_of_parts(valid, parts, everything)
        col = np.full(self.universe, -1, dtype=dtype)
        col[rows] = kind
        return col, rows

    def _kind_dtype(self) -> type[np.integer]:
        """The narrowest type of a kind column that holds every kind so far: a byte per individual while
        there are fewer than 128. A column holds only kinds known when it was formed, so the columns kept
        before need no widening when later inputs bring more."""
        n = len(self.kinds)
        return np.int8 if n < 1 << 7 else np.int16 if n < 1 << 15 else np.int32

    def _kinds_of_parts(
        self, valid: np.ndarray, parts: list[np.ndarray | None], everything: bool,
    ) -> tuple[np.ndarray, type[np.integer]]:
        """The valid rows' kinds from their parts (see `_kind_column`), with the kind columns' type."""
        radix = [max(len(self.vocab.tokens), 2)] * (len(parts) - len(self.groups))
        radix += [len(g.vocab) for g in self.groups.values()]
        space = math.prod(r + 1 for r in radix)
        if space >= 1 << 62:
            raise UsageError("too many distinct combinations of decision, label and group values to link; "
                             "audit fewer group attributes at once")
        # Narrow keys halve the memory traffic of these passes (and mixed-width arithmetic is far slower).
        key = np.zeros(int(valid.sum()) if not everything else len(valid),
                       dtype=np.int32 if space < 1 << 31 else np.int64)
        for part, base in zip(parts, radix, strict=True):
            key *= base + 1
            if part is not None:
                np.add(key, part if everything else part[valid], out=key, casting="unsafe")
                key += 1
        if space <= 1 << 22:
            occurs = np.zeros(space, dtype=bool)
            occurs[key] = True
            used = np.flatnonzero(occurs)
            inverse = None
        else:
            used, inverse = np.unique(key, return_inverse=True)
        index = []
        for u in used.tolist():
            digits = []
            for base in reversed(radix):
                u, d = divmod(u, base + 1)
                digits.append(d - 1)
            index.append(self.kinds.setdefault(tuple(reversed(digits)), len(self.kinds)))
        dtype = self._kind_dtype()
        if inverse is None:
            lookup = np.full(space, -1, dtype=dtype)
            lookup[used] = index
            return lookup[key], dtype
        return np.asarray(index, dtype=dtype)[inverse.reshape(-1)], dtype

    def kind_table(self, position: int) -> np.ndarray:
        """Part `position` of every kind (-1 appended, for the index -1 of no valid row)."""
        if not self.kinds:
            return np.full(1, -1, dtype=np.int64)
        return np.append(np.array(list(self.kinds), dtype=np.int64).reshape(len(self.kinds), -1)[:, position], -1)

    def _merge_group_values(self, col: np.ndarray) -> None:
        """Fold one input's group values (held in its kind column) into the attributes' values: as it is
        linked, while the next inputs are read (a value and a conflict do not depend on the inputs' order)."""
        if not self.kinds:
            return
        first = len(next(iter(self.kinds))) - len(self.groups)
        for a, g in enumerate(self.groups.values()):
            table = self.kind_table(first + a)
            if len(g.vocab) > np.iinfo(g.value.dtype).max:
                g.value = g.value.astype(np.int32)
            v = table.astype(g.value.dtype)[col]
            given = v >= 0
            g.differs |= given & (g.value >= 0) & (g.value != v)
            np.copyto(g.value, v, where=given & (g.value < 0))

    def finish(self, names: list[str], coded: IdCodes, warnings: list[str]) -> Linked:
        """Resolve the rule and form the failure matrix of the linked individuals (`failure_matrix`)."""
        return failure_matrix(self, names, coded, warnings)


def _used(codes: np.ndarray) -> list[int]:
    """The distinct non-negative codes present (codes are small: vocabulary indices)."""
    return np.flatnonzero(np.bincount(codes[codes >= 0])).tolist()


def _rows_where(flag: np.ndarray, combo: np.ndarray) -> np.ndarray:
    """Per row, whether its combination is flagged (a lookup only when some combination is)."""
    return flag[combo] if flag.any() else np.zeros(len(combo), dtype=bool)


# Above this many combinations of values in one input, kinds are coded from the rows' values instead (the
# combinations then cost more than they save: a score column, free text).
_MAX_COMBINATIONS = 1 << 16
