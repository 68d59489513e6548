"""JSON renderer: the stable contract scripts depend on (fields are added, never renamed)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ..measure.result import AuditResult, Metric, SameWrongAnswer


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
    if isinstance(m, SameWrongAnswer):
        out |= {"chance": m.chance, "both_wrong": m.both_wrong, "same": m.same}
    return out


def to_data(obj: Any) -> Any:
    """Plain JSON-ready data from the result dataclasses (Metric objects become metric dicts)."""
    if isinstance(obj, Metric):
        return metric_dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if not (f.metadata.get("omit_none") and getattr(obj, f.name) is None)}
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_data(v) for v in obj]
    return obj


def render_json(result: AuditResult) -> str:
    """The result as JSON; byte-identical for the same inputs and options (no timestamps)."""
    return json.dumps(to_data(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
