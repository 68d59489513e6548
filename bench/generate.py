"""Generate a synthetic ecosystem for benchmarks: N individuals × k decision-makers.

python bench/generate.py --n 1000000 -k 5 --format parquet --ids string --missing 0.01 --rho 0.05 --out bench/data/1m5
python bench/generate.py --n 100000000 -k 10 --ids hex32 --compression zstd --out bench/data/100m_hex32  # 18 GB

ID shapes (`--ids`): string (p000123456, dense), sparse (p + 9 digits drawn without repeats from a range
ten times the population), int, uuid (36 characters), hex32 and hex64 (keyed-hash pseudonyms; hex64 is
what `monoculture pseudonymize` writes), mixed (text of 6 to 20 characters). Each file is shuffled; a share
`missing` of individuals is left out of each file; failures share a latent component with probability rho
(homogenization).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def _prefixed(numbers: np.ndarray) -> pa.Array:
    text = pa.large_string()  # 100M IDs overflow 32-bit string offsets
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), text), 9, "0")
    return pc.binary_join_element_wise(pa.scalar("p", text), digits, pa.scalar("", text))


def _hex(n: int, rng: np.random.Generator, chars: int, dashes: bool = False) -> pa.Array:
    """n random hex strings of at least 128 bits: for 10^8 of them a repeat has odds below 10^-22."""
    raw = rng.integers(0, 256, (n, chars // 2), dtype=np.uint8)
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    out = np.empty((n, chars), np.uint8)
    out[:, 0::2], out[:, 1::2] = digits[raw >> 4], digits[raw & 15]
    if dashes:  # 8-4-4-4-12
        out = np.concatenate([out[:, :8], np.full((n, 1), ord("-"), np.uint8), out[:, 8:12],
                              np.full((n, 1), ord("-"), np.uint8), out[:, 12:16], np.full((n, 1), ord("-"), np.uint8),
                              out[:, 16:20], np.full((n, 1), ord("-"), np.uint8), out[:, 20:32]], axis=1)
    width = out.shape[1]
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(out.reshape(-1))])


def _mixed(n: int, rng: np.random.Generator) -> pa.Array:
    """Distinct text of 6 to 20 characters: a base-36 counter, then random letters to a random length."""
    lengths = rng.integers(6, 21, n)
    counter = np.array(list(np.base_repr(i, 36).rjust(5, "0") for i in range(n)), dtype="U5")
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", np.uint8)
    tails = letters[rng.integers(0, 26, (n, 15))].view("S15").reshape(-1).astype("U15")
    return pa.array([c + t[: m - 5] for c, t, m in zip(counter, tails, lengths, strict=True)], pa.large_string())


ID_SHAPES = {
    "string": lambda n, rng: _prefixed(np.arange(n)),
    "sparse": lambda n, rng: _prefixed(np.sort(rng.choice(10 * n, n, replace=False))),
    "int": lambda n, rng: pa.array(np.arange(n)),
    "uuid": lambda n, rng: _hex(n, rng, 32, dashes=True),
    "hex32": lambda n, rng: _hex(n, rng, 32),
    "hex64": lambda n, rng: _hex(n, rng, 64),
    "mixed": _mixed,
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    p.add_argument("--ids", choices=list(ID_SHAPES), default="string")
    p.add_argument("--missing", type=float, default=0.01)
    p.add_argument("--rho", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compression", default="snappy",
                   help="Parquet compression (zstd holds 100M x 10 hex IDs in about half snappy's disk)")
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    n = a.n
    id_col = ID_SHAPES[a.ids](n, np.random.default_rng(a.seed + 1))
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
            pq.write_table(table, path, compression=a.compression)
        else:
            pacsv.write_csv(table, path)
    print(f"wrote {a.k} files of about {n:,} rows to {a.out}")


if __name__ == "__main__":
    main()
