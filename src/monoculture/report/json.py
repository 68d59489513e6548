"""JSON renderer: the stable contract scripts depend on (fields are added, never renamed)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from ..measure.result import AuditResult, Metric


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
    if isinstance(obj, list | tuple):
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


def json_chunks(result: AuditResult) -> Iterator[str]:
    """The JSON report in pieces, for writing as it is made (the same bytes as `render_json`)."""
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False, default=_plain)
    yield from encoder.iterencode(result)
    yield "\n"


def render_json(result: AuditResult) -> str:
    """The result as JSON; byte-identical for the same inputs and options (no timestamps)."""
    return "".join(json_chunks(result))
