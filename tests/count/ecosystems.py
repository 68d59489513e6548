"""Ecosystems and comparisons the engine tests share (the memory, DuckDB and Spark engines alike)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monoculture.spec import FailureRule

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
LENDERS = [str(SAMPLE / f) for f in
           ("lender_a.csv", "lender_b.csv", "lender_c.parquet", "lender_d.csv.gz", "lender_e.parquet")]
KW = {"id_column": "applicant_id", "decision": "approved", "label": "repaid", "groups": ["race", "sex"]}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monoculture", *args], capture_output=True, cwd=ROOT,
                          env={**os.environ}, timeout=120)


def table_dict(table) -> dict:
    """{(cell labels, fail bits, seen bits): count} — a pattern table independent of row order."""
    out = {}
    for cell, p, n in zip(table.row_cell, table.row_pattern, table.row_count, strict=True):
        key = (table.cell_labels[cell], tuple(table.fail[p]), tuple(table.present[p]))
        out[key] = out.get(key, 0) + int(n)
    return out


def without(data: dict, *keys: str) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


def random_ecosystem(tmp_path: Path, seed: int, people: bool) -> tuple[list[str], str | None]:
    """Four decision-makers with messy but valid values: 1/0, 1.0, ' true ', missing rows and cells; one
    Parquet file stores decisions as integers and labels as booleans (the SQL's one-cast path)."""
    rng = np.random.default_rng(seed)
    n = 300
    ids = [f"p{j:04d}" for j in range(n)]
    label = rng.integers(0, 2, n)
    group = rng.choice(["x", "y", "z"], n)
    args = []
    for i in range(4):
        decision = np.where(rng.random(n) < 0.75, label, 1 - label).astype(object)
        spelled = rng.random(n)
        decision = np.where(spelled < 0.1, np.where(decision == 1, " true ", "false"),
                            np.where(spelled < 0.2, np.where(decision == 1, "1.0", "0.0"), decision))
        frame = pd.DataFrame({"id": ids, "decision": decision, "label": label,
                              "score": rng.random(n).round(3), "group": group})
        frame.loc[rng.random(n) < 0.05, "decision"] = None
        frame = frame[rng.random(n) < 0.9].sample(frac=1, random_state=seed + i)
        path = tmp_path / f"dm{i}.{'parquet' if i in (1, 3) else 'csv'}"
        if i == 3:
            typed = frame.assign(
                decision=pd.array([None if pd.isna(v) else int(float(str(v).strip().lower() in ("true", "1", "1.0")))
                                   for v in frame["decision"]], dtype="Int8"),
                label=frame["label"].astype(bool))
            pq.write_table(pa.Table.from_pandas(typed, preserve_index=False), path)
        elif i == 1:
            frame = frame.assign(decision=frame["decision"].astype(str).where(frame["decision"].notna(), None))
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        else:
            frame.to_csv(path, index=False)
        args.append(f"dm{i}={path}")
    people_path = None
    if people:
        people_path = str(tmp_path / "people.csv")
        pd.DataFrame({"id": ids, "group": group}).iloc[: n - 10].to_csv(people_path, index=False)
    return args, people_path


RULES = [
    FailureRule("error"),
    FailureRule("outcome", unfavorable="0"),
    # The SQL counts false negatives and positives among everyone (the memory engine's default is among
    # the people each rule can fail: tests/link/test_population.py).
    FailureRule("false-negative", population="everyone"),
    FailureRule("false-positive", favorable="1", population="everyone"),
    FailureRule("error", threshold=0.4),
    FailureRule("outcome", threshold=0.6, lower_is_favorable=True, thresholds={"dm1": 0.3}),
]




def messy_ecosystem(tmp_path: Path, seed: int, repeats: bool = True) -> list[str]:
    """Three decision-makers whose rows break every row check: blank and missing IDs, missing decisions
    and labels, IDs given twice (some with the same row, some with another decision or group value; not
    when `repeats` is False), group values that another input gives otherwise; CSV and Parquet."""
    rng = np.random.default_rng(seed)
    n = 200
    out = []
    for i in range(3):
        chosen = rng.permutation(n)[: n - 15]
        ids = np.array([f"u{j:03d}" for j in chosen], dtype=object)
        label = rng.integers(0, 2, len(ids)).astype(object)
        decision = np.where(rng.random(len(ids)) < 0.7, label, 1 - label).astype(object)
        group = np.where(chosen % 3 == 0, "x", "y").astype(object)
        if i == 2:  # the last input gives a few individuals the other value
            group = np.where(rng.random(len(ids)) < 0.04, np.where(group == "x", "y", "x"), group)
        frame = pd.DataFrame({"id": ids, "decision": decision, "label": label, "group": group})
        frame.loc[rng.random(len(ids)) < 0.04, "decision"] = None
        frame.loc[rng.random(len(ids)) < 0.04, "label"] = None
        frame.loc[rng.random(len(ids)) < 0.03, "id"] = rng.choice([None, "", "  "])
        repeated = frame.sample(n=6, random_state=seed + i).assign(
            decision=lambda f: f["decision"].where(rng.random(len(f)) < 0.5, 1),
            group=lambda f: f["group"].where(rng.random(len(f)) < 0.7, "z"))
        frame = pd.concat([frame, repeated] if repeats else [frame]).sample(frac=1, random_state=seed + 10 + i)
        path = tmp_path / f"m{i}.{'parquet' if i == 1 else 'csv'}"
        if i == 1:
            frame = frame.astype({"decision": "Int64", "label": "Int64"})
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        else:
            frame.to_csv(path, index=False)
        out.append(str(path))
    return out


def complaint(exc: pytest.ExceptionInfo) -> tuple:
    """An input error's file, column and message, without the external engines' hint on row numbers."""
    return exc.value.file, exc.value.column, exc.value.message.split(" ({engine.engine=memory}")[0]


