"""Benchmark: a crowd-judgment ecosystem shaped like Dressel & Farid (2018) — many workers, few per item.

Items × workers, each item judged by `per_item` workers drawn at random; a wide CSV with a column per
worker and a blank where the worker was not shown the item, plus the truth. The audit is the one a user
would run: `--decision-columns 'w*' --label truth --join outer`, default intervals (B = 1000 bootstrap,
9,999 permutations), JSON out. Baselines measured in the same run:
  - reading the file with pandas (the floor any tool pays);
  - the naive pandas answer to the two questions asked of such data: each worker's accuracy and the
    histogram of how many of an item's workers failed it, by coverage (no intervals, no baseline).
Prints seconds and ratios. Run by hand:  python bench/bench_crowd.py [--items 1000 --workers 400 --per-item 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def write_crowd(path: Path, items: int, workers: int, per_item: int, seed: int = 0) -> None:
    """A wide file: id, truth, then w000..; an item's hardness makes its workers' errors correlated."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, items)
    hard = rng.beta(2, 5, items)  # P(a worker errs on this item)
    skill = rng.normal(0, 0.5, workers)
    cells = np.full((items, workers), "", dtype=object)
    for i in range(items):
        who = rng.choice(workers, per_item, replace=False)
        p = 1 / (1 + np.exp(-(np.log(hard[i] / (1 - hard[i])) - skill[who])))
        wrong = rng.random(per_item) < p
        cells[i, who] = np.where(wrong, 1 - truth[i], truth[i]).astype(str)
    frame = pd.DataFrame(cells, columns=[f"w{j:03d}" for j in range(workers)])
    frame.insert(0, "truth", truth)
    frame.insert(0, "id", np.arange(items))
    frame.to_csv(path, index=False)


def naive(path: Path) -> tuple[float, float]:
    """(seconds to read, seconds to read and answer) with pandas."""
    t0 = time.perf_counter()
    frame = pd.read_csv(path)
    t_read = time.perf_counter() - t0
    decisions = frame.filter(like="w")
    wrong = decisions.ne(frame["truth"], axis=0) & decisions.notna()
    _accuracy = 1 - wrong.sum() / decisions.notna().sum()
    _histogram = pd.crosstab(decisions.notna().sum(axis=1), wrong.sum(axis=1))
    return t_read, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=400)
    parser.add_argument("--per-item", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the fastest is reported")
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "crowd.csv"
        write_crowd(path, a.items, a.workers, a.per_item)
        cmd = [sys.executable, "-m", "monoculture", "audit", str(path), "--id", "id", "--decision-columns", "w*",
               "--label", "truth", "--join", "outer", "--format", "json", "--output", str(Path(tmp) / "r.json")]
        ours = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            ours.append(time.perf_counter() - t0)
        reads, answers = zip(*(naive(path) for _ in range(a.repeat)), strict=True)
    t, r, n = min(ours), min(reads), min(answers)
    print(f"{a.items:,} items × {a.workers} workers, {a.per_item} per item (default intervals)")
    print(f"  monoculture audit (process, incl. start-up) {t:8.2f} s")
    print(f"  pandas: read the file                       {r:8.2f} s   ours / read   {t / r:6.1f}")
    print(f"  pandas: accuracy + histogram, no intervals  {n:8.2f} s   ours / naive  {t / n:6.1f}")


if __name__ == "__main__":
    main()
