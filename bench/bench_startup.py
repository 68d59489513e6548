"""Benchmark: how long the commands that compute nothing take to start, against Python starting at all.

`monoculture --help`, `audit --help`, `schema` and `config` import no numpy, pyarrow, pandas or scipy (the CLI
imports them where a command first needs them); each is run `--runs` times as a fresh process and its best
wall time compared with `python -c pass` and with `python -c "import typer"` measured in the same run.
Run by hand:  python bench/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import typer'": [sys.executable, "-c", "import typer"],
    "monoculture --help": [sys.executable, "-m", "monoculture", "--help"],
    "monoculture audit --help": [sys.executable, "-m", "monoculture", "audit", "--help"],
    "monoculture schema": [sys.executable, "-m", "monoculture", "schema"],
    "monoculture config": [sys.executable, "-m", "monoculture", "config"],
    "monoculture audit (sample data, --bootstrap 0)": [
        sys.executable, "-m", "monoculture", "audit", "sample_data/lender_a.csv", "sample_data/lender_b.csv",
        "--id", "applicant_id", "--decision", "approved", "--label", "repaid", "--bootstrap", "0",
        "--permutations", "0"],
}


def best(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    floor = None
    print(f"{'command':50} {'best (s)':>9} {'× python':>9}")
    for name, args in COMMANDS.items():
        t = best(args, runs)
        floor = floor or t
        print(f"{name:50} {t:9.3f} {t / floor:9.1f}")


if __name__ == "__main__":
    main()
