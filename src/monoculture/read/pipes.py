"""Pipes as inputs: `<(zcat dump.csv.gz)` in a shell script, or a named FIFO.

A pipe can be read only once, but an input's header and rows are read apart (and read again when IDs do not
code densely), so a pipe's bytes are read at its first use and kept while `pipes_kept` lasts.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa

from ..errors import InputError

STDIN = "-"


def arrow_owned(data: bytes) -> pa.Buffer:
    """A copy of `data` in Arrow's own memory. The CSV parser gets no Python object: its threads may release
    their input after `read_csv` returned, and releasing a Python object then takes the GIL, which aborts the
    process (std::terminate) when the interpreter is exiting."""
    out = pa.BufferOutputStream()
    out.write(data)
    return out.getvalue()


def pipe_stream(path: str, limit: int | None = None) -> pa.BufferReader | None:
    """A pipe's kept bytes (the first `limit` of them) as an Arrow stream for its CSV readers; None for a
    regular file, which Arrow opens itself."""
    piped = pipe_content(path)
    if piped is None:
        return None
    return pa.BufferReader(arrow_owned(piped.text if limit is None else piped.text[:limit]))


@dataclass(frozen=True)
class Piped:
    text: bytes  # decompressed when the pipe carried gzip
    sha256: str  # of the bytes as they arrived
    error: str | None = None  # what is wrong with them, said at every use (the bytes cannot be read again)


# Pipes being read, by (device, inode): a new pipe never meets an old one's bytes, even at a reused /dev/fd/N.
_PIPES: dict[tuple[int, int], Piped] = {}


def pipe_content(path: str) -> Piped | None:
    """The whole content of a pipe (`<(zcat dump.csv.gz)`, a named FIFO), read at first use and kept
    while `pipes_kept` lasts; None for a regular file. A pipe can be read only once, and an input's header
    and rows are read apart. Gzip is recognised by its magic bytes, since a pipe has no file extension."""
    if path == STDIN or "://" in path:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not (stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode)):
        return None
    key = (info.st_dev, info.st_ino)
    if key not in _PIPES:
        _PIPES[key] = _read_pipe(path)
    piped = _PIPES[key]
    if piped.error is not None:
        raise InputError(piped.error, file=path)
    return piped


def _read_pipe(path: str) -> Piped:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return Piped(b"", "", f"cannot read ({exc})")
    digest = hashlib.sha256(raw).hexdigest()
    text = raw
    if raw[:2] == b"\x1f\x8b":
        try:
            text = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            return Piped(b"", digest, f"not a valid gzip stream ({exc})")
    if text.startswith(b"PAR1"):
        return Piped(b"", digest, "Parquet cannot be read from a pipe: give the file's path (or send it on "
                                   "standard input as -)")
    return Piped(text, digest)


@contextmanager
def pipes_kept() -> Iterator[None]:
    """The pipes read inside the block keep their bytes until it ends (one audit's reading, one file's
    pseudonymisation)."""
    try:
        yield
    finally:
        _PIPES.clear()
