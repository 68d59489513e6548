"""The same-wrong-answer measures of an audit (metrics.md §11): per pair, per scope, and the judge matrix.

Intervals resample people (items): each replicate's sums are one matrix product of resampling weights
with the people's indicator columns, for the pairs a report shows (`InferenceOptions.intervals_for_pairs`)
and for the pooled rates of every scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ..count.table import PatternTable
from ..link.answers import UNSEEN, AnswerTable
from ..spec import InferenceOptions
from .draws import Job
from .inference import counted_draws, intervals
from .metrics import answers as m
from .metrics._base import divide
from .records import Floats, Ints, Labels, Objects, Points, Records
from .result import AnswerSummary, GroupResult, JudgeResult, Metric, PairResult, SameWrongAnswer

CI_METHOD = "bootstrap-percentile"
_BLOCK = 64  # pairs per product of resampling weights


def item_options(table: AnswerTable, options: int | None) -> tuple[np.ndarray | float, str]:
    """|O_j|, the answer options of each item (an array) or of every item (a number), and where it came from:
    each item's own, where the input lists them (evaluation logs, ``--options-column``); for the other items
    ``--options``, else the distinct answers seen (decisions and gold answers together; a lower bound when
    some option nobody chose)."""
    fallback, why = ((float(options), "--options") if options is not None else
                     (float(max(table.distinct_answers, 2)), "the distinct answers seen"))
    if table.options is not None and (table.options >= 2).any():
        known = table.options >= 2
        per_item = np.where(known, table.options, fallback).astype(float)
        unknown = "" if known.all() else f"; {int((~known).sum()):,} items without one: {fallback:g}, {why}"
        return per_item, f"each item's own options, as the input lists them{unknown}"
    if options is not None:
        return fallback, "given (--options)"
    return fallback, "distinct answers seen (give --options N if items have more)"


def attach_pairs(pairs: Records[PairResult], c: m.AnswerCounts, table: AnswerTable, options: np.ndarray | float,
                 inference: InferenceOptions, weights: np.ndarray | None) -> Records[PairResult]:
    """The pairs with agreement, same wrong answer (with its chance rate) and CAPA added, from the pair
    counts `c` (`answer_counts(table, options)`), with intervals when `weights` (the "pairs" draw of
    `answer_draws`) are given."""
    k = table.codes.shape[1]
    iu = np.triu_indices(k, 1)
    values = {"agreement": m.agreement(c)[iu], "same": m.same_wrong_answer(c)[iu], "capa": m.capa(c)[iu]}
    probabilities = m.probability_counts(table)
    if probabilities is not None:
        values["capa_probabilistic"] = m.capa_probabilistic(c, probabilities)[iu]
    extra: dict[str, Ints | Floats] = {"chance": Floats(m.same_wrong_chance(c)[iu]),
                                       "both_wrong": Ints(np.rint(c.both_wrong[iu]).astype(np.int64)),
                                       "same": Ints(np.rint(c.same_wrong[iu]).astype(np.int64))}
    reasons = {"agreement": "the pair saw nobody in common", "capa": "undefined: no person in common, or "
               "chance agreement is 1 (both always right)", "same": "nobody is failed by both",
               "capa_probabilistic": "undefined: one of the pair gave no option probabilities for some item both "
               "saw, no person in common, or chance agreement is 1"}
    kinds = {"agreement": Metric, "same": SameWrongAnswer, "capa": Metric, "capa_probabilistic": Metric}
    if weights is None:
        fields = {key: Points(values[key], reasons[key], kinds[key], extra if key == "same" else None)
                  for key in values}
    else:
        cis = _pair_intervals(table, options, iu, values, inference, weights)
        fields = {}
        for key, point in values.items():
            column = Points(point, reasons[key], kinds[key], extra if key == "same" else None)
            made = []
            for p in range(len(point)):
                out = column.value(p)
                if out.defined and not np.isnan(cis[key][0][p]):
                    out.ci, out.ci_method = (float(cis[key][0][p]), float(cis[key][1][p])), CI_METHOD
                made.append(out)
            fields[key] = Objects(made)
    more = {"capa_probabilistic": fields["capa_probabilistic"]} if probabilities is not None else {}
    return pairs.with_fields(agreement=fields["agreement"], same_wrong_answer=fields["same"], capa=fields["capa"],
                             **more)


def _pair_intervals(
    table: AnswerTable, options: np.ndarray | float, iu: tuple[np.ndarray, np.ndarray], points: dict[str, np.ndarray],
    inference: InferenceOptions, weights: np.ndarray,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Percentile intervals of each pair's measures, people resampled by `weights`."""
    reps = pair_replicates(table, options, iu, weights)
    out = {}
    for key, point in points.items():
        lo, hi, _undefined, _same = intervals(point, reps[key], inference.alpha)
        out[key] = (lo, hi)
    return out


def pair_replicates(table: AnswerTable, options: np.ndarray | float, iu: tuple[np.ndarray, np.ndarray],
                    weights: np.ndarray) -> dict[str, np.ndarray]:
    """Agreement, same wrong answer and CAPA (and probabilistic CAPA, where the table has probabilities) of
    the pairs `iu` under each row of `weights` (B, people): (B, pairs) each, from B replicate sums per matrix
    product."""
    codes, gold = table.codes, table.gold
    present = codes != UNSEEN
    right = codes == gold[:, None]
    q = (1.0 / (np.broadcast_to(np.asarray(options, dtype=float), gold.shape) - 1))[:, None]
    keys = ("agreement", "same", "capa") + (("capa_probabilistic",) if table.probabilities is not None else ())
    reps = {key: np.empty((len(weights), len(iu[0]))) for key in keys}
    if table.probabilities is not None:
        has = ~np.isnan(table.probabilities[:, :, 0])
    # Where everyone saw everyone (most leaderboards), four of a pair's seven sums are sums of one decision-maker
    # or of everyone: formed once, and a pair's product has two columns, not seven. The counts are exact in
    # float32 (integers below 2^24) whichever way they are formed; the chance sums are not counts: float64.
    complete = bool(present.all())
    if complete:
        n_all = weights.sum(axis=1, dtype=np.float64)[:, None]
        right_all = (weights @ right.astype(np.float32)).astype(np.float64)
        q_all = _double_product(weights, q)
    for start in range(0, len(iu[0]), _BLOCK):
        a, b = iu[0][start:start + _BLOCK], iu[1][start:start + _BLOCK]
        agree = (codes[:, a] == codes[:, b]) & (codes[:, a] >= 0)
        ra, rb = right[:, a], right[:, b]
        if complete:
            sums = (weights @ np.concatenate([agree, ra & rb], axis=1).astype(np.float32)).astype(np.float64)
            ag, br = sums[:, :len(a)], sums[:, len(a):]
            acc_a, acc_b = right_all[:, a], right_all[:, b]
            nn, bw, qc = np.broadcast_to(n_all, ag.shape), n_all - acc_a - acc_b + br, np.broadcast_to(q_all, ag.shape)
        else:
            both = present[:, a] & present[:, b]
            # One product for the seven sums of every pair in the block.
            cols = np.concatenate([both, agree & both, ra & rb, both & ~ra & ~rb, ra & both, rb & both],
                                  axis=1).astype(np.float32)
            sums = (weights @ cols).reshape(len(weights), 6, len(a)).astype(np.float64)
            nn, ag, br, bw, acc_a, acc_b = (sums[:, i] for i in range(6))
            qc = _double_product(weights, both * q)
        reps["agreement"][:, start:start + len(a)] = divide(ag, nn)
        reps["same"][:, start:start + len(a)] = divide(ag - br, bw)
        reps["capa"][:, start:start + len(a)] = m.capa_of(ag, nn, acc_a, acc_b, qc)
        if table.probabilities is not None:
            # Not counts: double precision. Where a pair's point is undefined (some person both saw has no
            # distribution from one of them), so are its replicates' (attach_pairs gives it no interval).
            pa_, pb_ = np.nan_to_num(table.probabilities[:, a]), np.nan_to_num(table.probabilities[:, b])
            p_sums = _double_product(weights, np.concatenate([(pa_ * pb_).sum(axis=2), pa_[:, :, 0] * has[:, b],
                                                               pb_[:, :, 0] * has[:, a]], axis=1))
            agp, rap, rbp = (p_sums[:, i * len(a):(i + 1) * len(a)] for i in range(3))
            reps["capa_probabilistic"][:, start:start + len(a)] = m.capa_of(agp, nn, rap, rbp, qc)
    return reps


def _double_product(weights: np.ndarray, matrix: np.ndarray, rows: int = 64) -> np.ndarray:
    """``weights @ matrix`` in double precision, `rows` replicates at a time (no double copy of all of them)."""
    return np.concatenate([weights[i:i + rows].astype(np.float64) @ matrix for i in range(0, len(weights), rows)])


def _resampling_weights(n: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(B, n) float32: how often each person is drawn in each resample of n people with replacement.

    The same draw as `inference.bootstrap_means` makes, counted from uniform indices: numpy's multinomial
    over n equal cells took over a second for MMLU-Pro's groups. (The multiplicity bootstrap keeps its own
    draws, so that its intervals stay as they were.)"""
    return counted_draws(np.ones(n, dtype=np.int64), n, replicates, rng).astype(np.float32)


def summary(table: AnswerTable, options: np.ndarray | float, rows: np.ndarray | None, inference: InferenceOptions,
            weights: np.ndarray | None, options_from: str) -> AnswerSummary:
    """The pooled rates over every pair of one scope (everyone when `rows` is None), with intervals when
    `weights` (the scope's resampling weights, from `answer_draws`) are given."""
    pooled = m.pooled_answers(table, options, rows)
    sums = np.array([pooled.pairs, pooled.agreeing, pooled.wrong_pairs, pooled.same_wrong_pairs,
                     pooled.chance_wrong])
    total = sums.sum(axis=1)
    same = Metric.of(divide(total[3], total[2]), "nobody is failed by two decision-makers")
    agree = Metric.of(divide(total[1], total[0]), "no person is seen by two decision-makers")
    chance = divide(total[4], total[2])
    if weights is not None:
        reps = (weights @ sums.T.astype(np.float32)).astype(np.float64)
        for metric, num, den in ((same, 3, 2), (agree, 1, 0)):
            if metric.defined:
                lo, hi, _u, _s = intervals(np.array([metric.value]), divide(reps[:, num], reps[:, den])[:, None],
                                           inference.alpha)
                if not np.isnan(lo[0]):
                    metric.ci, metric.ci_method = (float(lo[0]), float(hi[0])), CI_METHOD
    return AnswerSummary(
        same_wrong_answer=SameWrongAnswer(**vars(same), chance=None if np.isnan(chance) else float(chance),
                                          both_wrong=round(float(total[2])), same=round(float(total[3]))),
        agreement=agree, options=float(np.mean(options if rows is None or np.ndim(options) == 0 else
                                               np.asarray(options)[rows])),
        options_from=options_from,
    )


def group_summaries(groups: list[GroupResult], rows: dict[tuple[str, str], np.ndarray], table: AnswerTable,
                    options: np.ndarray | float, inference: InferenceOptions,
                    take: Callable[[str], np.ndarray | None], options_from: str) -> None:
    """Each shown group's pooled rates (suppressed groups get none: their numbers are withheld), over its
    `rows` (`group_rows`), with its resampling weights taken from `answer_draws`'s jobs."""
    for g in groups:
        if not g.suppressed and (g.attribute, g.group) in rows:
            g.answers = summary(table, options, rows[g.attribute, g.group], inference,
                                take(f"{g.attribute}={g.group}"), options_from)


def group_rows(pattern_table: PatternTable, table: AnswerTable, intersect: bool) -> dict[tuple[str, str], np.ndarray]:
    """The answer table's rows of each group."""
    from .groups import group_members

    return {(attr, group): np.flatnonzero(np.isin(table.cell, np.unique(pattern_table.row_cell[rows])))
            for attr, members in group_members(pattern_table, intersect) for group, rows in members}


def answer_draws(table: AnswerTable, rows: dict[tuple[str, str], np.ndarray], groups: list[GroupResult],
                 inference: InferenceOptions, rng: np.random.Generator) -> Iterator[Job]:
    """The resampling weights the answer measures take, in the order they take them, drawn from `rng` (for a
    `Draws` worker): "pairs", "overall", then each shown group's (its `rows`, from `group_rows`). None for
    pairs without intervals, a scope of nobody, or no bootstrap."""
    b = inference.bootstrap

    def job(n: int) -> Callable[[], np.ndarray | None]:
        return (lambda: _resampling_weights(n, b, rng)) if b > 0 and n > 0 else (lambda: None)

    n = len(table.gold)
    yield "pairs", job(n) if inference.intervals_for_pairs(table.codes.shape[1]) else (lambda: None)
    yield "overall", job(n)
    for g in groups:
        if not g.suppressed and (g.attribute, g.group) in rows:
            yield f"{g.attribute}={g.group}", job(len(rows[g.attribute, g.group]))


def judges(c: m.AnswerCounts, names: list[str]) -> Records[JudgeResult]:
    """The judge matrix from the pair counts `c`: each decision-maker's accuracy when another's answers are
    the key, and the ranks it gets among those the judge judges (1 = best; ties share the best rank), against
    its true rank. Judge by judge; within a judge, the judged in the order of `names`."""
    judged, true, inflation = m.judged_accuracy(c), m.true_accuracy(c), m.judge_inflation(c)
    k = len(names)
    # Each judge's column without its own diagonal, ranked at once: [judge b, judged a].
    off = ~np.eye(k, dtype=bool)
    columns = [x.T[off.T].reshape(k, k - 1) for x in (judged, true, inflation, c.n)]
    judged_rank, true_rank = _column_ranks(columns[0]), _column_ranks(columns[1])
    judge_of = np.repeat(np.arange(k), k - 1)
    others = np.arange(k - 1)[None, :]
    judged_of = (others + (others >= np.arange(k)[:, None])).ravel()  # judge b skips itself
    reason = "the pair saw nobody in common"
    return Records(JudgeResult, k * (k - 1), {
        "judge": Labels(judge_of, names), "judged": Labels(judged_of, names),
        "n": Ints(np.rint(columns[3]).astype(np.int64).ravel()),
        "judged_accuracy": Points(columns[0].ravel(), reason), "true_accuracy": Points(columns[1].ravel(), reason),
        "inflation": Points(columns[2].ravel(), reason), "judged_rank": judged_rank, "true_rank": true_rank,
    })


def _column_ranks(values: np.ndarray) -> Ints:
    """Competition ranks within each row (1 = highest; ties share the best rank), row after row; None where
    undefined. Undefined values rank below every defined one, so they change no defined value's rank."""
    from scipy import stats  # only here: commands that compute no statistic start without scipy.stats

    undefined = np.isnan(values)
    ranks = stats.rankdata(np.where(undefined, np.inf, -values), axis=1, method="min").astype(np.int64)
    return Ints(ranks.ravel(), undefined.ravel())
