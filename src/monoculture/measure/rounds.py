"""Change over time: decision-makers named NAME@ROUND (e.g. `lender_a@v1=a_v1.csv`).

- Picking on the same person over time: per round, who is failed by every decision-maker; how many rounds
  each person is so failed, against the independence baseline across rounds (Poisson-binomial of the
  per-round systemic failure rates). Outcome data cannot separate stable differences between people
  from feedback: this is persistence, not feedback.
- Where improvements land (Toups et al. 2023): for a decision-maker whose version changed, of the people
  the old version failed, the share the new version serves, bucketed by how many *other* decision-makers
  (in the earlier round) fail them — against the baseline of improvements spread evenly.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from ..count.table import Counts
from ..errors import UsageError
from .estimate import attach
from .inference import wilson
from .metrics._base import divide
from .metrics.ecosystem import poisson_binomial_pmf
from .metrics.persistence import beta_binomial_overdispersion
from .result import Metric
from .result_rounds import (
    SYSTEMIC,
    HistogramBin,
    ImprovementBucket,
    ImprovementResult,
    Overdispersion,
    RoundsResult,
    TransitionResult,
)


def natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key reading digit runs as numbers: v2 < v10, 2024-1 < 2024-12 (text otherwise)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part]


def ordered_rounds(found: list[str], order: str) -> list[str]:
    """The rounds in the order `order` says: ``natural`` (digits as numbers), ``appearance`` (as the
    inputs give them), or the rounds themselves, comma-separated (every round named once)."""
    if order == "natural":
        return sorted(found, key=natural_key)
    if order == "appearance":
        return list(found)
    given = [r.strip() for r in order.split(",") if r.strip()]
    if sorted(given) != sorted(found):
        raise UsageError(f"{{measure.round_order}} names the rounds {', '.join(given)}; the inputs have "
                         f"{', '.join(found)}: name each once, in order (or natural, appearance)")
    return given


def parse(names: list[str], order: str = "natural") -> tuple[list[str], list[str], list[tuple[str, str]]] | None:
    """(decision-makers, rounds in `order` (see `ordered_rounds`), (dm, round) per column), or None if
    unversioned."""
    if not any("@" in n for n in names):
        return None
    pairs = []
    for n in names:
        if "@" not in n:
            raise UsageError(f"'{n}' has no @ROUND while others do: name every input NAME@ROUND")
        dm, rnd = n.rsplit("@", 1)
        pairs.append((dm, rnd))
    dms = list(dict.fromkeys(d for d, _ in pairs))
    rounds = ordered_rounds(list(dict.fromkeys(r for _, r in pairs)), order)
    return dms, rounds, pairs


def analyse(c: Counts, names: list[str], alpha: float, order: str = "natural") -> RoundsResult | None:
    parsed = parse(names, order)
    if parsed is None:
        return None
    dms, rounds, pairs = parsed
    if not c.complete:
        raise UsageError("the rounds analysis needs the inner join (everyone seen in every round)")
    w = c.float_weights
    n = float(w.sum())
    cols = {key: i for i, key in enumerate(pairs)}
    systemic = np.stack([c.fail[:, [i for (d, r), i in cols.items() if r == rnd]].all(axis=1) for rnd in rounds],
                        axis=1)  # (R, rounds)
    s_round = (w @ systemic) / n
    count = systemic.sum(axis=1)
    observed = np.array([(w @ (count == m)) / n for m in range(len(rounds) + 1)])
    expected = poisson_binomial_pmf(s_round, len(rounds) + 1)
    hist = [HistogramBin(m, attach(Metric(float(observed[m])), wilson(observed[m] * n, n, alpha)),
                         Metric(float(expected[m]))) for m in range(len(rounds) + 1)]
    every = hist[-1].observed
    transitions = []
    for t, (before, after) in enumerate(itertools.pairwise(rounds)):
        failed_before = float(w @ systemic[:, t])
        again = float(w @ (systemic[:, t] & systemic[:, t + 1]))
        rate = (attach(Metric(again / failed_before), wilson(again, failed_before, alpha)) if failed_before > 0
                else Metric(None, f"nobody is failed by every decision-maker in round {before}"))
        transitions.append(TransitionResult(before, after, round(failed_before), rate,
                                            Metric(float(s_round[t + 1]))))
    series = [(SYSTEMIC, count, s_round)]
    for dm in dms:
        own = [cols[(dm, r)] for r in rounds if (dm, r) in cols]
        if len(own) > 1:
            fails = c.fail[:, own]
            series.append((dm, fails.sum(axis=1), (w @ fails) / n))
    improvements = []
    for dm in dms:
        versions = [r for r in rounds if (dm, r) in cols]
        for before, after in itertools.pairwise(versions):
            improvements.append(_improvement(c, w, cols, dm, before, after, alpha))
    return RoundsResult(
        rounds=rounds, decision_makers=dms,
        systemic_failure_by_round={r: Metric(float(v)) for r, v in zip(rounds, s_round, strict=True)},
        failed_in_every_round=every, expected_failed_in_every_round=Metric(float(np.prod(s_round))),
        rounds_failed_histogram=hist, improvements=improvements, transitions=transitions,
        overdispersion=[overdispersion(name, x, rates, w) for name, x, rates in series],
    )


def overdispersion(series: str, count: np.ndarray, rates: np.ndarray, w: np.ndarray) -> Overdispersion:
    """Persistence of one series: per-person counts of rounds failed against independent rounds."""
    r = len(rates)
    hist = np.bincount(count, weights=w, minlength=r + 1)
    fit = beta_binomial_overdispersion(hist, rates)
    if fit is None:
        reason = ("fewer than two rounds" if r < 2 else
                  "nobody was failed in any round, or everyone in every round: nothing varies")
        mean = Metric.of(divide(hist @ np.arange(r + 1), hist.sum()), "nobody is counted")
        return Overdispersion(series, r, mean, Metric(None, reason), Metric(None, reason))
    rho = Metric(fit.rho)
    rho.p_value = fit.p_value
    fitted = fit.rho > 0
    return Overdispersion(series, r, Metric(fit.mean), Metric.of(fit.dispersion_ratio, "no round varies"), rho,
                          fit.a if fitted else None, fit.b if fitted else None, fit.lr_statistic)


def suppress_small(result: RoundsResult | None, threshold: int) -> None:
    """Withhold improvement buckets of fewer than `threshold` people, and one more bucket when a single
    withheld count could be recovered from the published total (failed_before)."""
    if result is None or threshold <= 0:
        return
    reason = f"suppressed: fewer than {threshold} people, or its complement (--suppress-below)"
    for imp in result.improvements:
        hidden = {i for i, b in enumerate(imp.buckets) if b.n and b.n < threshold}
        if len(hidden) == 1:
            rest = [i for i, b in enumerate(imp.buckets) if i not in hidden and b.n]
            if rest:
                hidden.add(min(rest, key=lambda i: (imp.buckets[i].n, i)))
        for i in hidden:
            imp.buckets[i].n = None
            imp.buckets[i].improved_share = Metric(None, reason)


def _improvement(c: Counts, w: np.ndarray, cols: dict, dm: str, before: str, after: str,
                 alpha: float) -> ImprovementResult:
    i_a, i_b = cols[(dm, before)], cols[(dm, after)]
    others = [i for (d, r), i in cols.items() if r == before and d != dm]
    failed_before = c.fail[:, i_a]
    served_after = ~c.fail[:, i_b]
    n_others = c.fail[:, others].sum(axis=1) if others else np.zeros(len(w), dtype=int)
    total_failed = float(w @ failed_before)
    overall = divide(w @ (failed_before & served_after), total_failed)
    buckets = []
    for m in range(len(others) + 1):
        mask = failed_before & (n_others == m)
        n_m = float(w @ mask)
        share = Metric.of(divide(w @ (mask & served_after), n_m), "nobody the old version failed is in this bucket")
        if share.defined:
            attach(share, wilson(share.value * n_m, n_m, alpha))
        buckets.append(ImprovementBucket(others_failing=m, n=round(n_m), improved_share=share,
                                         expected_share=Metric.of(overall, "the old version failed nobody")))
    improved = Metric.of(overall, "the old version failed nobody")
    if improved.defined:
        attach(improved, wilson(float(overall) * total_failed, total_failed, alpha))
    return ImprovementResult(decision_maker=dm, from_round=before, to_round=after,
                             failed_before=round(total_failed), improved_share=improved, buckets=buckets)
