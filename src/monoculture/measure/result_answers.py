"""Results of the same-wrong-answer measures (metrics.md §11)."""

from __future__ import annotations

from dataclasses import dataclass

from .metric import Metric


@dataclass
class SameWrongAnswer(Metric):
    """``P(ŷ_a = ŷ_b | both wrong)``, with the rate chance alone would give and the counts it comes from."""

    chance: float | None = None  # mean 1/(|O_j| − 1) over the people both failed
    both_wrong: int = 0  # people failed by both (pooled: pairs of decision-makers summed over people)
    same: int = 0  # ... of whom both gave the same wrong answer


@dataclass
class AnswerSummary:
    """One scope's rates pooled over every pair of decision-makers (each pair weighted by what it shares)."""

    same_wrong_answer: SameWrongAnswer
    agreement: Metric
    options: float  # |O|, the answer options per item the chance rate assumes (their mean, when items differ)
    options_from: str  # where |O| came from


@dataclass
class JudgeResult:
    """Decision-maker `judged` scored with `judge`'s answers as the key, over the people both saw."""

    judge: str
    judged: str
    n: int
    judged_accuracy: Metric
    true_accuracy: Metric
    inflation: Metric  # judged − true
    judged_rank: int | None  # among everyone this judge judges (1 = best)
    true_rank: int | None  # the same decision-makers ranked by their true accuracy over the same people
