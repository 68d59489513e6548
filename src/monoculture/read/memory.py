"""A memory estimate before reading, so a too-large audit stops with advice instead of being killed."""

from __future__ import annotations

import os
from collections.abc import Mapping

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
# inputs — and two inputs in flight (one being linked, the next being read) at IN_FLIGHT bytes per byte.
# The factors are fitted to the peaks measured on the benchmark ecosystems (bench/README.md).
STREAM_STATE = {"csv": 0.3, "csv.gz": 1.2, "parquet": 0.8}
IN_FLIGHT = {"csv": 4.0, "csv.gz": 16.0, "parquet": 6.0}


# Where every input is a Parquet file its footer says more than its size: the rows, and the bytes of each
# column decoded. The streaming link then holds, per distinct ID (at most the largest input's rows; a
# quarter more for IDs that only some inputs have), the ID's bytes and about STATE_PER_ID + 2 bytes per
# input (the ID table's header and index, the per-individual columns, an input's codes), and two inputs in
# flight, each IN_FLIGHT_DECODED times its decoded columns. Fitted to the peaks of six ID shapes at 10M × 10
# (dense, sparse and mixed-width text IDs, UUIDs, 32 and 64 hex characters; bench/README.md), each of which
# the estimate exceeds by 3 to 60 %: a file's size says nothing of how wide its IDs are once decoded.
SHARED_IDS, STATE_PER_ID, IN_FLIGHT_DECODED, BASE = 1.25, 125, 1.5, 150 * 2**20


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


def estimate_streaming_bytes(paths: list[str]) -> int:
    """Bytes the streaming link needs for `paths`: from the Parquet footers where every input is Parquet
    (see SHARED_IDS), else from the files' sizes (see STREAM_STATE)."""
    shapes = [parquet_shape(p) for p in paths]
    if paths and all(s is not None for s in shapes):
        rows, decoded, widest = (max(values) for values in zip(*shapes, strict=True))  # type: ignore[misc]
        per_id = widest + STATE_PER_ID + 2 * len(paths)
        return int(BASE + SHARED_IDS * rows * per_id + 2 * IN_FLIGHT_DECODED * decoded)
    largest = max((estimate_bytes([p], IN_FLIGHT) for p in paths), default=0)
    return estimate_bytes(paths, STREAM_STATE) + 2 * largest


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


def ids_one_at_a_time(paths: list[str], available: int | None = None) -> bool:
    """Whether the streaming link should hold one input's IDs at a time (`linking.IdGate`): when its estimate
    passes half the memory available. It then needs about one input's decoded IDs less, at some cost in
    time (10M × 10 with 64-hex IDs: 0.75 GB less, 1.2 s more; bench/README.md)."""
    available = available if available is not None else available_bytes()
    return available is not None and estimate_streaming_bytes(paths) > available / 2
