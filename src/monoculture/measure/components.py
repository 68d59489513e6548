"""Why outcomes homogenize: do decision-makers that share a component (vendor, base model, training data)
fail the same people more? The component-sharing hypothesis of Bommasani et al. (2022), tested on the
user's own ecosystem.

For each component attribute: the mean pairwise co-failure lift and error consistency of pairs that
share the value, against pairs that do not, with bootstrap intervals (the audit's replicates) and a
permutation test over the assignment of values to decision-makers; and H within each set of
decision-makers sharing a value. Plus an ordering of decision-makers by hierarchical clustering on κ.
"""

from __future__ import annotations

import csv
import itertools
import math
import tomllib
from pathlib import Path

import numpy as np

from ..count.table import Counts
from ..errors import UsageError
from ..spec import InferenceOptions
from . import metrics
from .estimate import Estimate
from .result import ComponentResult, Metric, SharingSet

MAX_EXACT_PERMUTATIONS = 5040


def load_components(path: str, names: list[str]) -> dict[str, dict[str, str]]:
    """attribute → {decision-maker: value}, from TOML (a table per decision-maker) or CSV
    (a `decision_maker` column and one column per attribute)."""
    p = Path(path)
    try:
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(p.read_text(encoding="utf-8"))
            rows = {dm: {k: str(v) for k, v in attrs.items()} for dm, attrs in data.items() if isinstance(attrs, dict)}
        else:
            with p.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                if reader.fieldnames is None or "decision_maker" not in reader.fieldnames:
                    raise UsageError("the components CSV needs a 'decision_maker' column", file=path)
                rows = {r["decision_maker"].strip(): {k: v.strip() for k, v in r.items() if k != "decision_maker" and v}
                        for r in reader}
    except FileNotFoundError:
        raise UsageError("components file not found", file=path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot parse the components file ({exc})", file=path) from None
    unknown = sorted(set(rows) - set(names))
    if unknown:
        raise UsageError(f"components name decision-maker '{unknown[0]}', which is not among the inputs "
                         f"({', '.join(names)})", file=path)
    out: dict[str, dict[str, str]] = {}
    for dm, attrs in rows.items():
        for attr, value in attrs.items():
            out.setdefault(attr, {})[dm] = value
    return dict(sorted(out.items()))


def _pair_means(matrix: np.ndarray, share: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the sharing and the other pairs of a (..., k, k) pairwise statistic (NaN pairs ignored)."""
    def mean(mask: np.ndarray) -> np.ndarray:
        vals = matrix[..., mask]
        ok = ~np.isnan(vals)
        return np.where(ok.any(axis=-1), np.where(ok, vals, 0).sum(axis=-1) / np.maximum(ok.sum(axis=-1), 1), np.nan)
    return mean(share), mean(other)


def _masks(values: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
    k = len(values)
    upper = np.triu(np.ones((k, k), dtype=bool), 1)
    known = np.array([v is not None for v in values])
    both = upper & known[:, None] & known[None, :]
    same = np.array([[a == b for b in values] for a in values]) & both
    return same, both & ~same


def analyse(
    est: Estimate, names: list[str], components: dict[str, dict[str, str]], inference: InferenceOptions,
    rng: np.random.Generator, weights: np.ndarray | None,
) -> list[ComponentResult]:
    """The sharing analysis for every component attribute (needs the overall estimate with pairs)."""
    out = []
    lift, kappa = est.point["cofailure_lift"], est.point["error_consistency"]
    for attr, assignment in components.items():
        values = [assignment.get(n) for n in names]
        share, other = _masks(values)
        results: dict[str, list[Metric]] = {}
        for key, matrix in (("lift", lift), ("kappa", kappa)):
            s_mean, o_mean = _pair_means(matrix, share, other)
            ms, mo = Metric.of(s_mean, "no sharing pair"), Metric.of(o_mean, "no pair without sharing")
            diff = Metric.of(s_mean - o_mean, "needs both sharing and non-sharing pairs")
            if est.reps is not None and "error_consistency" in est.reps and diff.defined:
                reps = est.reps["cofailure_lift" if key == "lift" else "error_consistency"]
                rs, ro = _pair_means(reps, share, other)
                for m, r in ((ms, rs), (mo, ro), (diff, rs - ro)):
                    ok = r[~np.isnan(r)]
                    if len(ok):
                        lo, hi = np.quantile(ok, [inference.alpha / 2, 1 - inference.alpha / 2])
                        m.ci = (float(lo), float(hi))
                        m.ci_method = "bootstrap-percentile"
            if diff.defined:
                diff.p_value = _permutation_p(matrix, values, float(diff.value), rng, inference.permutations)
            results[key] = [ms, mo, diff]
        sets = []
        for value in sorted({v for v in values if v is not None}):
            idx = [i for i, v in enumerate(values) if v == value]
            if len(idx) < 2:
                continue
            sub = Counts(est.counts.fail[:, idx], est.counts.present[:, idx], est.counts.weights)
            sub_est = Estimate(sub, {"h": metrics.homogenization(sub)}, inference)
            if weights is not None:
                sub_est.reps = {"h": metrics.homogenization(sub.with_weights(weights))}
            sets.append(SharingSet(value, [names[i] for i in idx],
                                   sub_est.metric("h", "some member never fails (e = 0)")))
        out.append(ComponentResult(attr, int(share.sum()), int(other.sum()), *results["lift"], *results["kappa"],
                                   sets))
    return out


def _permutation_p(matrix: np.ndarray, values: list[str | None], observed: float, rng: np.random.Generator,
                   permutations: int) -> float | None:
    """One-sided p-value: shuffle which decision-maker has which value (all assignments when few)."""
    if permutations <= 0:
        return None
    known = [i for i, v in enumerate(values) if v is not None]
    labels = [values[i] for i in known]
    if math.factorial(len(known)) <= MAX_EXACT_PERMUTATIONS:
        orders = list(itertools.permutations(range(len(known))))
    else:
        orders = [tuple(rng.permutation(len(known))) for _ in range(permutations)]
    count = 0
    for order in orders:
        perm: list[str | None] = [None] * len(values)
        for pos, j in zip(known, order, strict=True):
            perm[pos] = labels[j]
        share, other = _masks(perm)
        s, o = _pair_means(matrix, share, other)
        diff = float(s - o)
        count += (not math.isnan(diff)) and diff >= observed - 1e-12
    if len(orders) == math.factorial(len(known)):
        return count / len(orders)  # exact: the observed assignment is among them
    return (1 + count) / (len(orders) + 1)


def cluster_order(kappa: np.ndarray, names: list[str]) -> list[str]:
    """Decision-makers ordered by average-linkage clustering on 1 − κ (optimal leaf order)."""
    k = len(names)
    if k < 3:
        return list(names)
    dist = 1.0 - np.nan_to_num(kappa, nan=0.0)
    dist = (dist + dist.T) / 2
    np.fill_diagonal(dist, 0.0)
    # Imported here, like scipy.stats (see lazy_imports.py): only an audit of three or more decision-makers
    # orders them, and every other command should not pay scipy.cluster's import at start-up.
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
    from scipy.spatial.distance import squareform

    condensed = squareform(np.clip(dist, 0.0, None), checks=False)
    z = optimal_leaf_ordering(linkage(condensed, method="average"), condensed)
    return [names[i] for i in leaves_list(z)]
