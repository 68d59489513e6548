"""Benchmark: lm-evaluation-harness `--log_samples` files of many models, read as they are (issue 28).

Writes one run directory per model as lm-eval does (`<model>/samples_<task>_<time>.jsonl` beside
`results_<time>.json`), with what a multiple-choice record carries in the Open LLM Leaderboard's details:
the document, one request per option (the few-shot prompt and the option's continuation), the options'
log-likelihoods as strings, `acc`, `acc_norm` and the hashes. Models come in families that prefer the same
wrong option. Then times, each in its own process where it is monoculture:

- the floor: every line of every samples file decoded with Python's `json` (what any Python reader pays);
- `monoculture audit FOLDER` (the layout detected, default intervals, JSON out).

Run by hand:  python bench/bench_evallogs.py --models 100 --items 2000
              python bench/bench_evallogs.py --models 50 --items 2000 --prompt 2000   # longer prompts
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_leaderboard import run

LETTERS = "ABCDEFGHIJ"


def write_logs(root: Path, models: int, items: int, options: int, prompt: int, seed: int = 0) -> None:
    """One lm-eval run directory per model under `root`; prompts of about `prompt` characters."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, options, items)
    difficulty = rng.normal(0, 1.5, items)
    family = rng.integers(0, max(models // 8, 1), models)
    favourite = (gold[None, :] + 1 + rng.integers(0, options - 1, (family.max() + 1, items))) % options
    words = np.array(["the", "answer", "question", "which", "of", "following", "is", "correct", "model"])
    for m in range(models):
        run_dir = root / f"org__model-{m:04d}"
        run_dir.mkdir(parents=True)
        time_tag = f"2024-06-01T00-00-{m % 60:02d}.{m:06d}"
        (run_dir / f"results_{time_tag}.json").write_text(json.dumps(
            {"model_name": f"org/model-{m:04d}", "n-shot": {"mmlu": 5}, "results": {}}))
        ability = rng.normal(0, 1)
        ll = rng.normal(-3.0, 1.0, (items, options))
        right = rng.random(items) < 1 / (1 + np.exp(-(ability - difficulty)))
        pick = np.where(right, gold, favourite[family[m]])
        ll[np.arange(items), pick] += 2.5
        with open(run_dir / f"samples_mmlu_{time_tag}.jsonl", "w", encoding="utf-8") as fh:
            for j in range(items):
                question = " ".join(words[rng.integers(0, len(words), prompt // 6)])
                context = f"{question}\n" + "".join(f"{LETTERS[o]}. option {o}\n" for o in range(options)) + "Answer:"
                arguments = {f"gen_args_{o}": {"arg_0": context, "arg_1": f" {LETTERS[o]}"} for o in range(options)}
                chosen = int(np.argmax(ll[j]))
                fh.write(json.dumps({
                    "doc_id": j, "doc": {"question": question, "choices": list(LETTERS[:options]),
                                         "answer": int(gold[j])},
                    "target": int(gold[j]), "arguments": arguments,
                    "resps": [[[str(v), "False"]] for v in ll[j]],
                    "filtered_resps": [[str(v), "False"] for v in ll[j]],
                    "doc_hash": f"{j:064x}", "prompt_hash": f"{j:064x}", "target_hash": f"{gold[j]:064x}",
                    "acc": float(chosen == gold[j]), "acc_norm": float(chosen == gold[j]),
                }) + "\n")


def decode_all(root: Path) -> int:
    """Every line of every samples file through json.loads: the floor of a Python reader."""
    lines = 0
    for f in sorted(root.glob("*/samples_*.jsonl")):
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                json.loads(line)
                lines += 1
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=100)
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--options", type=int, default=4)
    ap.add_argument("--prompt", type=int, default=600, help="characters of each record's prompt")
    ap.add_argument("--keep", type=Path, help="write the logs here (and keep them; reused when present)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "logs"
        if not root.exists():
            write_logs(root, args.models, args.items, args.options, args.prompt)
        size = sum(f.stat().st_size for f in root.rglob("*.jsonl"))
        t = time.perf_counter()
        records = decode_all(root)
        floor = time.perf_counter() - t
        seconds, peak = run([sys.executable, "-m", "monoculture", "audit", str(root), "-f", "json",
                             "-o", str(Path(tmp) / "out.json"), "-q"])
        print(f"{args.models} models × {args.items:,} items, {args.options} options "
              f"({records:,} records, {size / 2**20:.0f} MiB)")
        print(f"  json.loads every line  {floor:8.2f} s")
        print(f"  monoculture audit      {seconds:8.2f} s  ({seconds / floor:.2f}× the decoding), peak {peak:.2f} GB")


if __name__ == "__main__":
    main()
