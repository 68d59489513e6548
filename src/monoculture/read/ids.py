"""Individual IDs as read: the canonical form they are compared in, and dense IDs parsed into numbers.

IDs are compared as integers when every input stores them as integers, otherwise as text with surrounding
white space removed (see `link`). A CSV's IDs are its text: `integer_ids` makes them integers only when
each is written as Python and SQL write an integer (no leading zero, no sign but minus), so `007` stays
text, differs from `7`, and meets another file's `007` — as where a warehouse reads the CSV as text.

Coding (`link.id_codes` in memory, `link.stream_ids` one input at a time) is where a large audit spends
its time, so it takes the cheapest exact route:

- **dense**: integer IDs — or text IDs that all share one prefix followed by a fixed number of ASCII
  digits, like ``p000123456`` — become integers, and when those span a range not much wider than the
  number of rows, an ID's code is its offset in the range (no hashing at all); spread wider, the numbers
  are coded through a lookup over their range or an exact hash table of them;
- **hashed**: other text IDs (pseudonymised tokens, UUIDs, names of any width) are coded through 64-bit
  fingerprints of their canonical text, checked byte for byte (`fingerprints`); should two IDs share a
  fingerprint, through one Arrow dictionary encoding of every input's IDs together.

Both give the same links: two IDs get the same code exactly when their canonical forms are equal (a fixed
prefix and width make the text → integer map one-to-one). Codes may leave gaps (offsets no input uses);
an individual is whoever some input's row codes to.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .fingerprints import ends_may_need_trimming, is_text, present_ids, text_offsets

_MAX_WIDTH = 18  # decimal digits that always fit in an int64
_SLICE = 1 << 16  # rows per slice: the slice's byte matrix and numbers stay in cache


def id_kind(arr: pa.ChunkedArray) -> str:
    t = arr.type
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        vals = arr.drop_null().to_numpy()
        if len(vals) == 0 or np.all(np.mod(vals, 1) == 0):
            return "int"
    return "str"


_CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]*")


def integer_ids(ids: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text IDs as int64 when every one is an integer written the canonical way (`str(int(text)) == text`),
    so comparing the numbers compares the text; any other IDs, or non-text ones, unchanged.

    Missing IDs stay missing. Arrow's cast accepts leading zeros ("007" → 7) and hexadecimal ("0x7"), so
    the cast alone would let `007` meet `7`; `_written_canonically` keeps them apart.
    """
    if not is_text(ids.type) or ids.null_count == len(ids):
        return ids
    first = (ids if ids.null_count == 0 else ids.drop_null())[0].as_py()
    if not _CANONICAL_INTEGER.fullmatch(first):
        return ids  # the usual text IDs (p000123456): Arrow's cast would try every row before failing
    try:
        numbers = pc.cast(ids, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return ids
    return numbers if _written_canonically(ids, numbers) else ids


def _written_canonically(texts: pa.ChunkedArray, numbers: pa.ChunkedArray) -> bool:
    """Whether every text is `str(v)` of the int64 `v` Arrow's cast made of it.

    Arrow casts text of the forms `-?[0-9]+` and `0[xX][0-9a-fA-F]+` (tests/test_link.py checks this
    grammar over every short string). Without an `x`, each text is `str(v)` with optional leading zeros
    (`007`, `-0`), which only add characters: so the texts' total length equals the total of `len(str(v))`
    exactly when each is canonical. That sum is far cheaper than writing the numbers back as text and
    comparing, which is what is done when an `x` is present.
    """
    if any(_holds_x(chunk) for chunk in texts.chunks):
        return pc.all(pc.equal(pc.cast(numbers, texts.type), texts)).as_py() is not False
    written = pc.sum(pc.binary_length(texts)).as_py() or 0
    return written == _decimal_length(numbers.drop_null().to_numpy())


def _holds_x(chunk: pa.Array) -> bool:
    """Whether the text of one string chunk holds an `x` or `X` byte (the start of Arrow's hex form)."""
    data = chunk.buffers()[2]
    if len(chunk) == 0 or data is None:
        return False
    start, end = (int(o) for o in text_offsets(chunk)[[0, -1]])
    text = data.slice(start, end - start).to_pybytes()  # only this chunk's bytes are copied
    return b"x" in text or b"X" in text


def _decimal_length(values: np.ndarray) -> int:
    """Total of `len(str(v))` over int64 values: one character each, one per minus sign, and one more for
    each power of ten a magnitude reaches."""
    total = len(values)
    magnitude = values
    negative = values < 0
    if negative.any():
        total += int(np.count_nonzero(negative))
        # |v| in uint64, which holds |int64 min| where int64 overflows
        magnitude = np.where(negative, -(values + 1), values).astype(np.uint64) + negative
    top = int(magnitude.max()) if len(magnitude) else 0
    power = 10
    while power <= top:
        total += int(np.count_nonzero(magnitude >= power))
        power *= 10
    return total


def as_text(a: pa.ChunkedArray, kind: str) -> pa.Array:
    if kind == "int":
        a = pc.cast(pc.cast(a, pa.int64()), pa.string())
    elif not is_text(a.type):
        a = pc.cast(a, pa.string())
    a = a.combine_chunks()
    offsets, _lengths, present = present_ids(a)
    if ends_may_need_trimming(a, offsets, present):
        a = pc.utf8_trim_whitespace(a)
        present = present_ids(a)[2]
    if np.count_nonzero(present) != len(a) - a.null_count:  # a blank ID is a missing ID
        a = pc.if_else(pc.equal(a, ""), pa.scalar(None, a.type), a)
    return a


def _shape(arrays: list[pa.Array]) -> tuple[bytes, int] | None:
    """(prefix, width) of the first ID of any input: the form every other ID must have for the dense route."""
    for a in arrays:
        if len(a) == 0 or a.null_count == len(a):
            continue
        offsets, _lengths, present = present_ids(a)
        if present.any():
            at = int(np.argmax(present))
            first = bytes(np.frombuffer(a.buffers()[2], dtype=np.uint8)[int(offsets[at]):int(offsets[at + 1])])
            width = len(first) - len(first.rstrip(b"0123456789"))
            prefix = first[: len(first) - width]
            if not 0 < width <= _MAX_WIDTH or prefix != prefix.strip() or not prefix.isascii():
                return None
            return prefix, width
    return None


def _fixed_width_digits(arr: pa.ChunkedArray, prefix: bytes, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """IDs that are all `prefix` + `width` ASCII digits, as int64 numbers and a mask of rows with an ID
    (missing and "" are not IDs); None when some ID has another form.

    Works on the Arrow buffers directly, chunk by chunk and in slices that stay in cache: a (rows × width)
    byte matrix, checked and summed by column.
    """
    n = len(arr)
    value = np.zeros(n, dtype=np.int64)
    mask = np.zeros(n, dtype=bool)
    size = len(prefix) + width
    want = np.frombuffer(prefix, np.uint8)
    start = 0
    for a in arr.chunks:
        m = len(a)
        if m == 0 or a.null_count == m:
            start += m
            continue
        offsets, lengths, present = present_ids(a)
        if not (lengths[present] == size).all():
            return None
        data = np.frombuffer(a.buffers()[2], dtype=np.uint8)
        for lo in range(0, m, _SLICE):
            hi = min(lo + _SLICE, m)
            here = present[lo:hi]
            off = offsets[lo:hi + 1]
            if here.all() and int(off[-1] - off[0]) == (hi - lo) * size:
                block = data[int(off[0]):int(off[-1])].reshape(hi - lo, size)
            else:
                block = data[off[:-1][here][:, None] + np.arange(size)]
            if prefix and not (block[:, : len(prefix)] == want).all():
                return None
            number = _decimal(block, len(prefix))
            if number is None:
                return None
            if len(number) == hi - lo:
                value[start + lo:start + hi] = number
            else:
                value[start + lo:start + hi][here] = number
        mask[start:start + m] = present
        start += m
    return value, mask


_ZEROS = np.uint64(0x3030303030303030)
_HIGH_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_SIX = np.uint64(0x0606060606060606)


def _decimal(block: np.ndarray, start: int = 0) -> np.ndarray | None:
    """The numbers written from column `start` on by the rows of a C-contiguous (rows × size) byte matrix
    of ASCII digits; None if any byte there is not a digit.

    Eight digits at a time as one little-endian 64-bit word (read in place, unaligned, one per row):
    checked in three word operations, then combined in three multiply-shift-mask steps (pairs, then fours,
    then eights) — the usual SWAR parse.
    """
    block = np.ascontiguousarray(block)
    rows, size = block.shape
    width = size - start
    number = np.zeros(rows, dtype=np.int64)
    if rows == 0:
        return number
    whole = width - width % 8
    for j in range(0, whole, 8):
        word = np.ndarray((rows,), dtype="<u8", buffer=block, offset=start + j, strides=(size,)).copy()
        # A byte is a digit when its high nibble is 3 and adding 6 leaves it there (0x30..0x39).
        if ((word & _HIGH_NIBBLES) != _ZEROS).any() or (((word + _SIX) & _HIGH_NIBBLES) != _ZEROS).any():
            return None
        word -= _ZEROS  # a copy of the matrix's bytes: ours to change in place
        shifted = np.empty_like(word)
        for factor, shift, keep in ((10, 8, 0x00FF00FF00FF00FF), (100, 16, 0x0000FFFF0000FFFF),
                                    (10000, 32, 0xFFFFFFFF)):
            np.right_shift(word, np.uint64(shift), out=shifted)
            word *= np.uint64(factor)
            word += shifted
            word &= np.uint64(keep)
        number *= 10**8
        number += word.view(np.int64)
    if whole < width:
        rest = block[:, start + whole:] - np.uint8(ord("0"))  # a non-digit wraps above 9
        if (rest > 9).any():
            return None
        for j in range(width - whole):
            number *= 10
            number += rest[:, j]
    return number


Numbers = list[tuple[np.ndarray, np.ndarray]]  # per input: int64 values and the mask of rows with an ID


def integers(arrays: list[pa.ChunkedArray], kinds: list[str]) -> tuple[Numbers, str | None, int] | None:
    """Every input's IDs as int64 with their masks, with the text prefix and width when they were text."""
    if all(k == "int" for k in kinds):
        out = []
        for a in arrays:
            v = pc.cast(a, pa.int64()).combine_chunks()
            valid = v.is_valid().to_numpy(zero_copy_only=False) if v.null_count else np.ones(len(v), dtype=bool)
            # A copy: the caller codes these in place, and Arrow's buffers are shared and read-only.
            out.append((np.array(v.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64), valid))
        return out, None, 0
    if any(k == "int" for k in kinds):
        return None
    texts = [a if isinstance(a, pa.ChunkedArray) else pa.chunked_array([a]) for a in arrays]
    if not all(is_text(a.type) for a in texts):
        return None
    shape = _shape([chunk for a in texts for chunk in a.chunks])
    if shape is None:
        return None
    # Inputs are independent, and NumPy releases the GIL: one thread per core.
    with ThreadPoolExecutor(max_workers=max(1, min(len(texts), os.cpu_count() or 1))) as pool:
        found = list(pool.map(lambda a: _fixed_width_digits(a, *shape), texts))
    if any(f is None for f in found):
        return None
    return [f for f in found if f is not None], shape[0].decode("ascii"), shape[1]


@dataclass(frozen=True)
class DenseIds:
    """One input's IDs as int64 numbers (`mask`: rows holding an ID), their form, and their range."""

    kind: str  # "int", or "str": `prefix` followed by `width` digits
    prefix: bytes | None
    width: int
    value: np.ndarray
    mask: np.ndarray
    lo: int | None  # None when no row has an ID
    hi: int | None


def parse_dense(arr: pa.ChunkedArray) -> DenseIds | None:
    """One input's IDs as numbers, in the form its own first ID shows; None if they are not all of it.

    A pure function of the one input, so the streaming link runs it on the reading thread.
    """
    kind = id_kind(arr)
    prefix, width = None, 0
    if kind == "int":
        found = integers([arr], [kind])
        numbers = None if found is None else found[0][0]
    else:
        text = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
        if not all(is_text(c.type) for c in text.chunks):
            return None
        shape = _shape(list(text.chunks))
        if shape is None:
            return None
        prefix, width = shape
        numbers = _fixed_width_digits(text, prefix, width)
    if numbers is None:
        return None
    value, mask = numbers
    lo = hi = None
    if mask.any():
        big = np.iinfo(np.int64)
        lo, hi = int(value.min(where=mask, initial=big.max)), int(value.max(where=mask, initial=big.min))
    return DenseIds(kind, prefix, width, value, mask, lo, hi)
