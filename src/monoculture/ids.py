"""Individual IDs: the canonical form they are compared in, and one integer code per distinct ID.

IDs are compared as integers when every input stores them as integers (so `007` read by a CSV parser as 7
equals 7), otherwise as text with surrounding white space removed (see `link`).

Coding is where a large audit spends its time, so it takes the cheapest exact route:

- **dense**: integer IDs — or text IDs that all share one prefix followed by a fixed number of ASCII
  digits, like ``p000123456`` — become integers, and when those span a range not much wider than the
  number of rows, an ID's code is its offset in the range (no hashing at all);
- **hashed**: any other IDs go through one Arrow dictionary encoding of every input's IDs together.

Both give the same links: two IDs get the same code exactly when their canonical forms are equal (a fixed
prefix and width make the text → integer map one-to-one). Codes may leave gaps (offsets no input uses);
an individual is whoever some input's row codes to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# A dense range may be at most this many times the longest input, or _DENSE_FLOOR codes for small inputs
# (and never above 2^31): beyond it the per-code arrays would cost more than hashing saves.
DENSE_SPAN = 2
_DENSE_FLOOR = 1 << 20
_MAX_WIDTH = 18  # decimal digits that always fit in an int64


@dataclass(frozen=True)
class IdCodes:
    """Codes of every input's IDs (-1 where missing), the size of the code space, and how to decode."""

    codes: list[np.ndarray]
    keys: list[pa.Array]  # per input, values that sort like the canonical IDs (for tie-breaking)
    universe: int
    id_type: str  # how IDs were compared: "integer" or "string"
    method: str  # "dense" or "hashed"
    warnings: list[str]
    _values: pa.Array  # hashed: the distinct IDs (numbers when a prefix is set); dense: unused
    _offset: int = 0
    _prefix: str | None = None  # text IDs coded as numbers: prefix + zero-padded number
    _width: int = 0

    def decode(self, codes: np.ndarray) -> list[str]:
        """The canonical IDs of `codes` as text (used only when the user asks for IDs)."""
        if self.method == "hashed":
            numbers = self._values.take(pa.array(codes)).to_pylist()
        else:
            numbers = (codes.astype(np.int64) + self._offset).tolist()
        if self._prefix is None:
            return [str(v) for v in numbers]
        return [f"{self._prefix}{v:0{self._width}d}" for v in numbers]


def _id_kind(arr: pa.ChunkedArray) -> str:
    t = arr.type
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        vals = arr.drop_null().to_numpy()
        if len(vals) == 0 or np.all(np.mod(vals, 1) == 0):
            return "int"
    return "str"


def _as_text(a: pa.ChunkedArray, kind: str) -> pa.Array:
    if kind == "int":
        a = pc.cast(pc.cast(a, pa.int64()), pa.string())
    elif not pa.types.is_string(a.type) and not pa.types.is_large_string(a.type):
        a = pc.cast(a, pa.string())
    a = pc.utf8_trim_whitespace(a.combine_chunks())
    # A blank ID is a missing ID.
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, a.type), a).cast(pa.large_string())


def _fixed_width_digits(a: pa.Array, shape: tuple[bytes, int] | None) -> tuple[pa.Array, bytes, int] | None:
    """IDs that are all one ASCII prefix + a fixed number of digits, as int64 (missing and "" → null).

    Works on the Arrow buffers directly: one (rows × width) byte matrix, checked and summed by column.
    `shape` is the (prefix, width) every earlier input had; None until one had an ID. Returns the numbers
    and the shape (width 0 when this input has no ID either), or None when the IDs are not of that form.
    """
    n = len(a)
    if n == 0 or a.null_count == n:
        return pa.nulls(n, pa.int64()), *(shape or (b"", 0))
    off_type = np.int64 if pa.types.is_large_string(a.type) else np.int32
    _validity, off_buf, data_buf = a.buffers()
    offsets = np.frombuffer(off_buf, dtype=off_type, count=n + 1, offset=a.offset * np.dtype(off_type).itemsize)
    lengths = np.diff(offsets)
    present = lengths > 0
    if a.null_count:
        present &= a.is_valid().to_numpy(zero_copy_only=False)
    if not present.any():
        return pa.nulls(n, pa.int64()), *(shape or (b"", 0))
    data = np.frombuffer(data_buf, dtype=np.uint8)
    if shape is None:
        at = int(np.argmax(present))
        first = bytes(data[int(offsets[at]):int(offsets[at + 1])])
        width = len(first) - len(first.rstrip(b"0123456789"))
        shape = (first[: len(first) - width], width)
    prefix, width = shape
    size = len(prefix) + width
    if not 0 < width <= _MAX_WIDTH or prefix != prefix.strip() or not prefix.isascii():
        return None
    if not (lengths[present] == size).all():
        return None
    if present.all() and int(offsets[-1] - offsets[0]) == n * size:
        block = data[int(offsets[0]):int(offsets[-1])].reshape(n, size)
    else:
        block = data[offsets[:-1][present][:, None] + np.arange(size)]
    if prefix and not (block[:, : len(prefix)] == np.frombuffer(prefix, np.uint8)).all():
        return None
    digits = block[:, len(prefix):] - np.uint8(ord("0"))  # a non-digit wraps above 9
    if (digits > 9).any():
        return None
    value = np.zeros(len(block), dtype=np.int64)
    for j in range(width):
        value *= 10
        value += digits[:, j]
    if present.all():
        return pa.array(value, pa.int64()), prefix, width
    spread = np.zeros(n, dtype=np.int64)
    spread[present] = value
    return pa.array(spread, pa.int64(), mask=~present), prefix, width


def _integers(arrays: list[pa.ChunkedArray], kinds: list[str]) -> tuple[list[pa.Array], str | None, int] | None:
    """Every input's IDs as int64 (nulls kept), with the text prefix and width when they were text."""
    if all(k == "int" for k in kinds):
        return [pc.cast(a, pa.int64()).combine_chunks() for a in arrays], None, 0
    if any(k == "int" for k in kinds):
        return None
    out = []
    shape: tuple[bytes, int] | None = None
    for a in arrays:
        a = a.combine_chunks()
        if not pa.types.is_string(a.type) and not pa.types.is_large_string(a.type):
            return None
        found = _fixed_width_digits(a, shape)
        if found is None:
            return None
        number, prefix_seen, width_seen = found
        if width_seen:  # inputs with no ID at all say nothing about the shape
            shape = (prefix_seen, width_seen)
        out.append(number)
    if shape is None:
        return None
    prefix, width = shape[0].decode("ascii"), shape[1]
    return out, prefix, width


def code_ids(arrays: list[pa.ChunkedArray], files: list[str]) -> IdCodes:
    """Code the IDs of every input (sources, then the people file) in one code space."""
    kinds = [_id_kind(a) for a in arrays]
    lengths = [len(a) for a in arrays]
    integers = _integers(arrays, kinds)
    if integers is not None:
        values, prefix, width = integers
        id_type = "integer" if prefix is None else "string"
        ranges = [pc.min_max(v) for v in values]
        lows = [r["min"].as_py() for r in ranges if r["min"].as_py() is not None]
        highs = [r["max"].as_py() for r in ranges if r["max"].as_py() is not None]
        if lows:
            lo, span = min(lows), max(highs) - min(lows) + 1
            if span <= min(max(DENSE_SPAN * max(lengths), _DENSE_FLOOR), 2**31 - 1):
                codes = [np.asarray(pc.fill_null(pc.subtract(v, lo), -1).to_numpy(zero_copy_only=False),
                                    dtype=np.int64) for v in values]
                return IdCodes(codes, values, span, id_type, "dense", [], pa.array([], pa.int64()), lo, prefix, width)
        # Sparse: hashing int64 is still far cheaper than hashing text.
        return _hashed(values, lengths, id_type, [], prefix, width)
    warnings: list[str] = []
    if any(k == "int" for k in kinds):
        ints = sorted({f for f, k in zip(files, kinds, strict=True) if k == "int"})
        texts = sorted({f for f, k in zip(files, kinds, strict=True) if k == "str"})
        warnings.append(
            f"IDs are integers in {', '.join(ints)} but text in {', '.join(texts)}: all are compared as "
            "trimmed text, so '007' and '7' do not match"
        )
    return _hashed([_as_text(a, k) for a, k in zip(arrays, kinds, strict=True)], lengths, "string", warnings)


def _hashed(
    values: list[pa.Array], lengths: list[int], id_type: str, warnings: list[str],
    prefix: str | None = None, width: int = 0,
) -> IdCodes:
    """One hash pass over every input's IDs: codes per input (-1 for missing) and the distinct IDs."""
    encoded = pc.dictionary_encode(pa.concat_arrays(values))
    idx = encoded.indices.to_numpy(zero_copy_only=False)
    nulls = encoded.indices.is_null().to_numpy(zero_copy_only=False)
    codes = np.where(nulls, -1, idx).astype(np.int64)
    per_input = list(np.split(codes, np.cumsum(lengths)[:-1]))
    return IdCodes(per_input, values, len(encoded.dictionary), id_type, "hashed", warnings, encoded.dictionary, 0,
                   prefix, width)
