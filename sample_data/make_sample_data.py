"""Make the synthetic lending ecosystem in sample_data/ (deterministic: same seed, same files).

Five lenders decide on 16,000 applicants: enough that about eight people would be failed by all five if
they failed people independently, so the demo's H is a stable ratio (N·S_ind ≥ 5), not one of chance. Each applicant has a latent creditworthiness; whether
they repay (the label) depends on it. Lenders A, B and C buy their score from the same vendor model,
so they misread the same applicants; D and E build their own. The vendor model misreads applicants of
race group "B" more (a shared, systematic error), so that group is failed more homogeneously.
Each lender saw a random 97% of the applicants; rows are shuffled per file.

Run: python sample_data/make_sample_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20221128
N = 16_000
APPLICANTS = 5000  # rows of applicants.csv (simulate dynamics): the first 5,000 people
HERE = Path(__file__).resolve().parent


def make(out: Path = HERE, n: int = N, seed: int = SEED) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    race = rng.choice(["A", "B", "C", "D"], size=n, p=[0.55, 0.2, 0.15, 0.1])
    sex = rng.choice(["F", "M"], size=n)
    ability = rng.normal(0, 1, n)
    repaid = (rng.random(n) < 1 / (1 + np.exp(-(1.0 + 8.0 * ability)))).astype(int)
    # The vendor's shared error: it underrates and misreads race group B, the same way for every lender
    # that buys it.
    is_b = race == "B"
    vendor_score = ability + rng.normal(0, np.where(is_b, 0.8, 0.6), n) - np.where(is_b, 0.5, 0.0)
    people = pd.DataFrame({"applicant_id": [f"A{j:05d}" for j in range(n)], "race": race, "sex": sex})
    lenders = {
        "lender_a": ("csv", vendor_score + rng.normal(0, 0.25, n), -0.35),
        "lender_b": ("csv", vendor_score + rng.normal(0, 0.25, n), -0.25),
        "lender_c": ("parquet", vendor_score + rng.normal(0, 0.25, n), -0.30),
        "lender_d": ("csv.gz", ability + rng.normal(0, 0.9, n) - np.where(is_b, 0.5, 0.0), -0.30),
        "lender_e": ("parquet", ability + rng.normal(0, 0.9, n) - np.where(is_b, 0.5, 0.0), -0.20),
    }
    frames = {}
    for name, (fmt, score, cut) in lenders.items():
        seen = rng.random(n) < 0.97
        frame = pd.DataFrame({
            "applicant_id": people["applicant_id"],
            "approved": (score > cut).astype(int),
            "score": np.round(1 / (1 + np.exp(-(score - cut))), 4),
            "repaid": repaid,
            "race": race,
            "sex": sex,
        })[seen]
        frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
        frames[name] = frame
        if fmt == "parquet":
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), out / f"{name}.parquet")
        elif fmt == "csv.gz":
            frame.to_csv(out / f"{name}.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
        else:
            frame.to_csv(out / f"{name}.csv", index=False)
    people.to_csv(out / "people.csv", index=False)
    first = slice(0, APPLICANTS)
    applicants(people[first], ability[first], repaid[first], seed).to_csv(out / "applicants.csv", index=False)
    return frames


def applicants(people: pd.DataFrame, ability: np.ndarray, repaid: np.ndarray, seed: int) -> pd.DataFrame:
    """Numeric features for `monoculture simulate dynamics`: how they relate to repayment differs by group.

    A generator of its own (seed + 1), so the lender files above do not change when this does.
    """
    rng = np.random.default_rng(seed + 1)
    n = len(people)
    race = people["race"].to_numpy()
    # Income tracks creditworthiness for groups A/C/D; for group B it is mostly noise, and tenure carries
    # the signal instead: one model for everyone fits B poorly, which is what invites specialisation.
    weak = race == "B"
    income = np.round(np.exp(10.4 + np.where(weak, 0.08, 0.35) * ability + rng.normal(0, 0.25, n)), -1)
    tenure = np.round(np.clip(5 + np.where(weak, 2.5, 0.5) * ability + rng.normal(0, 1.5, n), 0, None), 1)
    debt_ratio = np.round(np.clip(0.35 - 0.06 * ability + rng.normal(0, 0.08, n), 0.01, 0.95), 3)
    surplus = np.round(400 * ability + np.where(weak, -150, 0) + rng.normal(0, 150, n), 0)
    return pd.DataFrame({"applicant_id": people["applicant_id"], "race": race, "sex": people["sex"],
                         "income": income, "tenure_years": tenure, "debt_ratio": debt_ratio,
                         "monthly_surplus": surplus, "repaid": repaid})


if __name__ == "__main__":
    make()
    print(f"wrote the sample ecosystem to {HERE}")
