"""ID coders for the streaming link, which reads one decision-maker's input at a time.

Each coder `parse`s one input's IDs (a pure function of that input, run on the reading thread), then
`add`s them (on the linking thread) and returns every row's code, -1 where the row has no ID. Codes handed
out before stay valid, moved up by the `shift` `add` returns; `universe` is the size of the code space so
far (it may leave room for codes not yet handed out). `add` returns None as soon as an input's IDs cannot
share the coder's code space: the caller then links every input in memory (`ids.code_ids`), which codes
any IDs.

- `DenseStream`: IDs that code densely (integers, or one prefix and a fixed number of digits); an ID's
  code is its offset in the range of numbers seen.
- `PrintStream`: text IDs of one fixed width (pseudonymised tokens, UUIDs): 64-bit fingerprints, coded in
  the order they first occur and checked byte for byte against the first ID given each code, so two IDs
  share a code exactly when their bytes are equal. It keeps 8 bytes per row of the input being linked
  and, per distinct ID, its fingerprint and its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import fingerprints
from .ids import DenseCoder, DenseIds, IdCodes, parse_dense

_BLOCK = 1 << 16  # rows compared at once: the gathered bytes stay in cache


class StreamCoder(Protocol):
    universe: int
    keys_need_ids: bool  # the rows' ID text orders them (top-fraction ties), not their codes

    def parse(self, ids: pa.ChunkedArray) -> Any: ...
    def add(self, parsed: Any) -> tuple[np.ndarray, int] | None: ...
    def id_codes(self) -> IdCodes: ...


def _room(size: int) -> int:
    # A little room on the side that grew, so inputs reaching slightly further do not copy again.
    return size // 16


class DenseStream:
    """Codes are offsets from the lowest number seen; a lower one shifts every code handed out before."""

    keys_need_ids = False

    def __init__(self) -> None:
        self.coder = DenseCoder()
        self.base = 0
        self.universe = 0

    @staticmethod
    def parse(ids: pa.ChunkedArray) -> DenseIds | None:
        return parse_dense(ids)

    def add(self, parsed: DenseIds | None) -> tuple[np.ndarray, int] | None:
        coder = self.coder
        numbers = coder.add(parsed)
        if numbers is None or coder.lo is None or coder.hi is None:
            return None
        shift = 0
        if self.universe == 0:
            self.base, self.universe = coder.lo, coder.hi - coder.lo + 1
        elif coder.lo < self.base or coder.hi >= self.base + self.universe:
            top = self.base + self.universe - 1
            span = coder.hi - coder.lo + 1
            lo = coder.lo - _room(span) if coder.lo < self.base else self.base
            hi = coder.hi + _room(span) if coder.hi > top else top
            shift, self.base, self.universe = self.base - lo, lo, hi - lo + 1
        value, mask = numbers
        value -= self.base
        value[~mask] = -1
        return value, shift

    def id_codes(self) -> IdCodes:
        return self.coder.id_codes(self.universe, self.base)


@dataclass(frozen=True)
class PrintedIds:
    """One input's IDs as `PrintStream` takes them."""

    present: np.ndarray  # rows holding an ID (missing and "" are not IDs)
    words: list[np.ndarray]  # per Arrow chunk, its present rows' bytes as 64-bit words (rows × words)
    prints: np.ndarray  # the present rows' fingerprints, in row order
    width: int  # bytes per ID (0: no ID at all)


def parse_printed(ids: pa.ChunkedArray) -> PrintedIds | None:
    """`PrintedIds` of text IDs of one width that need no trimming; None for any other IDs."""
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    present, matrices, prints, widths = [], [], [], set()
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return None
        found = fingerprints.words(chunk)
        if found is None:
            return None
        mask, matrix, width = found
        if len(matrix):
            data = matrix.view(np.uint8)
            ends = data[:, [0, width - 1]]
            # White space (or a non-ASCII byte, which may be Unicode space) at either end: trimming decides.
            if ((ends <= 0x20) | (ends >= 0x7F)).any():
                return None
            widths.add(width)
        present.append(mask)
        matrices.append(matrix)
        prints.append(fingerprints.fingerprint(matrix).view(np.int64))
    if len(widths) > 1:
        return None
    return PrintedIds(
        np.concatenate(present) if present else np.zeros(0, bool), matrices,
        np.concatenate(prints) if prints else np.zeros(0, np.int64), widths.pop() if widths else 0,
    )


class PrintStream:
    """Fingerprints coded in the order they first occur; each code keeps the bytes of its first ID."""

    keys_need_ids = True

    def __init__(self) -> None:
        self.width = 0
        self.count = 0  # codes handed out
        self.universe = 0
        self._table = _PrintTable()
        self._bytes = np.zeros((0, 1), np.uint64)  # by code, each ID's bytes; capacity grows by doubling

    @staticmethod
    def parse(ids: pa.ChunkedArray) -> PrintedIds | None:
        return parse_printed(ids)

    def add(self, parsed: PrintedIds | None) -> tuple[np.ndarray, int] | None:
        if parsed is None:
            return None
        if parsed.width:
            if self.width and parsed.width != self.width:
                return None
            if not self.width:
                self.width = parsed.width
                self._bytes = np.zeros((0, -(-parsed.width // 8)), np.uint64)
        rows = self._codes(parsed)
        if rows is None:
            return None
        code = np.full(len(parsed.present), -1, dtype=np.int64)
        code[parsed.present] = rows
        if self.count > self.universe:
            self.universe = self.count + _room(self.count)
        return code, 0

    def _codes(self, parsed: PrintedIds) -> np.ndarray | None:
        """The present rows' codes (new fingerprints get the next codes), or None on a fingerprint that two
        different IDs share."""
        prints = parsed.prints
        rows = self._table.find(prints)
        new = np.flatnonzero(rows < 0)
        if len(new):
            encoded = pc.dictionary_encode(pa.array(prints[new]))
            local = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            # Arrow numbers the new fingerprints in the order they first occur: where the running maximum
            # rises are the rows that introduce codes 0, 1, 2, ... in turn.
            rises = np.ones(len(local), dtype=bool)
            rises[1:] = local[1:] > np.maximum.accumulate(local)[:-1]
            distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
            self._table.insert(distinct, np.arange(self.count, self.count + len(distinct)))
            rows[new] = self.count + local
            self._append(parsed.words, new[rises])
        # Every row's bytes must equal those its code keeps: else two IDs share a fingerprint.
        start = 0
        for matrix in parsed.words:
            for lo in range(0, len(matrix), _BLOCK):
                block = matrix[lo:lo + _BLOCK]
                if not np.array_equal(block, np.take(self._bytes, rows[start + lo:start + lo + len(block)], axis=0)):
                    return None
            start += len(matrix)
        return rows

    def _append(self, matrices: list[np.ndarray], rows: np.ndarray) -> None:
        """Keep the bytes of `rows` (ascending, counted across the chunks' matrices) for the next codes."""
        end = self.count + len(rows)
        if end > len(self._bytes):
            more = np.zeros((max(end, 2 * len(self._bytes)), self._bytes.shape[1]), np.uint64)
            more[:self.count] = self._bytes[:self.count]
            self._bytes = more
        bounds = np.cumsum([0, *(len(m) for m in matrices)])
        cuts = np.searchsorted(rows, bounds)
        for m, lo, a, b in zip(matrices, bounds[:-1], cuts[:-1], cuts[1:], strict=True):
            if b > a:
                np.take(m, rows[a:b] - lo, axis=0, out=self._bytes[self.count + a:self.count + b])
        self.count = end

    def id_codes(self) -> IdCodes:
        width, count = self.width, self.count
        data = np.ascontiguousarray(self._bytes[:count].view(np.uint8)[:, :width]).reshape(-1)
        offsets = np.arange(count + 1, dtype=np.int64) * width
        distinct = pa.Array.from_buffers(pa.large_string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        return IdCodes([], None, self.universe, "string", "hashed", [], distinct)


class _PrintTable:
    """Fingerprint → code, an open-addressing hash table probed for a whole array at once.

    Fingerprints are already well mixed, so their low bits pick the slot; a full slot holding another
    fingerprint sends the probe to the next slot. The table is kept at most half full, so few rows need a
    second round, and each slot holds its fingerprint beside its code, so a probe is one read from memory.
    0 marks an empty slot, so a fingerprint 0 is stored as 1: the byte check after coding catches the rare
    IDs that this, or any collision, would merge.
    """

    def __init__(self) -> None:
        self.slots = np.zeros((1 << 10, 2), np.int64)  # (fingerprint, code)
        self.size = 0

    def find(self, prints: np.ndarray) -> np.ndarray:
        """The code of each fingerprint, -1 for those not in the table."""
        out = np.full(len(prints), -1, np.int64)
        if self.size == 0:
            return out
        prints = _nonzero(prints)
        mask = len(self.slots) - 1
        rows = np.arange(len(prints))
        at = prints & mask
        while len(rows):
            held = np.take(self.slots, at, axis=0)
            hit = held[:, 0] == prints[rows]
            out[rows[hit]] = held[hit, 1]
            on = (held[:, 0] != 0) & ~hit
            rows, at = rows[on], (at[on] + 1) & mask
        return out

    def insert(self, prints: np.ndarray, codes: np.ndarray) -> None:
        """Add distinct fingerprints, none of them in the table yet, with their codes."""
        if 2 * (self.size + len(prints)) > len(self.slots):
            size = len(self.slots)
            while 2 * (self.size + len(prints)) > size:
                size *= 2
            kept = self.slots[self.slots[:, 0] != 0]
            self.slots, self.size = np.zeros((size, 2), np.int64), 0
            self._place(kept[:, 0], kept[:, 1])
        self._place(_nonzero(prints), codes)

    def _place(self, prints: np.ndarray, codes: np.ndarray) -> None:
        mask = len(self.slots) - 1
        at = prints & mask
        while len(prints):
            free = self.slots[at, 0] == 0
            self.slots[at[free], 0] = prints[free]  # of several rows aiming at one free slot, one gets it
            won = self.slots[at, 0] == prints
            self.slots[at[won], 1] = codes[won]
            self.size += int(won.sum())
            prints, codes, at = prints[~won], codes[~won], (at[~won] + 1) & mask


def _nonzero(prints: np.ndarray) -> np.ndarray:
    return np.where(prints == 0, 1, prints) if (prints == 0).any() else prints
