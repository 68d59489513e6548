"""A memory estimate before reading, so a too-large audit stops with advice instead of being killed."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import InputError
from .files import STDIN, file_format
from .frames import frame

# Bytes of working memory per byte on disk, measured on the sample and benchmark files (Arrow columns,
# ID hashing, the (N × k) failure matrices): CSV expands modestly, compressed Parquet several times.
EXPANSION = {"csv": 3.0, "csv.gz": 12.0, "parquet": 8.0}


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), else None (no check)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def estimate_bytes(paths: list[str], per_byte: Mapping[str, float] = EXPANSION) -> int:
    """Bytes needed for the local files among `paths`: each file's size × `per_byte` of its format."""
    total = 0.0
    for p in paths:
        if (held := frame(p)) is not None:
            total += held.nbytes  # in memory already: what linking adds is of this order
            continue
        if p == STDIN or not os.path.isfile(p):
            continue
        kind = file_format(p)
        if kind == "csv" and p.lower().endswith(".gz"):
            kind = "csv.gz"
        total += os.path.getsize(p) * per_byte[kind]
    return int(total)


# The streaming link (files layout) holds the per-individual state — about this many bytes per byte of all
# inputs — and the inputs in flight (the one being linked and those read ahead) at IN_FLIGHT bytes per byte.
# The factors are fitted to the peaks measured on the benchmark ecosystems (bench/README.md).
STREAM_STATE = {"csv": 0.3, "csv.gz": 1.2, "parquet": 0.8}
IN_FLIGHT = {"csv": 4.0, "csv.gz": 16.0, "parquet": 6.0}


# Where every input is a Parquet file its footer says more than its size: the rows, and the bytes of each
# column decoded. The streaming link then holds, per distinct ID (at most the largest input's rows; a
# quarter more for IDs that only some inputs have), the ID's bytes, about STATE_PER_ID bytes more (the ID
# table's record header and index) and a byte per input (the per-individual columns); per row of the input
# being linked, about STATE_PER_ROW bytes (its codes and the passes over them); and the inputs in flight,
# each IN_FLIGHT_DECODED times its decoded columns. With one input's IDs at a time (`linking.IdGate`), text
# IDs are coded as read, `text_table.ROWS_PER_CALL` rows at a time: in flight are the other columns of two
# inputs and that many rows of IDs. Fitted to the peaks of six ID shapes at 10M × 10 (dense, sparse and
# mixed-width text IDs, UUIDs, 32 and 64 hex characters) and of 32-hex IDs at 100M × 10 (bench/README.md),
# each of which the estimate exceeds by 5 to 55 %: a file's size says nothing of how wide its IDs are.
SHARED_IDS, STATE_PER_ID, STATE_PER_ROW, IN_FLIGHT_DECODED, BASE = 1.25, 30, 56, 1.75, 150 * 2**20


def parquet_shape(path: str) -> tuple[int, int, float] | None:
    """(rows, bytes of every column decoded, bytes per row of the widest column) from a Parquet file's
    footer; None for any other input."""
    if path == STDIN or frame(path) is not None or not os.path.isfile(path) or file_format(path) != "parquet":
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowInvalid, OSError):  # the reader says so, naming the file
        return None
    columns = [sum(meta.row_group(g).column(c).total_uncompressed_size for g in range(meta.num_row_groups))
               for c in range(meta.num_columns)]
    return meta.num_rows, sum(columns), max(columns, default=0) / max(meta.num_rows, 1)


def estimate_rows(path: str) -> int:
    """The rows of an input: from its footer (Parquet), in memory (a data frame), else its size over the
    bytes a line takes among its first 64 KiB (decompressed, for .gz: scaled by the bytes read for them)."""
    if (held := frame(path)) is not None:
        return len(held)
    if path == STDIN or not os.path.isfile(path):
        return 0
    if (shape := parquet_shape(path)) is not None:
        return shape[0]
    with open(path, "rb") as raw:
        if not path.lower().endswith(".gz"):
            sample, read = raw.read(1 << 16), raw.tell()
        else:
            import zlib

            inflate, sample, read = zlib.decompressobj(wbits=31), b"", 0
            while len(sample) < 1 << 16 and (chunk := raw.read(1 << 12)):
                sample += inflate.decompress(chunk)
                read += len(chunk)
    return math.ceil(os.path.getsize(path) * sample.count(b"\n") / read) if read else 0


def estimate_streaming_bytes(paths: list[str], ahead: int = 1, one_at_a_time: bool = False,
                             shapes: list[tuple[int, int, float] | None] | None = None) -> int:
    """Bytes the streaming link needs for `paths`, reading `ahead` inputs beside the one it links (with
    `one_at_a_time`, one input's IDs at a time): from the Parquet footers where every input is Parquet (see
    SHARED_IDS; `shapes`: each path's `parquet_shape`, when read already), else from the files' sizes (see
    STREAM_STATE)."""
    shapes = shapes if shapes is not None else [parquet_shape(p) for p in paths]
    if paths and all(s is not None for s in shapes):
        from .text_table import ROWS_PER_CALL

        rows, decoded, widest = (max(values) for values in zip(*shapes, strict=True))  # type: ignore[misc]
        state = BASE + SHARED_IDS * rows * (widest + STATE_PER_ID + len(paths)) + STATE_PER_ROW * rows
        if one_at_a_time:
            others = max(decoded - rows * widest, 0)
            return int(state + IN_FLIGHT_DECODED * (2 * others + min(rows, ROWS_PER_CALL) * widest))
        return int(state + (ahead + 1) * IN_FLIGHT_DECODED * decoded)
    largest = max((estimate_bytes([p], IN_FLIGHT) for p in paths), default=0)
    return estimate_bytes(paths, STREAM_STATE) + (ahead + 1) * largest


def check_memory(paths: list[str], available: int | None = None) -> None:
    """Stop before reading when the estimate exceeds 90% of the memory available now."""
    available = available if available is not None else available_bytes()
    need = estimate_bytes(paths)
    if available is not None and need > 0.9 * available:
        raise InputError(
            f"this audit needs about {need / 2**30:.1f} GiB of memory to read its inputs, but only "
            f"{available / 2**30:.1f} GiB is available. Read fewer columns, audit shards of the ID range "
            "separately (count, then audit {patterns}), or use {engine.engine=duckdb}, which spills to disk"
        )


def read_ahead(paths: list[str], available: int | None = None) -> int:
    """How many inputs the streaming link reads ahead of the one it links: three (every core reading while
    the link is light, and a reader never waiting for the link) when four inputs in flight fit in a quarter
    of the memory available, else one."""
    available = available if available is not None else available_bytes()
    largest = max((estimate_bytes([p], IN_FLIGHT) for p in paths), default=0)
    return 3 if available is not None and 4 * largest < available / 4 else 1


@dataclass(frozen=True)
class StreamingPlan:
    """How the streaming link reads its inputs, and the memory it then needs."""

    read_ahead: int  # inputs read beside the one being linked
    ids_one_at_a_time: bool  # each input's IDs read once the previous input's are coded (`linking.IdGate`)
    need: int  # bytes


def streaming_plan(paths: list[str], available: int | None = None) -> StreamingPlan:
    """Read ahead as `read_ahead` says; hold one input's IDs at a time (at some cost in time) when, reading
    ahead just one input, the estimate still passes half the memory available; and what that needs."""
    available = available if available is not None else available_bytes()
    ahead = read_ahead(paths, available)
    shapes = [parquet_shape(p) for p in paths]  # each footer read once for both estimates
    need = estimate_streaming_bytes(paths, ahead, shapes=shapes)
    if ahead == 1 and available is not None and need > available / 2:
        return StreamingPlan(ahead, True, estimate_streaming_bytes(paths, ahead, one_at_a_time=True, shapes=shapes))
    return StreamingPlan(ahead, False, need)
