"""Linking without sharing raw IDs: keyed pseudonyms (HMAC-SHA256) that every firm computes the same way.

Each firm runs ``monoculture pseudonymize`` with the key shared among the firms (and withheld from the
auditor) before sending its dump. The same person gets the same token in every firm's file, so the
audit links them; without the key, tokens cannot be reversed or recomputed from guessed IDs.

Canonical form of an ID before hashing (document it to every firm; all must use the same options):
the ID as text, Unicode NFC-normalised, with surrounding white space removed, case-folded with
``--casefold``; integer IDs written in decimal. Leading zeros are kept: ``007`` and ``7`` differ.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import InputError, UsageError
from ..read.files import file_format, read_header, require_columns
from ..read.pipes import pipe_stream, pipes_kept

MIN_KEY_BYTES = 32
BATCH_ROWS = 65_536


def keygen(path: str | os.PathLike, force: bool = False) -> None:
    """Write a fresh random 32-byte key (hex) readable by its owner only (mode 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise UsageError("key file exists; pass {keys.force} to replace it", file=str(path)) from None
    except OSError as exc:
        raise UsageError(f"cannot create the key file ({exc.strerror})", file=str(path)) from None
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    os.chmod(path, 0o600)


def load_key(path: str | os.PathLike) -> bytes:
    """The key's bytes: a hex file (as keygen writes) or raw bytes. Refuses keys shorter than 32 bytes."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError("key file not found", file=str(path)) from None
    except OSError as exc:
        raise UsageError(f"cannot read the key file ({exc.strerror})", file=str(path)) from None
    text = raw.strip()
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = raw
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(f"the key is {len(key)} bytes; at least {MIN_KEY_BYTES} are needed (use monoculture keygen)",
                         file=str(path))
    return key


def canonical_id(value: object, casefold: bool = False) -> str | None:
    """The documented canonical text of an ID (None when blank)."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    text = unicodedata.normalize("NFC", text).strip()
    if casefold:
        text = text.casefold()
    return text or None


def token(key: bytes, canonical: str) -> str:
    """HMAC-SHA256 of the canonical ID under the key, as 64 hex characters."""
    return hmac.digest(key, canonical.encode("utf-8"), hashlib.sha256).hex()


def pseudonymize(
    src: str, dst: str, *, id_column: str, key: bytes, casefold: bool = False, drop: tuple[str, ...] = (),
) -> int:
    """Stream `src` to `dst` (same format) with the ID column replaced by tokens and `drop` columns removed.

    Every other column passes through untouched (CSV cells as text). Returns the number of rows written.
    """
    with pipes_kept():
        return _pseudonymize(src, dst, id_column=id_column, key=key, casefold=casefold, drop=drop)


def _pseudonymize(src: str, dst: str, *, id_column: str, key: bytes, casefold: bool, drop: tuple[str, ...]) -> int:
    header = read_header(src)
    roles = {id_column: "ID ({columns.id})", **dict.fromkeys(drop, "{keys.drop}")}
    require_columns(src, header, [id_column, *drop], roles)
    keep = [c for c in header if c not in drop]
    fmt = file_format(src)
    rows = 0
    if fmt == "parquet":
        reader = pq.ParquetFile(src)
        writer = None
        try:
            for batch in reader.iter_batches(batch_size=BATCH_ROWS, columns=keep):
                out = _replace(pa.Table.from_batches([batch]), id_column, key, casefold, src, rows)
                if writer is None:
                    writer = pq.ParquetWriter(dst, out.schema)
                writer.write_table(out)
                rows += batch.num_rows
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            pq.write_table(pa.table({c: pa.array([], pa.string()) for c in keep}), dst)
        return rows
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()), include_columns=keep,
                                   strings_can_be_null=False)
    try:
        # A pipe's bytes were kept when its header was read: a pipe cannot be read again.
        source = pipe_stream(src) or src
        reader = pacsv.open_csv(source, read_options=pacsv.ReadOptions(block_size=1 << 22), convert_options=convert)
        with pacsv.CSVWriter(dst, reader.schema) as writer:
            for batch in reader:
                writer.write_table(_replace(pa.Table.from_batches([batch]), id_column, key, casefold, src, rows))
                rows += batch.num_rows
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot parse as CSV ({str(exc).splitlines()[0][:80]})", file=src) from None
    return rows


def _replace(table: pa.Table, id_column: str, key: bytes, casefold: bool, src: str, offset: int) -> pa.Table:
    tokens = []
    for i, value in enumerate(table[id_column].to_pylist()):
        canon = canonical_id(value, casefold)
        if canon is None:
            raise InputError("blank ID: it cannot be pseudonymised or linked", file=src, column=id_column,
                             row=offset + i + 1)
        tokens.append(token(key, canon))
    index = table.column_names.index(id_column)
    return table.set_column(index, id_column, pa.array(tokens, pa.string()))
