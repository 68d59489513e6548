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

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SEED = np.uint64(0x9E3779B97F4A7C15)
_MULTIPLIER = np.uint64(0xFF51AFD7ED558CCD)  # the 64-bit finaliser constants of MurmurHash3
_MULTIPLIER2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)
_MAX_WIDTH = 1024  # bytes; longer IDs are left to the text hash
_BLOCK = 1 << 16  # rows compared at once: the gathered bytes stay in cache


@dataclass(frozen=True)
class Fingerprinted:
    codes: list[np.ndarray]  # per input, each row's code (-1: no ID)
    distinct: pa.Array  # the distinct IDs, by code


def is_text(t: pa.DataType) -> bool:
    """Whether an Arrow type is text: string or large_string (32- or 64-bit offsets)."""
    return pa.types.is_string(t) or pa.types.is_large_string(t)


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


def end_bytes(a: pa.Array, offsets: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The first and last byte of every present ID (`offsets`, `present`: `present_ids(a)`)."""
    data = np.frombuffer(a.buffers()[2], dtype=np.uint8)
    return np.concatenate([data[offsets[:-1][present]], data[offsets[1:][present] - 1]])


def may_need_trimming(ends: np.ndarray) -> bool:
    """Whether some of these first or last bytes of IDs is white space, or a non-ASCII byte, which may
    begin or end a Unicode space: only then can trimming change an ID."""
    return bool(((ends <= 0x20) | (ends >= 0x7F)).any())


def ends_may_need_trimming(a: pa.Array, offsets: np.ndarray, present: np.ndarray) -> bool:
    """`may_need_trimming` of the IDs' first and last bytes: only then is trimming more than a copy of
    every ID (costly on large inputs). `offsets`, `present`: `present_ids(a)`."""
    return bool(present.any()) and may_need_trimming(end_bytes(a, offsets, present))


def string_chunks(ids: pa.ChunkedArray | pa.Array, kind: str) -> list[pa.Array]:
    """An input's ID chunks as text: integers (`kind` "int") in decimal, other types cast to string."""
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    if kind == "int":
        chunks = [pc.cast(pc.cast(c, pa.int64()), pa.string()) for c in chunks]
    return [c if is_text(c.type) else pc.cast(c, pa.string()) for c in chunks]


def words(a: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(present-row mask, the present rows' bytes as 64-bit words zero-padded to the longest — a view of
    the Arrow buffer when all have one width that is a multiple of 8 and lie back to back —, their byte
    lengths); None for IDs longer than `_MAX_WIDTH` bytes."""
    offsets, lengths, present = present_ids(a)
    rows = int(present.sum())
    if rows == 0:
        return present, np.zeros((0, 1), np.uint64), np.zeros(0, np.int32)
    held = lengths[present]
    width = int(held.max())
    if width > _MAX_WIDTH:
        return None
    data = np.frombuffer(a.buffers()[2], dtype=np.uint8)
    padded = -(-width // 8) * 8
    if (held == width).all() and not ((lengths > 0) & ~present).any():
        # One width, absent rows empty: the values lie back to back, one row of bytes each; every length
        # is one number, held as a view that takes no memory.
        held = np.broadcast_to(np.int32(width), (rows,))
        block = data[int(offsets[0]):int(offsets[0]) + rows * width].reshape(rows, width)
        if padded == width:
            return present, np.ascontiguousarray(block).view(np.uint64), held
        matrix = np.zeros((rows, padded), np.uint8)
        matrix[:, :width] = block
        return present, matrix.view(np.uint64), held
    held = held.astype(np.int32)
    starts = offsets[:-1][present]
    matrix = np.zeros((rows, padded), np.uint8)
    column = np.arange(padded)
    for lo in range(0, rows, _BLOCK):  # the gather's index stays in cache
        hi = min(lo + _BLOCK, rows)
        inside = column[None, :] < held[lo:hi, None]
        index = starts[lo:hi, None] + np.where(inside, column[None, :], 0)
        matrix[lo:hi] = np.where(inside, data[index], 0)
    return present, matrix.view(np.uint64), held


def fingerprint(words: np.ndarray, lengths: np.ndarray | int = 0) -> np.ndarray:
    """One 64-bit value per row, its byte length and every word of its bytes folded in (multiply-xorshift
    mixing; the length tells apart IDs that differ only in trailing zero bytes). The words of padding beyond
    a row's own bytes are not folded in: an ID has one fingerprint however wide the matrix it came in (an
    input whose longest ID is longer pads its rows with more words)."""
    h = np.full(len(words), _SEED, np.uint64) ^ (np.asarray(lengths, dtype=np.uint64) * _MULTIPLIER2)
    ragged = np.ndim(lengths) > 0
    for j in range(words.shape[1]):
        mixed = h ^ words[:, j]
        mixed *= _MULTIPLIER
        mixed ^= mixed >> _SHIFT
        if ragged and j > 0:  # rows of at most 8j bytes end before this word
            h = np.where(lengths > 8 * j, mixed, h)
        else:
            h = mixed
    h *= _MULTIPLIER2
    h ^= h >> _SHIFT
    return h


def fingerprint_codes(texts: list[pa.Array]) -> Fingerprinted | None:
    """Codes of every input's text IDs (one code space), or None when two different IDs share a
    fingerprint or an ID is longer than `_MAX_WIDTH` bytes. `texts`: one array per input, canonical IDs,
    null = missing."""
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
    lengths: list[np.ndarray]  # per chunk, its present rows' byte lengths
    prints: np.ndarray  # the present rows' fingerprints, in row order
    kind: str = "str"  # "int" when the input holds integers (compared as their decimal text)


def parse_printed(ids: pa.ChunkedArray | pa.Array, canonical: bool = False) -> PrintedIds | None:
    """`PrintedIds` of text IDs that need no trimming (`canonical`: known to be trimmed already); None for
    IDs that might (see `parse_text`) or are longer than `_MAX_WIDTH` bytes."""
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    present, matrices, lengths, prints = [], [], [], []
    for chunk in chunks:
        if not is_text(chunk.type):
            return None
        found = words(chunk)
        if found is None:
            return None
        mask, matrix, held = found
        if len(matrix) and not canonical and may_need_trimming(_end_bytes(chunk, mask, matrix, held)):
            return None
        present.append(mask)
        matrices.append(matrix)
        lengths.append(held)
        prints.append(fingerprint(matrix, held[0] if _uniform(held) else held).view(np.int64))
    return PrintedIds(
        np.concatenate(present) if present else np.zeros(0, bool), matrices, lengths,
        np.concatenate(prints) if prints else np.zeros(0, np.int64),
    )


def _end_bytes(chunk: pa.Array, present: np.ndarray, matrix: np.ndarray, held: np.ndarray) -> np.ndarray:
    """The first and last byte of every present ID: two columns of the matrix when all have one width."""
    if _uniform(held):
        data = matrix.view(np.uint8)
        return data[:, [0, int(held[0]) - 1]]
    return end_bytes(chunk, text_offsets(chunk), present)


def _uniform(lengths: np.ndarray) -> bool:
    """Lengths that are one number held as a view (`words` of one-width IDs)."""
    return len(lengths) > 0 and lengths.strides == (0,)


def parse_text(ids: pa.ChunkedArray | pa.Array, kind: str) -> PrintedIds | None:
    """Any input's IDs as their canonical text (`ids.as_text`: integers in decimal, white space trimmed,
    blank = missing), fingerprinted chunk by chunk; the IDs are copied only when some need trimming."""
    chunks = string_chunks(ids, kind)
    text = pa.chunked_array(chunks, chunks[0].type) if chunks else ids
    parsed = parse_printed(text)
    if parsed is None:  # some ID may need trimming (or is longer than the fingerprints take)
        parsed = parse_printed(pa.chunked_array([pc.utf8_trim_whitespace(c) for c in chunks], text.type),
                               canonical=True)
    return None if parsed is None else replace(parsed, kind=kind)


def capacity(needed: int, held: int) -> int:
    """The new size of a per-ID store that must hold `needed`: an eighth more than that, or than it holds.
    Not double: the inputs after the first bring few new IDs, and doubling would keep twice the bytes of
    every distinct ID (640 MB more for 10M 64-character pseudonyms)."""
    return max(needed + needed // 8, held + held // 8)


class PrintCoder:
    """Fingerprints coded in the order they first occur, input after input; each code keeps the bytes of
    its first ID (zero-padded to the longest ID so far) and its length, which every later row of the code
    must equal."""

    def __init__(self) -> None:
        self.count = 0  # codes handed out
        self._table = PrintTable()
        self._bytes = np.zeros((0, 1), np.uint64)  # by code, each ID's bytes; capacity grows by an eighth
        self._lengths = np.zeros(0, np.int32)
        self._widths: set[int] = set()  # the lengths of the IDs kept

    def add(self, parsed: PrintedIds) -> np.ndarray | None:
        """Every row's code (-1: no ID), or None when two different IDs share a fingerprint."""
        columns = max((m.shape[1] for m in parsed.words if len(m)), default=1)
        if columns > self._bytes.shape[1]:  # longer IDs than any before: pad what is kept
            wider = np.zeros((len(self._bytes), columns), np.uint64)
            wider[:, :self._bytes.shape[1]] = self._bytes
            self._bytes = wider
        rows = self._codes(parsed)
        if rows is None:
            return None
        code = np.full(len(parsed.present), -1, dtype=np.int64)
        code[parsed.present] = rows
        return code

    def _codes(self, parsed: PrintedIds) -> np.ndarray | None:
        """The present rows' codes (new fingerprints get the next codes), or None on a fingerprint that two
        different IDs share."""
        rows, first = self._table.code(parsed.prints, self.count)
        if len(first):
            self._append(parsed, first)
        # Every row's bytes and length must equal those its code keeps: else two IDs share a fingerprint.
        # A kept ID longer than the row's matrix has another length; one as long is zero beyond it.
        start = 0
        for chunk, matrix in enumerate(parsed.words):
            held = parsed.lengths[chunk]
            for lo in range(0, len(matrix), _BLOCK):
                block = matrix[lo:lo + _BLOCK]
                at = rows[start + lo:start + lo + len(block)]
                kept = np.take(self._bytes, at, axis=0)[:, :block.shape[1]]
                if not np.array_equal(block, kept):
                    return None
                # Lengths differ only where some ID has another width than this one.
                if (self._widths != {int(held[0])} if _uniform(held) else True) and not np.array_equal(
                        held[lo:lo + _BLOCK], self._lengths[at]):
                    return None
            start += len(matrix)
        return rows

    def _append(self, parsed: PrintedIds, rows: np.ndarray) -> None:
        """Keep the bytes and lengths of `rows` (ascending, counted across the chunks) for the next codes."""
        end = self.count + len(rows)
        if end > len(self._bytes):
            size = capacity(end, len(self._bytes))
            more = np.zeros((size, self._bytes.shape[1]), np.uint64)
            more[:self.count] = self._bytes[:self.count]
            lengths = np.zeros(size, np.int32)
            lengths[:self.count] = self._lengths[:self.count]
            self._bytes, self._lengths = more, lengths
        bounds = np.cumsum([0, *(len(m) for m in parsed.words)])
        cuts = np.searchsorted(rows, bounds)
        for chunk, (m, lo, a, b) in enumerate(zip(parsed.words, bounds[:-1], cuts[:-1], cuts[1:], strict=True)):
            if b > a:
                here = rows[a:b] - lo
                self._bytes[self.count + a:self.count + b, :m.shape[1]] = np.take(m, here, axis=0)
                lengths = parsed.lengths[chunk]
                self._lengths[self.count + a:self.count + b] = lengths[here]
                self._widths |= {int(lengths[0])} if _uniform(lengths) else set(np.unique(lengths[here]).tolist())
        self.count = end

    def distinct_later(self) -> Callable[[], pa.Array]:
        """A call that builds `distinct()` when first needed, holding the IDs' bytes but not the hash table
        (which the coder's owner may then let go)."""
        keep = PrintCoder()
        keep.count, keep._bytes, keep._lengths, keep._widths = self.count, self._bytes, self._lengths, self._widths
        return keep.distinct

    def distinct(self) -> pa.Array:
        """The distinct IDs, by code."""
        count = self.count
        lengths = self._lengths[:count].astype(np.int64)
        as_bytes = self._bytes[:count].view(np.uint8)
        if self._widths == {int(lengths[0]) if count else 0}:  # one width: each ID's bytes, back to back
            data = np.ascontiguousarray(as_bytes[:, :int(lengths[0]) if count else 0]).reshape(-1)
        else:
            data = as_bytes[np.arange(as_bytes.shape[1])[None, :] < lengths[:, None]]  # row-major: ID by ID
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return pa.Array.from_buffers(pa.large_string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


class PrintTable:
    """An exact map from 64-bit keys (fingerprints, or mixed numbers) to codes: an open-addressing hash
    table probed for a whole array at once.

    Keys are already well mixed, so their low bits pick the slot; a full slot holding another key sends
    the probe to the next slot. The table is kept at most half full, so few rows need a second round, and
    each slot holds its key beside its code, so a probe is one read from memory. 0 marks an empty slot,
    so the key 0 is held apart (`zero`).
    """

    def __init__(self) -> None:
        self.slots = np.zeros((1 << 10, 2), np.int64)  # (key, code)
        self.size = 0
        self.zero = -1  # the code of the key 0, if it was inserted

    def find(self, prints: np.ndarray) -> np.ndarray:
        """The code of each key, -1 for those not in the table."""
        out = np.full(len(prints), -1, np.int64)
        if self.size == 0:
            return out
        mask = len(self.slots) - 1
        # The first probe of every row at once, without indexing the rows (most keys sit in their slot).
        at = prints & mask
        held = np.take(self.slots, at, axis=0)
        hit = held[:, 0] == prints
        out[hit] = held[hit, 1]
        rows = np.flatnonzero(~hit & (held[:, 0] != 0))
        at = (at[rows] + 1) & mask
        while len(rows):
            held = np.take(self.slots, at, axis=0)
            hit = held[:, 0] == prints[rows]
            out[rows[hit]] = held[hit, 1]
            on = (held[:, 0] != 0) & ~hit
            rows, at = rows[on], (at[on] + 1) & mask
        zero = prints == 0  # an empty slot "matched" these: 0 is held apart
        if zero.any():
            out[zero] = self.zero
        return out

    def insert(self, prints: np.ndarray, codes: np.ndarray) -> None:
        """Add distinct keys, none of them in the table yet, with their codes."""
        zero = prints == 0
        if zero.any():
            self.zero, self.size = int(codes[zero][0]), self.size + 1
            prints, codes = prints[~zero], codes[~zero]
        if 2 * (self.size + len(prints)) > len(self.slots):
            size = len(self.slots)
            while 2 * (self.size + len(prints)) > size:
                size *= 2
            kept = self.slots[self.slots[:, 0] != 0]
            self.slots, self.size = np.zeros((size, 2), np.int64), int(self.zero >= 0)
            self._place(kept[:, 0], kept[:, 1])
        self._place(prints, codes)

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

    def code(self, keys: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Every key's code, new keys getting codes `count`, `count` + 1, ... in the order they first occur;
        and the positions (into `keys`) of the rows that introduce them."""
        rows = self.find(keys)
        new = np.flatnonzero(rows < 0)
        if not len(new):
            return rows, new
        encoded = pc.dictionary_encode(pa.array(keys[new]))
        local = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        # Arrow numbers the new keys in the order they first occur: where the running maximum rises are the
        # rows that introduce codes 0, 1, 2, ... in turn.
        rises = np.ones(len(local), dtype=bool)
        rises[1:] = local[1:] > np.maximum.accumulate(local)[:-1]
        distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
        self.insert(distinct, np.arange(count, count + len(distinct)))
        rows[new] = count + local
        return rows, new[rises]
