"""Coding IDs for the streaming link, which reads one decision-maker's input at a time.

`IdStream.parse`s one input's IDs (a pure function of that input, run on the reading thread), then `add`s
them (on the linking thread) and returns every row's code, -1 where the row has no ID, with how the codes
handed out before moved (`Recode`). It codes on the cheapest route the IDs seen so far allow and moves to
a more general one when an input needs it, taking the codes handed out along:

- ``dense``: IDs that code densely (integers, or one prefix and a fixed number of digits, in a range at
  most `id_codes.DENSE_SPAN` times the longest input); an ID's code is its offset in the range of numbers
  seen. 8 bytes per row of the input being linked, nothing per ID.
- ``numbers``: such IDs spread thinly (sparse digits): each number is a key of an exact hash table
  (`fingerprints.PrintTable`, numbers mixed by a bijection, so no two share a key); codes in the order IDs
  first occur. Per distinct ID, its number and two table slots (40 bytes).
- ``text``: any other IDs (pseudonymised tokens, UUIDs, names of any length): their canonical text
  (`ids.as_text`), coded exactly by the compiled hash table (`text_table.TextCoder`: per distinct ID its
  bytes and about 20 bytes more). Where the extension was not built, through 64-bit fingerprints, each code
  checked byte for byte against the first ID given it (`fingerprints.PrintCoder`).

Every route gives the same links as the in-memory link (`ids.code_ids`), which compares the canonical text.
`add` returns None only where the stream cannot match it: integer IDs whose order breaks top-fraction ties
turning out to be compared as text, or, on the NumPy fingerprints only, two IDs sharing a fingerprint or an
ID longer than they take. The caller then links in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..read.fingerprints import PrintCoder, PrintedIds, PrintTable, capacity
from ..read.ids import DenseIds, as_text, id_kind, parse_dense
from ..read.text_table import CodedIds, TextCoder, TextIds, text_coder, text_ids
from .id_codes import DenseCoder, IdCodes, mixed_id_warning

# The numbers route reads codes from a lookup over the range while it spans at most this many times the
# longest input (4 bytes per number in the range) and at most LOOKUP_MAX numbers; beyond, from a hash table.
LOOKUP_SPAN = 32
LOOKUP_MAX = 1 << 29
_M1, _M2, _S = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)


@dataclass(frozen=True)
class Recode:
    """How the codes handed out before an input moved: up by `shift`, or to `mapping[old]` (-1: unused)."""

    shift: int = 0
    mapping: np.ndarray | None = None

    @property
    def moved(self) -> bool:
        return self.shift != 0 or self.mapping is not None


def _room(size: int) -> int:
    # A little room on the side that grew, so inputs reaching slightly further do not copy again.
    return size // 16


def mix(numbers: np.ndarray) -> np.ndarray:
    """A bijection of int64 (MurmurHash3's 64-bit finaliser): spreads consecutive numbers over a hash
    table's slots while two numbers never share a key."""
    x = numbers.view(np.uint64).copy()
    x ^= x >> _S
    x *= _M1
    x ^= x >> _S
    x *= _M2
    x ^= x >> _S
    return x.view(np.int64)


class NumberCoder:
    """Numbers of one form, each given a code when first seen, exactly.

    While the numbers span at most `LOOKUP_SPAN` times the longest input (and at most `LOOKUP_MAX` numbers),
    a number's code is read from a lookup array over the range (4 bytes per number in it: one gather per
    input); beyond, from a hash table of mixed numbers (`mix`, `fingerprints.PrintTable`). Codes, once
    given, never change, whichever holds them.
    """

    def __init__(self, form: tuple) -> None:
        self.form = form
        self.table: PrintTable | None = None
        self.lookup = np.zeros(0, np.int32)  # code + 1 of number lo + i, 0 for none; empty once on the table
        self.lo = 0
        self.numbers = np.zeros(0, np.int64)  # by code; capacity grows by an eighth
        self.count = 0
        self._longest = 0

    def add(self, ids: DenseIds) -> np.ndarray | None:
        """Every row's code (-1: no ID), or None when the IDs have another form."""
        if (ids.kind, ids.prefix, ids.width) != self.form:
            return None
        self._longest = max(self._longest, len(ids.mask))
        values = ids.value[ids.mask]
        if self.table is None and ids.lo is not None and not self._cover(ids.lo, ids.hi):
            self._to_table()
        if self.table is None:
            rows, first = self._looked_up(values)
        else:
            rows, first = self.table.code(mix(values), self.count)
            first = values[first]
        end = self.count + len(first)
        if end > len(self.numbers):
            grown = np.zeros(capacity(end, len(self.numbers)), np.int64)
            grown[:self.count] = self.numbers[:self.count]
            self.numbers = grown
        self.numbers[self.count:end] = first
        self.count = end
        code = np.full(len(ids.mask), -1, dtype=np.int64)
        code[ids.mask] = rows
        return code

    def _cover(self, lo: int, hi: int) -> bool:
        """Widen the lookup to [lo, hi]; False when the range would pass what a lookup is worth."""
        limit = min(LOOKUP_SPAN * self._longest, LOOKUP_MAX)
        top = self.lo + len(self.lookup) - 1
        if len(self.lookup):
            if lo >= self.lo and hi <= top:
                return True
            lo, hi = min(lo, self.lo), max(hi, top)
        if hi - lo + 1 > limit:
            return False
        if len(self.lookup):  # a little room on the side that grew, within the limit
            spare = (limit - (hi - lo + 1)) // 2
            lo -= min(_room(hi - lo + 1), spare) if lo < self.lo else 0
            hi += min(_room(hi - lo + 1), spare) if hi > top else 0
        grown = np.zeros(hi - lo + 1, np.int32)
        if len(self.lookup):
            grown[self.lo - lo:self.lo - lo + len(self.lookup)] = self.lookup
        self.lookup, self.lo = grown, lo
        return True

    def _looked_up(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Codes from the lookup (which holds code + 1, so that a fresh one is zeros the system gives
        lazily); numbers not in it get the next codes, and are returned in that order."""
        at = values - self.lo
        held = self.lookup[at]
        rows = np.flatnonzero(held == 0)
        if not len(rows):
            return held.astype(np.int64) - 1, values[:0]
        where = at[rows]
        # Each new number's slot takes the row of one of its occurrences (whichever write lands last); the
        # rows that won their slot introduce the numbers, in row order.
        mark = (rows + 1).astype(np.int32)
        self.lookup[where] = mark
        won = self.lookup[where] == mark
        self.lookup[where[won]] = np.arange(self.count + 1, self.count + 1 + int(won.sum()), dtype=np.int32)
        held[rows] = self.lookup[where]
        return held.astype(np.int64) - 1, values[rows[won]]

    def _to_table(self) -> None:
        """Move the codes given so far from the lookup to a hash table: they stay as they are."""
        self.table = PrintTable()
        if self.count:
            self.table.insert(mix(self.numbers[:self.count]), np.arange(self.count))
        self.lookup = np.zeros(0, np.int32)


def number_text(values: np.ndarray, form: tuple) -> pa.Array:
    """The canonical text of numbers parsed in `form` (kind, prefix, width): what `ids.as_text` gives the
    IDs they were parsed from."""
    kind, prefix, width = form
    text = pc.cast(pa.array(values, pa.int64()), pa.large_string())
    if kind == "int":
        return text
    padded = pc.utf8_lpad(text, width, "0")
    joined = pc.binary_join_element_wise(pa.scalar(prefix.decode("utf-8"), pa.large_string()), padded,
                                         pa.scalar("", pa.large_string()))
    return pc.utf8_trim_whitespace(joined)  # a prefix may begin with white space, which as_text trims


class IdStream:
    """Codes every input's IDs, one input at a time, on the cheapest route that codes all seen so far.

    `start`: the route the first input's first IDs suggest (``dense`` or ``text``). `ordered`: the rows'
    ID order breaks ties (a top-fraction rule), so integer IDs already ordered as numbers cannot later be
    compared as text.
    """

    def __init__(self, start: str = "dense", ordered: bool = False) -> None:
        self.route = start
        self.ordered = ordered
        self.universe = 0
        self.kinds: dict[str, set[str]] = {}  # file -> kinds of ID column ("int", "str") seen in it
        self._dense, self._base = DenseCoder(), 0
        self._numbers: NumberCoder | None = None
        self._text: TextCoder | PrintCoder | None = text_coder() if start == "text" else None

    def parse(self, ids: pa.ChunkedArray) -> DenseIds | TextIds | PrintedIds | None:
        """Numbers where the IDs parse as numbers (unless the stream codes text already), else canonical text."""
        if self.route != "text":
            dense = parse_dense(ids)
            if dense is not None:
                return dense
        return text_ids(ids, id_kind(ids))

    def add(self, parsed: DenseIds | TextIds | PrintedIds | CodedIds | None, file: str,
            used: Callable[[], np.ndarray]) -> tuple[np.ndarray, Recode] | None:
        """Every row's code and how earlier codes moved; None when the caller must link in memory.
        `used()`: which of the codes handed out so far the link holds anything for. IDs coded as they were
        read (`code_read`) are taken as they are."""
        if parsed is None:
            return None
        if isinstance(parsed, CodedIds):
            return parsed.code, Recode()
        if self.ordered and parsed.kind == "str" and "int" in self._kinds():
            return None  # earlier inputs' ties were broken by number; as text they would break otherwise
        self.kinds.setdefault(file, set()).add(parsed.kind)
        recode = Recode()
        if self.route == "dense" and isinstance(parsed, DenseIds):
            if parsed.lo is None:  # no ID at all: nothing to code, nothing moves
                return np.full(len(parsed.mask), -1, np.int64), recode
            got = self._add_dense(parsed)
            if got is not None:
                return got
            if self._dense_form() in (None, _form(parsed)):  # the range outgrew dense codes
                recode = self._to_numbers(used(), _form(parsed))
        if self.route == "numbers" and isinstance(parsed, DenseIds):
            assert self._numbers is not None
            code = self._numbers.add(parsed)
            if code is not None:
                return code, self._grown(self._numbers.count, recode)
        if self.route != "text":
            moved = self._to_text(used() if self.route == "dense" else None)
            if moved is None:
                return None
            recode = moved if moved.mapping is not None else recode
        assert self._text is not None
        text = parsed if not isinstance(parsed, DenseIds) else text_ids(
            number_text(parsed.value[parsed.mask], _form(parsed)), "str")
        code = None if text is None else self._text.add(text)  # type: ignore[arg-type]
        if code is None:
            return None
        if isinstance(parsed, DenseIds):  # codes of the present rows only: spread over every row
            code = _spread(code, parsed.mask)
        return code, self._grown(self._text.count, recode)

    def codes_text_as_read(self) -> bool:
        """Whether an input's text IDs may be coded as they are read (`code_read`): on the text route with
        the compiled table, where coding moves no earlier code."""
        return self.route == "text" and isinstance(self._text, TextCoder)

    def code_read(self, file: str, parts: Iterable[pa.ChunkedArray], rows: int) -> CodedIds:
        """One input's text IDs (`rows` of them, in parts as read) coded as `add` codes them, holding a few
        parts at a time. Called by the reading thread while the link codes nothing (`linking.IdGate`); the
        linking thread then takes the codes by `add`."""
        assert isinstance(self._text, TextCoder)
        coded = self._text.add_read(parts, rows)
        self.kinds.setdefault(file, set()).add(coded.kind)
        self._grown(self._text.count, Recode())
        return coded

    def sort_keys(self, parsed: DenseIds | TextIds | PrintedIds, code: np.ndarray,
                  ids: pa.ChunkedArray | None) -> pa.Array:
        """Values of an input's IDs that sort as the in-memory link sorts them (top-fraction ties): numbers
        while every ID so far is an integer, else the canonical text (`add` refuses text after integers)."""
        if self.route == "dense":
            return pa.array(code, pa.int64(), mask=code < 0)  # dense codes keep the numbers' order
        if "str" not in self._kinds():
            if isinstance(parsed, DenseIds):
                return pa.array(parsed.value, pa.int64(), mask=~parsed.mask)
            assert ids is not None
            return pc.cast(ids.combine_chunks(), pa.int64())
        assert ids is not None
        return as_text(ids, id_kind(ids))

    def id_codes(self) -> IdCodes:
        """How the codes decode (--emit-ids), what IDs were compared as, and the warning `code_ids` gives."""
        warnings = mixed_id_warning(self.kinds)
        if self.route == "dense":
            return replace(self._dense.id_codes(self.universe, self._base), warnings=warnings)
        id_type = "integer" if self._kinds() == {"int"} else "string"
        if self.route == "numbers":
            assert self._numbers is not None
            _kind, prefix, width = self._numbers.form
            return IdCodes([], None, self.universe, id_type, "hashed", warnings,
                           pa.array(self._numbers.numbers[:self._numbers.count]), 0,
                           None if prefix is None else prefix.decode("ascii"), width)
        assert self._text is not None
        return IdCodes([], None, self.universe, id_type, "hashed", warnings, self._text.distinct_later())

    def release(self) -> None:
        """Let the hash tables go once every input is coded (`id_codes` keeps what decoding needs)."""
        self._text = self._numbers = None
        self._dense = DenseCoder()

    def _kinds(self) -> set[str]:
        return set().union(*self.kinds.values())

    def _dense_form(self) -> tuple | None:
        return None if self._dense.kind is None else (self._dense.kind, self._dense.prefix, self._dense.width)

    def _grown(self, count: int, recode: Recode) -> Recode:
        """Room for `count` codes (after a move, the code space starts again from them)."""
        if recode.mapping is not None:
            self.universe = 0
        if count > self.universe:
            self.universe = count + _room(count)
        return recode

    def _add_dense(self, parsed: DenseIds) -> tuple[np.ndarray, Recode] | None:
        coder = self._dense
        numbers = coder.add(parsed)
        if numbers is None or coder.lo is None or coder.hi is None:
            return None
        shift = 0
        if self.universe == 0:
            self._base, self.universe = coder.lo, coder.hi - coder.lo + 1
        elif coder.lo < self._base or coder.hi >= self._base + self.universe:
            top = self._base + self.universe - 1
            span = coder.hi - coder.lo + 1
            lo = coder.lo - _room(span) if coder.lo < self._base else self._base
            hi = coder.hi + _room(span) if coder.hi > top else top
            shift, self._base, self.universe = self._base - lo, lo, hi - lo + 1
        value, mask = numbers
        value -= self._base
        value[~mask] = -1
        return value, Recode(shift=shift)

    def _used_numbers(self, used: np.ndarray) -> tuple[Recode, np.ndarray]:
        """Dense codes in use onto codes 0, 1, ... in their order, and the numbers they stand for."""
        old = np.flatnonzero(used[:self.universe])
        mapping = np.full(self.universe, -1, np.int64)
        mapping[old] = np.arange(len(old))
        return Recode(mapping=mapping), old + self._base

    def _to_numbers(self, used: np.ndarray, form: tuple) -> Recode:
        recode, numbers = self._used_numbers(used)
        self._numbers = NumberCoder(form)
        if len(numbers):
            self._numbers.add(DenseIds(*form, numbers, np.ones(len(numbers), bool), int(numbers.min()),
                                       int(numbers.max())))
        self.route = "numbers"
        return recode

    def _to_text(self, used: np.ndarray | None) -> Recode | None:
        """The codes so far onto the text route (their canonical text, in code order); None when it cannot
        give what the in-memory link gives."""
        recode, numbers, form = Recode(), np.zeros(0, np.int64), None
        if self.route == "dense" and used is not None and self._dense.kind is not None:
            (recode, numbers), form = self._used_numbers(used), self._dense_form()
        elif self.route == "numbers" and self._numbers is not None:  # codes stay: texts seeded in code order
            numbers, form = self._numbers.numbers[:self._numbers.count], self._numbers.form
        self._text, self.route = text_coder(), "text"
        if len(numbers):
            seeded = text_ids(number_text(numbers, form), "str")
            if seeded is None or self._text.add(seeded) is None:  # type: ignore[arg-type]
                return None
        return recode


def _form(ids: DenseIds) -> tuple:
    return (ids.kind, ids.prefix, ids.width)


def _spread(code: np.ndarray, mask: np.ndarray) -> np.ndarray:
    full = np.full(len(mask), -1, np.int64)
    full[mask] = code
    return full
