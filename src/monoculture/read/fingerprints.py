"""Fixed-width text IDs coded through 64-bit fingerprints, checked byte for byte.

Pseudonymised IDs (`monoculture pseudonymize`'s 64 hex characters), UUIDs and other tokens of one length
do not code densely, and hashing their text is the slowest step of linking (one Arrow dictionary
encoding of every row's string, on one core). Here each ID's bytes are folded into a 64-bit fingerprint
with a few vectorised passes (`fingerprint`), and `PrintCoder` codes the fingerprints input after input:
known ones through an open-addressing table probed for the whole input at once (`PrintTable`), new ones
in the order they first occur. Each code keeps the bytes of its first ID and every row's bytes are
compared with them, so two IDs share a code exactly when their bytes are equal; if two different IDs
ever share a fingerprint, the check finds it and the caller codes the text instead (`None` is returned).
The coder keeps, per distinct ID, its bytes and two table slots (16 bytes each), so the streaming link
(`link.stream_ids.PrintStream`) holds no input's text beyond the one it is linking."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SEED = np.uint64(0x9E3779B97F4A7C15)
_MULTIPLIER = np.uint64(0xFF51AFD7ED558CCD)  # the 64-bit finaliser constants of MurmurHash3
_MULTIPLIER2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)
_MAX_WIDTH = 256  # bytes; longer IDs are left to the text hash
_BLOCK = 1 << 16  # rows compared at once: the gathered bytes stay in cache


@dataclass(frozen=True)
class Fingerprinted:
    codes: list[np.ndarray]  # per input, each row's code (-1: no ID)
    distinct: pa.Array  # the distinct IDs, by code


def text_offsets(a: pa.Array) -> np.ndarray:
    """The n + 1 offsets of a string array's rows into its data buffer (a view of the Arrow buffer)."""
    off_type = np.int64 if pa.types.is_large_string(a.type) else np.int32
    return np.frombuffer(a.buffers()[1], dtype=off_type, count=len(a) + 1,
                         offset=a.offset * np.dtype(off_type).itemsize)


def present_ids(a: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets, lengths and the mask of rows holding a non-empty ID, from the Arrow buffers."""
    offsets = text_offsets(a)
    lengths = np.diff(offsets)
    present = lengths > 0
    if a.null_count:
        present &= a.is_valid().to_numpy(zero_copy_only=False)
    return offsets, lengths, present


def may_need_trimming(ends: np.ndarray) -> bool:
    """Whether some of these first or last bytes of IDs is white space, or a non-ASCII byte, which may
    begin or end a Unicode space: only then can trimming change an ID."""
    return bool(((ends <= 0x20) | (ends >= 0x7F)).any())


def words(a: pa.Array) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(present-row mask, the present rows' bytes as 64-bit words, width) when every present ID has one
    width and the array stores nothing for the absent rows; else None."""
    offsets, lengths, present = present_ids(a)
    if ((lengths > 0) & ~present).any():  # a null row that still holds bytes
        return None
    rows = int(present.sum())
    if rows == 0:
        return present, np.zeros((0, 1), np.uint64), 0
    width = int(lengths[present][0])
    if width > _MAX_WIDTH or (lengths[present] != width).any():
        return None
    # Present IDs of one width, absent rows empty: the values lie back to back, one row of bytes each.
    start = int(offsets[0])
    data = np.frombuffer(a.buffers()[2], dtype=np.uint8, count=rows * width, offset=start)
    padded = -(-width // 8) * 8
    if padded == width:
        matrix = data.reshape(rows, width)
    else:
        matrix = np.zeros((rows, padded), np.uint8)
        matrix[:, :width] = data.reshape(rows, width)
    return present, np.ascontiguousarray(matrix).view(np.uint64), width


def fingerprint(words: np.ndarray) -> np.ndarray:
    """One 64-bit value per row, every word of the row folded in (multiply-xorshift mixing)."""
    h = np.full(len(words), _SEED, np.uint64)
    for j in range(words.shape[1]):
        h ^= words[:, j]
        h *= _MULTIPLIER
        h ^= h >> _SHIFT
    h *= _MULTIPLIER2
    h ^= h >> _SHIFT
    return h


def fingerprint_codes(texts: list[pa.Array]) -> Fingerprinted | None:
    """Codes of every input's text IDs (one code space), or None when they do not all have one width or
    two different IDs share a fingerprint. `texts`: one array per input, canonical IDs, null = missing."""
    coder = PrintCoder()
    codes = []
    for text in texts:
        parsed = parse_printed(text, canonical=True)
        code = None if parsed is None else coder.add(parsed)
        if code is None:
            return None
        codes.append(code)
    return Fingerprinted(codes, coder.distinct())


@dataclass(frozen=True)
class PrintedIds:
    """One input's IDs as `PrintCoder.add` takes them."""

    present: np.ndarray  # rows holding an ID (missing and "" are not IDs)
    words: list[np.ndarray]  # per Arrow chunk, its present rows' bytes as 64-bit words (rows × words)
    prints: np.ndarray  # the present rows' fingerprints, in row order
    width: int  # bytes per ID (0: no ID at all)


def parse_printed(ids: pa.ChunkedArray | pa.Array, canonical: bool = False) -> PrintedIds | None:
    """`PrintedIds` of text IDs of one width that need no trimming (`canonical`: known to be trimmed
    already); None for any other IDs."""
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    present, matrices, prints, widths = [], [], [], set()
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return None
        found = words(chunk)
        if found is None:
            return None
        mask, matrix, width = found
        if len(matrix):
            data = matrix.view(np.uint8)
            if not canonical and may_need_trimming(data[:, [0, width - 1]]):
                return None
            widths.add(width)
        present.append(mask)
        matrices.append(matrix)
        prints.append(fingerprint(matrix).view(np.int64))
    if len(widths) > 1:
        return None
    return PrintedIds(
        np.concatenate(present) if present else np.zeros(0, bool), matrices,
        np.concatenate(prints) if prints else np.zeros(0, np.int64), widths.pop() if widths else 0,
    )


class PrintCoder:
    """Fingerprints coded in the order they first occur, input after input; each code keeps the bytes of
    its first ID, which every later row of the code must equal."""

    def __init__(self) -> None:
        self.width = 0
        self.count = 0  # codes handed out
        self._table = PrintTable()
        self._bytes = np.zeros((0, 1), np.uint64)  # by code, each ID's bytes; capacity grows by doubling

    def add(self, parsed: PrintedIds) -> np.ndarray | None:
        """Every row's code (-1: no ID), or None when the IDs have another width or two different IDs share
        a fingerprint."""
        if parsed.width and parsed.width != self.width:
            if self.width:
                return None
            self.width = parsed.width
            self._bytes = np.zeros((0, -(-parsed.width // 8)), np.uint64)
        rows = self._codes(parsed)
        if rows is None:
            return None
        code = np.full(len(parsed.present), -1, dtype=np.int64)
        code[parsed.present] = rows
        return code

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

    def distinct(self) -> pa.Array:
        """The distinct IDs, by code."""
        width, count = self.width, self.count
        data = np.ascontiguousarray(self._bytes[:count].view(np.uint8)[:, :width]).reshape(-1)
        offsets = np.arange(count + 1, dtype=np.int64) * width
        return pa.Array.from_buffers(pa.large_string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


class PrintTable:
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
