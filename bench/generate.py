"""Generate a synthetic ecosystem for benchmarks: N individuals × k decision-makers.

python bench/generate.py --n 1000000 -k 5 --format parquet --ids string --missing 0.01 --rho 0.05 --out bench/data/1m5

String IDs look like p000123456; each file is shuffled; a share `missing` of individuals is left out of
each file; failures share a latent component with probability rho (homogenization).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    p.add_argument("--ids", choices=["string", "int"], default="string")
    p.add_argument("--missing", type=float, default=0.01)
    p.add_argument("--rho", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    n = a.n
    ids = np.arange(n)
    if a.ids == "string":
        digits = pc.utf8_lpad(pc.cast(pa.array(ids), pa.large_string()), 9, "0")
        text = pa.large_string()  # 100M IDs overflow 32-bit string offsets
        id_col = pc.binary_join_element_wise(pa.scalar("p", text), digits, pa.scalar("", text))
    else:
        id_col = pa.array(ids)
    group = pa.array(rng.choice(np.array(["a", "b", "c", "d"]), size=n))
    label = rng.random(n) < 0.6
    shared = rng.random(n) < a.rho
    for i in range(a.k):
        fail = (rng.random(n) < 0.15) | (shared & (rng.random(n) < 0.9))
        decision = np.where(fail, ~label, label).astype(np.int8)
        keep = np.flatnonzero(rng.random(n) >= a.missing)
        order = rng.permutation(keep)
        table = pa.table({"id": id_col.take(pa.array(order)), "decision": pa.array(decision[order]),
                          "label": pa.array(label[order].astype(np.int8)), "group": group.take(pa.array(order))})
        path = a.out / f"dm{i:02d}.{a.format}"
        if a.format == "parquet":
            pq.write_table(table, path)
        else:
            pacsv.write_csv(table, path)
    print(f"wrote {a.k} files of about {n:,} rows to {a.out}")


if __name__ == "__main__":
    main()
