"""Golden audits: the JSON of a fixed set of runs, hashed, so a refactor can show it changed no number.

    python bench/golden.py --write        # record bench/golden.json from this checkout
    python bench/golden.py                # run again and compare; exit 1 on any difference
    python bench/golden.py --only sample  # the runs whose name starts with 'sample'
    python bench/golden.py --against /tmp/before/src   # a change meant to move numbers: by how much?

Each run is a `monoculture` command whose stdout is JSON. The real-data runs need ../shared/data beside the
checkout and the bench run needs bench/data/1m5c (made by bench/generate.py if missing); runs whose data is
absent are reported as skipped, never as passed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "sample_data"
LENDERS = [f"{SAMPLE}/lender_a.csv", f"{SAMPLE}/lender_b.csv", f"{SAMPLE}/lender_c.parquet",
           f"{SAMPLE}/lender_d.csv.gz", f"{SAMPLE}/lender_e.parquet"]
COLS = ["--id", "applicant_id", "--decision", "approved"]
SHARED = "../shared/data"
BENCH = "bench/data/1m5c"

# name -> (arguments after `monoculture`, paths that must exist)
RUNS: dict[str, tuple[list[str], list[str]]] = {
    "sample-two-attributes": (["audit", *LENDERS, *COLS, "--label", "repaid", "-g", "race", "-g", "sex"], []),
    "sample-intersect-outer": (["audit", *LENDERS, *COLS, "--label", "repaid", "-g", "race", "-g", "sex",
                                "--intersect", "--join", "outer"], []),
    "sample-people-file": (["audit", *LENDERS, *COLS, "--label", "repaid", "--people", f"{SAMPLE}/people.csv",
                            "-g", "race"], []),
    "sample-threshold": (["audit", *LENDERS, "--id", "applicant_id", "--decision", "score", "--threshold", "0.5",
                          "--threshold", "lender_a=0.6", "--failure", "outcome", "-g", "race"], []),
    "sample-multiplicity": (["multiplicity", *LENDERS, *COLS, "--label", "repaid", "--score", "score",
                             "-g", "race", "--epsilon", "0.02"], []),
    "sample-simulate-urn": (["simulate", "urn", "--people", f"{SAMPLE}/lender_a.csv", "--group", "race",
                             "--decision", "approved", "--adverse", "0", "--initial-bias", "0", "--rule",
                             "threshold", "--rounds", "10"], []),
    "sample-simulate-dynamics": (["simulate", "dynamics", "--people", f"{SAMPLE}/applicants.csv", "--features",
                                  "income,tenure_years,debt_ratio", "--target", "repaid", "--group", "race",
                                  "--learners", "2", "--epsilon", "0.5", "--rounds", "50"], []),
    "hatecheck-wide-outer": (["audit", f"{SHARED}/hatecheck/all_annotations.csv", "--id", "case_id",
                              "--decision-columns", "label_[0-9]*", "--label", "label_gold", "--join", "outer",
                              "--people", f"{SHARED}/hatecheck/all_cases.csv", "--group", "target_ident"],
                             [f"{SHARED}/hatecheck"]),
    "crowd-duck-stacked": (["audit", f"{SHARED}/crowd-duck/answer.csv", "--layout", "stacked",
                            "--decision-maker-column", "worker", "--id", "question", "--decision", "answer",
                            "--people", f"{SHARED}/crowd-duck/truth.csv", "--label", "truth"],
                           [f"{SHARED}/crowd-duck"]),
    "bench-1m5c": (["audit", f"{BENCH}/*.csv", "--label", "label", "--group", "group"], [BENCH]),
}


def output(name: str, src: Path | None = None) -> bytes | None:
    """The run's JSON (with the package from `src` when given), or None when its data is absent."""
    args, needs = RUNS[name]
    if any(not (ROOT / p).exists() for p in needs):
        return None
    cmd = [sys.executable, "-m", "monoculture", *args]
    if args[0] in ("audit", "multiplicity") or args[:1] == ["simulate"]:
        cmd += ["--format", "json"]
    env = None if src is None else os.environ | {"PYTHONPATH": str(src)}
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False, env=env)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{name}: exit {done.returncode}: {done.stderr.decode(errors='replace').strip()}")
    json.loads(done.stdout)  # a run that printed something other than JSON is a broken run
    return done.stdout


def run(name: str) -> str | None:
    """The sha256 of the run's JSON, or None when its data is absent."""
    out = output(name)
    return None if out is None else hashlib.sha256(out).hexdigest()


def differences(a: object, b: object, path: str = "") -> tuple[float, str, list[str]]:
    """The largest relative difference between the numbers of two JSON documents (and where), and the
    paths where they differ otherwise (a text, a key, a null, a length)."""
    if isinstance(a, bool) or isinstance(b, bool) or not (isinstance(a, int | float) and isinstance(b, int | float)):
        if isinstance(a, dict) and isinstance(b, dict):
            if a.keys() != b.keys():
                return 0.0, "", [f"{path}: keys differ"]
            parts = [differences(a[key], b[key], f"{path}.{key}") for key in a]
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return 0.0, "", [f"{path}: lengths {len(a)} and {len(b)}"]
            parts = [differences(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b, strict=True))]
        else:
            return 0.0, "", [] if a == b else [path]
        worst = max(parts, key=lambda p: p[0], default=(0.0, "", []))
        return worst[0], worst[1], [d for p in parts for d in p[2]]
    rel = abs(a - b) / max(abs(a), abs(b)) if a != b else 0.0
    return rel, path, []


def against(src: Path, only: str) -> int:
    """Each run here and with the package from `src`: the largest relative difference of its numbers."""
    bad = 0
    for name in RUNS:
        if not name.startswith(only):
            continue
        here, there = output(name), output(name, src)
        if here is None or there is None:
            print(f"skipped  {name} (its data is absent)")
            continue
        rel, where, other = differences(json.loads(there), json.loads(here))
        bad += bool(other)
        print(f"{'same' if here == there else 'moved':8s} {name}: largest relative difference {rel:.1e}"
              f"{f' at {where}' if where else ''}{f'; also differs at {other[:5]}' if other else ''}")
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write", action="store_true", help="record the hashes instead of comparing")
    p.add_argument("--only", default="", help="run only the names starting with this")
    p.add_argument("--file", type=Path, default=ROOT / "bench" / "golden.json")
    p.add_argument("--against", type=Path, help="compare the numbers with those of the package in this src/")
    a = p.parse_args()
    if a.against:
        return against(a.against.resolve(), a.only)
    if any(n.startswith("bench") and n.startswith(a.only) for n in RUNS) and not (ROOT / BENCH).exists():
        subprocess.run([sys.executable, "bench/generate.py", "--n", "1000000", "-k", "5", "--format", "csv",
                        "--out", BENCH], cwd=ROOT, check=True)
    stored = json.loads(a.file.read_text()) if a.file.exists() else {}
    got, bad = {}, 0
    for name in RUNS:
        if not name.startswith(a.only):
            continue
        digest = run(name)
        if digest is None:
            print(f"skipped  {name} (its data is absent)")
            continue
        got[name] = digest
        if a.write:
            print(f"recorded {name} {digest[:16]}")
        elif stored.get(name) == digest:
            print(f"same     {name}")
        else:
            bad += 1
            print(f"DIFFERS  {name}: {stored.get(name, 'none recorded')[:16]} -> {digest[:16]}")
    if a.write:
        a.file.write_text(json.dumps(stored | got, indent=1, sort_keys=True) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
