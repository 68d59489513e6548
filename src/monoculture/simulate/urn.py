"""Repeat-use feedback as Pólya urns (Laufer 2020, "Feedback effects in repeat-use criminal risk
assessments"; metrics.md §9).

Every person carries an urn of adverse and favourable balls; its adverse share is their current risk.
Person j of group g starts with ``m·p_g`` adverse and ``m·(1 − p_g)`` favourable balls (``--urn-size``
m, initial rate p_g). Each round one decision is made for everyone:

- ``polya``: adverse with probability equal to the urn's adverse share (a ball is drawn);
- ``threshold``: a risk score is the adverse share of ``--draws`` balls drawn with replacement, and the
  decision is adverse when the score reaches ``--cutoff`` (a decision rule on a noisy score).

The decision is then fed back: ``--reinforcement`` r balls of the decision's colour are added
(``--reinforce drawn``, the plain Pólya urn), or only adverse decisions add r adverse balls
(``--reinforce adverse``: a record that only grows).

Known behaviour, which the report states: under ``polya`` with ``drawn`` reinforcement the urn share is a
martingale — each group's expected adverse rate stays p_g every round, so group averages do not drift
apart; each person's count of adverse decisions after T rounds is Beta-Binomial(T, m·p_g/r, m(1−p_g)/r),
so the share always adverse grows with r. A threshold rule is what amplifies a small initial gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError, UsageError
from ..lazy_imports import stats
from ..read.files import read_table
from .result import Band, UrnResult, UrnRound

RULES = ("polya", "threshold")
REINFORCE = ("drawn", "adverse")


@dataclass(frozen=True)
class UrnModel:
    """How a decision is drawn from an urn and fed back into it (see the module docstring)."""

    rule: str = "polya"
    reinforce: str = "drawn"
    reinforcement: float = 1.0
    urn_size: float = 2.0
    draws: int = 10  # threshold rule only
    cutoff: float = 0.5  # threshold rule only

    def check(self) -> None:
        if self.rule not in RULES:
            raise UsageError(f"{{urn.rule}} must be one of {', '.join(RULES)}; got '{self.rule}'")
        if self.reinforce not in REINFORCE:
            raise UsageError(f"{{urn.reinforce}} must be one of {', '.join(REINFORCE)}; got '{self.reinforce}'")
        if not self.reinforcement >= 0:
            raise UsageError(f"{{urn.reinforcement}} must be non-negative; got {self.reinforcement}")
        if not self.urn_size > 0:
            raise UsageError(f"{{urn.urn_size}} must be positive; got {self.urn_size}")
        if self.draws < 1:
            raise UsageError(f"{{urn.draws}} must be at least 1; got {self.draws}")
        if not 0 < self.cutoff <= 1:
            raise UsageError(f"{{urn.cutoff}} must be in (0, 1]; got {self.cutoff}")

    def options(self) -> dict:
        """The model's settings for the report (draws and cutoff only where the rule uses them)."""
        threshold = self.rule == "threshold"
        return {"rule": self.rule, "reinforce": self.reinforce, "reinforcement": self.reinforcement,
                "urn_size": self.urn_size, "draws": self.draws if threshold else None,
                "cutoff": self.cutoff if threshold else None}


def expected_first_round(p: np.ndarray, model: UrnModel) -> np.ndarray:
    """Closed form of the expected share of adverse decisions in round 1 for initial rates p.

    ``polya``: p. ``threshold``: P(Binomial(draws, p) ≥ ⌈cutoff·draws⌉), the binomial survival function.
    """
    if model.rule == "polya":
        return np.asarray(p, dtype=float)
    need = math.ceil(model.cutoff * model.draws - 1e-12)
    return stats.binom.sf(need - 1, model.draws, p)


def always_adverse_polya(p: np.ndarray, urn_size: float, reinforcement: float, rounds: int) -> np.ndarray:
    """Plain Pólya urn: the expected share adverse in all of T rounds, the Beta-Binomial mass at T.

    With r = 0 the draws are independent and this is p^T.
    """
    p = np.asarray(p, dtype=float)
    if reinforcement == 0:
        return p**rounds
    a, b = urn_size * p / reinforcement, urn_size * (1 - p) / reinforcement
    return stats.betabinom.pmf(rounds, rounds, a, b)


def simulate_urns(
    initial: np.ndarray, rounds: int, model: UrnModel, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate the urns of people with initial adverse rates ``initial`` (shape (..., n)).

    Returns ``adverse`` (rounds, ..., n) booleans — the decision of every round — and ``share``
    (rounds, ..., n), each urn's adverse share after the round.
    """
    m, r = model.urn_size, model.reinforcement
    a = m * np.asarray(initial, dtype=float)
    b = m - a
    adverse = np.empty((rounds, *a.shape), dtype=bool)
    share = np.empty((rounds, *a.shape))
    for t in range(rounds):
        s = a / (a + b)
        if model.rule == "polya":
            d = rng.random(a.shape) < s
        else:
            d = rng.binomial(model.draws, s) >= model.cutoff * model.draws - 1e-12
        a = a + r * d
        if model.reinforce == "drawn":
            b = b + r * ~d
        adverse[t] = d
        share[t] = a / (a + b)
    return adverse, share


def urn_study(
    groups: list[str],
    sizes: np.ndarray,
    initial_rate: np.ndarray,
    *,
    rounds: int = 10,
    model: UrnModel | None = None,
    replications: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
    options: dict | None = None,
) -> UrnResult:
    """Monte Carlo over `replications` seeded runs of the whole population; intervals are percentiles."""
    model = model or UrnModel()
    model.check()
    _check(rounds, replications, initial_rate, alpha)
    sizes = np.asarray(sizes, dtype=np.int64)
    member = np.repeat(np.arange(len(groups)), sizes)
    p = np.asarray(initial_rate, dtype=float)
    stats_by_rep = []
    for child in np.random.SeedSequence(seed).spawn(replications):
        rng = np.random.default_rng(child)
        adverse, share = simulate_urns(p[member], rounds, model, rng)
        always = np.logical_and.accumulate(adverse, axis=0)
        stats_by_rep.append(np.stack([_group_means(x, member, sizes) for x in (adverse, always, share)]))
    arr = np.stack(stats_by_rep)  # (R, 3, rounds, G)
    hi_g, lo_g = int(np.argmax(p)), int(np.argmin(p))
    q = (alpha / 2, 1 - alpha / 2)

    def band(values: np.ndarray) -> Band:
        lo, hi = np.quantile(values, q)
        return Band(float(values.mean()), float(lo), float(hi))

    out_rounds = []
    for t in range(rounds):
        out_rounds.append(UrnRound(
            round=t + 1,
            adverse_rate={g: band(arr[:, 0, t, i]) for i, g in enumerate(groups)},
            always_adverse={g: band(arr[:, 1, t, i]) for i, g in enumerate(groups)},
            mean_urn_share={g: band(arr[:, 2, t, i]) for i, g in enumerate(groups)},
            gap=band(arr[:, 0, t, hi_g] - arr[:, 0, t, lo_g]),
            always_adverse_gap=band(arr[:, 1, t, hi_g] - arr[:, 1, t, lo_g]),
        ))
    closed = {"expected_adverse_rate_round_1": dict(zip(groups, map(float, expected_first_round(p, model)),
                                                        strict=True))}
    if (model.rule, model.reinforce) == ("polya", "drawn"):
        closed["expected_adverse_rate_every_round"] = dict(zip(groups, map(float, p), strict=True))
        closed[f"always_adverse_after_{rounds}_rounds"] = dict(zip(groups, map(float, always_adverse_polya(
            p, model.urn_size, model.reinforcement, rounds)), strict=True))
    result = UrnResult(
        kind="urn", rule=model.rule, explanation=explain(model.rule, model.reinforce), groups=list(groups),
        sizes=dict(zip(groups, map(int, sizes), strict=True)),
        initial_rate=dict(zip(groups, map(float, p), strict=True)),
        options={"rounds": rounds, **model.options(), "replications": replications, "seed": seed,
                 "alpha": alpha} | (options or {}),
        rounds=out_rounds, closed_form=closed,
    )
    if hi_g == lo_g or p[hi_g] == p[lo_g]:
        result.warnings.append("every group starts at the same rate, so the gap is measured between equals")
    return result


def explain(rule: str, reinforce: str) -> str:
    if rule == "polya" and reinforce == "drawn":
        return ("plain Pólya reinforcement: each urn's share is a martingale, so group averages stay at their "
                "initial rates (no drift apart) while individuals lock in — the share always adverse grows "
                "with the reinforcement (Beta-Binomial counts)")
    if reinforce == "adverse":
        how = "the cut-off turns a small gap in risk into a larger gap in decisions at first, but " \
            if rule == "threshold" else ""
        return (f"adverse-only reinforcement: {how}every adverse decision raises the person's future risk and "
                "nothing lowers it, so every group drifts towards the adverse decision, the higher-rate group "
                "first, and the gap in decisions closes as both groups saturate")
    return ("threshold rule: the decision is adverse when a noisy score passes the cut-off, so a small gap in "
            "risk becomes a larger gap in decisions, and feeding decisions back pushes people further to their "
            "side of the cut-off; with strong reinforcement the first decision locks each person in, so the gap "
            "in decisions returns towards the first round's while the share always adverse keeps growing")


def _group_means(x: np.ndarray, member: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(rounds, n) values → (rounds, G) group means."""
    sums = np.stack([np.bincount(member, weights=row.astype(float), minlength=len(sizes)) for row in x])
    return sums / sizes


def _check(rounds: int, replications: int, p: np.ndarray, alpha: float) -> None:
    if rounds < 1:
        raise UsageError(f"{{urn.rounds}} must be at least 1; got {rounds}")
    if replications < 2:
        raise UsageError(f"{{urn.replications}} must be at least 2; got {replications}")
    if not 0 < alpha < 1:
        raise UsageError(f"{{urn.alpha}} must be in (0, 1); got {alpha}")
    if ((np.asarray(p) < 0) | (np.asarray(p) > 1)).any():
        raise UsageError("initial adverse rates must lie in [0, 1] (check {urn.base_rate} and {urn.initial_bias})")


def population(
    people: str | None = None,
    group: str | None = None,
    decision: str | None = None,
    adverse: str | None = None,
    base_rate: float = 0.3,
    initial_bias: float = 0.05,
    size: int = 10_000,
) -> tuple[list[str], np.ndarray, np.ndarray, dict]:
    """Groups, their sizes and initial adverse rates: from a people file, or two synthetic halves.

    From data, sizes are the group's rows; the initial rate is the observed share of ``--adverse`` in
    ``--decision`` when given, else ``--base-rate`` for the largest group and ``--base-rate +
    --initial-bias`` for the others. Without data: groups 'reference' and 'disadvantaged' of size/2 each.
    Returns (groups, sizes, rates, provenance for the report's options).
    """
    if people is None:
        if group or decision:
            raise UsageError("{urn.group} and {urn.decision} need {urn.people}")
        if size < 2:
            raise UsageError(f"{{urn.population}} must be at least 2; got {size}")
        sizes = np.array([size - size // 2, size // 2])
        return (["reference", "disadvantaged"], sizes, np.array([base_rate, base_rate + initial_bias]),
                {"source": "synthetic", "base_rate": base_rate, "initial_bias": initial_bias})
    if group is None:
        raise UsageError("name the group column with {urn.group}")
    columns = [group] + ([decision] if decision else [])
    table, _ = read_table(people, columns, {group: "group"} | ({decision: "decision"} if decision else {}))
    g = pc.cast(table[group], pa.string()).to_numpy(zero_copy_only=False)
    missing = np.array([v is None or not str(v).strip() for v in g])
    if missing.any():
        raise InputError("missing group value", file=people, column=group, row=int(np.argmax(missing)) + 1)
    names, inverse, sizes = np.unique(g.astype(str), return_inverse=True, return_counts=True)
    if decision:
        if adverse is None:
            raise UsageError("name the adverse value of {urn.decision} with {urn.adverse} (e.g. {urn.adverse=0})")
        if initial_bias:
            raise UsageError("{urn.initial_bias} applies to synthetic rates; with --decision the data give the rates "
                             "(pass {urn.initial_bias=0})")
        d = pc.cast(table[decision], pa.string()).to_numpy(zero_copy_only=False)
        known = np.array([v is not None and str(v).strip() != "" for v in d])
        is_adverse = np.array([known[i] and str(v).strip() == adverse for i, v in enumerate(d)])
        rates = np.bincount(inverse[known], weights=is_adverse[known], minlength=len(names)) / np.maximum(
            np.bincount(inverse[known], minlength=len(names)), 1)
        return ([str(n) for n in names], sizes, rates,
                {"source": people, "group": group, "decision": decision, "adverse": adverse,
                 "rows_without_decision": int((~known).sum())})
    rates = np.where(np.arange(len(names)) == int(np.argmax(sizes)), base_rate, base_rate + initial_bias)
    return ([str(n) for n in names], sizes, rates,
            {"source": people, "group": group, "base_rate": base_rate, "initial_bias": initial_bias})
