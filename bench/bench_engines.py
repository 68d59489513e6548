"""Time monoculture's full audit against the read floor, a hand-written DuckDB query and a naive pandas
chain, each in its own process, on an ecosystem written by bench/generate.py.

python bench/bench_engines.py bench/data/1m5p            # every dm*.parquet / dm*.csv in the directory

Tasks: read (pyarrow reads the id/decision/label/group columns: the floor), monoculture-memory and
monoculture-duckdb (the full `monoculture audit`: linking, every core metric, B = 1000 bootstrap,
9,999 permutations), duckdb-sql (a hand-written k-way JOIN USING (id) + GROUP BY over the failure
patterns per group), pandas (a merge chain + groupby). Prints wall seconds, peak resident memory and
the ratio to the read floor.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

TASKS = ("read", "monoculture-memory", "monoculture-duckdb", "duckdb-sql", "pandas")


def files(directory: Path) -> list[str]:
    return sorted(str(p) for p in directory.iterdir() if p.name.startswith("dm") and p.suffix in (".parquet", ".csv"))


def child(task: str, directory: Path) -> None:
    paths = files(directory)
    start = time.perf_counter()
    if task == "read":
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        for p in paths:
            (pq.read_table(p, columns=["id", "decision", "label", "group"]) if p.endswith(".parquet")
             else pacsv.read_csv(p))
    elif task.startswith("monoculture"):
        from monoculture import audit

        audit(paths, label="label", groups=["group"], engine=task.split("-")[1])
    elif task == "duckdb-sql":
        import duckdb

        reader = "read_parquet" if paths[0].endswith(".parquet") else "read_csv"
        views = [f"(SELECT id, decision <> label AS f{i}, \"group\" AS g{i} FROM {reader}('{p}')) t{i}"
                 for i, p in enumerate(paths)]
        joined = views[0] + "".join(f" JOIN {v} USING (id)" for v in views[1:])
        cols = ", ".join(f"f{i}" for i in range(len(paths)))
        duckdb.sql(f"SELECT g0, {cols}, COUNT(*) FROM {joined} GROUP BY ALL").fetchall()
    elif task == "pandas":
        import pandas as pd

        read = pd.read_parquet if paths[0].endswith(".parquet") else pd.read_csv
        frame = None
        for i, p in enumerate(paths):
            f = read(p, columns=["id", "decision", "label", "group"])
            f = pd.DataFrame({"id": f["id"], f"f{i}": f["decision"] != f["label"], **({"group": f["group"]}
                                                                                      if i == 0 else {})})
            frame = f if frame is None else frame.merge(f, on="id")
        frame.groupby(["group", *[f"f{i}" for i in range(len(paths))]]).size()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"task": task, "seconds": seconds, "peak_mb": peak}))


def main() -> None:
    if sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]))
        return
    directory = Path(sys.argv[1])
    tasks = sys.argv[2:] or list(TASKS)
    results = {}
    for task in tasks:
        proc = subprocess.run([sys.executable, __file__, "--child", task, str(directory)], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            print(f"{task}: failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}")
            continue
        results[task] = json.loads(proc.stdout.strip().splitlines()[-1])
    floor = results.get("read", {}).get("seconds")
    print(f"{'task':<20} {'wall (s)':>9} {'peak (MB)':>10} {'× read':>8}")
    for task, r in results.items():
        ratio = f"{r['seconds'] / floor:.2f}" if floor else "-"
        print(f"{task:<20} {r['seconds']:>9.2f} {r['peak_mb']:>10.0f} {ratio:>8}")


if __name__ == "__main__":
    main()
