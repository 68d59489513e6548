"""Shared helpers: write small ecosystems to files, and brute-force metric definitions over rows."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, settings

from profiles import FULL

# Explicit `max_examples` in a test go through profiles.examples; these set the rest.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if FULL else "dev")


def write_ecosystem(
    directory: Path,
    fail: np.ndarray,
    *,
    present: np.ndarray | None = None,
    groups: dict[str, list[str]] | None = None,
    fmt: str = "csv",
    ids: list | None = None,
    shuffle_seed: int | None = None,
    names: list[str] | None = None,
) -> list[str]:
    """One file per decision-maker with columns id, decision, label (+ groups); decision = 1 - F, label = 1.

    Returns the NAME=PATH arguments. Rows where `present` is False are left out of that file.
    """
    n, k = fail.shape
    present = np.ones_like(fail, dtype=bool) if present is None else present
    ids = list(range(n)) if ids is None else ids
    names = names or [f"dm{i}" for i in range(k)]
    rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
    args = []
    for i, name in enumerate(names):
        frame = pd.DataFrame({"id": ids, "decision": 1 - fail[:, i].astype(int), "label": 1})
        for g, values in (groups or {}).items():
            frame[g] = values
        frame = frame[present[:, i]]
        if rng is not None:
            frame = frame.iloc[rng.permutation(len(frame))]
        path = directory / f"{name}.{fmt}"
        if fmt == "parquet":
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        else:
            frame.to_csv(path, index=False)
        args.append(f"{name}={path}")
    return args


def brute_force(fail: np.ndarray, present: np.ndarray | None = None, join: str = "inner") -> dict:
    """Every core metric straight from its definition, looping over individuals (metrics.md §1–§3)."""
    n, k = fail.shape
    present = np.ones_like(fail, dtype=bool) if present is None else present
    rows = [j for j in range(n) if present[j].sum() >= (k if join == "inner" else 2)]
    e = []
    for i in range(k):
        seen = [j for j in rows if present[j, i]]
        e.append(sum(fail[j, i] for j in seen) / len(seen) if seen else float("nan"))
    s = sum(all(fail[j, i] for i in range(k) if present[j, i]) for j in rows) / len(rows)
    s_ind = sum(np.prod([e[i] for i in range(k) if present[j, i]]) for j in rows) / len(rows)
    none = sum(not any(fail[j, i] for i in range(k) if present[j, i]) for j in rows) / len(rows)
    hist = [0.0] * (k + 1)
    for j in rows:
        hist[sum(int(fail[j, i]) for i in range(k) if present[j, i])] += 1 / len(rows)
    expected = [0.0] * (k + 1)
    for j in rows:
        seen = [i for i in range(k) if present[j, i]]
        for bits in itertools.product([0, 1], repeat=len(seen)):
            p = np.prod([e[i] if b else 1 - e[i] for i, b in zip(seen, bits, strict=True)])
            expected[sum(bits)] += p / len(rows)
    pairs = {}
    for a, b in itertools.combinations(range(k), 2):
        both = [j for j in rows if present[j, a] and present[j, b]]
        m = len(both)
        n11 = sum(fail[j, a] and fail[j, b] for j in both)
        n00 = sum(not fail[j, a] and not fail[j, b] for j in both)
        ea = sum(fail[j, a] for j in both) / m
        eb = sum(fail[j, b] for j in both) / m
        pa_, pb_ = 1 - ea, 1 - eb
        c_obs = (n11 + n00) / m
        c_exp = pa_ * pb_ + (1 - pa_) * (1 - pb_)
        kappa = (c_obs - c_exp) / (1 - c_exp) if abs(1 - c_exp) > 1e-12 else None
        lift = (n11 / m) / (ea * eb) if ea * eb > 0 else None
        pairs[(a, b)] = {"kappa": kappa, "lift": lift, "n": m}
    return {"n": len(rows), "e": e, "S": s, "S_ind": s_ind, "H": s / s_ind if s_ind > 0 else None,
            "none": none, "hist": hist, "expected": expected, "pairs": pairs}


@pytest.fixture
def sample_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "sample_data"


def sample_linked() -> tuple[list[int], int, int]:
    """The sample lenders' rows, how many applicants all five saw (the inner join) and how many distinct
    (failure pattern, race) rows those make — counted here with pandas, independently of the tool."""
    frames = []
    for name in ("lender_a.csv", "lender_b.csv", "lender_c.parquet", "lender_d.csv.gz", "lender_e.parquet"):
        path = Path(__file__).resolve().parent.parent / "sample_data" / name
        frames.append(pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path))
    linked = set.intersection(*(set(f["applicant_id"]) for f in frames))
    fails = [f[f["applicant_id"].isin(linked)].set_index("applicant_id").sort_index() for f in frames]
    pattern = sum((f["approved"] != f["repaid"]).astype(int) * 2**i for i, f in enumerate(fails))
    cells = pd.DataFrame({"pattern": pattern, "race": fails[0]["race"]}).drop_duplicates()
    return [len(f) for f in frames], len(linked), len(cells)
