"""Benchmark: an LLM leaderboard — many models answering the same multiple-choice items (issue 28).

A stacked CSV shaped like the Open LLM Leaderboard's details or MMLU-Pro's outputs: one row per (item, model)
with the chosen option letter, the gold letter and the subject; 3–10 options per item; some answers blank
(none could be extracted). Models come in families that share wrong answers, items differ in difficulty, so
every failure pattern is unique at k in the hundreds. The audit is the one a user would run:

    monoculture audit FILE --layout stacked --decision-maker-column model --id item --decision pred \\
        --label answer --missing-decision fail [--group subject]

default intervals (B = 1000, 9,999 permutations), JSON out, as a separate process. Baseline in the same
run: reading the file with pyarrow (the floor any tool pays). Prints seconds, ratio and peak memory.
Run by hand:  python bench/bench_leaderboard.py --models 29 --items 12032
              python bench/bench_leaderboard.py --models 1000 --items 12000 --no-group
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

LETTERS = np.array(list("ABCDEFGHIJ"))


def write_leaderboard(path: Path, models: int, items: int, seed: int = 0) -> None:
    """item, model, subject, answer, pred: Rasch-like correctness, family-shared wrong answers, 2% blanks."""
    rng = np.random.default_rng(seed)
    options = rng.integers(3, 11, items)
    gold = rng.integers(0, options)
    difficulty = rng.normal(0, 1.5, items)
    ability = rng.normal(0, 1, models)
    family = rng.integers(0, max(models // 8, 1), models)
    subjects = np.array([f"s{j:02d}" for j in range(14)])[rng.integers(0, 14, items)]
    # Each family and item has its favourite wrong answer; a model picks it half the time when wrong.
    favourite = (gold[None, :] + 1 + rng.integers(0, 9, (family.max() + 1, items))) % options[None, :]
    chunks = []
    for start in range(0, models, 50):
        m = np.arange(start, min(start + 50, models))
        p_right = 1 / (1 + np.exp(-(ability[m, None] - difficulty[None, :])))
        right = rng.random(p_right.shape) < p_right
        random_wrong = (gold[None, :] + 1 + rng.integers(0, 10**6, right.shape) % (options[None, :] - 1)) % options
        wrong = np.where(rng.random(right.shape) < 0.5, favourite[family[m]], random_wrong)
        pred = np.where(right, gold[None, :], wrong)
        letters = LETTERS[pred].astype(object)
        letters[rng.random(right.shape) < 0.02] = None
        chunks.append(pa.table({
            "item": np.tile(np.arange(items), len(m)), "model": np.repeat([f"model-{i:04d}" for i in m], items),
            "subject": np.tile(subjects, len(m)), "answer": np.tile(LETTERS[gold], len(m)),
            "pred": pa.array(letters.ravel(), pa.string()),
        }))
    pacsv.write_csv(pa.concat_tables(chunks), path)


def run(cmd: list[str]) -> tuple[float, float]:
    """Seconds and peak resident memory (GB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=29)
    ap.add_argument("--items", type=int, default=12032)
    ap.add_argument("--no-group", action="store_true", help="audit without the subject groups")
    ap.add_argument("--keep", type=Path, help="write the CSV here (and keep it)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "leaderboard.csv"
        if not path.exists():
            write_leaderboard(path, args.models, args.items)
        t = time.perf_counter()
        rows = pacsv.read_csv(path).num_rows
        read = time.perf_counter() - t
        cmd = [sys.executable, "-m", "monoculture", "audit", str(path), "--layout", "stacked",
               "--decision-maker-column", "model", "--id", "item", "--decision", "pred", "--label", "answer",
               "--missing-decision", "fail", "-f", "json", "-o", str(Path(tmp) / "out.json"), "-q",
               *([] if args.no_group else ["--group", "subject"])]
        seconds, peak = run(cmd)
        print(f"{args.models} models × {args.items:,} items ({rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB)")
        print(f"  read with pyarrow      {read:8.2f} s")
        print(f"  monoculture audit      {seconds:8.2f} s  ({seconds / read:.1f}× the read), peak {peak:.2f} GB")


if __name__ == "__main__":
    main()
