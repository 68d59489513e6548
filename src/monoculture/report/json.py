"""JSON renderer: the stable contract scripts depend on (fields are added, never renamed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from ..measure.records import Records
from ..measure.result import Metric
from .json_records import INDENT, encode_basestring, records_json, scalar


def metric_dict(m: Metric) -> dict[str, Any]:
    out: dict[str, Any] = {"value": m.value}
    if m.reason is not None:
        out["reason"] = m.reason
    if m.ci is not None:
        out["ci"] = [m.ci[0], m.ci[1]]
        out["ci_method"] = m.ci_method
    if m.p_value is not None:
        out["p_value"] = m.p_value
    if m.p_adjusted is not None:
        out["p_adjusted"] = m.p_adjusted
    if m.flags:
        out["flags"] = list(m.flags)
    # A Metric with more fields (`SameWrongAnswer`) gives them all, as its schema says (`report.schema`).
    out |= {f.name: getattr(m, f.name) for f in dataclasses.fields(m) if f.name not in METRIC_FIELDS}
    return out


METRIC_FIELDS = frozenset(f.name for f in dataclasses.fields(Metric))


def _fields(obj: Any) -> dict[str, Any]:
    """A result dataclass's fields by name, without those marked to be left out when None."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)
            if not (f.metadata.get("omit_none") and getattr(obj, f.name) is None)}


def to_data(obj: Any) -> Any:
    """Plain JSON-ready data from the result dataclasses (Metric objects become metric dicts)."""
    if isinstance(obj, Metric):
        return metric_dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {name: to_data(value) for name, value in _fields(obj).items()}
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | Records):
        return [to_data(v) for v in obj]
    return obj


def _plain(obj: Any) -> Any:
    """`to_data` one level at a time, as the encoder meets each object: a report of a thousand
    decision-makers (half a million pairs) is never held twice, as objects and as plain data."""
    if isinstance(obj, Metric):
        return metric_dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _fields(obj)
    raise TypeError(f"{type(obj).__name__} is not part of a report")


def json_chunks(result: Any) -> Iterator[str]:
    """The JSON report in pieces, for writing as it is made (the same bytes as `render_json`)."""
    yield from encode(result, 0)
    yield "\n"


def render_json(result: Any) -> str:
    """The result as JSON; byte-identical for the same inputs and options (no timestamps).

    The text is what ``json.dumps(to_data(result), indent=2, ensure_ascii=False, allow_nan=False)`` gives
    (the tests hold it to that): the standard library's encoder, which with an indent runs in Python, took
    a minute over the half million pairs of a thousand decision-makers; this one encodes column-held
    records (`records.Records`) a block at a time from their columns."""
    return "".join(json_chunks(result))


def encode(o: Any, level: int) -> Iterator[str]:
    """`o` as indented JSON text in pieces, `level` levels deep (the layout of `json.JSONEncoder(indent=2)`)."""
    if isinstance(o, str):
        yield encode_basestring(o)
    elif o is None or o is True or o is False or isinstance(o, int | float):
        yield scalar(o)
    elif isinstance(o, Records):
        yield from records_json(o, level, encode)
    elif isinstance(o, list | tuple):
        yield from _list(o, level)
    elif isinstance(o, dict):
        yield from _dict(o, level)
    else:
        yield from encode(_plain(o), level)


def _list(items: list | tuple, level: int) -> Iterator[str]:
    if not items:
        yield "[]"
        return
    inner = "\n" + INDENT * (level + 1)
    yield "[" + inner
    for i, item in enumerate(items):
        if i:
            yield "," + inner
        yield from encode(item, level + 1)
    yield "\n" + INDENT * level + "]"


def _dict(d: dict, level: int) -> Iterator[str]:
    if not d:
        yield "{}"
        return
    inner = "\n" + INDENT * (level + 1)
    yield "{" + inner
    for i, (key, value) in enumerate(d.items()):
        yield ("," + inner if i else "") + encode_basestring(_key(key)) + ": "
        yield from encode(value, level + 1)
    yield "\n" + INDENT * level + "}"


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or key is True or key is False or isinstance(key, int | float):
        return scalar(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
