"""The JSON Schema of the audit report, generated from the result dataclasses so it cannot drift."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from ..measure.result import SCHEMA_VERSION, AuditResult, Metric

METRIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One number: value is null when undefined, and reason then says why.",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {"type": ["number", "null"]},
        "reason": {"type": "string"},
        "ci": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        # -one-step: each replicate's model is one Newton step from the fit (the marginal Rasch null);
        # -fixed-beta: the replicates re-count the data under the fitted model (the local dependence lift).
        "ci_method": {"type": "string", "enum": [
            "wilson", *(f"bootstrap-{m}{how}" for m in ("percentile", "bca") for how in ("", "-one-step",
                                                                                        "-fixed-beta"))]},
        "p_value": {"type": "number", "minimum": 0, "maximum": 1},
        "p_adjusted": {"type": "number", "minimum": 0, "maximum": 1},
        "flags": {"type": "array", "items": {"type": "string"}},
    },
}


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if tp is Metric:
        return {"$ref": "#/$defs/Metric"}
    if isinstance(tp, type) and issubclass(tp, Metric):  # a Metric with a few more fields
        if tp.__name__ not in defs:
            hints = typing.get_type_hints(tp)
            extra = [f.name for f in dataclasses.fields(tp) if f.name not in METRIC_SCHEMA["properties"]]
            defs[tp.__name__] = METRIC_SCHEMA | {
                "description": " ".join((tp.__doc__ or "").split()), "required": ["value", *extra],
                "properties": METRIC_SCHEMA["properties"] | {f: _schema(hints[f], defs) for f in extra}}
        return {"$ref": f"#/$defs/{tp.__name__}"}
    if dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            hints = typing.get_type_hints(tp)
            fields = dataclasses.fields(tp)
            defs[name] = {
                "type": "object",
                "required": [f.name for f in fields if not f.metadata.get("omit_none")],
                "properties": {f.name: _schema(hints[f.name], defs) for f in fields},
            }
            if tp.__doc__:
                defs[name]["description"] = " ".join(tp.__doc__.split())
        return {"$ref": f"#/$defs/{name}"}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_schema(a, defs) for a in args]}
    if origin in (list, tuple):
        return {"type": "array", "items": _schema(args[0], defs) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(args[1], defs)}
    simple = {int: {"type": "integer"}, float: {"type": "number"}, str: {"type": "string"},
              bool: {"type": "boolean"}, type(None): {"type": "null"}}
    return simple.get(tp, {})


def report_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of `monoculture audit --format json`."""
    defs: dict[str, Any] = {"Metric": METRIC_SCHEMA}
    root = _schema(AuditResult, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"monoculture audit report (schema_version {SCHEMA_VERSION})",
        **root,
        "$defs": defs,
    }
