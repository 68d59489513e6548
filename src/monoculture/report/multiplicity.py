"""Renderers for `MultiplicityResult` in every format (they compute nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..measure.result import MultiplicityResult, MultiplicityScope
from . import tabular
from .csv import write_rows
from .json import render_json
from .rows import _row
from .text import ci_text, fmt_num, fmt_pct

SCOPE_METRICS = ("ambiguity", "discrepancy", "mean_disagreement", "share_highly_arbitrary",
                 "share_of_highly_arbitrary", "mean_viable_range", "mean_score_std", "mean_rashomon_capacity")


def _verdict(r: MultiplicityResult) -> str:
    inset = [c.name for c in r.rashomon_set if c.in_set]
    lda = ("a less discriminatory alternative exists among the candidates" if r.lda.exists
           else "no less discriminatory alternative among the candidates" if r.lda.exists is False
           else "less discriminatory alternatives not assessed")
    return (f"{len(inset)} of {len(r.rashomon_set)} candidates are within ε = {r.epsilon:g} of {r.baseline}; "
            f"{fmt_pct(r.ambiguity)} of people would get a different decision from some of them; {lda}.")


def tidy_rows(r: MultiplicityResult) -> Iterator[dict[str, Any]]:
    for c in r.rashomon_set:
        yield _row("candidate", "error_rate", c.error_rate, decision_maker=c.name)
        yield _row("candidate", "in_set", float(c.in_set), decision_maker=c.name)
    for s in [r.overall, *r.groups]:
        scope = "overall" if not s.attribute else "group"
        for name in SCOPE_METRICS:
            yield _row(scope, name, getattr(s, name), attribute=s.attribute, group=s.group)
    for row in r.sheet:
        yield _row("sheet", "accuracy", row.accuracy, decision_maker=row.name)
        for g, m in row.failure_rates.items():
            yield _row("sheet", "failure_rate", m, decision_maker=row.name, group=g)
        for g, m in row.selection_rates.items():
            yield _row("sheet", "selection_rate", m, decision_maker=row.name, group=g)
    for name, m in r.sheet_spread.items():
        yield _row("sheet_spread", name, m)
    for c in r.lda.candidates:
        for name in ("utility", "selection_rate_ratio", "failure_rate_gap", "utility_difference",
                     "disparity_difference"):
            yield _row("lda", name, getattr(c, name), decision_maker=c.name)
        yield _row("lda", "less_discriminatory", float(c.less_discriminatory), decision_maker=c.name)


def render_csv(r: MultiplicityResult) -> str:
    return write_rows(tidy_rows(r))


def render_jsonl(r: MultiplicityResult) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n" for row in tidy_rows(r))


def _scope_cells(s: MultiplicityScope) -> list[str]:
    return [f"{s.n:,}", fmt_pct(s.ambiguity) + ci_text(s.ambiguity, True),
            fmt_pct(s.discrepancy) + ci_text(s.discrepancy, True),
            fmt_num(s.mean_disagreement) + ci_text(s.mean_disagreement), fmt_pct(s.share_highly_arbitrary),
            fmt_pct(s.share_of_highly_arbitrary), fmt_num(s.mean_viable_range), fmt_num(s.mean_score_std),
            fmt_num(s.mean_rashomon_capacity)]


SCOPE_HEADER = ["n", "ambiguity", "discrepancy", "mean disagreement", "highly arbitrary", "share of them",
                "mean VPR", "mean score sd", "mean 2^C"]


def _tables(r: MultiplicityResult) -> list[tuple[str, list[str], list[list[str]]]]:
    out = [("ε-Rashomon set", ["candidate", "error rate", "in set"],
            [[c.name, fmt_pct(c.error_rate), "yes" if c.in_set else "no"] for c in r.rashomon_set]),
           ("Multiplicity over the set", ["population", *SCOPE_HEADER],
            [["everyone", *_scope_cells(r.overall)]]
            + [[f"{s.attribute}={s.group}", *_scope_cells(s)] for s in r.groups])]
    groups = list(r.sheet[0].selection_rates) if r.sheet else []
    out.append(("Multiplicity sheet (accuracy; selection rate per group)", ["candidate", "in set", "accuracy",
                                                                          *groups],
                [[row.name, "yes" if row.in_set else "no", fmt_pct(row.accuracy),
                  *[fmt_pct(row.selection_rates[g]) for g in groups]] for row in r.sheet]))
    out.append(("Spread over the set (max − min)", ["quantity", "spread"],
                [[k, fmt_pct(m)] for k, m in r.sheet_spread.items()]))
    if r.lda.candidates:
        out.append((f"Less discriminatory alternatives ({r.lda.disparity} by {r.lda.attribute}; "
                    f"{r.lda.utility}; baseline {r.lda.baseline})",
                    ["candidate", "utility", "selection-rate ratio", "selection-rate difference", "failure-rate gap",
                     "Δ utility [CI]",
                     "Δ disparity [CI]", "changed", "within ε", "LDA", "Pareto"],
                    [[c.name, fmt_num(c.utility), fmt_num(c.selection_rate_ratio) + ("*" if c.selection_rate_ratio.flags
                                                                                     else ""),
                      fmt_num(c.selection_rate_difference), fmt_num(c.failure_rate_gap),
                      fmt_num(c.utility_difference) + ci_text(c.utility_difference),
                      fmt_num(c.disparity_difference) + ci_text(c.disparity_difference), f"{c.decisions_changed:,}",
                      "yes" if c.within_epsilon else "no", "yes" if c.less_discriminatory else "",
                      "yes" if c.pareto else ""] for c in r.lda.candidates]))
    return out


TITLE = "monoculture multiplicity"


def _notes(r: MultiplicityResult) -> list[str]:
    """The caveats and conventions every reader should see with the numbers, not only on stderr."""
    o = r.options
    conventions = (f"Conventions: the set is {o.get('set_rule')}; disagreement is the {o.get('disagreement')}; "
                   f"score standard deviation with {o.get('score_std')}; a selection-rate ratio marked * is below "
                   "the four-fifths convention (0.8).")
    return [r.lda.note, *r.warnings, conventions]


def render_terminal(r: MultiplicityResult, *, width: int = 100, color: bool = False) -> str:
    return tabular.terminal(TITLE, _verdict(r), _tables(r), _notes(r), width=width, color=color)


def render_markdown(r: MultiplicityResult) -> str:
    return tabular.markdown(TITLE, _verdict(r), _tables(r), _notes(r))


def render_html(r: MultiplicityResult) -> str:
    return tabular.html(TITLE, _verdict(r), _tables(r), _notes(r))


def render_junit(r: MultiplicityResult) -> str:
    from xml.sax.saxutils import quoteattr

    found = r.lda.exists
    body = "" if not found else f"<failure message={quoteattr('a less discriminatory alternative exists')}/>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="monoculture" tests="1" '
            f'failures="{int(bool(found))}">\n  <testsuite name="monoculture multiplicity" tests="1" '
            f'failures="{int(bool(found))}">\n    <testcase classname="monoculture" '
            f'name="no less discriminatory alternative">{body}</testcase>\n  </testsuite>\n</testsuites>\n')


RENDERERS = {
    "table": render_terminal, "json": render_json, "jsonl": render_jsonl, "csv": render_csv,
    "markdown": render_markdown, "html": render_html, "junit": render_junit,
}
