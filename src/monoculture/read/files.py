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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import InputError
from .csv_text import check_utf8, csv_text, delimiter, read_csv_buffer, without_bom
from .fingerprints import is_text
from .frames import frame, frame_digest
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
    log: dict | None = None  # evaluation logs: the format, the metric read and what reading left out


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
    """'parquet' or 'csv', from the extension, else from the Parquet magic bytes; 'dataframe' in memory."""
    if frame(path) is not None:
        return "dataframe"
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


def file_sha256(path: str) -> str:
    """SHA-256 of a file, read a megabyte at a time into one buffer."""
    h = hashlib.sha256()
    buffer = memoryview(bytearray(1 << 20))
    with open(path, "rb", buffering=0) as fh:
        while got := fh.readinto(buffer):
            h.update(buffer[:got])
    return h.hexdigest()


def _check_readable(path: str) -> None:
    if "://" in path and not os.path.exists(path):
        raise InputError("a URI: this engine reads local files; read URIs with {engine.engine=spark}", file=path)
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


def read_header(path: str) -> list[str]:
    """Column names of a file without reading its rows (CSV: the first line; Parquet: the schema)."""
    if (table := frame(path)) is not None:
        return list(table.column_names)
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
    """Raise naming the first needed column the file lacks, and listing what it has; or the first needed
    column its header names twice (which of the two would be read is not for us to guess)."""
    for col in needed:
        if header.count(col) > 1:
            at = [i + 1 for i, h in enumerate(header) if h == col]
            raise InputError(f"the header names this column {len(at)} times (columns {', '.join(map(str, at))}); "
                             "rename all but one, or drop the copies", file=path, column=col)
        if col not in header:
            shown = ", ".join(h[:40] for h in header[:12]) + (", ..." if len(header) > 12 else "")
            role = what.get(col, "column")
            hint = "Name the right one with the matching option."
            if len(header) == 1 and any(d in header[0] for d in ";\t|"):
                sep = next(d for d in ";\t|" if d in header[0])
                hint = (f"The header looks {sep!r}-separated: pass {{inputs.delimiter={sep!r}}} (without it, .csv "
                        "files are read as comma-separated and .tsv files as tab-separated).")
            raise InputError(f"{role} column not found; the file has: {shown}. {hint}", file=path, column=col)


def _parquet_by_row_group(file: pq.ParquetFile, columns: list[str] | None) -> pa.Table:
    """The file's columns, a row group at a time: `pq.read_table` builds each column whole, and on its way
    holds about twice the column (64-character IDs: 0.8 GB more for 10M rows); this holds one row group's."""
    if file.num_row_groups < 2:
        return file.read(columns=columns)
    return pa.concat_tables(_row_groups(file, columns))


def _row_groups(file: pq.ParquetFile, columns: list[str] | None) -> Iterator[pa.Table]:
    for g in range(file.num_row_groups):
        yield file.read_row_group(g, columns=columns)


# Takes a column as it is read (`read_table`'s `last`): given the file, the column's values a row group at a
# time and the file's rows, it returns the column to keep in the table, or None when it took what it needed.
ColumnTaker = Callable[[str, Iterator[pa.ChunkedArray], int], "pa.ChunkedArray | None"]


def _parquet_in_turn(path: str, file: pq.ParquetFile, columns: list[str] | None,
                     last: tuple[str, Callable[[], ColumnTaker | None]] | None) -> pa.Table:
    """The file's columns, that of `last` after its wait (see `read_table`), in the order asked."""
    if last is None or columns is None or last[0] not in columns:
        return _parquet_by_row_group(file, columns)
    column, wait = last
    first = _parquet_by_row_group(file, [c for c in columns if c != column])
    take = wait()
    held = (_parquet_by_row_group(file, [column])[column] if take is None
            else take(path, (group[column] for group in _row_groups(file, [column])), first.num_rows))
    return pa.table({c: held if c == column else first[c] for c in columns if c != column or held is not None})


def read_table(
    path: str, columns: list[str] | None = None, roles: dict[str, str] | None = None,
    categorical: Sequence[str] = (), as_text: Sequence[str] = (),
    last: tuple[str, Callable[[], ColumnTaker | None]] | None = None,
) -> tuple[pa.Table, InputFile]:
    """Read the named columns of one CSV/Parquet file (or CSV on stdin) into an Arrow table.

    `last` = (column, wait): a Parquet file's `column` is read after the others, once `wait()` returns
    (the streaming link holds one input's wide IDs at a time so); when it returns a `ColumnTaker`, that
    reads the column a row group at a time, and the table lacks the column if the taker keeps it.

    Every named column must exist; `roles` says what each is for, so the error can say so. Text columns
    named in `categorical` (few distinct values: groups, labels) are read as dictionaries (Parquet usually
    stores them so; a CSV's text columns are encoded as parsed), so no value is hashed again. CSV columns
    named in `as_text` (IDs, groups) are read as the text written, never as numbers the parser guessed:
    `007` stays `007`, as in a warehouse that reads the CSV as text, and one file's zero-padded codes meet
    another's.
    """
    fmt = file_format(path)
    if (held := frame(path)) is not None:
        if columns is not None:
            require_columns(path, held.column_names, columns, roles or {})
            held = held.select(columns)
        text = [f.name for f in held.schema if f.name in as_text and not pa.types.is_string(f.type)]
        held = held.cast(pa.schema([pa.field(f.name, pa.string()) if f.name in text else f for f in held.schema]))
        return held, InputFile(path=path, format="dataframe", sha256=frame_digest(held), rows=held.num_rows)
    if path == STDIN:
        data = sys.stdin.buffer.read()
        if data.startswith(b"PAR1"):
            table = _parquet_from_bytes(data, columns, roles)
            info = InputFile(path="<stdin>", format="parquet", sha256=hashlib.sha256(data).hexdigest(),
                             rows=table.num_rows)
            return table, info
        if not data.strip():
            raise InputError("standard input is empty", file="<stdin>")
        table = _strip_names(read_csv_buffer(without_bom(arrow_owned(data)), path, None,
                                              _raw_names(_raw_header_of(data, "<stdin>"), as_text)))
        check_utf8(table, "<stdin>")
        if columns is not None:
            require_columns("<stdin>", table.column_names, columns, roles or {})
            table = table.select(columns)
        digest = hashlib.sha256(data).hexdigest()
        return table, InputFile(path="<stdin>", format="csv", sha256=digest, rows=table.num_rows)
    if columns is not None:
        require_columns(path, read_header(path), columns, roles or {})
    _check_readable(path)
    if fmt == "parquet":
        # The digest is read beside the decoding (hashlib lets go of the GIL): after it, it added a third to
        # the reading of every input of 64-hex IDs, the streaming link's slowest step.
        with ThreadPoolExecutor(max_workers=1) as hasher:
            digested = hasher.submit(file_sha256, path)
            try:
                meta = pq.read_metadata(path)  # the footer, parsed once for the schema and the reads
                schema = meta.schema.to_arrow_schema()
                as_dict = [c for c in categorical if c in schema.names and is_text(schema.field(c).type)]
                file = pq.ParquetFile(path, metadata=meta, read_dictionary=as_dict or None)
                table = _parquet_in_turn(path, file, columns, last)
            except (pa.ArrowInvalid, OSError) as exc:
                first = str(exc).splitlines()[0][:100]
                raise InputError(f"not a valid Parquet file ({first})", file=path) from None
            digest = digested.result()
    else:
        text, digest_of = csv_text(path)
        raw = _raw_header(path)
        table = _strip_names(read_csv_buffer(text, path, None if columns is None else _raw_names(raw, columns),
                                              _raw_names(raw, as_text),
                                              _raw_names(raw, [c for c in as_text if c in categorical])))
        check_utf8(table, path)
        digest = digest_of()
    return table, InputFile(path=path, format=fmt, sha256=digest, rows=table.num_rows)


def head_column(path: str, column: str, rows: int = 1024) -> pa.ChunkedArray | None:
    """The first `rows` values of one column (from CSV, as text), without reading the whole file; None when
    they cannot be had cheaply (a missing column, an unreadable file: the full read will say what is wrong)."""
    try:
        if (held := frame(path)) is not None:
            return held[column].slice(0, rows) if column in held.column_names else None
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
