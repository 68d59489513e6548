"""Canonical forms of decision and label values, so `1`, `1.0`, `True` and `" true "` compare equal.

The canonical form of a value is a string token:

- missing (null, NaN, empty or blank string) → no token (missing);
- booleans and the strings "true"/"false" (any case) → "1" / "0";
- numbers, and strings that parse as finite numbers, → the shortest decimal form ("1.0" → "1",
  "0.50" → "0.5");
- any other string → itself with surrounding white space removed (case is kept: "Yes" ≠ "yes").

Work is done once per distinct value (a dictionary encoding), never once per row.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from .fingerprints import is_text
from .float32_text import float32_text


def canonical(value: object) -> str | None:
    """The canonical token of one value (see the module docstring), or None when missing."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _number(float(value))
    text = str(value).strip()
    if not text:
        return None
    low = text.lower()
    if low in ("true", "false"):
        return "1" if low == "true" else "0"
    try:
        num = float(text)
    except ValueError:
        return text
    if math.isnan(num):
        return None
    return _number(num) if math.isfinite(num) else text


def _number(num: float) -> str | None:
    if math.isnan(num):
        return None
    if num.is_integer() and abs(num) < 2**63:
        return str(int(num))
    return repr(num)


class Vocabulary:
    """A growing map from canonical token to a small integer code shared by several columns."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self._index: dict[str, int] = {}

    def code(self, token: str) -> int:
        if token not in self._index:
            self._index[token] = len(self.tokens)
            self.tokens.append(token)
        return self._index[token]

    def encode(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Codes (signed integers) of the canonical tokens of `values`; -1 where a value is missing."""
        return self.encode_tokens(values)[0]

    def encode_tokens(self, values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, set[str]]:
        """`encode`, and the set of tokens that occur (so no caller has to scan the codes again)."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
        if pa.types.is_integer(values.type) and len(values):
            small = self._encode_small_integers(values)
            if small is not None:
                return small
        mapping, indices = dictionary_codes(values, self.word_codes)
        used = np.bincount(indices, minlength=len(mapping))[:-1] > 0
        tokens = {self.tokens[c] for c in mapping[:-1][used].tolist() if c >= 0}
        return mapping.astype(self._dtype())[indices], tokens

    def word_codes(self, words: pa.Array) -> list[int]:
        """Codes of the canonical tokens of distinct values (-1 where missing), adding new tokens."""
        return [-1 if (t := canonical(v)) is None else self.code(t) for v in words.to_pylist()]

    def _dtype(self) -> type[np.integer]:
        """Codes are stored narrow (one per row per decision-maker: they dominate memory) while they fit."""
        return np.int16 if len(self.tokens) < 1 << 14 else np.int64

    def _encode_small_integers(self, values: pa.Array) -> tuple[np.ndarray, set[str]] | None:
        """Integer columns with a narrow range (0/1 decisions): arithmetic or a lookup table, no hashing."""
        bounds = pc.min_max(values)
        lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
        if lo is None:
            return np.full(len(values), -1, dtype=np.int64), set()
        if hi - lo >= 1 << 16:
            return None
        raw = (values.fill_null(lo) if values.null_count else values).to_numpy(zero_copy_only=False)
        if hi - lo <= 1:  # the minimum and maximum both occur: nothing to scan for
            low, high = self.code(str(lo)), self.code(str(hi))
            dtype = self._dtype()
            # In place in the narrow type: np.where with two scalars would allocate and widen.
            codes = (raw == hi).astype(dtype)
            if high != low + 1:
                codes *= dtype(high - low)
            if low:
                codes += dtype(low)
            occurring = {lo, hi}
        else:
            index = raw.astype(np.intp) - lo
            used = np.bincount(index, minlength=hi - lo + 1) > 0
            table = np.full(hi - lo + 1, -1, dtype=np.int64)
            for v in np.flatnonzero(used).tolist():
                table[v] = self.code(str(lo + v))
            codes = table.astype(self._dtype())[index]
            occurring = {lo + v for v in np.flatnonzero(used).tolist()}
        if values.null_count:
            nulls = values.is_null().to_numpy(zero_copy_only=False)
            codes[nulls] = -1
            if not (raw[~nulls] == lo).any():  # lo stood in for the nulls only
                occurring.discard(lo)
        return codes, {str(v) for v in occurring}


def group_text(words: pa.Array) -> pa.Array:
    """Group values as the text they compare as: text as written; numbers as a warehouse writes them.

    Floating-point values take Python's `repr` form, which is what DuckDB's `CAST(x AS VARCHAR)` writes
    ("1.0", "2.5", "1e+20"; a float32 from its shortest digits, or the double's where DuckDB's Grisu3 gives
    up, see `float32_text`), so a Parquet column that pandas stored as float64 (an integer column with a
    missing value) reads `1.0` in every engine and meets a CSV's `1.0`. Arrow's own cast would write "1"
    and "0.00001". Times and timestamps are written as DuckDB writes them: fractional seconds without
    trailing zeros ("12:30:05.5", "2020-01-01 00:00:00"), and a timestamp with a time zone as its UTC time
    followed by "+00" (DuckDB's engine runs in UTC; Arrow would write "12:30:05.500000"). Other types take
    Arrow's cast (integers, booleans as "true"/"false", dates and decimals as DuckDB writes them too). The
    Spark engine brings its float and zoned-timestamp group values to this text (`spark_values`). Missing
    stays missing; NaN is the group "nan" ("-nan" with its sign bit), as in DuckDB.
    """
    if pa.types.is_floating(words.type):
        single = words.type != pa.float64()
        return pa.array([None if v is None else _float_text(v, single) for v in words.to_pylist()], pa.string())
    if pa.types.is_timestamp(words.type) or pa.types.is_time(words.type):
        zoned = pa.types.is_timestamp(words.type) and words.type.tz is not None
        if zoned:  # Arrow keeps a zoned timestamp as UTC: dropping the zone leaves the UTC time
            words = pc.cast(words, pa.timestamp(words.type.unit))
        text = pc.replace_substring_regex(pc.cast(words, pa.string()), r"(\.[0-9]*[1-9])0+$|\.0+$", r"\1")
        return pc.binary_join_element_wise(text, "+00", "") if zoned else text
    if not is_text(words.type):
        return pc.cast(words, pa.string())
    return words


def _float_text(v: float, single: bool) -> str:
    if math.isnan(v):
        return "-nan" if math.copysign(1.0, v) < 0 else "nan"  # DuckDB keeps NaN's sign
    return float32_text(v) if single else repr(v)


def dictionary_codes(
    values: pa.Array | pa.ChunkedArray, code_words: Callable[[pa.Array], list[int]],
) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct value coded once: (`mapping`, `indices`) with `mapping[indices]` the rows' codes.

    `code_words` gets the distinct values (an Arrow array) and returns one code per value, -1 for missing;
    `mapping` ends with an extra -1 that the null rows' indices point at.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
    words = encoded.dictionary
    mapping = np.array([*code_words(words), -1], dtype=np.int64)
    indices = encoded.indices
    if indices.null_count:  # widened first: the null index len(words) may not fit Arrow's narrow index type
        indices = pc.cast(indices, pa.int32()).fill_null(len(words))
    # Arrow's own index width (often int32): narrower passes over the rows than intp.
    return mapping, indices.to_numpy(zero_copy_only=False)


def as_numbers(
    values: pa.ChunkedArray | pa.Array, file: str, column: str,
    need: str = "a threshold or top fraction needs numeric scores",
) -> np.ndarray:
    """Float64 values (NaN where missing). A value that is not a number is an error naming its row."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):  # csvscan's columns: the values a plain read gives
        values = values.dictionary.take(values.indices)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_boolean(values.type):
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_decimal(values.type):
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    texts = values.cast(pa.string()).to_pylist()
    out = np.full(len(texts), np.nan)
    for i, text in enumerate(texts):
        if text is None or not text.strip():
            continue
        try:
            out[i] = float(text)
        except ValueError:
            raise InputError(
                f"{need}; found a value that is not a number",
                file=file,
                column=column,
                row=i + 1,
            ) from None
    return out


def answer_options(column: pa.ChunkedArray, path: str, name: str) -> pa.ChunkedArray:
    """A column of each row's number of answer options as int32, -1 where empty (unknown): whole numbers of
    at least 2, written as numbers or as text. Anything else is an input error naming the first such row."""
    values = pc.cast(column, pa.string()) if not pa.types.is_integer(column.type) else column
    if not pa.types.is_integer(values.type):
        text = pc.utf8_trim_whitespace(values)
        ok = pc.match_substring_regex(text, r"^\+?[0-9]+(\.0*)?$")
        bad = pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(ok, False)))
        if pc.any(bad).as_py():
            row = int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0])
            raise InputError(f"takes whole numbers of answer options; row {row + 1} has {text[row].as_py()!r}",
                             file=path, column=name, row=row + 1)
        values = pc.cast(pc.cast(text, pa.float64()), pa.int64())
    counts = values.to_numpy(zero_copy_only=False) if values.null_count == 0 else pc.fill_null(values, -1).to_numpy()
    small = np.flatnonzero((counts < 2) & (counts != -1) if values.null_count else counts < 2)
    if len(small):
        raise InputError(f"takes at least 2 answer options; row {small[0] + 1} has {counts[small[0]]}",
                         file=path, column=name, row=int(small[0]) + 1)
    return pa.chunked_array([pa.array(np.asarray(counts, dtype=np.int32))])
