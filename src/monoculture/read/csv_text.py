"""CSV bytes: the delimiter, the text read once (gzip, pipes, stdin) and hashed beside the parse, Arrow's parse.

Errors name the file and, for a ragged row, its line, never its contents (a row may hold personal data).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputError
from .pipes import STDIN, arrow_owned, pipe_content

_DECLARED: list[str] = []  # the delimiter an audit was told (`declared_delimiter`), innermost last


def delimiter(path: str) -> str:
    """The field separator of a CSV-family file, as every engine reads it: the one the audit was told
    (``--delimiter``), else tab for .tsv and comma for the rest."""
    if _DECLARED:
        return _DECLARED[-1]
    return "\t" if ".tsv" in path.lower() else ","


@contextmanager
def declared_delimiter(sep: str | None) -> Iterator[None]:
    """Read every CSV input with `sep` while inside (None: by the files' suffixes).

    Held by the process, not passed down: the delimiter is read at the bottom of every reader, some on
    reader threads, and an audit reads its inputs one way. Audits run at once in one process must agree.
    """
    if sep is None:
        yield
        return
    _DECLARED.append(sep)
    try:
        yield
    finally:
        _DECLARED.pop()


def _first_ragged_row(data: bytes, delimiter: str) -> int | None:
    """1-based data row (header excluded) whose field count differs from the header's."""
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            return None
        for i, row in enumerate(reader, start=1):
            if row and len(row) != len(header):
                return i
    except csv.Error:
        return None
    return None


def csv_text(path: str) -> tuple[pa.Buffer, Callable[[], str]]:
    """The CSV text of a file as an Arrow buffer (decompressed, without a UTF-8 BOM) and a call that gives
    the file's sha256 — computed on another thread from the same bytes while the text is parsed (hashlib
    releases the GIL), so the hash is off the reading's critical path and always of the bytes parsed.

    Never a Python object: Arrow's threaded CSV reader may release its input on one of Arrow's own
    threads after `read_csv` returned, and releasing a Python object there takes the GIL — which aborts
    the process (std::terminate, exit 134) when the interpreter is already exiting, as it is right after
    an input error. The file is read once, for the hash and the parse.
    """
    if (piped := pipe_content(path)) is not None:
        return without_bom(arrow_owned(piped.text)), lambda: piped.sha256
    if path.lower().endswith(".gz"):
        with open(path, "rb") as fh:
            raw = fh.read()
        digest = hashlib.sha256(raw).hexdigest()
        try:
            text = arrow_owned(gzip.decompress(raw))
        except (OSError, EOFError) as exc:
            raise InputError(f"not a valid gzip file ({exc})", file=path) from None
        return without_bom(text), lambda: digest
    try:
        # Read, not memory-mapped: a mapped file cut short while it is read kills the process (SIGBUS).
        with pa.OSFile(path) as fh:
            text = fh.read_buffer()
    except OSError as exc:
        raise InputError(f"cannot read ({exc})", file=path) from None
    hashing = _HASHER.submit(lambda: hashlib.sha256(memoryview(text)).hexdigest())
    return without_bom(text), hashing.result


# A thread per core: the streaming link reads inputs on up to one thread per core, each hash beside its parse.
_HASHER = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="monoculture-sha256")


def without_bom(text: pa.Buffer) -> pa.Buffer:
    return text.slice(3) if text.size >= 3 and text[:3].to_pybytes() == b"\xef\xbb\xbf" else text


def _csv_error(path: str, exc: Exception, text: pa.Buffer) -> InputError:
    msg = str(exc)
    if "Expected" in msg and "columns" in msg:
        # pyarrow echoes the offending line, which may hold personal data: keep only the counts.
        counts = msg.split(":")[1].strip() if ":" in msg else msg
        row = _first_ragged_row(text.to_pybytes(), delimiter(path))
        return InputError(
            f"ragged CSV: {counts.split(':')[0]} (check the delimiter and quoting)",
            file=path,
            row=row,
        )
    if "Empty CSV" in msg:
        return InputError("file is empty (no header row)", file=path)
    if "gzip" in msg.lower() or "decompress" in msg.lower():
        return InputError("not a valid gzip file", file=path)
    return InputError(f"cannot parse as CSV ({msg.splitlines()[0][:120]})", file=path)


def read_csv_buffer(
    text: pa.Buffer, path: str, columns: list[str] | None, as_text: Sequence[str] = (),
    as_dictionary: Sequence[str] = (),
) -> pa.Table:
    """Parse CSV bytes; the columns named in `as_text` (raw header names) keep their values as written,
    those also in `as_dictionary` as dictionary-encoded text."""
    # Dictionary-encoded as parsed, in the parser's threads, for no more than plain text costs: each
    # distinct value is then coded once per block, not hashed again per row afterwards.
    coded = pa.dictionary(pa.int32(), pa.string())
    opts = pacsv.ConvertOptions(
        include_columns=columns,
        column_types={c: coded if c in as_dictionary else pa.string() for c in as_text},
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    read = pacsv.ReadOptions(use_threads=path != STDIN)
    # A line break inside a quoted value is read right either way when it falls inside one of the parser's
    # blocks; only where a block boundary falls on it does the parser need `newlines_in_values`, which makes
    # the whole parse ~15% dearer. Arrow detects that case (the parser "got out of sync with the chunker")
    # and fails rather than misread, so the cheap parse is tried first and any failure is parsed again the
    # careful way, whose result or error stands.
    for newlines_in_values in (False, True):
        parse = pacsv.ParseOptions(delimiter=delimiter(path), newlines_in_values=newlines_in_values)
        try:
            return pacsv.read_csv(pa.BufferReader(text), read_options=read, parse_options=parse,
                                  convert_options=opts)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowKeyError) as exc:
            if as_text and "invalid UTF8" in str(exc):
                # Read the way that keeps bad text as bytes, so check_utf8 can name its column and row.
                return read_csv_buffer(text, path, columns)
            if newlines_in_values:
                raise _csv_error(path, exc, text) from None
    raise AssertionError("unreachable")


def check_utf8(table: pa.Table, path: str) -> None:
    """pyarrow reads text that is not UTF-8 as binary: name the column and the first bad row instead."""
    for name in table.column_names:
        col = table[name]
        if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            for i, value in enumerate(col.to_pylist()):
                if value is not None:
                    try:
                        value.decode("utf-8")
                    except UnicodeDecodeError:
                        raise InputError(
                            "text is not UTF-8 (re-encode the file, e.g. iconv -f latin1 -t utf-8)",
                            file=path, column=name, row=i + 1,
                        ) from None
