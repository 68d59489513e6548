"""Reading CSV (plain or gzip) and Parquet files into Arrow tables, with errors that name the file.

Paths only: Parquet is read from a path, never from an in-memory buffer, because pyarrow can abort at
interpreter exit after reading Parquet from a buffer (apache/arrow#34314). Standard input is CSV only.
"""

from __future__ import annotations

import csv
import glob
import gzip
import hashlib
import io
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import InputError
from .pipes import STDIN, arrow_owned, pipe_content, pipe_stream

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")


@dataclass(frozen=True)
class InputFile:
    """One file read by the audit, as recorded in every report."""

    path: str
    format: str
    sha256: str
    rows: int


def expand_paths(args: list[str]) -> list[str]:
    """Expand globs and directories (sorted) inside the tool, so results do not depend on the shell.

    A directory contributes its CSV and Parquet files; a glob with no match is an error.
    """
    out: list[str] = []
    for arg in args:
        if arg == STDIN or "://" in arg:  # URIs (hdfs://, s3a://) are for the engine that reads them
            out.append(arg)
        elif any(ch in arg for ch in "*?[") and not os.path.exists(arg):
            matches = sorted(glob.glob(arg))
            if not matches:
                raise InputError("no file matches this pattern", file=arg)
            out.extend(matches)
        elif os.path.isdir(arg):
            found = sorted(
                os.path.join(arg, f)
                for f in os.listdir(arg)
                if f.lower().endswith(PARQUET_SUFFIXES + CSV_SUFFIXES)
            )
            if not found:
                raise InputError("directory holds no .csv or .parquet file", file=arg)
            out.extend(found)
        else:
            out.append(arg)
    return out


def file_format(path: str) -> str:
    """'parquet' or 'csv', from the extension, else from the Parquet magic bytes."""
    if pipe_content(path) is not None:
        return "csv"
    low = path.lower()
    if low.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if path == STDIN or low.endswith(CSV_SUFFIXES):
        return "csv"
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return "csv"
    return "parquet" if head == b"PAR1" else "csv"


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_readable(path: str) -> None:
    if "://" in path and not os.path.exists(path):
        raise InputError("a URI: this engine reads local files; read URIs with --engine spark", file=path)
    if not os.path.exists(path):
        raise InputError("file not found", file=path)
    if (piped := pipe_content(path)) is not None:
        if not piped.text:
            raise InputError("file is empty (no header row)", file=path)
        return
    if os.path.isdir(path):
        raise InputError("is a directory, expected a CSV or Parquet file", file=path)
    if not os.access(path, os.R_OK):
        raise InputError("file is not readable (permission denied)", file=path)
    if os.path.getsize(path) == 0:
        raise InputError("file is empty (no header row)", file=path)


def delimiter(path: str) -> str:
    """The field separator of a CSV-family file, as every engine reads it: tab for .tsv, else comma."""
    return "\t" if ".tsv" in path.lower() else ","


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
        return _without_bom(arrow_owned(piped.text)), lambda: piped.sha256
    if path.lower().endswith(".gz"):
        with open(path, "rb") as fh:
            raw = fh.read()
        digest = hashlib.sha256(raw).hexdigest()
        try:
            text = arrow_owned(gzip.decompress(raw))
        except (OSError, EOFError) as exc:
            raise InputError(f"not a valid gzip file ({exc})", file=path) from None
        return _without_bom(text), lambda: digest
    try:
        # Read, not memory-mapped: a mapped file cut short while it is read kills the process (SIGBUS).
        with pa.OSFile(path) as fh:
            text = fh.read_buffer()
    except OSError as exc:
        raise InputError(f"cannot read ({exc})", file=path) from None
    hashing = _HASHER.submit(lambda: hashlib.sha256(memoryview(text)).hexdigest())
    return _without_bom(text), hashing.result


# A thread per core: the streaming link reads inputs on up to one thread per core, each hash beside its parse.
_HASHER = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="monoculture-sha256")


def _without_bom(text: pa.Buffer) -> pa.Buffer:
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
                # Read the way that keeps bad text as bytes, so _check_utf8 can name its column and row.
                return read_csv_buffer(text, path, columns)
            if newlines_in_values:
                raise _csv_error(path, exc, text) from None
    raise AssertionError("unreachable")


def read_header(path: str) -> list[str]:
    """Column names of a file without reading its rows (CSV: the first line; Parquet: the schema)."""
    if file_format(path) == "parquet":
        _check_readable(path)
        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"not a valid Parquet file ({str(exc).splitlines()[0][:100]})", file=path) from None
    if path == STDIN:
        raise InputError("internal: header of stdin is read with the table", file=path)
    _check_readable(path)
    header = _raw_header(path)
    if not header:
        raise InputError("file is empty (no header row)", file=path)
    if any("\x00" in h for h in header):
        raise InputError("binary content, not a CSV text file", file=path)
    return [h.strip() for h in header]


def require_columns(path: str, header: list[str], needed: list[str], what: dict[str, str]) -> None:
    """Raise naming the first needed column the file lacks, and listing what it has."""
    for col in needed:
        if col not in header:
            shown = ", ".join(h[:40] for h in header[:12]) + (", ..." if len(header) > 12 else "")
            role = what.get(col, "column")
            hint = "Name the right one with the matching option."
            if len(header) == 1 and any(d in header[0] for d in ";\t|"):
                sep = next(d for d in ";\t|" if d in header[0])
                hint = (f"The header looks {sep!r}-separated: monoculture reads comma-separated .csv and "
                        "tab-separated .tsv files.")
            raise InputError(f"{role} column not found; the file has: {shown}. {hint}", file=path, column=col)


def read_table(
    path: str, columns: list[str] | None = None, roles: dict[str, str] | None = None,
    categorical: Sequence[str] = (), as_text: Sequence[str] = (),
) -> tuple[pa.Table, InputFile]:
    """Read the named columns of one CSV/Parquet file (or CSV on stdin) into an Arrow table.

    Every named column must exist; `roles` says what each is for, so the error can say so. Text columns
    named in `categorical` (few distinct values: groups, labels) are read as dictionaries (Parquet usually
    stores them so; a CSV's text columns are encoded as parsed), so no value is hashed again. CSV columns
    named in `as_text` (IDs, groups) are read as the text written, never as numbers the parser guessed:
    `007` stays `007`, as in a warehouse that reads the CSV as text, and one file's zero-padded codes meet
    another's.
    """
    fmt = file_format(path)
    if path == STDIN:
        data = sys.stdin.buffer.read()
        if data.startswith(b"PAR1"):
            table = _parquet_from_bytes(data, columns, roles)
            info = InputFile(path="<stdin>", format="parquet", sha256=hashlib.sha256(data).hexdigest(),
                             rows=table.num_rows)
            return table, info
        if not data.strip():
            raise InputError("standard input is empty", file="<stdin>")
        table = _strip_names(read_csv_buffer(_without_bom(arrow_owned(data)), path, None,
                                              _raw_names(_raw_header_of(data, "<stdin>"), as_text)))
        _check_utf8(table, "<stdin>")
        if columns is not None:
            require_columns("<stdin>", table.column_names, columns, roles or {})
            table = table.select(columns)
        digest = hashlib.sha256(data).hexdigest()
        return table, InputFile(path="<stdin>", format="csv", sha256=digest, rows=table.num_rows)
    if columns is not None:
        require_columns(path, read_header(path), columns, roles or {})
    _check_readable(path)
    if fmt == "parquet":
        try:
            schema = pq.read_schema(path)
            as_dict = [c for c in categorical if c in schema.names
                       and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))]
            table = pq.read_table(path, columns=columns, read_dictionary=as_dict or None)
        except (pa.ArrowInvalid, OSError) as exc:
            first = str(exc).splitlines()[0][:100]
            raise InputError(f"not a valid Parquet file ({first})", file=path) from None
        digest = _sha256(path)
    else:
        text, digest_of = csv_text(path)
        raw = _raw_header(path)
        table = _strip_names(read_csv_buffer(text, path, None if columns is None else _raw_names(raw, columns),
                                              _raw_names(raw, as_text),
                                              _raw_names(raw, [c for c in as_text if c in categorical])))
        _check_utf8(table, path)
        digest = digest_of()
    return table, InputFile(path=path, format=fmt, sha256=digest, rows=table.num_rows)


def head_column(path: str, column: str, rows: int = 1024) -> pa.ChunkedArray | None:
    """The first `rows` values of one column (from CSV, as text), without reading the whole file; None when
    they cannot be had cheaply (a missing column, an unreadable file: the full read will say what is wrong)."""
    try:
        if file_format(path) == "parquet":
            batch = next(pq.ParquetFile(path).iter_batches(batch_size=rows, columns=[column]), None)
        else:
            source = pipe_stream(path, limit=1 << 20) or path  # a file: Arrow opens it (gzip by its suffix)
            reader = pacsv.open_csv(
                source, read_options=pacsv.ReadOptions(block_size=1 << 16, use_threads=False),
                parse_options=pacsv.ParseOptions(delimiter=delimiter(path)),
                convert_options=pacsv.ConvertOptions(include_columns=_header_names(path, [column]),
                                                     column_types=dict.fromkeys(_header_names(path, [column]) or [],
                                                                                pa.string()),
                                                     strings_can_be_null=True, quoted_strings_can_be_null=True))
            batch = reader.read_next_batch()
    except (pa.ArrowInvalid, pa.ArrowKeyError, OSError, StopIteration, InputError):
        return None
    return None if batch is None else pa.chunked_array([batch.column(0)]).slice(0, rows)


def _parquet_from_bytes(data: bytes, columns: list[str] | None, roles: dict[str, str] | None) -> pa.Table:
    """Parquet on stdin: buffered to a temporary file and read single-threaded from its path, because
    pyarrow can abort at exit after reading Parquet from an in-memory buffer (apache/arrow#34314)."""
    with tempfile.NamedTemporaryFile(suffix=".parquet") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            names = pq.read_schema(tmp.name).names
            if columns is not None:
                require_columns("<stdin>", list(names), columns, roles or {})
            return pq.read_table(tmp.name, columns=columns, use_threads=False)
        except (pa.ArrowInvalid, OSError) as exc:
            first = str(exc).splitlines()[0][:100]
            raise InputError(f"not a valid Parquet stream ({first})", file="<stdin>") from None


def _check_utf8(table: pa.Table, path: str) -> None:
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


def _header_names(path: str, columns: list[str] | None) -> list[str] | None:
    return None if columns is None else _raw_names(_raw_header(path), columns)


def _raw_names(raw_header: list[str], columns: Sequence[str]) -> list[str]:
    # Header cells may carry stray spaces; select by the raw names so " id" matches "id".
    by_stripped = {h.strip(): h for h in raw_header}
    return [by_stripped.get(c, c) for c in columns]


def _raw_header(path: str) -> list[str]:
    """The header row, parsed from the first line's bytes only (a bad byte further down is the
    row check's business, where it can be named with its row)."""
    piped = pipe_content(path)
    if piped is not None:
        first = io.BytesIO(piped.text).readline(1 << 20)
    else:
        opener = gzip.open if path.lower().endswith(".gz") else open
        try:
            with opener(path, "rb") as fh:  # type: ignore[operator]
                first = fh.readline(1 << 20)
        except (OSError, EOFError) as exc:
            raise InputError(f"cannot read ({exc})", file=path) from None
    return _raw_header_of(first, path)


def _raw_header_of(data: bytes, path: str) -> list[str]:
    """The header row of CSV text starting with `data` (its first line is read)."""
    first = io.BytesIO(data).readline(1 << 20)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("header is not UTF-8 text (is this a CSV file?)", file=path) from None
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(path)), [])
    except csv.Error as exc:
        raise InputError(f"cannot parse the header as CSV ({exc})", file=path) from None


def _strip_names(table: pa.Table) -> pa.Table:
    return table.rename_columns([n.strip() for n in table.column_names])
