"""Fixed-width text IDs coded through 64-bit fingerprints, checked byte for byte.

Pseudonymised IDs (`monoculture pseudonymize`'s 64 hex characters), UUIDs and other tokens of one length
do not code densely, and hashing their text is the slowest step of linking (one Arrow dictionary
encoding of every row's string, on one core). Here each ID's bytes are folded into a 64-bit fingerprint
with a few vectorised passes, the fingerprints are dictionary-encoded (integers hash several times faster
than text), and then every row's bytes are compared with those of one row of the same code. Two IDs
therefore share a code exactly when their bytes are equal; if two different IDs ever share a
fingerprint, the check finds it and the caller codes the text instead (`None` is returned).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SEED = np.uint64(0x9E3779B97F4A7C15)
_MULTIPLIER = np.uint64(0xFF51AFD7ED558CCD)  # the 64-bit finaliser constants of MurmurHash3
_MULTIPLIER2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)
_MAX_WIDTH = 256  # bytes; longer IDs are left to the text hash


@dataclass(frozen=True)
class Fingerprinted:
    codes: list[np.ndarray]  # per input, each row's code (-1: no ID)
    distinct: pa.Array  # the distinct IDs, by code


def present_ids(a: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets, lengths and the mask of rows holding a non-empty ID, from the Arrow buffers."""
    n = len(a)
    off_type = np.int64 if pa.types.is_large_string(a.type) else np.int32
    offsets = np.frombuffer(a.buffers()[1], dtype=off_type, count=n + 1,
                            offset=a.offset * np.dtype(off_type).itemsize)
    lengths = np.diff(offsets)
    present = lengths > 0
    if a.null_count:
        present &= a.is_valid().to_numpy(zero_copy_only=False)
    return offsets, lengths, present


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
    with ThreadPoolExecutor(max_workers=min(len(texts), os.cpu_count() or 1) or 1) as pool:
        found = list(pool.map(words, texts))
        if any(f is None for f in found):
            return None
        parts = [f for f in found if f is not None]
        widths = {width for _, words, width in parts if len(words)}
        if len(widths) > 1:
            return None
        width = widths.pop() if widths else 0
        per_row = max(1, -(-width // 8))  # 64-bit words per ID; an input without IDs gets as many (none)
        parts = [(present, words if len(words) else np.zeros((0, per_row), np.uint64), w)
                 for present, words, w in parts]
        prints = list(pool.map(lambda part: fingerprint(part[1]).view(np.int64), parts))
        encoded = pc.dictionary_encode(pa.array(np.concatenate(prints) if prints else np.zeros(0, np.int64)))
        universe = len(encoded.dictionary)
        flat = encoded.indices.to_numpy(zero_copy_only=False)
        bounds = np.cumsum([0, *(len(words) for _, words, _ in parts)])
        mine = [flat[lo:hi] for lo, hi in itertools.pairwise(bounds)]
        # Arrow numbers the distinct fingerprints in the order they first occur: the rows where the running
        # maximum code rises hold codes 0, 1, 2, ... in turn, so their words, in order, are one row per code.
        rises = np.ones(len(flat), dtype=bool)
        rises[1:] = flat[1:] > np.maximum.accumulate(flat)[:-1]
        starts = np.flatnonzero(rises)
        cuts = np.searchsorted(starts, bounds)
        first = np.concatenate([np.take(words, starts[a:b] - lo, axis=0) for (_, words, _), a, b, lo
                                in zip(parts, cuts[:-1], cuts[1:], bounds[:-1], strict=True)]
                               or [np.zeros((0, per_row), np.uint64)])
    # Every row's words equal its code's row: equal fingerprints meant equal bytes. (One thread: the gathers
    # are bound by memory, and two threads were slower here.)
    if not all(np.array_equal(words, np.take(first, m, axis=0)) for (_, words, _), m in zip(parts, mine, strict=True)):
        return None
    codes = []
    for (present, _, _), m in zip(parts, mine, strict=True):
        code = np.full(len(present), -1, dtype=np.int64)
        code[present] = m
        codes.append(code)
    distinct_bytes = np.ascontiguousarray(first.view(np.uint8)[:, :width]).reshape(-1)
    offsets = np.arange(universe + 1, dtype=np.int64) * width
    distinct = pa.Array.from_buffers(pa.large_string(), universe,
                                     [None, pa.py_buffer(offsets), pa.py_buffer(distinct_bytes)])
    return Fingerprinted(codes, distinct)
