"""How many hash slices of the ID space the DuckDB engine counts one after another.

Each slice reads every input again, so fewer are faster; more hold less at once. The one-aggregation count
(`tally.tally_sql`) holds, per row of its slice, a partly aggregated row keyed by the ID's two hashes until
the rows of one ID meet; DuckDB's aggregation does not spill those reliably (past its memory limit it can
stop with "Out of Memory" instead), so the slices keep them within half its limit. The exact text-keyed
queries (`sql.emit_sql`), run when some ID repeats within an input, spill, and their slices keep the spill
within half the free temporary disk.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from collections.abc import Sequence

from ..read.files import expand_paths
from ..read.memory import available_bytes, estimate_bytes, estimate_rows

# Peak memory of the one-aggregation count per row of its slice, fitted to runs at 10^7 × 10 Parquet with
# 1, 2 and 4 slices (dense, 32- and 64-hex IDs; bench/README.md).
TALLY_BYTES_PER_ROW = 80

# Spill of the text-keyed queries per byte of input: a rough guess from one run at 10^8 × 10 Parquet whose
# join spilled about 5 bytes per input byte before it was stopped (bench/README.md); CSV holds the same rows
# in about 3× the bytes.
SPILL_PER_BYTE = {"parquet": 10.0, "csv": 3.5, "csv.gz": 3.5}

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def duckdb_memory_limit(memory_limit: str | None, available: int | None = None) -> str:
    """The memory limit the DuckDB engine sets: `memory_limit` as given (``--memory-limit``), else half the
    memory available now (4GB where that is unknown)."""
    if memory_limit:
        return memory_limit
    available = available if available is not None else available_bytes()
    return f"{max(1, int(0.5 * available / 2**30))}GB" if available else "4GB"


def size_bytes(size: str) -> int | None:
    """Bytes of a DuckDB size such as "8GB", "512 MiB" or "2.5 GB" (units of 1000 or of 1024, as DuckDB
    reads them); None for what this does not read."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", size)
    if match is None or match.group(2).lower() not in _UNITS:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def tally_slices(inputs: Sequence[str], memory_limit: str) -> int:
    """Slices that keep the one-aggregation count within half of DuckDB's `memory_limit`: every input's
    rows (from Parquet footers, else estimated from the files' first lines) × `TALLY_BYTES_PER_ROW`."""
    limit = size_bytes(memory_limit)
    rows = sum(estimate_rows(p) for p in expand_paths(list(inputs)))
    return max(1, math.ceil(rows * TALLY_BYTES_PER_ROW / (0.5 * limit))) if limit else 1


def disk_slices(inputs: Sequence[str]) -> int:
    """Slices that keep the spill of the text-keyed queries within half the free temporary disk."""
    need = estimate_bytes(expand_paths(list(inputs)), SPILL_PER_BYTE)
    free = shutil.disk_usage(tempfile.gettempdir()).free
    return max(1, math.ceil(need / (0.5 * free))) if free else 1
