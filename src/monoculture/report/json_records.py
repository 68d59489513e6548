"""Column-held records (`measure.records.Records`) as indented JSON, encoded from their columns.

Each field becomes a list of value texts for a block of records; a record is then one `%` format of a
template holding its keys and indentation. The text is that of the generic encoder (`report.json.encode`)
over the records one by one (the tests compare the two).
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..measure.records import Field, Floats, Ints, Labels, Objects, Points, Records

INDENT = "  "
BLOCK = 8192  # records encoded at a time: their value texts are held until the block is written
encode_basestring: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def scalar(o: float | int | bool | None) -> str:
    """A number, boolean or null as JSON (floats by ``float.__repr__``; NaN and infinities refused)."""
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if o != o or o in (float("inf"), float("-inf")):
        raise ValueError(f"Out of range float values are not JSON compliant: {o!r}")
    return float.__repr__(o)


def records_json(records: Records[Any], level: int, encode: Callable[[Any, int], Iterator[str]]) -> Iterator[str]:
    """The records as a JSON list `level` levels deep; `encode` encodes what a field holds as objects."""
    if not len(records):
        yield "[]"
        return
    item = "\n" + INDENT * (level + 1)
    key = "\n" + INDENT * (level + 2)
    template = "{" + ",".join(key + encode_basestring(name).replace("%", "%%") + ": %s"
                              for name in records.fields) + item + "}"
    for start in range(0, len(records), BLOCK):
        stop = min(len(records), start + BLOCK)
        texts = [_texts(f, start, stop, level + 2, encode) for f in records.fields.values()]
        rows = zip(*texts, strict=True)
        yield ("[" if start == 0 else ",") + item + ("," + item).join(template % row for row in rows)
    yield "\n" + INDENT * level + "]"


def _texts(f: Field, start: int, stop: int, level: int, encode: Callable[[Any, int], Iterator[str]]) -> list[str]:
    """The JSON texts of one field's values for records start..stop-1, `level` levels deep."""
    if isinstance(f, Labels):
        labels = [encode_basestring(label) for label in f.labels]
        return [labels[c] for c in f.codes[start:stop].tolist()]
    if isinstance(f, Ints):
        values = [int.__repr__(v) for v in f.values[start:stop].tolist()]
        if f.missing is None:
            return values
        return ["null" if m else v for v, m in zip(values, f.missing[start:stop].tolist(), strict=True)]
    if isinstance(f, Floats):
        return [scalar(None if v != v else v) for v in f.values[start:stop].tolist()]
    if isinstance(f, Points):
        return _metric_texts(f, start, stop, level, encode)
    assert isinstance(f, Objects)
    return ["".join(encode(v, level)) for v in f.values[start:stop]]


def _metric_texts(f: Points, start: int, stop: int, level: int,
                  encode: Callable[[Any, int], Iterator[str]]) -> list[str]:
    """A `Points` field's metrics as the generic encoder writes `metric_dict` of each: the value, the reason
    where it is undefined, then the fields of the metric's subclass."""
    key = ",\n" + INDENT * (level + 1)
    head = "{\n" + INDENT * (level + 1) + '"value": '
    tail = "\n" + INDENT * level + "}"
    null = head + "null" + key + '"reason": '
    values = np.asarray(f.values[start:stop], dtype=float)
    extra = [""] * (stop - start)
    for name, column in (f.extra or {}).items():
        prefix = key + encode_basestring(name) + ": "
        extra = [e + prefix + t for e, t in zip(extra, _texts(column, start, stop, level + 1, encode), strict=True)]
    ends = [e + tail for e in extra] if f.extra else [tail] * (stop - start)
    undefined = np.flatnonzero(~np.isfinite(values)).tolist()
    if isinstance(f.reason, str) and len(undefined) == len(values) and not f.extra:
        return [null + encode_basestring(f.reason) + tail] * len(values)  # a metric not computed here
    out = [head + v for v in map(float.__repr__, values.tolist())]
    for i in undefined:
        out[i] = null + encode_basestring(f.reason_of(start + i))
    return [o + e for o, e in zip(out, ends, strict=True)]
