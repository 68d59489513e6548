"""Benchmark: what the numbers beyond independence (metrics.md §10, §12) add to an audit's measuring.

For pattern tables shaped like the audits users run — 10M people × 10 decision-makers, 15 LLMs on 12,000
questions, 90 models on 3,270 items (BoolQ's shape) — simulated from a model with one latent difficulty
per person, time the overall estimate with B = 1000 bootstrap replicates (`Estimate.of`, pairs included)
with the marginal and conditional Rasch fits and without them, in the same run. Prints seconds and the
difference. Run by hand:  python bench/bench_beyond.py
"""

from __future__ import annotations

import time
from unittest import mock

import numpy as np
from scipy import special

from monoculture.count.table import Counts
from monoculture.measure import estimate
from monoculture.measure.inference import bootstrap_weights
from monoculture.spec import InferenceOptions

SHAPES = {"10M × 10": (1_000_000, 10, 10), "12,000 × 15": (12_000, 15, 1), "3,270 × 90": (3_270, 90, 1)}


def table(n: int, k: int, scale: int, rng: np.random.Generator) -> Counts:
    """The pattern table of n simulated people (counts × `scale`: 1M simulated stand for 10M)."""
    beta = rng.normal(-1.0, 0.6, k)
    d = rng.normal(0, 1.5, n)
    fail = rng.random((n, k)) < special.expit(beta[None, :] + d[:, None])
    keys, counts = np.unique(fail, axis=0, return_counts=True)
    return Counts(keys, np.ones_like(keys), (counts * scale).astype(float))


def timed(c: Counts, options: InferenceOptions, with_fits: bool) -> float:
    weights = bootstrap_weights(c, options, np.random.default_rng(1))
    patches = [] if with_fits else [mock.patch.object(estimate.metrics.RaschFit, "of", return_value=None),
                                    mock.patch.object(estimate.ConditionalFit, "of", return_value=None)]
    for p in patches:
        p.start()
    try:
        start = time.perf_counter()
        estimate.Estimate.of(c, options, weights, with_pairs=True, pair_replicates=c.k <= 50)
        return time.perf_counter() - start
    finally:
        for p in patches:
            p.stop()


def main() -> None:
    rng = np.random.default_rng(0)
    options = InferenceOptions(bootstrap=1000)
    print(f"{'shape':>12} {'patterns':>9} {'without (s)':>12} {'with (s)':>9} {'added (s)':>10}")
    for name, (n, k, scale) in SHAPES.items():
        c = table(n, k, scale, rng)
        timed(c, options, True)  # imports and first-call costs, not measured
        without = min(timed(c, options, False) for _ in range(3))
        with_fits = min(timed(c, options, True) for _ in range(3))
        print(f"{name:>12} {len(c.weights):>9,} {without:>12.3f} {with_fits:>9.3f} {with_fits - without:>10.3f}")


if __name__ == "__main__":
    main()
