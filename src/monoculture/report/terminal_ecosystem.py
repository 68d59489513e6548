"""Terminal tables of the ecosystem: the decision-makers, how many fail each person, and the pairs.

Each table fits the width it is given by design — the histogram's bars take what the numbers leave, the κ
matrix becomes a ranked list when it would not fit, and `fit.fit` leaves out the columns marked droppable —
never by wrapping cells apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..measure.records import ranked
from ..measure.result import AuditResult, Metric, PairResult, ScopeResult
from .fit import droppable, natural_width
from .many import ENDS, MANY, bins, ends
from .text import ci_text, fmt_num, fmt_pct

pct, num = fmt_pct, fmt_num
MAX_MATRIX = 10  # above this many decision-makers the κ matrix becomes a list of the strongest pairs
MATRIX_LABEL = 10  # longer names head the κ matrix's columns as numbers (the rows carry the names)


def _ci(m: Metric, fmt: str = "num") -> str:
    return ci_text(m, fmt == "pct")


def decision_makers(r: AuditResult) -> Table:
    t = Table(title="Decision-makers", title_justify="left")
    t.add_column("name")
    t.add_column("n", justify="right")
    t.add_column("failure rate (linked)", justify="right")
    t.add_column("failure rate (own input)", justify="right")
    t.add_column("recourse (indep.)", justify="right")
    head, tail, left_out = ends(r.decision_makers, lambda d: math.nan if d.failure_rate.value is None
                                else d.failure_rate.value)
    for d in head + tail:
        if left_out and d is tail[0]:
            t.add_row(f"… {left_out:,} more", *[""] * 4)
        rate = pct(d.failure_rate) + _ci(d.failure_rate, "pct")
        t.add_row(escape(d.name), f"{d.n:,}", rate, pct(d.input_failure_rate),
                  f"{pct(d.recourse)} ({pct(d.expected_recourse)})")
    t.caption = ("recourse: of the people it fails, the share some other decision-maker does not fail "
                 "(over the people all saw); in brackets, if the others were independent of it"
                 + (f"; the {ENDS} lowest and {ENDS} highest failure rates of {len(r.decision_makers):,}"
                    if left_out else ""))
    t.caption_justify = "left"
    return droppable(t, "failure rate (own input)", "recourse (indep.)")


def histogram(o: ScopeResult, width: int) -> Table:
    """The numbers, then bars in whatever width they leave (at least 6 characters, at most 30)."""
    bare = natural_width(_histogram(o, 0))
    return droppable(_histogram(o, max(6, min(30, width - bare - 3))), "difficulty only", "obs/indep")


def _histogram(o: ScopeResult, bar_width: int) -> Table:
    t = Table(title="Ecosystem view — how many decision-makers fail each person", title_justify="left")
    t.add_column("failed by", justify="right")
    t.add_column("observed", justify="right")
    t.add_column("independent", justify="right")
    t.add_column("obs/indep", justify="right")
    rasch = {b.failures: b.expected for b in (o.rasch.failure_count_histogram if o.rasch else [])}
    if rasch:
        t.add_column("difficulty only", justify="right")
    t.add_column("", no_wrap=True)
    hist = o.failure_count_histogram
    runs = bins(len(hist)) if len(hist) > MANY else [range(i, i + 1) for i in range(len(hist))]
    rows = [_histogram_run(hist, run, rasch) for run in runs]
    top = max([ov or 0 for _, ov, _, _ in rows] + [ev or 0 for _, _, ev, _ in rows] + [1e-12])
    hidden = 0
    for label, ov, ev, rv in rows:
        if len(rows) > 12 and (ov or 0) < 5e-4 and (ev or 0) < 5e-4:
            hidden += 1
            continue
        ratio = f"{ov / ev:.2f}" if ov is not None and ev else "—"
        bar = Text("█" * round((ov or 0) / top * bar_width), style="cyan")
        bar.append("\n" + "░" * round((ev or 0) / top * bar_width), style="dim")
        extra = [pct(Metric(rv))] if rasch else []
        t.add_row(label, pct(Metric(ov)), pct(Metric(ev)), ratio, *extra, bar)
    if len(runs) < len(hist):
        t.caption = f"failed by: {len(hist) - 1:,} decision-makers in runs of {len(runs[0])}; "
    else:
        t.caption = ""
    t.caption += "█ observed  ░ independence baseline (Poisson-binomial of the failure rates)" + (
        "; difficulty only: the marginal Rasch null" if rasch else "") + (
        f"; {hidden} rows below 0.05% in both columns not shown" if hidden else "")
    t.caption_justify = "left"
    return t


def _histogram_run(hist: list, run: range, rasch: dict[int, Metric]) -> tuple[str, float | None, float | None,
                                                                             float | None]:
    """One row of the histogram: a failure count, or a run of them (its shares summed)."""
    def total(values: list[float | None]) -> float | None:
        return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]

    bins_ = [hist[i] for i in run]
    label = str(bins_[0].failures) if len(bins_) == 1 else f"{bins_[0].failures}–{bins_[-1].failures}"
    return (label, total([b.observed.value for b in bins_]), total([b.expected.value for b in bins_]),
            total([rasch[b.failures].value for b in bins_]) if rasch else None)


def pairs(r: AuditResult, width: int) -> Table:
    """The κ matrix when it fits (at most MAX_MATRIX decision-makers and `width`), else the strongest pairs."""
    names = r.cluster_order or [d.name for d in r.decision_makers]
    pairs = r.overall.pairwise
    if len(names) <= MAX_MATRIX:
        t = Table(title="Error consistency κ (0 = independent, 1 = identical failures; clustered order)",
                  title_justify="left")
        # Names longer than a column (or alike in their first letters) become numbers, the rows the legend.
        numbered = any(len(n) > MATRIX_LABEL for n in names)
        t.add_column("")
        for i, n in enumerate(names, start=1):
            t.add_column(str(i) if numbered else escape(n), justify="right")
        lookup = {(p.a, p.b): p for p in pairs} | {(p.b, p.a): p for p in pairs}
        for i, a in enumerate(names, start=1):
            cells = ["·" if a == b else num(lookup[(a, b)].error_consistency, 2) for b in names]
            t.add_row(f"{i} {escape(a)}" if numbered else escape(a), *cells)
        if numbered:
            t.caption, t.caption_justify = "columns are numbered as the rows", "left"
        if natural_width(t) <= width:
            return t
    return ranked_pairs(pairs)


def lifts(r: AuditResult) -> Table | None:
    """The pairs sharing most beyond difficulty (local dependence lift), and the least."""
    by_lift = ranked(r.overall.pairwise, "local_dependence_lift", defined_only=True)
    if not len(by_lift):
        return None
    shown = by_lift[:] if len(by_lift) <= 10 else by_lift[:8] + by_lift[-2:]
    t = Table(title="Shared beyond difficulty — local dependence lift (1 = only the people's difficulty in common)",
              title_justify="left")
    for col in ("a", "b", "lift", "κ"):
        t.add_column(col, justify="left" if col in "ab" else "right")
    for p in shown:
        m = p.local_dependence_lift
        t.add_row(escape(p.a), escape(p.b), num(m, 3) + _ci(m), num(p.error_consistency, 3))
    t.caption = ("people failed by both over the number expected given how many decision-makers fail each "
                 "person (conditional Rasch)" + (f"; the 8 highest and 2 lowest of {len(by_lift)} pairs"
                                                 if len(by_lift) > 10 else ""))
    t.caption_justify = "left"
    return t


def ranked_pairs(pairs: Sequence[PairResult]) -> Table:
    t = Table(title=f"Strongest co-failing pairs (of {len(pairs):,})", title_justify="left")
    for col in ("a", "b", "κ", "lift"):
        t.add_column(col, justify="left" if col in "ab" else "right")
    for p in ranked(pairs, "error_consistency").top(15):
        t.add_row(escape(p.a), escape(p.b), num(p.error_consistency, 3), num(p.cofailure_lift, 3))
    return t
