"""Renderers for `MultiplicityResult` in every format (they compute nothing)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from html import escape
from typing import Any

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table
from rich.text import Text

from ..result import MultiplicityResult, MultiplicityScope
from .csv import write_rows
from .html import CSS
from .json import render_json
from .markdown import md_cell
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
            fmt_pct(s.share_of_highly_arbitrary), fmt_num(s.mean_viable_range), fmt_num(s.mean_rashomon_capacity)]


SCOPE_HEADER = ["n", "ambiguity", "discrepancy", "mean disagreement", "highly arbitrary", "share of them",
                "mean VPR", "mean 2^C"]


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
                    ["candidate", "utility", "selection-rate ratio", "failure-rate gap", "Δ utility [CI]",
                     "Δ disparity [CI]", "changed", "within ε", "LDA", "Pareto"],
                    [[c.name, fmt_num(c.utility), fmt_num(c.selection_rate_ratio), fmt_num(c.failure_rate_gap),
                      fmt_num(c.utility_difference) + ci_text(c.utility_difference),
                      fmt_num(c.disparity_difference) + ci_text(c.disparity_difference), f"{c.decisions_changed:,}",
                      "yes" if c.within_epsilon else "no", "yes" if c.less_discriminatory else "",
                      "yes" if c.pareto else ""] for c in r.lda.candidates]))
    return out


def render_terminal(r: MultiplicityResult, *, width: int = 100, color: bool = False) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None)
    console.print(Text("monoculture multiplicity", style="bold"))
    console.print(Text(_verdict(r)))
    for title, header, rows in _tables(r):
        t = Table(title=title, title_justify="left")
        for i, h in enumerate(header):
            t.add_column(h, justify="left" if i == 0 else "right")
        for row in rows:
            t.add_row(*[rich_escape(c) for c in row])
        console.print(t)
    console.print(Text(r.lda.note, style="dim"))
    return buf.getvalue()


def render_markdown(r: MultiplicityResult) -> str:
    parts = ["# monoculture multiplicity", "", f"**{md_cell(_verdict(r))}**", ""]
    for title, header, rows in _tables(r):
        parts += [f"## {md_cell(title)}", "", "| " + " | ".join(header) + " |",
                  "|" + "|".join("---" for _ in header) + "|"]
        parts += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
        parts.append("")
    parts.append(f"_{md_cell(r.lda.note)}_")
    return "\n".join(parts) + "\n"


def render_html(r: MultiplicityResult) -> str:
    body = [f"<h1>monoculture multiplicity</h1><p class=\"verdict\">{escape(_verdict(r))}</p>"]
    for title, header, rows in _tables(r):
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        trs = "".join("<tr>" + "".join(f'<td class="{"l" if i == 0 else ""}">{escape(c)}</td>'
                                       for i, c in enumerate(row)) + "</tr>" for row in rows)
        body.append(f"<h2>{escape(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>")
    body.append(f'<p class="muted">{escape(r.lda.note)}</p>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>monoculture multiplicity"
            f"</title><style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


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
