"""Text IDs coded exactly by the compiled hash table (`_idtable.c`), for the streaming link.

Pseudonymised IDs (`monoculture pseudonymize`'s 64 hex characters), UUIDs and names of any length: each
distinct ID gets a code in the order IDs first occur, input after input, and two rows share a code exactly
when their canonical text (`ids.as_text`) is equal byte for byte. Unlike the NumPy fingerprints
(`fingerprints.PrintCoder`, the route where the extension was not built), a hash that two IDs share is not a
failure: the table compares the bytes and probes on, so the stream never gives up on text.

Per distinct ID the table holds its bytes, an 8-byte record header and 11 to 23 bytes of index; per row of the
input being linked, its code (8 bytes); and room to sort the rows of one call into the table's partitions, 18
bytes a row, which it keeps from call to call: an input of more than `ROWS_PER_CALL` rows is coded that many
at a time, so the room stays bounded however long the input. No row's text is copied unless it needs
trimming.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .fingerprints import (
    Fingerprinted,
    PrintCoder,
    PrintedIds,
    ends_may_need_trimming,
    fingerprint_codes,
    parse_text,
    present_ids,
    string_chunks,
    text_offsets,
)
from .ids import id_kind, integer_ids

try:
    from . import _idtable  # type: ignore[attr-defined]
except ImportError:  # built without a C compiler: text IDs go through NumPy fingerprints
    _idtable = None

AVAILABLE = _idtable is not None
HASH_BITS = 64  # a test hook: fewer bits make IDs share hashes all the time (the answer must not change)
# Fewer rows a call would sort into partitions too small to be worth reading into the cache; more, and the
# room kept for sorting them grows past what the IDs themselves take. A test hook too.
ROWS_PER_CALL = 1 << 24


@dataclass(frozen=True)
class TextIds:
    """One input's IDs as canonical text, ready for `TextCoder.add`."""

    chunks: list[pa.Array]  # string or large_string, trimmed; null or "" = no ID
    kind: str = "str"  # "int" when the input holds integers (compared as their decimal text)

    def __len__(self) -> int:
        return sum(len(c) for c in self.chunks)


@dataclass(frozen=True)
class CodedIds:
    """One input's IDs coded as they were read (`TextCoder.add_read`): every row's code (-1: no ID) and the
    kind of ID the input holds ("int" when every ID is an integer written canonically)."""

    code: np.ndarray
    kind: str


def _buffers(chunk: pa.Array) -> tuple[np.ndarray, pa.Buffer | bytes, np.ndarray | None]:
    """A string chunk's offsets (a view), data buffer and validity (one byte per row, None: all valid)."""
    data = chunk.buffers()[2]
    valid = chunk.is_valid().to_numpy(zero_copy_only=False).view(np.uint8) if chunk.null_count else None
    return text_offsets(chunk), data if data is not None else b"", valid


def _batches(chunks: list[pa.Array], most: int) -> list[list[pa.Array]]:
    """The chunks in order, grouped (and long ones sliced, without copying) into batches of at most `most`
    rows."""
    batches: list[list[pa.Array]] = [[]]
    room = most
    for chunk in chunks:
        at = 0
        while at < len(chunk):
            if room == 0:
                batches.append([])
                room = most
            take = min(room, len(chunk) - at)
            batches[-1].append(chunk.slice(at, take) if take < len(chunk) else chunk)
            at += take
            room -= take
    return batches


def parse_text_ids(ids: pa.ChunkedArray | pa.Array, kind: str) -> TextIds:
    """Any input's IDs as their canonical text (`ids.as_text`: integers in decimal, white space trimmed,
    blank = missing); the text is copied only when some ID needs trimming."""
    chunks = string_chunks(ids, kind)
    for c in chunks:
        offsets, _lengths, present = present_ids(c)
        if ends_may_need_trimming(c, offsets, present):
            return TextIds([pc.utf8_trim_whitespace(c) for c in chunks], kind)
    return TextIds(chunks, kind)


def text_coder() -> TextCoder | PrintCoder:
    """The text route's coder: the compiled table where it was built, else NumPy fingerprints."""
    return TextCoder() if AVAILABLE else PrintCoder()


def text_ids(ids: pa.ChunkedArray | pa.Array, kind: str) -> TextIds | PrintedIds | None:
    """IDs as `text_coder()`'s coder takes them (None: the fingerprints cannot take them)."""
    return parse_text_ids(ids, kind) if AVAILABLE else parse_text(ids, kind)


def text_codes(texts: list[pa.Array]) -> Fingerprinted | None:
    """Codes of every input's canonical text IDs in one code space (the in-memory link's), exactly by the
    compiled table; where it was not built, by NumPy fingerprints (None: two IDs share one)."""
    if not AVAILABLE:
        return fingerprint_codes(texts)
    coder = TextCoder()
    codes = [coder.add(TextIds(t.chunks if isinstance(t, pa.ChunkedArray) else [t])) for t in texts]
    return Fingerprinted(codes, coder.distinct())


class TextCoder:
    """Text IDs coded in the order they first occur, input after input, exactly (see the module)."""

    def __init__(self) -> None:
        assert _idtable is not None
        self._table = _idtable.IdTable(HASH_BITS)

    @property
    def count(self) -> int:
        """Codes handed out."""
        return int(self._table.count)

    def add(self, parsed: TextIds) -> np.ndarray:
        """Every row's code (-1: no ID), `ROWS_PER_CALL` rows at a time: the codes are those of one call,
        since new IDs are numbered in the order of their first rows either way."""
        code = np.empty(len(parsed), np.int64)
        self._code_into(parsed.chunks, code)
        return code

    def _code_into(self, chunks: list[pa.Array], out: np.ndarray) -> None:
        at = 0
        for batch in _batches(chunks, ROWS_PER_CALL):
            rows = sum(len(c) for c in batch)
            self._table.add([_buffers(c) for c in batch], out[at:at + rows])
            at += rows

    def add_read(self, batches: Iterable[pa.ChunkedArray], rows: int) -> CodedIds:
        """A text column's `rows` rows coded as its parts are read, holding at most `ROWS_PER_CALL` rows of
        text (and one part) at a time: the codes and kind of `add(parse_text_ids(integer_ids(column)))` on
        the whole column. Parts read as integers write their canonical text either way; the input's kind
        is "int" only when every part holding an ID is."""
        code = np.empty(rows, np.int64)
        at, held, waiting, kinds = 0, [], 0, set()
        for batch in itertools.chain(batches, [None]):  # lazily: each part is read as it is taken
            if batch is not None:
                held.append(batch)
                waiting += len(batch)
                if waiting < ROWS_PER_CALL:
                    continue
            if not held:
                break
            ids = integer_ids(pa.chunked_array([c for b in held for c in b.chunks], held[0].type))
            if ids.null_count < len(ids):
                kinds.add(id_kind(ids))
            self._code_into(parse_text_ids(ids, id_kind(ids)).chunks, code[at:at + waiting])
            at, held, waiting = at + waiting, [], 0
        if at != rows:
            raise ValueError(f"add_read: {at} rows read, {rows} expected")
        return CodedIds(code, "int" if kinds == {"int"} else "str")

    def distinct_later(self) -> Callable[[], pa.Array]:
        """A call that builds `distinct()` when first needed; the index is let go now, the IDs' bytes kept."""
        self._table.drop_index()
        return self.distinct

    def distinct(self) -> pa.Array:
        """The distinct IDs, by code."""
        offsets, data = self._table.export()
        return pa.Array.from_buffers(pa.large_string(), self.count, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
