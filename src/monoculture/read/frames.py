"""DataFrames and Arrow tables as inputs: each is registered under a name (``dataframe:NAME``) while an audit
reads it, and every reader that opens a path asks here first. A pandas frame becomes an Arrow table once
(zero-copy for numeric columns, as `pyarrow.Table.from_pandas` can); an Arrow table is used as it is."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from ..errors import InputError

PREFIX = "dataframe:"
_FRAMES: dict[str, pa.Table] = {}


def is_frame(value: Any) -> bool:
    """A pandas DataFrame or an Arrow table (a table is not a path)."""
    return isinstance(value, pa.Table) or (type(value).__name__ == "DataFrame" and hasattr(value, "columns"))


def as_table(value: Any, name: str) -> pa.Table:
    """An Arrow table of `value` (pandas: its columns, without the index unless it is named)."""
    if isinstance(value, pa.Table):
        return value
    try:
        return pa.Table.from_pandas(value, preserve_index=None if any(value.index.names) else False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        raise InputError(f"cannot be read as a table ({str(exc).splitlines()[0][:120]})", file=PREFIX + name) from None


@contextmanager
def frames_kept(frames: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """Register the frames while the block runs; yields each one's path (``dataframe:NAME``)."""
    paths = {}
    for name, value in frames.items():
        path = PREFIX + str(name)
        _FRAMES[path] = as_table(value, str(name))
        paths[str(name)] = path
    try:
        yield paths
    finally:
        for path in paths.values():
            _FRAMES.pop(path, None)


def frame(path: str) -> pa.Table | None:
    """The registered table of a ``dataframe:NAME`` path; None for a file. A frame path that is not
    registered (a spec built for frames, run after they were released) is an error."""
    if not path.startswith(PREFIX):
        return None
    if path not in _FRAMES:
        raise InputError("is a DataFrame input no longer held: pass the frames to the audit call itself", file=path)
    return _FRAMES[path]


def frame_digest(table: pa.Table) -> str:
    """SHA-256 over the table's schema and buffers, read in place (a report records what was audited)."""
    h = hashlib.sha256(table.schema.to_string().encode())
    for column in table.columns:
        for chunk in column.chunks:
            for buffer in chunk.buffers():
                if buffer is not None:
                    h.update(memoryview(buffer))
    return h.hexdigest()
