"""Time monoculture's full audit against the read floor, a hand-written DuckDB query and a naive pandas
chain, each in its own process, on an ecosystem written by bench/generate.py.

python bench/bench_engines.py bench/data/1m5p                    # every dm*.parquet / dm*.csv in the directory
python bench/bench_engines.py bench/data/1m5p bench/data/1m5c    # several ecosystems, one table each
python bench/bench_engines.py bench/data/10m10p --tasks read monoculture-memory duckdb-sql
python bench/bench_engines.py bench/data/1m5c --tasks read monoculture-memory --compare-src ../before/src

Wall times start after each task's imports (monoculture's start-up is printed apart). `--warm` times each
task's second run in its process instead of its first. `--compare-src DIR` adds the task
`monoculture-memory@DIR`: the same audit imported from another checkout's src/ (its C scan built in place),
in the same round-robin, so a change is measured against its parent in one run.
Tasks: read (pyarrow reads the id/decision/label/group columns: the floor), monoculture-memory and
monoculture-duckdb (the full `monoculture audit`: linking, every core metric, B = 1000 bootstrap,
9,999 permutations), duckdb-sql (a hand-written k-way JOIN USING (id) + GROUP BY over the failure
patterns per group), pandas (a merge chain + groupby). Prints wall seconds, peak resident memory and
the ratio to the read floor.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TASKS = ("read", "monoculture-memory", "monoculture-duckdb", "duckdb-sql", "pandas")
OPTIONAL = ("monoculture-spark",)  # JVM start-up dominates at these sizes: run it by name


def files(directory: Path) -> list[str]:
    return sorted(str(p) for p in directory.iterdir() if p.name.startswith("dm") and p.suffix in (".parquet", ".csv"))


def child(task: str, directory: Path, warm: bool = False) -> None:
    """Run one task and print its wall time (after imports: each library's start-up is reported apart);
    `warm`: time its second run in the process."""
    paths = files(directory)
    begin = time.perf_counter()
    import duckdb
    import pandas as pd
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if task.startswith("monoculture"):
        import scipy.stats  # noqa: F401  (monoculture imports it at an audit's first statistic: start-up, not work)

        from monoculture import audit
    imports = time.perf_counter() - begin

    def work() -> None:
        if task == "read":
            tables = [pq.read_table(p, columns=["id", "decision", "label", "group"]) if p.endswith(".parquet")
                      else pacsv.read_csv(p) for p in paths]  # all held at once, as a join needs them
            del tables
        elif task.startswith("monoculture"):
            audit(paths, label="label", groups=["group"], engine=task.split("-")[1])  # B = 1000, 9,999 permutations
        elif task == "duckdb-sql":
            reader = "read_parquet" if paths[0].endswith(".parquet") else "read_csv"
            views = [f"(SELECT id, decision <> label AS f{i}, \"group\" AS g{i} FROM {reader}('{p}')) t{i}"
                     for i, p in enumerate(paths)]
            joined = views[0] + "".join(f" JOIN {v} USING (id)" for v in views[1:])
            cols = ", ".join(f"f{i}" for i in range(len(paths)))
            duckdb.sql(f"SELECT g0, {cols}, COUNT(*) FROM {joined} GROUP BY ALL").fetchall()
        elif task == "pandas":
            frame = None
            for i, p in enumerate(paths):
                f = (pd.read_parquet(p, columns=["id", "decision", "label", "group"]) if p.endswith(".parquet")
                     else pd.read_csv(p, usecols=["id", "decision", "label", "group"]))
                f = pd.DataFrame({"id": f["id"], f"f{i}": f["decision"] != f["label"], **({"group": f["group"]}
                                                                                          if i == 0 else {})})
                frame = f if frame is None else frame.merge(f, on="id")
            frame.groupby(["group", *[f"f{i}" for i in range(len(paths))]]).size()

    if warm:  # once untimed: the process has its memory from the OS, and the timed run reuses it
        work()
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"task": task, "seconds": seconds, "peak_mb": peak, "imports": imports}))


def machine() -> str:
    import os
    import platform

    import pyarrow

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        import duckdb
        duck = f", duckdb {duckdb.__version__}"
    except ImportError:
        duck = ""
    return (f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.machine()}, Python {platform.python_version()}, "
            f"pyarrow {pyarrow.__version__}{duck}")


def run(directory: Path, tasks: list[str], repeat: int, warm: bool = False) -> None:
    """Each task `repeat` times, round-robin (so the machine's drift hits every task alike); the medians.

    A task `NAME@DIR` is task NAME with monoculture imported from DIR (an other checkout's src/)."""
    runs: dict[str, list[dict]] = {}
    failed: set[str] = set()
    for _ in range(repeat):
        for task in tasks:
            if task in failed:
                continue
            name, _, src = task.partition("@")
            command = [sys.executable, __file__, "--child", name, str(directory), *(["--warm"] if warm else [])]
            env = {**os.environ, "PYTHONPATH": src} if src else None
            proc = subprocess.run(command, capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                print(f"{task}: failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}")
                failed.add(task)
                continue
            runs.setdefault(task, []).append(json.loads(proc.stdout.strip().splitlines()[-1]))
    paths = files(directory)
    size = sum(Path(p).stat().st_size for p in paths) / 2**20
    how = "the second run in each process (warm)" if warm else "one run per process"
    print(f"\n{directory}: {len(paths)} files, {size:,.0f} MB; median of {repeat} runs (min–max), {how}")
    median = {task: statistics.median(r["seconds"] for r in rs) for task, rs in runs.items()}
    floor = median.get("read")
    print(f"| {'task':<20} | {'wall (s)':>9} | {'min–max (s)':>12} | {'peak (MB)':>10} | {'× read':>7} "
          f"| {'paired × read (min–max)':>24} |")
    print(f"|{'-' * 22}|{'-' * 10}:|{'-' * 13}:|{'-' * 11}:|{'-' * 8}:|{'-' * 25}:|")
    for task, rs in runs.items():
        seconds = [r["seconds"] for r in rs]
        ratio = f"{median[task] / floor:.2f}" if floor else "-"
        spread = f"{min(seconds):.2f}–{max(seconds):.2f}"
        peak = max(r["peak_mb"] for r in rs)
        # Each round's task against the same round's read: the machine's drift between rounds cancels.
        pairs = [r["seconds"] / f["seconds"] for r, f in zip(rs, runs.get("read", []), strict=False)]
        paired = (f"{statistics.median(pairs):.2f} ({min(pairs):.2f}–{max(pairs):.2f})"
                  if pairs and len(rs) == len(runs["read"]) else "-")
        print(f"| {task[:20]:<20} | {median[task]:>9.2f} | {spread:>12} | {peak:>10.0f} | {ratio:>7} | {paired:>24} |")
    for task in [t for t in runs if t.startswith("monoculture-memory")]:
        imports = statistics.median(r["imports"] for r in runs[task])
        print(f"(wall excludes imports; importing {task}'s monoculture took {imports:.2f} s more, which every CLI "
              "run pays)")


def main() -> None:
    if sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), warm="--warm" in sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path, help="ecosystems written by bench/generate.py")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=[*TASKS, *OPTIONAL])
    parser.add_argument("--compare-src", type=Path, default=None,
                        help="another checkout's src/: adds monoculture-memory imported from there")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each task, round-robin; medians reported")
    parser.add_argument("--warm", action="store_true",
                        help="time each task's second run in its process: the first one's cost of getting memory "
                             "from the OS (page faults; on this machine it moves the read floor by up to 60%%) "
                             "drops out of every task")
    args = parser.parse_args()
    print(machine())
    tasks = args.tasks + ([f"monoculture-memory@{args.compare_src.resolve()}"] if args.compare_src else [])
    for directory in args.directories:
        run(directory, tasks, args.repeat, warm=args.warm)


if __name__ == "__main__":
    main()
