"""Renderers for `monoculture simulate` results (they compute nothing but layout)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from html import escape

import numpy as np

from ..simulate.result import Band, DynamicsResult, LearnerAudit, UrnResult
from . import tabular
from .csv import write_rows
from .json import render_json
from .text import ci_text, fmt_num, fmt_pct

PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#1b7c83", "#e16f24", "#57606a")
Series = tuple[str, Sequence[float], Sequence[float] | None, Sequence[float] | None]


def line_chart_svg(title: str, series: list[Series], y_label: str, width: int = 640, height: int = 220) -> str:
    """An inline SVG line chart over rounds 1..T; a series may carry a shaded band (low, high)."""
    left, right, top, bottom = 52, 150, 22, 30
    pw, ph = width - left - right, height - top - bottom
    rounds = max(len(s[1]) for s in series)
    values = [v for s in series for part in (s[1], s[2] or (), s[3] or ()) for v in part]
    lo, hi = min([*values, 0.0]), max(values)
    hi = hi if hi > lo else lo + 1

    def x(t: int) -> float:
        return left + (pw * t / (rounds - 1) if rounds > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo))

    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}"><text x="{left}" y="14" font-weight="600">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#8c959f"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#8c959f"/>']
    for v in (lo, (lo + hi) / 2, hi):
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.3g}</text>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">round</text>'
                 f'<text x="{left + 2}" y="{top - 4}">{escape(y_label)}</text>')
    for t in sorted({0, rounds - 1}):
        parts.append(f'<text x="{x(t):.1f}" y="{top + ph + 14}" text-anchor="middle">{t + 1}</text>')
    for n, (label, vals, band_lo, band_hi) in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        if band_lo is not None and band_hi is not None:
            pts = [f"{x(t):.1f},{y(v):.1f}" for t, v in enumerate(band_hi)]
            pts += [f"{x(t):.1f},{y(v):.1f}" for t, v in reversed(list(enumerate(band_lo)))]
            parts.append(f'<polygon points="{" ".join(pts)}" fill="{color}" fill-opacity="0.15" stroke="none"/>')
        line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in enumerate(vals))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
        ly = top + 12 + 15 * n
        parts.append(f'<rect x="{left + pw + 12}" y="{ly - 8}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{left + pw + 26}" y="{ly + 1}">{escape(label[:22])}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- participation dynamics ---------------------------------------------------------------------------

def _dynamics_verdict(r: DynamicsResult) -> str:
    k = len(r.learners)
    who = "learner" if r.response == "refit" else "decision-maker"
    used = sorted({s.learner for s in r.final.segmentation if s.segmented})
    shape = (f"every subpopulation ends on one {who} ({len(used)} of {k} {who}s in use)" if r.segmented
             else f"the subpopulations have not settled on one {who} each")
    change = ""
    if r.risk_vs_baseline.value is not None:
        change = f"; average risk is {fmt_num(r.risk_vs_baseline)}× that of one {who} serving everyone"
    homog = ""
    if len(r.audit) == 2:
        first, final = (a.overall.homogenization for a in r.audit)
        homog = (f"; homogenization of the learners' failures went from {fmt_num(first)} (first round) to "
                 f"{fmt_num(final)} (final)")
    status = f"converged after {r.rounds_run} rounds" if r.converged else f"after {r.rounds_run} rounds"
    return f"Participation dynamics ({r.setting}, {r.loss} risk), {status}: {shape}{change}{homog}."


def _audit_rows(audit: list[LearnerAudit]) -> list[list[str]]:
    rows = []
    for a in audit:
        for label, s in [("everyone", a.overall), *[(f"{g.attribute}={g.group}", g) for g in a.groups]]:
            rows.append([a.learners, label, f"{s.n:,}" if s.n is not None else "withheld",
                         fmt_pct(s.systemic_failure, 2) + ci_text(s.systemic_failure, True),
                         fmt_pct(s.expected_systemic_failure, 2),
                         fmt_num(s.homogenization) + ci_text(s.homogenization)])
    return rows


def _dynamics_tables(r: DynamicsResult) -> tabular.Tables:
    header = ["round", *[f"{g}: {lrn}" for g in r.groups for lrn in r.learners]]
    shown = _shown_rounds(len(r.trajectory))
    tables: tabular.Tables = [
        ("Subpopulations", ["group", "share β", "final learner", "its share", "risk (final)", "risk (one learner)"],
         [[s.group, f"{r.beta[s.group]:.3f}", s.learner, f"{s.share:.3f}", f"{r.final.risks[s.group]:.4g}",
           f"{r.baseline.risks[s.group]:.4g}"] for s in r.final.segmentation]),
        ("Average risk", ["", "value"],
         [["k learners (final)", f"{r.final.total_risk:.4g}"],
          ["one learner for everyone", f"{r.baseline.total_risk:.4g}"],
          ["ratio", fmt_num(r.risk_vs_baseline)]]),
        _allocations_table(r, header, shown),
        ("Risk experienced by each group by round", ["round", *r.groups, "total"],
         [[str(t.round), *[f"{t.risks[g]:.4g}" for g in r.groups], f"{t.total_risk:.4g}"]
          for t in (r.trajectory[i] for i in shown)]),
        _learners_table(r),
    ]
    if r.audit:
        tables.append((f"Audit of the learners' decisions ({r.audit[0].rule})",
                       ["learners", "population", "n", "systemic failure S", "S if independent", "H"],
                       _audit_rows(r.audit)))
    return tables


WIDE_ALLOCATIONS = 8  # above this many (group, learner) columns, rounds become the columns


def _allocations_table(r: DynamicsResult, header: list[str], shown: list[int]) -> tabular.Section:
    """α by round: a column per (group, learner) when few, else a row per (group, learner) and a column for
    each of at most six rounds (the first, the last, evenly between), so the table fits a terminal."""
    if len(header) - 1 <= WIDE_ALLOCATIONS:
        return ("Allocations α by round (group: learner)", header,
                [[str(t.round), *[f"{a:.3f}" for g in r.groups for a in t.allocations[g]]]
                 for t in (r.trajectory[i] for i in shown)])
    few = sorted({int(i) for i in np.linspace(0, len(r.trajectory) - 1, min(6, len(r.trajectory))).round()})
    rounds = [r.trajectory[i] for i in few]
    return ("Allocations α (a row per group and learner, a column per round)",
            ["group", "learner", *[f"round {t.round}" for t in rounds]],
            [[g, lrn, *[f"{t.allocations[g][i]:.3f}" for t in rounds]]
             for g in r.groups for i, lrn in enumerate(r.learners)])


def _learners_table(r: DynamicsResult) -> tabular.Section:
    """What the learners end with: their parameters (refit), or the prediction file each deploys."""
    if r.response == "refit":
        return ("Final learners' parameters θ", ["learner", *[f"θ{j}" for j in range(len(r.final.thetas[0]))]],
                [[name, *[f"{v:.4g}" for v in theta]] for name, theta in zip(r.learners, r.final.thetas, strict=True)])
    first = r.trajectory[0].deployed
    return ("Prediction file each decision-maker deploys", ["decision-maker", "offers", "first round", "final"],
            [[name, ", ".join(r.menus.get(name, [])), first[i], r.final.deployed[i]]
             for i, name in enumerate(r.learners)])


def _shown_rounds(n: int, most: int = 20) -> list[int]:
    """Every round when there are few; else the first ten, then evenly spaced ones, always the last."""
    if n <= most:
        return list(range(n))
    later = np.linspace(10, n - 1, most - 10).round().astype(int)
    return sorted({*range(10), *map(int, later)})


def _dynamics_notes(r: DynamicsResult) -> list[str]:
    notes = list(r.warnings)
    if r.audit_reason:
        notes.append(f"No audit of decisions: {r.audit_reason}.")
    if r.features:
        notes.append("Features standardised (z = (x − mean) / sd) with an intercept first: "
                     + ", ".join(f"{f.name} (mean {f.mean:.4g}, sd {f.sd:.4g})" for f in r.features) + ".")
    return notes


def _dynamics_figures(r: DynamicsResult) -> list[str]:
    figs = []
    for g in r.groups:
        series = [(lrn, [t.allocations[g][i] for t in r.trajectory], None, None) for i, lrn in enumerate(r.learners)]
        figs.append(line_chart_svg(f"Allocation of {g} over the learners", series, "α"))
    series = [(g, [t.risks[g] for t in r.trajectory], None, None) for g in r.groups]
    series.append(("total", [t.total_risk for t in r.trajectory], None, None))
    figs.append(line_chart_svg("Risk experienced by each group", series, "risk"))
    return figs


def dynamics_rows(r: DynamicsResult) -> Iterator[list[object]]:
    for t in [*r.trajectory, r.final]:
        label = "final" if t is r.final else str(t.round)
        for g in r.groups:
            for i, lrn in enumerate(r.learners):
                yield [label, g, lrn, "allocation", t.allocations[g][i]]
                yield [label, g, lrn, "learner_risk", t.learner_risks[g][i]]
            yield [label, g, "", "group_risk", t.risks[g]]
        yield [label, "", "", "total_risk", t.total_risk]
    for g in r.groups:
        yield ["baseline", g, "", "group_risk", r.baseline.risks[g]]
    yield ["baseline", "", "", "total_risk", r.baseline.total_risk]


# --- repeat-use urn -------------------------------------------------------------------------------------

def _urn_verdict(r: UrnResult) -> str:
    first, last = r.rounds[0], r.rounds[-1]
    return (f"Repeat use over {len(r.rounds)} rounds ({r.rule} rule): the gap in adverse decisions between "
            f"groups went from {_band_pct(first.gap)} to {_band_pct(last.gap)}; the gap in the share always "
            f"adverse is {_band_pct(last.always_adverse_gap)} after the last round.")


def _band_pct(b: Band) -> str:
    return f"{100 * b.mean:.1f}% [{100 * b.low:.1f}, {100 * b.high:.1f}]"


def _urn_tables(r: UrnResult) -> tabular.Tables:
    shown = _shown_rounds(len(r.rounds))
    closed = [[name, *[f"{v[g]:.4g}" for g in r.groups]] for name, v in r.closed_form.items()]
    return [
        ("Groups", ["group", "people", "initial adverse rate"],
         [[g, f"{r.sizes[g]:,}", f"{r.initial_rate[g]:.4g}"] for g in r.groups]),
        ("Adverse decisions by round (mean [Monte Carlo interval])", ["round", *r.groups, "gap"],
         [[str(u.round), *[_band_pct(u.adverse_rate[g]) for g in r.groups], _band_pct(u.gap)]
          for u in (r.rounds[i] for i in shown)]),
        ("Always adverse so far", ["round", *r.groups, "gap"],
         [[str(u.round), *[_band_pct(u.always_adverse[g]) for g in r.groups], _band_pct(u.always_adverse_gap)]
          for u in (r.rounds[i] for i in shown)]),
        ("Closed forms", ["quantity", *r.groups], closed),
    ]


def _urn_figures(r: UrnResult) -> list[str]:
    def series(key: str) -> list[Series]:
        out: list[Series] = []
        for g in r.groups:
            bands = [getattr(u, key)[g] for u in r.rounds]
            out.append((g, [b.mean for b in bands], [b.low for b in bands], [b.high for b in bands]))
        return out

    gap = [("gap", [u.gap.mean for u in r.rounds], [u.gap.low for u in r.rounds], [u.gap.high for u in r.rounds])]
    return [line_chart_svg("Share receiving the adverse decision", series("adverse_rate"), "rate"),
            line_chart_svg("Share adverse in every round so far", series("always_adverse"), "share"),
            line_chart_svg("Gap between groups in adverse decisions", gap, "gap")]


def urn_rows(r: UrnResult) -> Iterator[list[object]]:
    for u in r.rounds:
        for key in ("adverse_rate", "always_adverse", "mean_urn_share"):
            for g in r.groups:
                b = getattr(u, key)[g]
                yield [u.round, g, key, b.mean, b.low, b.high]
        yield [u.round, "", "gap", u.gap.mean, u.gap.low, u.gap.high]
        yield [u.round, "", "always_adverse_gap", u.always_adverse_gap.mean, u.always_adverse_gap.low,
               u.always_adverse_gap.high]


# --- dispatch -------------------------------------------------------------------------------------------

def _csv(header: list[str], rows: Iterator[list[object]]) -> str:
    return write_rows((dict(zip(header, row, strict=True)) for row in rows), header)


def _parts(r: DynamicsResult | UrnResult) -> tuple[str, str, tabular.Tables, list[str], list[str]]:
    if isinstance(r, DynamicsResult):
        return ("monoculture simulate dynamics", _dynamics_verdict(r), _dynamics_tables(r), _dynamics_notes(r),
                _dynamics_figures(r))
    return ("monoculture simulate urn", _urn_verdict(r), _urn_tables(r), [r.explanation, *r.warnings],
            _urn_figures(r))


def render_simulation(r: DynamicsResult | UrnResult, fmt: str, *, width: int = 100, color: bool = False) -> str:
    """The simulation report in one format: table, json, csv, markdown or html."""
    if fmt == "json":
        return render_json(r)
    if fmt == "csv":
        if isinstance(r, DynamicsResult):
            return _csv(["round", "group", "learner", "quantity", "value"], dynamics_rows(r))
        return _csv(["round", "group", "quantity", "mean", "low", "high"], urn_rows(r))
    title, verdict, tables, notes, figures = _parts(r)
    if fmt == "table":
        return tabular.terminal(title, verdict, tables, notes, width=width, color=color)
    if fmt == "markdown":
        return tabular.markdown(title, verdict, tables, notes)
    if fmt == "html":
        return tabular.html(title, verdict, tables, notes, figures)
    raise ValueError(f"simulate has no {fmt} format")
