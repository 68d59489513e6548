"""The pattern table as an interchange file: `monoculture count -o patterns.parquet` writes it,
`monoculture audit --patterns a.parquet [b.parquet ...]` reads and sums it.

One Parquet row per (cell, failure pattern) that occurs: a ``count`` column, a ``group:<attribute>``
string column per group attribute, and ``fail:<name>`` / ``seen:<name>`` booleans per decision-maker.
The file's key-value metadata (``monoculture``) holds what the metrics need besides the counts: the
decision-makers in order, the failure rule, the join, the coverage counts and the whole-input counts
(parity mode). Tables of disjoint shards of one population (e.g. split by ID) add up to the table of
the whole; no individual ID is stored.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import InputError, UsageError
from ..link.answers import AnswerTable
from ..link.coverage import Coverage, InputResult, PeopleCoverage, SourceCoverage
from ..link.group_values import MISSING_GROUP
from .table import PatternTable

FORMAT = "monoculture-patterns/1"
META_KEY = b"monoculture"


@dataclass
class Counted:
    """A pattern table with everything `measure` needs that is not a count."""

    table: PatternTable
    rule: str
    join: str
    options: dict
    inputs: list[InputResult]
    coverage: Coverage
    warnings: list[str]
    answers: AnswerTable | None = None  # multi-class decisions: the linked individuals' answers (§11)


def to_arrow(c: Counted) -> pa.Table:
    t = c.table
    columns: dict[str, pa.Array] = {"count": pa.array(t.row_count, pa.int64())}
    for a, attr in enumerate(t.attributes):
        labels = np.array([cell[a] for cell in t.cell_labels], dtype=object)
        columns[f"group:{attr}"] = pa.array(labels[t.row_cell], pa.string())
    for i, name in enumerate(t.names):
        columns[f"fail:{name}"] = pa.array(t.fail[t.row_pattern, i])
        columns[f"seen:{name}"] = pa.array(t.present[t.row_pattern, i])
    meta = {
        "format": FORMAT, "names": list(t.names), "attributes": list(t.attributes), "rule": c.rule,
        "join": c.join, "options": c.options, "inputs": [asdict(i) for i in c.inputs],
        "coverage": asdict(c.coverage), "warnings": c.warnings,
        "input_counts": None if t.input_counts is None else {
            "cells": [list(cell) for cell in t.cell_labels], "values": t.input_counts.tolist()},
    }
    table = pa.table(columns)
    return table.replace_schema_metadata({META_KEY: json.dumps(meta, ensure_ascii=False, sort_keys=True)})


def write_patterns(c: Counted, path: str | os.PathLike) -> None:
    try:
        pq.write_table(to_arrow(c), path)
    except OSError as exc:
        raise UsageError(f"cannot write the pattern table ({exc.strerror or exc})", file=str(path)) from None


def read_patterns(paths: list[str]) -> Counted:
    """Read one or several pattern tables and sum them (they must describe the same decision-makers,
    groups, rule and join)."""
    if not paths:
        raise UsageError("{patterns} needs at least one file")
    parts = [_read_one(p) for p in paths]
    first_path, first = parts[0]
    for path, other in parts[1:]:
        for key in ("names", "attributes", "rule", "join"):
            if other[key] != first[key]:
                raise InputError(f"its {key} differ from those of {first_path}; only tables of the same "
                                 "audit can be summed", file=path)
    return _merge(parts)


def _read_one(path: str) -> tuple[str, dict]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0][:100]})", file=path) from None
    return path, parse(table, path)


def parse(table: pa.Table, path: str) -> dict:
    """The counts and metadata of a pattern table. Without monoculture's metadata (a table computed by the
    SQL of --emit-sql in a warehouse) the decision-makers and groups come from the column names, and the
    coverage holds only what the counts imply."""
    raw = (table.schema.metadata or {}).get(META_KEY)
    meta = json.loads(raw) if raw is not None else _bare_meta(table)
    if meta.get("format") != FORMAT:
        raise InputError(f"pattern table format {meta.get('format')!r}; this version reads {FORMAT}", file=path)
    names, attrs = meta["names"], meta["attributes"]
    needed = ["count", *[f"group:{a}" for a in attrs], *[f"{p}:{n}" for n in names for p in ("fail", "seen")]]
    missing = [c for c in needed if c not in table.column_names]
    if missing:
        raise InputError("pattern table lacks a column", file=path, column=missing[0])
    count_col = table["count"]
    if not pa.types.is_integer(count_col.type) or count_col.null_count:
        raise InputError("counts must be integers without nulls", file=path, column="count")
    counts = count_col.to_numpy()
    if (counts < 0).any():
        raise InputError("counts must be non-negative", file=path, column="count")
    meta["_count"] = counts.astype(np.int64)
    meta["_fail"] = _bools(table, [f"fail:{n}" for n in names], path)
    meta["_seen"] = _bools(table, [f"seen:{n}" for n in names], path)
    columns = [table[f"group:{a}"].to_pylist() for a in attrs]
    meta["_cells"] = ([tuple(v if v is not None else MISSING_GROUP for v in row) for row in zip(*columns, strict=True)]
                      if attrs else [()] * table.num_rows)
    if raw is None:
        meta["coverage"] = _implied_coverage(meta, path)
    return meta


def _bare_meta(table: pa.Table) -> dict:
    cols = table.column_names
    names = [c[5:] for c in cols if c.startswith("fail:")]
    if not names or "count" not in cols:
        raise InputError("not a pattern table: needs a 'count' column and 'fail:NAME'/'seen:NAME' columns "
                         "(write one with monoculture count, or with the SQL of --emit-sql)")
    seen_all = all(pc.all(table[f"seen:{n}"]).as_py() for n in names if f"seen:{n}" in cols)
    return {"format": FORMAT, "names": names, "attributes": [c[6:] for c in cols if c.startswith("group:")],
            "rule": "the failure rule of the SQL that computed this table (see its header)",
            "join": "inner" if seen_all else "outer", "options": {}, "inputs": [], "warnings": [
                "pattern table without monoculture metadata: coverage shows only the linked individuals"],
            "input_counts": None}


def _implied_coverage(meta: dict, path: str) -> dict:
    w, fail, seen = meta["_count"], meta["_fail"], meta["_seen"]
    n = int(w.sum())
    sources = [asdict(SourceCoverage(name=name, file=path, rows=int(w @ seen[:, i]), linked=int(w @ seen[:, i]),
                                     valid_rows=int(w @ seen[:, i]), failed_rows=int(w @ (fail[:, i] & seen[:, i]))))
               for i, name in enumerate(meta["names"])]
    return asdict(Coverage(join=meta["join"], id_type="unknown", sources=[], individuals_seen=n, linked=n,
                           excluded_by_join=0)) | {"sources": sources}


def _bools(table: pa.Table, columns: list[str], path: str) -> np.ndarray:
    out = np.zeros((table.num_rows, len(columns)), dtype=bool)
    for i, c in enumerate(columns):
        col = table[c]
        if not pa.types.is_boolean(col.type) or col.null_count:
            raise InputError("must be a boolean column without nulls", file=path, column=c)
        out[:, i] = col.to_numpy(zero_copy_only=False)
    return out


def _merge(parts: list[tuple[str, dict]]) -> Counted:
    first = parts[0][1]
    names, attrs = first["names"], first["attributes"]
    labels = sorted({c for _, m in parts for c in m["_cells"]} | {
        tuple(c) for _, m in parts if m["input_counts"] for c in m["input_counts"]["cells"]})
    index = {c: i for i, c in enumerate(labels)}
    cell = np.concatenate([np.array([index[c] for c in m["_cells"]], dtype=np.int64) for _, m in parts])
    table = PatternTable.from_matrix(
        names, np.concatenate([m["_fail"] for _, m in parts]), np.concatenate([m["_seen"] for _, m in parts]),
        cell, labels, attrs, _input_counts(parts, labels, len(names)),
        weights=np.concatenate([m["_count"] for _, m in parts]).astype(float),
    )
    warnings: list[str] = []
    for _, m in parts:
        warnings += [w for w in m["warnings"] if w not in warnings]
    inputs = [InputResult(**i) for _, m in parts for i in m["inputs"]]
    return Counted(table, first["rule"], first["join"], first["options"] | {"patterns": [p for p, _ in parts]},
                   inputs, _sum_coverage([m["coverage"] for _, m in parts]), warnings)


def _input_counts(parts: list[tuple[str, dict]], labels: list[tuple], k: int) -> np.ndarray | None:
    if any(m["input_counts"] is None for _, m in parts):
        return None
    out = np.zeros((k, len(labels), 3), dtype=np.int64)
    index = {c: i for i, c in enumerate(labels)}
    for _, m in parts:
        values = np.asarray(m["input_counts"]["values"], dtype=np.int64)
        for j, c in enumerate(m["input_counts"]["cells"]):
            out[:, index[tuple(c)], :] += values[:, j, :]
    return out


def _sum_coverage(items: list[dict]) -> Coverage:
    """Coverage of shards added up: every count sums, decision-maker by decision-maker."""
    sources: dict[str, SourceCoverage] = {}
    ints = [f.name for f in fields(SourceCoverage) if f.name not in ("name", "file")]
    for cov in items:
        for s in cov["sources"]:
            if s["name"] not in sources:
                sources[s["name"]] = SourceCoverage(**s)
                continue
            acc = sources[s["name"]]
            for f in ints:
                setattr(acc, f, getattr(acc, f) + s[f])
            if s["file"] not in acc.file.split(" + "):
                acc.file = f"{acc.file} + {s['file']}"
    people = None
    if all(c["people"] for c in items):
        p0 = items[0]["people"]
        people = PeopleCoverage(p0["file"], *(sum(c["people"][f] for c in items)
                                             for f in ("rows", "matched", "not_matched", "linked_without_row")))
    kinds = {c["id_type"] for c in items}

    def total(key: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in items:
            for a, n in c[key].items():
                out[a] = out.get(a, 0) + n
        return out

    return Coverage(
        join=items[0]["join"], id_type=kinds.pop() if len(kinds) == 1 else "mixed",
        sources=list(sources.values()),
        individuals_seen=sum(c["individuals_seen"] for c in items), linked=sum(c["linked"] for c in items),
        excluded_by_join=sum(c["excluded_by_join"] for c in items), people=people,
        group_conflicts=total("group_conflicts"), missing_group=total("missing_group"),
    )


def from_arrow(table: pa.Table, source: str = "<query result>") -> Counted:
    """A pattern table held in Arrow (e.g. the result of the --emit-sql query) as a `Counted`."""
    return _merge([(source, parse(table, source))])
