"""When the decision is an answer: the same wrong answer, chance-corrected agreement, judges (metrics.md §11).

Sources: Kim, Garg, Peng, Garg, ICML 2025, "Correlated Errors in Large Language Models" (agreement when
both are wrong); Goel et al. 2025, "Great Models Think Alike" (CAPA, as PyPI ``lm-sim`` computes it).

Every measure is a function of `AnswerCounts`: per pair of decision-makers, sums over the people both saw.
They are sums, so they shard and merge; `answer_counts` forms them as matrix products of the answer
matrix's indicator columns (one product per answer value), so k decision-makers cost k² per product, never
a Python loop over pairs. An invalid answer (a row with no answer, kept as a failure) is wrong and equals
nobody's answer, not even another invalid one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...link.answers import UNSEEN, AnswerTable
from ._base import divide


@dataclass(frozen=True)
class AnswerCounts:
    """Per pair (a, b), over the people both saw (each matrix k × k, symmetric but `right`):

    - ``n``: people both saw; ``agree``: both gave the same (valid) answer;
    - ``both_right`` / ``both_wrong``: both answered correctly / both failed;
    - ``right[a, b]``: people a answered correctly among those both saw;
    - ``chance_common`` / ``chance_wrong``: Σ 1/(|O_j| − 1) over the people both saw / both failed.
    """

    n: np.ndarray
    agree: np.ndarray
    both_right: np.ndarray
    both_wrong: np.ndarray
    right: np.ndarray
    chance_common: np.ndarray
    chance_wrong: np.ndarray

    @property
    def same_wrong(self) -> np.ndarray:
        """People both failed with the same answer: two answers that agree are both right or both wrong."""
        return self.agree - self.both_right


def answer_counts(table: AnswerTable, options: np.ndarray | float, rows: np.ndarray | None = None) -> AnswerCounts:
    """`AnswerCounts` of the individuals `rows` (all when None). `options`: |O_j|, the number of answer
    options of each person's item (an array over the table's rows) or one number for all.

    Examples
    --------
    Two decision-makers, three people; gold answers A, B, C (codes 0, 1, 2); both fail person 2, with the
    same answer:

    >>> t = AnswerTable(np.array([[0, 0], [1, 2], [0, 0]], np.int32), np.array([0, 1, 2], np.int32),
    ...                 np.zeros(3, int), ["A", "B", "C"])
    >>> c = answer_counts(t, 4)
    >>> int(c.agree[0, 1]), int(c.both_wrong[0, 1]), int(c.same_wrong[0, 1])
    (2, 1, 1)
    """
    codes, gold = table.codes, table.gold
    q = 1.0 / (np.broadcast_to(np.asarray(options, dtype=float), gold.shape) - 1)
    if rows is not None:
        codes, gold, q = codes[rows], gold[rows], q[rows]
    # float32 products are exact below 2^24 people; beyond, float64.
    dtype = np.float32 if len(gold) < 1 << 24 else np.float64
    present = (codes != UNSEEN).astype(dtype)
    right = (codes == gold[:, None]).astype(dtype)
    wrong = present - right
    agree = np.zeros((codes.shape[1],) * 2)
    for value in np.unique(codes[codes >= 0]):
        chose = (codes == value).astype(dtype)
        agree += chose.T @ chose
    qd = q[:, None]  # float64: the chance sums are not counts
    return AnswerCounts(
        n=(present.T @ present).astype(np.float64), agree=agree,
        both_right=(right.T @ right).astype(np.float64), both_wrong=(wrong.T @ wrong).astype(np.float64),
        right=(right.T @ present).astype(np.float64),
        chance_common=((present * qd).T @ present).astype(np.float64),
        chance_wrong=((wrong * qd).T @ wrong).astype(np.float64),
    )


def agreement(c: AnswerCounts) -> np.ndarray:
    """Overall agreement ``P(ŷ_a = ŷ_b)`` over the people both saw. NaN when they saw nobody in common."""
    return divide(c.agree, c.n)


def same_wrong_answer(c: AnswerCounts) -> np.ndarray:
    """Agreement when both are wrong, ``P(ŷ_a = ŷ_b | both wrong)`` (Kim et al. 2025).

    Undefined (NaN, not 0) when nobody is failed by both: there is no wrong answer to share.

    Examples
    --------
    >>> c = AnswerCounts(*(np.array([[v]], float) for v in (10, 6, 3, 4, 5, 10 / 3, 4 / 3)))
    >>> float(same_wrong_answer(c)[0, 0])
    0.75
    """
    return divide(c.same_wrong, c.both_wrong)


def same_wrong_chance(c: AnswerCounts) -> np.ndarray:
    """The rate at which two wrong answers would agree by chance, ``mean_j 1/(|O_j| − 1)`` over the people
    both failed: each picks uniformly among the |O_j| − 1 wrong options. NaN when nobody is failed by both."""
    return divide(c.chance_wrong, c.both_wrong)


def capa(c: AnswerCounts) -> np.ndarray:
    """Discrete CAPA κ (Goel et al. 2025; as ``lm-sim``'s ``CAPA(prob=False)`` computes it):

    ``c_obs = P(ŷ_a = ŷ_b)``, ``c_exp = acc_a·acc_b + mean_j (1/(|O_j| − 1))·(1 − acc_a)(1 − acc_b)``,
    ``κ = (c_obs − c_exp) / (1 − c_exp)``, each over the people both saw.

    0 is the agreement of two independent decision-makers of these accuracies whose wrong answers are
    uniform over the wrong options; 1 is identical answers. NaN when the pair saw nobody in common, or when
    ``c_exp = 1`` (both always right: agreement cannot exceed chance).
    """
    return capa_of(c.agree, c.n, c.right, c.right.T, c.chance_common)


def capa_of(agree: np.ndarray, n: np.ndarray, right_a: np.ndarray, right_b: np.ndarray,
            chance_common: np.ndarray) -> np.ndarray:
    """`capa` from its sums over the people a pair both saw (any shape: a matrix of pairs, or bootstrap
    replicates of a list of pairs): agreeing, seen, a right, b right, Σ 1/(|O_j| − 1)."""
    acc_a, acc_b = divide(right_a, n), divide(right_b, n)
    c_exp = acc_a * acc_b + divide(chance_common, n) * (1 - acc_a) * (1 - acc_b)
    return divide(divide(agree, n) - c_exp, 1 - c_exp)


@dataclass(frozen=True)
class ProbabilityCounts:
    """Per pair (a, b), over the people both gave a probability for each option (k × k each):

    - ``n``: such people; ``agree``: ``Σ_j Σ_o p_a(o) p_b(o)``, the chance that answers drawn from the two
      distributions agree, summed over them;
    - ``right[a, b]``: ``Σ_j p_a(gold_j)``, a's probability of the correct option summed over them.
    """

    n: np.ndarray
    agree: np.ndarray
    right: np.ndarray


def probability_counts(table: AnswerTable, rows: np.ndarray | None = None) -> ProbabilityCounts | None:
    """`ProbabilityCounts` of the individuals `rows` (all when None), from ``table.probabilities`` (the gold
    option first); None when no decision-maker gave probabilities. One k × k product per option position."""
    p = table.probabilities
    if p is None:
        return None
    if rows is not None:
        p = p[rows]
    has = (~np.isnan(p[:, :, 0])).astype(np.float64)
    agree = np.zeros((p.shape[1],) * 2)
    for o in range(p.shape[2]):  # a position at a time: no second copy of the whole (N, k, W) table
        po = np.nan_to_num(p[:, :, o])
        agree += po.T @ po
    return ProbabilityCounts(n=has.T @ has, agree=agree, right=np.nan_to_num(p[:, :, 0]).T @ has)


def capa_probabilistic(c: AnswerCounts, p: ProbabilityCounts) -> np.ndarray:
    """Probabilistic CAPA κ_p (Goel et al. 2025; as ``lm-sim``'s ``CAPA(prob=True)`` computes it):

    ``c_obs = mean_j Σ_o p_a(o) p_b(o)``, ``p̂_a = mean_j p_a(gold_j)``,
    ``c_exp = p̂_a p̂_b + mean_j (1/(|O_j| − 1))·(1 − p̂_a)(1 − p̂_b)``, ``κ_p = (c_obs − c_exp)/(1 − c_exp)``,
    each over the people both saw. Where each answer puts probability 1 on one option it is `capa`.

    NaN when one of the pair gave no probabilities for some person both saw (the mean would be over
    fewer people than the pair's other measures), when they saw nobody in common, or when ``c_exp = 1``.

    Examples
    --------
    One item of two options, gold first: a gives the gold option 0.8, b 0.6. ``c_obs = 0.8·0.6 + 0.2·0.4 =
    0.56``, ``c_exp = 0.48 + 1·0.2·0.4 = 0.56``: no agreement beyond chance.

    >>> t = AnswerTable(np.zeros((1, 2), np.int32), np.zeros(1, np.int32), np.zeros(1, int), ["A", "B"],
    ...                 probabilities=np.array([[[0.8, 0.2], [0.6, 0.4]]]))
    >>> round(float(capa_probabilistic(answer_counts(t, 2), probability_counts(t))[0, 1]), 12)
    0.0
    """
    kappa = capa_of(p.agree, c.n, p.right, p.right.T, c.chance_common)
    return np.where(p.n == c.n, kappa, np.nan)


def judged_accuracy(c: AnswerCounts) -> np.ndarray:
    """``judged[a, b]``: a's accuracy when b's answers are the key, ``P(ŷ_a = ŷ_b)`` over the people both saw
    (both right, or both wrong with the same answer). Row a, column b (the judge)."""
    return agreement(c)


def true_accuracy(c: AnswerCounts) -> np.ndarray:
    """``true[a, b]``: a's accuracy against the gold answers over the people a and b both saw."""
    return divide(c.right, c.n)


def judge_inflation(c: AnswerCounts) -> np.ndarray:
    """How much judging a by b's answers overstates a's accuracy: ``judged[a, b] − true[a, b]``
    ``= P(both wrong, same answer) − P(a right, b wrong)``."""
    return judged_accuracy(c) - true_accuracy(c)


@dataclass(frozen=True)
class PooledAnswers:
    """Per person, the sums the pooled (all-pairs) rates take: pairs of decision-makers that saw them,
    that agree, that both failed them, that both failed them with the same answer, and that pair's chance."""

    pairs: np.ndarray
    agreeing: np.ndarray
    wrong_pairs: np.ndarray
    same_wrong_pairs: np.ndarray
    chance_wrong: np.ndarray


def pooled_answers(table: AnswerTable, options: np.ndarray | float, rows: np.ndarray | None = None) -> PooledAnswers:
    """Per-person pair counts from each person's answer counts: with ``m_o`` decision-makers answering o,
    ``Σ_o C(m_o, 2)`` pairs agree. Summed over people and divided, they give the rates over all pairs at
    once (each pair weighted by the people it shares), in O(N·k) rather than O(N·k²)."""
    codes, gold = table.codes, table.gold
    q = 1.0 / (np.broadcast_to(np.asarray(options, dtype=float), gold.shape) - 1)
    if rows is not None:
        codes, gold, q = codes[rows], gold[rows], q[rows]
    n, width = len(gold), len(table.tokens) + 1
    valid = codes >= 0
    person = np.broadcast_to(np.arange(n)[:, None], codes.shape)
    by_value = np.bincount(person[valid] * width + codes[valid], minlength=n * width).reshape(n, width)
    right = by_value[np.arange(n), np.maximum(gold, 0)] * (gold >= 0)
    wrong_valid = by_value.copy()
    wrong_valid[np.arange(n), np.maximum(gold, 0)] -= right

    def pairs(m: np.ndarray) -> np.ndarray:
        return m * (m - 1) / 2

    seen = (codes != -2).sum(axis=1)
    wrong = seen - right
    wrong_pairs = pairs(wrong)
    return PooledAnswers(
        pairs=pairs(seen), agreeing=pairs(by_value).sum(axis=1), wrong_pairs=wrong_pairs,
        same_wrong_pairs=pairs(wrong_valid).sum(axis=1), chance_wrong=wrong_pairs * q,
    )
