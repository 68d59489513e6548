"""Benchmark: bootstrap cost on the pattern table does not grow with N (metrics.md §5, design.md §6).

For N individuals and k decision-makers with correlated failures, time, in one run:
  - building the pattern table from the failure matrix (one sort over N keys), the baseline;
  - B = 1000 multinomial bootstrap replicates of every overall statistic (H, S_ind, κ, lift, k-way ...);
  - B = 20 replicates done the naive way (resample rows, recount), extrapolated to B = 1000.
Prints seconds and ratios. Run by hand:  python bench/bench_bootstrap.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from monoculture.count.table import Counts
from monoculture.measure.estimate import Estimate
from monoculture.spec import InferenceOptions


def failures(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    shared = rng.random(n) < 0.05
    return (rng.random((n, k)) < 0.2) | (shared[:, None] & (rng.random((n, k)) < 0.8))


def table(fail: np.ndarray) -> Counts:
    keys = fail.astype(np.int64) @ (1 << np.arange(fail.shape[1], dtype=np.int64))
    uniq, counts = np.unique(keys, return_counts=True)
    bits = ((uniq[:, None] >> np.arange(fail.shape[1])) & 1).astype(bool)
    return Counts(bits, np.ones_like(bits), counts)


def naive_h(fail: np.ndarray, b: int, rng: np.random.Generator) -> float:
    start = time.perf_counter()
    n = len(fail)
    for _ in range(b):
        rows = fail[rng.integers(0, n, n)]
        _ = rows.all(axis=1).mean() / rows.mean(axis=0).prod()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000, 10_000_000])
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'N':>11} {'table s':>9} {'B=1000 s':>9} {'naive B=1000 s (extrap.)':>25} {'naive/ours':>11}")
    for n in args.sizes:
        fail = failures(n, args.k, rng)
        t0 = time.perf_counter()
        c = table(fail)
        t_table = time.perf_counter() - t0
        t0 = time.perf_counter()
        est = Estimate.of(c, InferenceOptions(bootstrap=1000), rng, with_pairs=True)
        est.interval("homogenization")
        t_boot = time.perf_counter() - t0
        t_naive = naive_h(fail, 20, rng) * 1000 / 20
        print(f"{n:>11,} {t_table:>9.3f} {t_boot:>9.3f} {t_naive:>25.1f} {t_naive / t_boot:>11.0f}")


if __name__ == "__main__":
    main()
