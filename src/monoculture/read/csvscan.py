"""The streaming link's CSV reader: one pass in C from a file's bytes to what linking needs.

Arrow's CSV reader turns every cell into a typed value, and linking then turns the values back into
codes: ID text into numbers (`ids.parse_dense`), decisions, labels and group values into small codes of
their distinct values. For the usual audit dump — IDs of one dense form, a few distinct values in every
other column — the C extension `_csvscan` does both in one pass over the bytes, on one core, with the GIL
released: each ID straight to its number, every other wanted cell to a per-file code of its raw text.
Arrow then reads only the distinct raw values of each column, so each column gets exactly the type,
nulls and values a full parse gives (Arrow infers a column's type from the set of its values), as a
dictionary array over the rows.

`scan_table` declines — returns why, and the caller reads the file with Arrow — for anything outside a
narrow subset of CSV that it splits exactly as Arrow does (see `_csvscan.c`): quoted line breaks, bare
carriage returns, stray quotes, ragged rows, text that is not UTF-8, IDs not of one dense form, a header
that reads otherwise with Python's csv module. The error a bad file deserves comes from Arrow's read.
Without a C compiler at install time the extension is absent and every file is read by Arrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputError
from .csv_text import csv_text, delimiter, read_csv_buffer
from .files import InputFile, read_header
from .ids import DenseIds

try:
    from . import _csvscan  # type: ignore[attr-defined]
except ImportError:  # built without a C compiler
    _csvscan = None

AVAILABLE = _csvscan is not None
# What Arrow reads as null (monoculture's reads keep its default list): an ID equal to one is missing.
_NULLS = tuple(v.encode() for v in pacsv.ConvertOptions().null_values)
_SKIP, _VALUES, _ID = 0, 1, 2


@dataclass(frozen=True)
class Combinations:
    """Each row's index into the distinct combinations of its values (every wanted column but the ID), and
    each combination's index into each column's dictionary: the rows' values with the rows left out."""

    rows: np.ndarray  # (n,) int32
    parts: dict[str, np.ndarray]  # column name → (combinations,) index into its dictionary


@dataclass(frozen=True)
class Scanned:
    """One input read by the scan: its wanted columns but the ID (dictionary arrays), its IDs, its file,
    and the combinations of its values (None when they outgrew what the scan tracks)."""

    table: pa.Table
    ids: DenseIds
    info: InputFile
    combinations: Combinations | None = None


def scan_table(
    path: str, columns: Sequence[str], id_column: str, as_text: Sequence[str] = (),
    as_dictionary: Sequence[str] = (),
) -> Scanned | str:
    """Read `columns` (header names, stripped; `id_column` among them) of the CSV file at `path`, as
    `files.read_table` reads them with `as_text` and `as_dictionary` and `ids.parse_dense` parses the IDs;
    or the reason it declines."""
    if _csvscan is None:
        return "the C extension is not built"
    text, digest_of = csv_text(path)
    sep = delimiter(path)
    got = _csvscan.header(text, ord(sep))
    if isinstance(got, str):
        return got
    raw, start = got
    try:
        names = [f.decode("utf-8").strip() for f in raw]
    except UnicodeDecodeError:
        return "a header that is not UTF-8"
    if names != read_header(path) or any(names.count(c) != 1 for c in columns):
        return "a header that reads otherwise with Python's csv module, or repeats a wanted column"
    wanted = [c for c in names if c in columns and c != id_column]
    actions = bytes(_ID if n == id_column else _VALUES if n in wanted else _SKIP for n in names)
    got = None
    for bound in _row_bounds(text, start, len(names)):
        codes = [_empty(bound, np.int32) for _ in wanted]
        value, mask, combo = _empty(bound, np.int64), _empty(bound, np.bool_), _empty(bound, np.int32)
        got = _csvscan.scan(text, start, ord(sep), actions, _NULLS, codes, value, mask, combo)
        if got != _FULL:
            break
    if isinstance(got, str):
        return got
    rows, distinct, form, packed = got
    ids = _dense_ids(value[:rows], mask[:rows], form)
    if ids is None:
        return "IDs outside the dense forms"
    arrays = {}
    for name, words, code in zip(wanted, distinct, codes, strict=True):
        values = _distinct_values(words, name in as_text, name in as_dictionary)
        if values is None:
            return f"text that is not UTF-8 in column {name}"
        arrays[name] = _dictionary_column(code[:rows], values)
    del text
    combinations = None
    if packed is not None:
        bits, keys = packed
        words = np.frombuffer(keys, np.uint64)
        combinations = Combinations(combo[:rows], {
            name: ((words >> np.uint64(bits * v)) & np.uint64((1 << bits) - 1)).astype(np.int64)
            for v, name in enumerate(wanted)})
    info = InputFile(path=path, format="csv", sha256=digest_of(), rows=rows)
    return Scanned(pa.table(arrays), ids, info, combinations)


_FULL = "more rows than the output buffers hold"


def _empty(rows: int, dtype: type[np.generic]) -> np.ndarray:
    """An uninitialised array in memory from Arrow's pool, which keeps freed memory for the next input or
    audit (as it does for Arrow's own reads), where NumPy's large arrays are fresh pages from the OS each time."""
    return np.frombuffer(pa.allocate_buffer(rows * np.dtype(dtype).itemsize), dtype=dtype)


def _row_bounds(text: pa.Buffer, start: int, columns: int) -> list[int]:
    """Row counts to size the scan's buffers by: first an estimate from the rows' mean length in the first
    64 KiB with room to spare (buffers near the rows' size fit the memory the pool kept from the last input),
    then a bound no file exceeds (a row takes at least a byte per column)."""
    size = text.size - start
    safe = (size + 1) // columns + 1
    head = text.slice(start, min(size, 1 << 16)).to_pybytes()
    lines = head.count(b"\n")
    if lines < 16 or len(head) == size:
        return [safe]
    estimate = int(size / (len(head) / lines) * 1.25) + 1024
    return [estimate, safe] if estimate < safe else [safe]


def _dense_ids(value: np.ndarray, mask: np.ndarray, form: tuple | None) -> DenseIds | None:
    """The `DenseIds` that `ids.parse_dense` gives for these IDs after `ids.integer_ids`, from the form the
    scan found: a prefix and a fixed number of digits, or digits alone (integers when none has a leading
    zero, as `integer_ids` reads them; else text of one width, or no dense form)."""
    if form is None:  # no row has an ID: parse_dense finds no form either
        return None
    prefix, width, lo, hi, leading_zero, shortest, longest = form
    if prefix:
        return DenseIds("str", prefix, width, value, mask, lo, hi)
    if not leading_zero:
        return DenseIds("int", None, 0, value, mask, lo, hi)
    if shortest != longest:
        return None
    return DenseIds("str", b"", longest, value, mask, lo, hi)


def _distinct_values(words: list[bytes], text: bool, dictionary: bool) -> pa.Array | None:
    """Arrow's values of one column's distinct raw cells, by code: the cells re-quoted as a CSV of their
    own and read with the options of `files.read_table` (None when some cell is not UTF-8)."""
    quoted = b"".join(b'"' + w.replace(b'"', b'""') + b'"\n' for w in words)
    try:  # a single column: the delimiter never occurs outside the quotes
        table = read_csv_buffer(pa.py_buffer(b'"v"\n' + quoted), "values.csv", None, ["v"] if text else [],
                                ["v"] if dictionary else [])
    except (InputError, pa.ArrowException):  # a complaint about these cells is for Arrow to make on the file
        return None
    column = table.column(0)
    if pa.types.is_binary(column.type) or table.num_rows != len(words):
        return None
    values = column.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary.take(values.indices)
    return values


def _dictionary_column(codes: np.ndarray, values: pa.Array) -> pa.DictionaryArray:
    """The rows' values as a dictionary array over `values`; rows whose value is null are null rows, as
    in Arrow's own dictionary arrays."""
    validity = None
    if values.null_count:
        null = np.asarray(values.is_null().to_numpy(zero_copy_only=False))
        validity = pa.array(~null[codes]).buffers()[1]
    # The scan's own buffer, not a copy, and no check of the codes, which index `values` by construction.
    indices = pa.Array.from_buffers(pa.int32(), len(codes), [validity, pa.py_buffer(codes)])
    return pa.DictionaryArray.from_arrays(indices, values, safe=False)
