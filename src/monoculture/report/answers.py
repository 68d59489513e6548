"""The same-wrong-answer measures as a reader sees them (metrics.md §11): a sentence, the pairs that share
their wrong answers most, and the judges whose answers would most flatter another's accuracy."""

from __future__ import annotations

import numpy as np
from rich.markup import escape
from rich.table import Table

from ..measure.records import Ranked, has_field, ranked, values_of
from ..measure.result import AuditResult, JudgeResult, Metric, PairResult
from .text import ci_text, fmt_num, fmt_pct

SHOWN = 10


def answer_sentence(r: AuditResult) -> str | None:
    """One sentence: how often two decision-makers that both fail a person give the same wrong answer."""
    a = r.overall.answers
    if a is None:
        return None
    s = a.same_wrong_answer
    if not s.defined:
        return f"Same wrong answer: undefined ({s.reason})."
    average = " on average" if "each item" in a.options_from else ""
    chance = f"; chance alone gives {fmt_pct(Metric(s.chance))} ({a.options:.3g} options{average})" if s.chance else ""
    return (f"When two decision-makers both fail a person, they give the same wrong answer "
            f"{fmt_pct(s)}{ci_text(s, True)} of the time{chance}.")


def ranked_pairs(r: AuditResult) -> Ranked[PairResult]:
    """The pairs by agreement when both are wrong, highest first (undefined last)."""
    return ranked(r.overall.pairwise, "same_wrong_answer")


def ranked_judges(r: AuditResult) -> Ranked[JudgeResult]:
    """The judge–judged pairs by inflation, largest first (undefined left out)."""
    return ranked(r.judges or [], "inflation", defined_only=True)


def rank_changes(r: AuditResult) -> int:
    """How many judged places change rank when the judge's answers are the key."""
    true, judged = values_of(r.judges or [], "true_rank"), values_of(r.judges or [], "judged_rank")
    if true is None or judged is None:
        return 0
    return int(((true != judged) & ~(np.isnan(true) & np.isnan(judged))).sum())


def probabilistic(r: AuditResult) -> bool:
    """Whether the pairs have probabilistic CAPA (some input logged option probabilities)."""
    return has_field(r.overall.pairwise, "capa_probabilistic")


def pair_header(with_probabilistic: bool) -> list[str]:
    return ["a", "b", "both wrong", "same answer", "chance", "agreement", "CAPA κ",
            *(["CAPA κp"] if with_probabilistic else [])]


def pair_row(p: PairResult, with_probabilistic: bool = False) -> list[str]:
    s = p.same_wrong_answer
    assert s is not None and p.agreement is not None and p.capa is not None
    more = [fmt_num(p.capa_probabilistic) if p.capa_probabilistic is not None else "—"] if with_probabilistic else []
    return [p.a, p.b, f"{s.both_wrong:,}", fmt_pct(s) + ci_text(s, True),
            fmt_pct(Metric(s.chance)) if s.chance is not None else "—", fmt_pct(p.agreement), fmt_num(p.capa), *more]


JUDGE_HEADER = ["judge", "judged", "true accuracy", "judged accuracy", "inflation", "rank true → judged"]


def judge_row(j: JudgeResult) -> list[str]:
    return [j.judge, j.judged, fmt_pct(j.true_accuracy), fmt_pct(j.judged_accuracy),
            "+" + fmt_pct(j.inflation) if (j.inflation.value or 0) > 0 else fmt_pct(j.inflation),
            f"{j.true_rank} → {j.judged_rank}"]


def terminal_tables(r: AuditResult) -> list[Table]:
    """The pairs and the judges, each cut to what a terminal can show."""
    pairs = ranked_pairs(r)
    if not pairs:
        return []
    shown = pairs[:] if len(pairs) <= SHOWN else pairs[:SHOWN - 2] + pairs[-2:]
    t = Table(title="Same wrong answer — when both fail a person, how often with the same answer",
              title_justify="left", caption_justify="left")
    with_p = probabilistic(r)
    for col in pair_header(with_p):
        t.add_column(col, justify="left" if col in ("a", "b") else "right", no_wrap=col not in ("a", "b"),
                     overflow="ellipsis", max_width=None if col not in ("a", "b") else 22)
    for p in shown:
        t.add_row(*(escape(c) for c in pair_row(p, with_p)))
    t.caption = ("same answer: of the people both failed, the share failed with the same answer; chance: two "
                 "wrong answers drawn at random among the wrong options; CAPA: agreement beyond what the two "
                 "accuracies give (0 = chance, 1 = identical answers)"
                 + ("; κp: the same from each option's logged probability" if with_p else "")
                 + (f"; the {SHOWN - 2} highest and 2 lowest of {len(pairs)} pairs" if len(pairs) > SHOWN else ""))
    tables = [t]
    judges = ranked_judges(r)
    if judges:
        j = Table(title="Judges — accuracy when another's answers are the key (largest inflation)",
                  title_justify="left", caption_justify="left")
        for col in JUDGE_HEADER:
            named = col in ("judge", "judged")
            j.add_column(col, justify="left" if named else "right", no_wrap=not named, max_width=22 if named else None)
        for row in judges[:SHOWN]:
            j.add_row(*(escape(c) for c in judge_row(row)))
        moved = rank_changes(r)
        j.caption = (f"{moved:,} of {len(r.judges or []):,} judged places change rank; JSON .judges has the "
                     "whole matrix")
        tables.append(j)
    return tables
