"""Benchmark: auditing DataFrames already in memory against auditing the same data as Parquet files.

Five decision-makers × 200,000 people (one million rows), integer IDs, a group column; the default audit
(B = 1000, 9,999 permutations) in this process, each way, after one warm-up. The frames' time should be no
more than the files' (they skip reading). Run by hand:  python bench/bench_frames.py [--people 200000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import monoculture


def frames(people: int, k: int = 5, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B", "C", "D"], people)
    hard = rng.random(people) < 0.1
    out = {}
    for i in range(k):
        fail = rng.random(people) < np.where(hard, 0.6, 0.1)
        label = rng.integers(0, 2, people)
        out[f"dm{i}"] = pd.DataFrame({"id": np.arange(people), "decision": np.where(fail, 1 - label, label),
                                      "label": label, "group": group})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=200_000)
    args = ap.parse_args()
    data = frames(args.people)
    kw = dict(label="label", group="group")
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, frame in data.items():
            frame.to_parquet(Path(tmp) / f"{name}.parquet", index=False)
            paths.append(str(Path(tmp) / f"{name}.parquet"))
        monoculture.audit(paths, **kw, bootstrap=10, permutations=9)  # warm-up: imports, caches
        t = time.perf_counter()
        from_files = monoculture.audit(paths, **kw)
        files_s = time.perf_counter() - t
        t = time.perf_counter()
        from_frames = monoculture.audit(data, **kw)
        frames_s = time.perf_counter() - t
    same = from_files.overall.homogenization.value == from_frames.overall.homogenization.value
    rows = sum(len(f) for f in data.values())
    print(f"{rows:,} rows, {len(data)} decision-makers; same H both ways: {same}")
    print(f"  from Parquet files   {files_s:7.2f} s")
    print(f"  from DataFrames      {frames_s:7.2f} s  ({frames_s / files_s:.2f}× the files)")


if __name__ == "__main__":
    main()
