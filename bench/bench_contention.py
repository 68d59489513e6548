"""Benchmark: an audit's CPU time alone and beside busy processes (a shared CI runner).

Threads that spin while they wait (a BLAS busy-wait, a worker polling) burn CPU time that grows when the
machine is shared. This runs the same audit alone and beside `--hogs` processes that keep a core busy each,
and reports wall and user+system CPU seconds; the CPU time should stay about the same. Default audit: the
90 BoolQ models in ../shared/data (the issue's case), else the sample data. Run by hand:
    python bench/bench_contention.py [--hogs 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOLQ = ROOT.parent / "shared" / "data" / "nlu-boolq" / "boolq_irt_all_coded.csv"
HOG = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"


def command() -> list[str]:
    if BOOLQ.exists():
        return [str(BOOLQ), "--layout", "transposed", "--decision-maker-column", "userid", "--failure", "outcome",
                "--unfavorable", "0"]
    sample = ROOT / "sample_data"
    return [str(sample / n) for n in ("lender_a.csv", "lender_b.csv", "lender_c.parquet", "lender_d.csv.gz",
                                      "lender_e.parquet")] + ["--id", "applicant_id", "--decision", "approved",
                                                              "--label", "repaid", "-g", "race"]


def timed(args: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "monoculture", "audit", *args, "-f", "json"], capture_output=True,
                   check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hogs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    a = parser.parse_args()
    args = command()
    print("audit:", "BoolQ (90 models)" if BOOLQ.exists() else "sample data")
    for label, hogs in (("alone", 0), (f"beside {a.hogs} busy processes", a.hogs)):
        procs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(hogs)]
        try:
            runs = [timed(args) for _ in range(a.runs)]
        finally:
            for p in procs:
                p.kill()
        wall = sorted(r[0] for r in runs)[len(runs) // 2]
        cpu = sorted(r[1] for r in runs)[len(runs) // 2]
        print(f"{label:32} wall {wall:6.2f} s   cpu {cpu:6.2f} s   (medians of {a.runs})")


if __name__ == "__main__":
    main()
