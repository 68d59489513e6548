"""Link decision-makers' rows by individual ID into one failure matrix, counting everything left out.

IDs are compared as integers when every input stores them as integers (a CSV's IDs when each is written
as an integer is: `7`, not `007`; `ids.integer_ids`), otherwise as text with surrounding white space
removed, with a warning when some inputs hold integers and others text. `ids.code_ids` gives each distinct ID one code.

Join: ``inner`` (default) keeps individuals seen by every decision-maker; ``outer`` keeps everyone seen
by at least two, and each number then uses, for each person, the decision-makers that saw them.
Nothing is imputed: a decision-maker that did not see a person never counts as failing them.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .counting import count_by_key
from .errors import InputError, UsageError
from .failures import FailureRule, ResolvedRule, failures, favourable_from_scores, resolve
from .ids import IdCodes, code_ids
from .sources import People, Source
from .streamids import DenseStream, StreamCoder
from .values import Vocabulary, as_numbers, dictionary_codes, group_text

JOINS = ("inner", "outer")
MISSING_GROUP = "(missing)"


@dataclass
class SourceCoverage:
    """What happened to each row of one decision-maker's input. The row counts add up to `rows`."""

    name: str
    file: str
    rows: int
    missing_id: int = 0
    missing_decision: int = 0
    missing_label: int = 0
    blank_cells: int = 0  # wide/transposed layouts: the decision-maker did not see this individual
    duplicate_rows: int = 0  # rows dropped because their ID occurs more than once in this input
    duplicate_ids: int = 0
    not_linked: int = 0  # valid rows of individuals the join excludes
    linked: int = 0
    linked_individuals_unseen: int = 0  # outer join: linked individuals this decision-maker did not see
    valid_rows: int = 0  # rows that took part in linking (after the exclusions above)
    failed_rows: int = 0  # of those, rows the decision-maker failed


@dataclass
class PeopleCoverage:
    file: str
    rows: int
    matched: int
    not_matched: int
    linked_without_row: int


@dataclass
class Coverage:
    """The linking report (issue: nothing is dropped without being counted)."""

    join: str
    id_type: str
    sources: list[SourceCoverage]
    individuals_seen: int
    linked: int
    excluded_by_join: int
    people: PeopleCoverage | None = None
    group_conflicts: dict[str, int] = field(default_factory=dict)
    missing_group: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IdRows:
    """The linked individuals' IDs, decoded only on request."""

    coded: IdCodes
    codes: np.ndarray  # (N,) code of each linked individual

    def text(self, mask: np.ndarray) -> list[str]:
        return self.coded.decode(self.codes[mask])


@dataclass
class Linked:
    """The linked failure matrix with its masks and group cells: the input of `PatternTable.build`."""

    names: list[str]
    # Per linked individual: fail bits (bit i: decision-maker i failed them) and presence bits (bit k + i)
    # when 2k bits fit in an int64; else the (N, k) fail and presence matrices. See `fail`, `present`.
    bits: np.ndarray | None
    matrices: tuple[np.ndarray, np.ndarray] | None
    # With `bits`: the linked individuals' distinct (bits, cell) pairs and how many share each.
    pattern_rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    attributes: list[str]
    cell: np.ndarray  # (N,) int: index into cell_labels
    cell_labels: list[tuple[str, ...]]
    ids: IdRows  # kept only so the user can ask for them (--emit-ids); never printed otherwise
    coverage: Coverage
    rule: ResolvedRule
    warnings: list[str]
    # (k, cells, 3): per decision-maker and cell, over its whole input (not only the linked individuals):
    # valid rows, failed rows, and rows with a label but no decision (parity mode counts them as failures).
    input_counts: np.ndarray | None = None
    # Per linked individual, for multiplicity: decision token codes (N, k; -1 = unseen; with scores,
    # 1 = favourable), label codes (N,), scores (N, k) when a score column was given, and the token list.
    decisions: np.ndarray | None = None
    labels: np.ndarray | None = None
    scores: np.ndarray | None = None
    tokens: list[str] = field(default_factory=list)

    @property
    def fail(self) -> np.ndarray:
        """(N, k) bool: decision-maker i failed linked individual j."""
        if self.matrices is not None:
            return self.matrices[0]
        assert self.bits is not None
        return (self.bits[:, None] >> np.arange(len(self.names))) & 1 == 1

    @property
    def present(self) -> np.ndarray:
        """(N, k) bool: decision-maker i saw linked individual j."""
        if self.matrices is not None:
            return self.matrices[1]
        assert self.bits is not None
        k = len(self.names)
        return (self.bits[:, None] >> np.arange(k, 2 * k)) & 1 == 1


@dataclass(frozen=True)
class LinkOptions:
    join: str = "inner"
    on_duplicate: str = "error"  # or "drop": drop every row of an ID that occurs twice in one input
    on_missing: str = "error"  # or "drop": drop rows with a missing ID, decision or label
    on_group_conflict: str = "error"  # or "missing": treat the individual's group as missing
    per_person: bool = False  # keep each linked individual's decisions, label and scores (multiplicity)


def _first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


def link(
    sources: list[Source],
    people: People | None,
    rule: FailureRule,
    attributes: list[str],
    options: LinkOptions = LinkOptions(),
) -> Linked:
    """Link the sources, apply the failure rule, resolve group attributes, and count every exclusion.

    The sources are consumed: each one's ID, decision and label arrays are released once coded, so a
    large audit does not hold its inputs twice.
    """
    names = [s.name for s in sources]
    _check_link(names, rule, attributes, options, [set(s.groups) for s in sources], people)
    id_arrays = [s.ids for s in sources] + ([people.ids] if people else [])
    id_files = [s.file for s in sources] + ([people.file] if people else [])
    coded = code_ids(id_arrays, id_files)
    del id_arrays
    for s in sources:
        s.release("ids")
    eco = Ecosystem(len(sources), rule, attributes, options, coded.universe)
    if people is not None:
        eco.add_people(people, coded.codes[-1])
    for i, s in enumerate(sources):
        eco.add(i, s, coded.codes[i], lambda i=i: coded.sort_keys(i))
    return eco.finish(names, coded, list(coded.warnings))


def link_streaming(
    loaders: list[Callable[[], Source]],
    names: list[str],
    people: People | None,
    rule: FailureRule,
    attributes: list[str],
    options: LinkOptions = LinkOptions(),
    headers: list[set[str]] | None = None,
    coder: StreamCoder | None = None,
    on_rows: Callable[[], None] = lambda: None,
    read_ahead: int = 1,
) -> Linked | None:
    """`link`, reading one decision-maker's input at a time (`loaders[i]()` reads input i).

    Only the per-individual state stays in memory (about two bytes per individual and decision-maker, and
    what `coder` keeps per distinct ID), so inputs far larger than memory link in one pass. It needs IDs
    that `coder` codes (`streamids`; default: dense IDs); when an input's IDs are not such, it returns None
    and the caller links in memory. `headers` (each input's column names), when given, lets a group column
    that no input has stop the link before any is read; `on_rows` is called after those checks.
    `read_ahead`: how many inputs may be read (or being read) beside the one being linked, each holding its
    rows; they are read by up to as many threads as there are cores.
    """
    _check_link(names, rule, attributes if headers is not None else [], options, headers or [], people)
    on_rows()
    coder = coder if coder is not None else DenseStream()
    keep_ids = coder.keys_need_ids and rule.uses_scores
    eco: Ecosystem | None = None

    people_codes = None
    if people is not None:
        got = coder.add(coder.parse(people.ids))
        if got is None:
            return None
        people_codes = got[0]

    def read(i: int) -> tuple[Source, Any]:
        s = loaders[i]()
        parsed = s.parsed_ids if s.parsed_ids is not None else coder.parse(s.ids)
        if not keep_ids:
            s.release("ids")
        return s, parsed

    groups_seen: list[set[str]] = []
    ahead = max(1, read_ahead)
    # The next inputs are read, and their IDs parsed, while this one is linked; with more inputs ahead than
    # reading threads (one per core at most), a reader that finished starts the next while the link catches
    # up, so no core idles until the last input is read.
    with ThreadPoolExecutor(max_workers=min(ahead, os.cpu_count() or 1)) as reader:
        pending = deque(reader.submit(read, j) for j in range(min(ahead, len(loaders))))
        for i in range(len(loaders)):
            s, parsed = pending.popleft().result()
            if i + ahead < len(loaders):
                pending.append(reader.submit(read, i + ahead))
            groups_seen.append(set(s.groups))
            got = coder.add(parsed)
            del parsed
            if got is None or coder.universe == 0:
                for later in pending:
                    later.cancel()
                return None
            code, shift = got
            if eco is None:
                eco = Ecosystem(len(loaders), rule, attributes, options, coder.universe)
                if people is not None and people_codes is not None:
                    eco.add_people(people, _shifted(people_codes, shift))
            elif shift or coder.universe != eco.universe:
                eco.grow(shift, coder.universe)
            ids = s.ids if keep_ids else None
            eco.add(i, s, code, lambda code=code, ids=ids: _dense_keys(code) if ids is None else _text_keys(ids))
            del s, code
    _check_link(names, rule, attributes, options, groups_seen, people)
    assert eco is not None
    return eco.finish(names, coder.id_codes(), [])


def _dense_keys(code: np.ndarray) -> pa.Array:
    return pa.array(code, pa.int64(), mask=code < 0)


def _shifted(codes: np.ndarray, shift: int) -> np.ndarray:
    """Codes moved up by `shift` (missing, -1, stays missing)."""
    return codes + np.where(codes >= 0, shift, 0)


def _text_keys(ids: pa.ChunkedArray) -> pa.Array:
    return ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids


def _check_link(
    names: list[str], rule: FailureRule, attributes: list[str], options: LinkOptions,
    source_groups: list[set[str]], people: People | None,
) -> None:
    if options.join not in JOINS:
        raise UsageError(f"unknown join '{options.join}'; expected inner or outer")
    if len(names) < 2:
        raise UsageError(
            f"an audit needs at least 2 decision-makers; got {len(names)} ({', '.join(names) or 'none'}). "
            "Give one file per decision-maker, or a wide/stacked file with --layout"
        )
    rule.validate(names)
    for attr in attributes:
        if not any(attr in g for g in source_groups) and not (people and attr in people.groups):
            raise InputError(
                "group column not found in any input file nor in the people file",
                column=attr,
            )


class Ecosystem:
    """What linking keeps per individual, filled one decision-maker at a time.

    Every array is indexed by ID code. Per decision-maker it keeps one small integer per individual: the
    *kind* of their valid row (-1: no valid row), an index into `kinds`, the distinct (decision, label,
    group values...) combinations. Whether a kind is a failure can be decided only once every input's
    values are known (the rule's defaults come from them); group values are compared across inputs then
    too, by passes over these columns instead of a random read per row and input.
    """

    def __init__(self, k: int, rule: FailureRule, attributes: list[str], options: LinkOptions,
                 universe: int) -> None:
        self.k, self.rule, self.options, self.universe = k, rule, options, universe
        self.vocab = Vocabulary()
        self.kinds: dict[tuple[int, ...], int] = {}
        self.kind_cols: list[np.ndarray] = []
        self.covs: list[SourceCoverage] = []
        self.unseen: list[np.ndarray] = []  # per source: IDs of rows with a label but no decision (parity)
        self.dec_tokens: set[str] = set()
        self.lab_tokens: set[str] = set()
        self.groups = {attr: _GroupValues(universe) for attr in attributes}
        self.people: People | None = None
        self.people_codes = np.zeros(0, dtype=np.int64)
        self.people_label: np.ndarray | None = None
        # Per-person decisions cost bytes per individual and decision-maker: only multiplicity needs them.
        self.decisions: list[np.ndarray] = []
        self.labels = np.full(universe, -1, dtype=np.int64) if options.per_person else None
        self.scores: list[np.ndarray | None] = []

    def grow(self, shift: int, universe: int) -> None:
        """Widen the code range: `shift` new codes before the old ones, `universe` codes in all."""
        def widen(a: np.ndarray, fill: object) -> np.ndarray:
            out = np.full(universe, fill, dtype=a.dtype)
            out[shift:shift + len(a)] = a
            return out

        self.kind_cols = [widen(c, -1) for c in self.kind_cols]
        if self.people_label is not None:
            self.people_label = widen(self.people_label, -1)
        self.people_codes = _shifted(self.people_codes, shift)
        self.unseen = [u + shift for u in self.unseen]
        self.decisions = [widen(d, -1) for d in self.decisions]
        self.scores = [None if s is None else widen(s, np.nan) for s in self.scores]
        if self.labels is not None:
            self.labels = widen(self.labels, -1)
        for g in self.groups.values():
            g.value, g.differs = widen(g.value, -1), widen(g.differs, False)
        self.universe = universe

    def add_people(self, people: People, codes: np.ndarray) -> None:
        _check_people_duplicates(codes, people.file)
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
        rule, options, vocab = self.rule, self.options, self.vocab
        if rule.needs_label and s.label is None and self.people_label is None:
            raise UsageError(f"--failure {rule.kind} needs labels: pass --label COLUMN (or use --failure outcome)")
        cov = SourceCoverage(name=s.name, file=s.file, rows=s.rows)
        # The rows' values, per row or (from the reader) as combinations: the checks below need only which
        # rows lack a decision or a label, and those come from the combinations by one lookup each.
        combos = self._combinations(s)
        scores = dec = lab = None
        if combos is not None:
            dec_missing = _rows_where(combos[1][:, 0] < 0, combos[0])
        elif rule.uses_scores:
            scores = as_numbers(s.decision, s.file, "decision")
            dec = np.zeros(s.rows, np.int16)
            dec_missing = np.isnan(scores)
        else:
            dec, tokens = vocab.encode_tokens(s.decision)
            self.dec_tokens |= tokens
            dec_missing = dec < 0
        s.release("decision")
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

        has_id = code >= 0
        valid = has_id.copy()
        if not valid.all() and options.on_missing == "error":
            raise InputError(missing_rows_message(int((~valid).sum()), "have a missing or blank ID"),
                             file=s.file, column=None, row=_first_row(~valid))
        cov.missing_id = s.rows - int(valid.sum())
        dec_missing &= valid
        missing_cells = dec_missing if lab_absent is None else dec_missing & ~lab_absent  # parity: failures
        if s.blank_is_unseen:
            cov.blank_cells = int(dec_missing.sum())
        else:
            if dec_missing.any() and options.on_missing == "error":
                raise InputError(missing_rows_message(int(dec_missing.sum()), "have a missing decision"),
                                 file=s.file, row=_first_row(dec_missing))
            cov.missing_decision = int(dec_missing.sum())
        valid &= ~dec_missing
        if lab_absent is not None:
            lab_missing = lab_absent & valid
            if lab_missing.any() and options.on_missing == "error":
                where = " in the people file" if s.label is None else ""
                raise InputError(missing_rows_message(int(lab_missing.sum()), f"have no label{where}"),
                                 file=s.file, row=_first_row(lab_missing))
            cov.missing_label = int(lab_missing.sum())
            valid &= ~lab_missing

        if scores is not None:  # a top fraction is of the rows that count: drop duplicates first
            seen = np.zeros(self.universe, dtype=bool)
            seen[code[valid]] = True
            if np.count_nonzero(seen) != np.count_nonzero(valid):
                valid = self._without_duplicates(s, code, valid, cov)
            del seen
            dec = favourable_from_scores(rule, s.name, scores, sort_keys(), valid).astype(np.int16)
        values = ({} if combos is not None else
                  {attr: _group_codes(s.groups[attr], g.vocab) for attr, g in self.groups.items() if attr in s.groups})
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
        # Rows that do not count (a missing decision, a repeated ID) may still give a group value.
        left_out = has_id & ~valid
        if left_out.any():
            first = len(parts) - len(self.groups)
            for a, (attr, g) in enumerate(self.groups.items()):
                if combos is not None:  # an attribute the input lacks is all -1 there: nothing to add
                    g.add_codes(code[left_out], combos[1][combos[0][left_out], first + a])
                elif attr in values:
                    g.add_codes(code[left_out], values[attr][left_out])
        if options.per_person:
            assert dec is not None
            decisions = np.full(self.universe, -1, dtype=np.int64)
            decisions[rows] = dec[valid]
            self.decisions.append(decisions)
            if lab is not None and self.labels is not None:
                self.labels[rows] = np.where(self.labels[rows] < 0, lab[valid], self.labels[rows])
            score_col = None
            if s.score is not None:
                score_col = np.full(self.universe, np.nan)
                score_col[rows] = as_numbers(s.score, s.file, "score")[valid]
            self.scores.append(score_col)
        self.covs.append(cov)
        self.unseen.append(code[missing_cells] if missing_cells.any() else code[:0])

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
                codes = np.asarray(_group_word_codes(_dictionary(s.groups[attr]), g.vocab), dtype=np.int64)
                columns.append(codes[c.groups[attr]])
            else:
                columns.append(np.full(len(c.decision), -1, dtype=np.int64))
        return c.rows, np.column_stack(columns)

    def _token_codes(self, arr: pa.ChunkedArray, index: np.ndarray, tokens: set[str]) -> np.ndarray:
        """Per combination, the vocabulary code of its value in the dictionary column `arr` (`index`: each
        combination's entry there), adding the tokens seen to `tokens` (every entry occurs in some row)."""
        codes = self.vocab.word_codes(_dictionary(arr))
        tokens |= {self.vocab.tokens[t] for t in codes if t >= 0}
        return np.asarray(codes, dtype=np.int64)[index]

    def _without_duplicates(self, s: Source, code: np.ndarray, valid: np.ndarray, cov: SourceCoverage) -> np.ndarray:
        """`valid` without the rows of IDs that occur more than once (or the error saying so)."""
        counts = np.bincount(code[valid], minlength=self.universe)
        dup = valid & (counts[np.maximum(code, 0)] > 1)
        n_ids = int((counts > 1).sum())
        if self.options.on_duplicate == "error":
            raise InputError(duplicate_ids_message(n_ids, int(dup.sum())), file=s.file,
                             row=_first_repeat_row(code, valid))
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
        """The kind columns' type for the kinds so far, widening the columns already kept if needed."""
        dtype = np.int16 if len(self.kinds) < 1 << 15 else np.int32
        if dtype != np.int16:
            self.kind_cols = [c.astype(dtype) for c in self.kind_cols]
        return dtype

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

    def _kind_table(self, position: int) -> np.ndarray:
        """Part `position` of every kind (-1 appended, for the index -1 of no valid row)."""
        if not self.kinds:
            return np.full(1, -1, dtype=np.int64)
        return np.append(np.array(list(self.kinds), dtype=np.int64).reshape(len(self.kinds), -1)[:, position], -1)

    def _failing_kinds(self, resolved: ResolvedRule) -> np.ndarray:
        """Whether each kind is a failure, with False appended for the index -1."""
        if not self.kinds:
            return np.zeros(1, dtype=bool)
        dec = self._kind_table(0)[:-1]
        lab = self._kind_table(1)[:-1] if self.rule.needs_label else None
        pred = dec == 1 if self.rule.uses_scores else None
        return np.append(np.asarray(failures(resolved, self.vocab, dec, lab, pred), dtype=bool), False)

    def _merge_group_values(self, col: np.ndarray) -> None:
        """Fold one input's group values (held in its kind column) into the attributes' values: as it is
        linked, while the next inputs are read (a value and a conflict do not depend on the inputs' order)."""
        if not self.kinds:
            return
        first = len(next(iter(self.kinds))) - len(self.groups)
        for a, g in enumerate(self.groups.values()):
            table = self._kind_table(first + a)
            if len(g.vocab) > np.iinfo(g.value.dtype).max:
                g.value = g.value.astype(np.int32)
            v = table.astype(g.value.dtype)[col]
            given = v >= 0
            g.differs |= given & (g.value >= 0) & (g.value != v)
            np.copyto(g.value, v, where=given & (g.value < 0))

    def finish(self, names: list[str], coded: IdCodes, warnings: list[str]) -> Linked:
        """Resolve the rule, form the failure matrix of the linked individuals, their cells and coverage."""
        options, k, universe = self.options, self.k, self.universe
        resolved = resolve(self.rule, self.dec_tokens, self.lab_tokens if self.rule.needs_label else set())
        failing = self._failing_kinds(resolved)
        # Each individual's failures (bit i) and presence (bit k + i) in one integer, when 2k bits fit in one.
        bits, fail_cols, present_cols = None, [], []
        if 2 * k <= 62:
            bits = np.zeros(universe, dtype=np.int32 if 2 * k <= 31 else np.int64)
            for i, col in enumerate(self.kind_cols):
                table = np.where(failing, 1 << i, 0) | (1 << (k + i))
                table[-1] = 0  # the index -1: no valid row
                bits |= table.astype(bits.dtype)[col]
            seen_by = _popcount(bits >> k, k)
        else:
            for col in self.kind_cols:
                fail_cols.append(failing[col])
                present_cols.append(col >= 0)
            seen_by = np.sum(present_cols, axis=0, dtype=np.int32)
        self.kind_cols = []
        keep = seen_by == k if options.join == "inner" else seen_by >= 2
        seen_any = seen_by > 0
        n_linked = int(keep.sum())
        coverage = Coverage(
            join=options.join, id_type=coded.id_type, sources=self.covs, individuals_seen=int(seen_any.sum()),
            linked=n_linked, excluded_by_join=int((seen_any & ~keep).sum()),
        )
        if n_linked == 0:
            need = "every decision-maker" if options.join == "inner" else "at least two decision-makers"
            hint = " (try --join outer)" if options.join == "inner" and (seen_by >= 2).any() else ""
            hint += "".join(f" ({w})" for w in coded.warnings if "do not match" in w)
            raise InputError(f"no individual is seen by {need}: nothing to audit{hint}. Check --id and the inputs")

        cell_u, cell_labels = _cells(self.groups, keep, seen_any, options, coverage)
        n_cells = len(cell_labels)
        # Everyone some input saw, as distinct (failures, presence, cell) rows with their counts: the
        # coverage and the whole-input counts are sums over these few rows.
        if bits is not None:
            row_bits, row_cell, counts = count_by_key(bits[seen_any], cell_u[seen_any], k, n_cells)
            row_fail = (row_bits[:, None] >> np.arange(k)) & 1 == 1
            row_present = (row_bits[:, None] >> np.arange(k, 2 * k)) & 1 == 1
        else:
            row_fail = np.column_stack([c[seen_any] for c in fail_cols])
            row_present = np.column_stack([c[seen_any] for c in present_cols])
            row_cell, counts = cell_u[seen_any], np.ones(int(seen_any.sum()), dtype=np.int64)
        row_seen_by = row_present.sum(axis=1)
        row_keep = row_seen_by == k if options.join == "inner" else row_seen_by >= 2
        full = np.zeros((k, n_cells, 3), dtype=np.int64)
        # A decision-maker's valid rows are exactly the IDs it is present for (duplicates were removed).
        for i, (cov, unseen) in enumerate(zip(self.covs, self.unseen, strict=True)):
            full[i, :, 0] = np.bincount(row_cell, weights=counts * row_present[:, i], minlength=n_cells).round()
            full[i, :, 1] = np.bincount(row_cell, weights=counts * row_fail[:, i], minlength=n_cells).round()
            unseen_cell = cell_u[unseen]
            full[i, :, 2] = np.bincount(unseen_cell[unseen_cell >= 0], minlength=n_cells)
            cov.failed_rows = int(counts @ row_fail[:, i])
            cov.linked = int(counts @ (row_present[:, i] & row_keep))
            cov.not_linked = int(counts @ row_present[:, i]) - cov.linked
            cov.linked_individuals_unseen = n_linked - cov.linked
        if self.people is not None:
            pcodes = self.people_codes
            matched = pcodes >= 0
            has_row = np.zeros(universe, dtype=bool)
            has_row[pcodes[matched]] = True
            in_sources = matched & seen_any[np.maximum(pcodes, 0)]
            coverage.people = PeopleCoverage(
                file=self.people.file, rows=self.people.rows, matched=int(in_sources.sum()),
                not_matched=int((~in_sources).sum()), linked_without_row=int((keep & ~has_row).sum()),
            )
        rows = np.flatnonzero(keep)
        per_person = options.per_person
        return Linked(
            names=names,
            bits=None if bits is None else bits[rows].astype(np.int64),
            # The linked individuals' pattern counts come with the rows above: no second count over them.
            pattern_rows=None if bits is None else (row_bits[row_keep], row_cell[row_keep], counts[row_keep]),
            matrices=None if bits is not None else (np.column_stack([c[rows] for c in fail_cols]),
                                                    np.column_stack([c[rows] for c in present_cols])),
            attributes=list(self.groups),
            cell=cell_u[rows], cell_labels=cell_labels, ids=IdRows(coded, rows), coverage=coverage,
            rule=resolved, warnings=warnings, input_counts=full,
            decisions=np.column_stack([d[rows] for d in self.decisions]) if per_person else None,
            labels=None if self.labels is None else self.labels[rows],
            scores=(np.column_stack([np.full(len(rows), np.nan) if s is None else s[rows] for s in self.scores])
                    if per_person and any(s is not None for s in self.scores) else None),
            tokens=list(self.vocab.tokens),
        )


def missing_rows_message(rows: int, what: str) -> str:
    """The error for rows missing a value under --missing error (every engine words it alike)."""
    return f"{rows} rows {what}; fix them or pass --drop-missing"


def group_conflict_message(individuals: int) -> str:
    return (f"{individuals} linked individuals have conflicting values of this group attribute in different "
            "files; fix the inputs or pass --group-conflicts missing")


def duplicate_ids_message(ids: int, rows: int) -> str:
    """The error for IDs an input gives more than once under --duplicates error (every engine alike)."""
    return (f"{ids} IDs occur more than once ({rows} rows); each decision-maker may decide once per individual. "
            "Fix the input or pass --duplicates drop")


def _used(codes: np.ndarray) -> list[int]:
    """The distinct non-negative codes present (codes are small: vocabulary indices)."""
    return np.flatnonzero(np.bincount(codes[codes >= 0])).tolist()


def _popcount(words: np.ndarray, width: int) -> np.ndarray:
    """Set bits per element (of the low `width` bits)."""
    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.bitwise_count(words)
    count = np.zeros(len(words), dtype=np.uint8)
    for j in range(width):
        count += ((words >> j) & 1).astype(np.uint8)
    return count


def _first_repeat_row(code: np.ndarray, valid: np.ndarray) -> int:
    """1-based row of the first occurrence of an ID already seen above it (among valid rows)."""
    rows = np.flatnonzero(valid)
    _, first = np.unique(code[rows], return_index=True)
    repeat = np.ones(len(rows), dtype=bool)
    repeat[first] = False
    return int(rows[repeat][0]) + 1


def _check_people_duplicates(pcodes: np.ndarray, file: str) -> None:
    ok = pcodes >= 0
    counts = np.bincount(pcodes[ok]) if ok.any() else np.zeros(0, dtype=np.int64)
    if (counts > 1).any():
        raise InputError(people_duplicates_message(int((counts > 1).sum())), file=file,
                         row=_first_repeat_row(pcodes, ok))


def people_duplicates_message(ids: int) -> str:
    return f"{ids} IDs occur more than once in the people file"


def _group_codes(arr: pa.ChunkedArray, vocab: dict[str, int]) -> np.ndarray:
    """Each row's group value as a code in `vocab` (-1 when missing or blank).

    Values compare as trimmed text (numbers as values.group_text writes them); the work is done once per distinct
    value, not once per row.
    """
    mapping, indices = dictionary_codes(arr, lambda words: _group_word_codes(words, vocab))
    return mapping.astype(np.int16 if len(vocab) < 1 << 15 else np.int32)[indices]


def _group_word_codes(words: pa.Array, vocab: dict[str, int]) -> list[int]:
    """The codes in `vocab` of distinct group values (-1: missing or blank), adding new values."""
    trimmed = pc.utf8_trim_whitespace(group_text(words)).to_pylist()
    return [vocab.setdefault(w, len(vocab)) if w else -1 for w in trimmed]


def _dictionary(arr: pa.ChunkedArray) -> pa.Array:
    """The dictionary of a dictionary-encoded column in one chunk (the reader's combinations index it)."""
    return arr.chunk(0).dictionary


def _rows_where(flag: np.ndarray, combo: np.ndarray) -> np.ndarray:
    """Per row, whether its combination is flagged (a lookup only when some combination is)."""
    return flag[combo] if flag.any() else np.zeros(len(combo), dtype=bool)


# Above this many combinations of values in one input, kinds are coded from the rows' values instead (the
# combinations then cost more than they save: a score column, free text).
_MAX_COMBINATIONS = 1 << 16


class _GroupValues:
    """One group attribute's value per individual (-1: none yet), and who was given two values."""

    def __init__(self, universe: int) -> None:
        self.vocab: dict[str, int] = {}
        # Narrow values keep the random reads and writes below in cache; widened if the values outgrow it.
        self.value = np.full(universe, -1, dtype=np.int8)
        self.differs = np.zeros(universe, dtype=bool)

    def add(self, arr: pa.ChunkedArray, code: np.ndarray) -> None:
        """Take one input's values of the attribute (`code`: each row's ID code, -1 where missing)."""
        self.add_codes(code, _group_codes(arr, self.vocab))

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


def _cells(
    groups: dict[str, _GroupValues], keep: np.ndarray, seen: np.ndarray, options: LinkOptions,
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
