"""HTML renderer: one self-contained file — inline CSS and SVG, no script, no external reference of any kind.

Every label (group and decision-maker names are untrusted input) goes through `html.escape`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from ..measure.result import AuditResult, GroupResult, HistogramBin, Metric
from . import rounds
from .text import ci_text, fmt_num, fmt_pct, p_text, verdict_sentence

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1b1f24;max-width:1040px;margin:24px auto;
padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.verdict{font-size:16px;font-weight:600;margin:8px 0}.pass{color:#1a7f37}.fail{color:#cf222e}.muted{color:#57606a}
table{border-collapse:collapse;margin:6px 0 12px;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #eaeef2;padding:3px 10px;text-align:right;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.l,th.l{text-align:left}tr.small td{color:#8c959f}
.kpi{display:flex;gap:12px;flex-wrap:wrap;margin:10px 0}
.kpi div{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px}
.kpi b{display:block;font-size:18px}svg text{font:11px system-ui,sans-serif;fill:#1b1f24}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px;margin:4px 0}
figure{margin:8px 0 16px}.grid{display:flex;flex-wrap:wrap;gap:4px 18px}
h3{font-size:14px}figcaption{color:#57606a;font-size:12px}
@media print{body{max-width:none;margin:0}h2{break-after:avoid}figure,table{break-inside:avoid}}
"""
OBS, EXP, RASCH = "#0969da", "#afb8c1", "#bf8700"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _table(header: list[str], rows: list[list[str]], left: int = 1, row_class: list[str] | None = None) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{_e(h)}</th>' for i, h in enumerate(header))
    body = []
    for n, row in enumerate(rows):
        cls = f' class="{row_class[n]}"' if row_class and row_class[n] else ""
        cells = "".join(f'<td class="{"l" if i < left else ""}">{c}</td>' for i, c in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi], about `count` of them."""
    span = hi - lo if hi > lo else abs(hi) or 1.0
    raw = span / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks = []
    t = first
    while t < hi + step - 1e-9 * step or len(ticks) < 2:  # two at least: one value is no scale
        ticks.append(round(t, 12))
        t += step
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten) from the largest at or below `lo` to the smallest at or
    above `hi`; only the powers of ten between them when that is more than six."""
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    values = [m * 10.0**e for e in range(first, last + 1) for m in (1, 2, 5)]
    start = max(v for v in values if v <= lo * (1 + 1e-12))
    end = min(v for v in values if v >= hi * (1 - 1e-12))
    inside = [v for v in values if start <= v <= end]
    if len(inside) > 6:  # powers of ten only, every so many decades
        lo_e, hi_e = math.floor(math.log10(start)), math.ceil(math.log10(end))
        every = max(1, math.ceil((hi_e - lo_e) / 5))
        inside = [10.0**e for e in range(lo_e, hi_e + every, every)]
    return inside


def histogram_svg(bins: list[HistogramBin], title: str, width: int = 520, height: int = 180,
                  difficulty: list[Metric] | None = None) -> str:
    """Grouped bars: observed share vs the independence baseline (and, when given, the marginal Rasch
    baseline: difficulty only), for m = 0..k failures."""
    left, bottom, top = 44, 32, 18
    plot_w, plot_h = width - left - 10, height - bottom - top
    rasch = difficulty or []
    highest = max([b.observed.value or 0 for b in bins] + [b.expected.value or 0 for b in bins]
                  + [m.value or 0 for m in rasch] + [1e-9])
    ticks = nice_ticks(0.0, highest, 3)
    top_value = ticks[-1]
    slot = plot_w / max(1, len(bins))
    bar = max(1.0, min(18.0, slot * (0.26 if rasch else 0.38)))
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{_e(title)}"><title>{_e(title)}</title>']
    for tick in ticks:
        y = top + plot_h * (1 - tick / top_value)
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaeef2"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{100 * tick:g}%</text>')
    step = max(1, len(bins) // 20)
    for i, b in enumerate(bins):
        x = left + i * slot + slot / 2
        series = [(-bar, b.observed, OBS, "observed"), (0, b.expected, EXP, "independent")]
        if i < len(rasch):
            series.append((bar, rasch[i], RASCH, "difficulty only"))
        for offset, m, color, name in series:
            v = m.value or 0.0
            h = plot_h * v / top_value
            label = f"failed by {b.failures}: {name} {fmt_pct(m, 2)}"
            parts.append(f'<rect x="{x + offset:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{color}"><title>{_e(label)}</title></rect>')
        if i % step == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 17}" text-anchor="middle">{b.failures}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">'
                 "number of decision-makers failing the person</text>")
    parts.append(f'<rect x="{width - 200}" y="2" width="10" height="10" fill="{OBS}"/>'
                 f'<text x="{width - 186}" y="11">observed</text>'
                 f'<rect x="{width - 120}" y="2" width="10" height="10" fill="{EXP}"/>'
                 f'<text x="{width - 106}" y="11">independent</text>')
    if rasch:
        parts.append(f'<rect x="{width - 300}" y="2" width="10" height="10" fill="{RASCH}"/>'
                     f'<text x="{width - 286}" y="11">difficulty only</text>')
    parts.append("</svg>")
    return "".join(parts)


def _kappa_color(v: float | None) -> str:
    if v is None:
        return "#ffffff"
    v = max(-1.0, min(1.0, v))
    if v >= 0:  # white → deep orange
        r, g, b = 255, int(255 - 150 * v), int(255 - 230 * v)
    else:  # white → blue
        r, g, b = int(255 + 200 * v), int(255 + 120 * v), 255
    return f"rgb({r},{g},{b})"


def kappa_heatmap_svg(r: AuditResult, cell: int = 34) -> str:
    return pair_heatmap_svg(r, "error_consistency", "κ", _kappa_color, r.cluster_order, 1.0, cell)


def _lift_color(v: float | None) -> str:
    """A lift on the κ colours through log2: 2 (twice the co-failures expected) is the deepest orange,
    ½ the deepest blue."""
    return _kappa_color(None if v is None or v <= 0 else math.log2(v))


def lift_heatmap_svg(r: AuditResult, cell: int = 34) -> str:
    return pair_heatmap_svg(r, "local_dependence_lift", "lift", _lift_color, r.lift_order, None, cell)


def pair_heatmap_svg(r: AuditResult, key: str, symbol: str, color: Callable[[float | None], str],
                     order: list[str], diagonal: float | None, cell: int = 34) -> str:
    """A k × k heat map of one pairwise measure, decision-makers in `order` (clusters show as blocks)."""
    names = order or [d.name for d in r.decision_makers]
    k = len(names)
    cell = max(8, min(cell, 640 // max(k, 1)))
    label_w = min(140, 7 * max(len(n) for n in names) + 8)
    size = label_w + k * cell + 10
    pairs = {}
    for p in r.overall.pairwise:
        pairs[(p.a, p.b)] = pairs[(p.b, p.a)] = getattr(p, key)
    parts = [f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
             f'aria-label="{_e(key)} heat map"><title>{_e(symbol)} by pair</title>']
    show_text = cell >= 28
    for i, a in enumerate(names):
        y = label_w + i * cell
        parts.append(f'<text x="{label_w - 4}" y="{y + cell / 2 + 4:.1f}" text-anchor="end">{_e(a[:18])}</text>')
        parts.append(f'<text transform="translate({label_w + i * cell + cell / 2 + 4:.1f},{label_w - 4}) rotate(-60)">'
                     f'{_e(a[:18])}</text>')
        for j, b in enumerate(names):
            x = label_w + j * cell
            m = Metric(diagonal) if i == j else pairs.get((a, b), Metric(None, "not computed"))
            tip = f"{a} – {b}: {symbol} = {fmt_num(m)}{ci_text(m)}" if i != j else a
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                         f'fill="{"#d0d7de" if i == j else color(m.value)}"><title>{_e(tip)}</title></rect>')
            if show_text and i != j:
                parts.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle">'
                             f'{"–" if m.value is None else f"{m.value:.2f}"}</text>')
    parts.append("</svg>")
    return "".join(parts)


def dots_svg(groups: list[GroupResult], key: str, title: str, log: bool, width: int = 640) -> str:
    """One row per group: the estimate as a dot with its interval as a whisker."""
    rows = [g for g in groups if not g.suppressed and getattr(g, key).value is not None
            and (not log or getattr(g, key).value > 0)]
    if not rows:
        return ""
    label_w, row_h, top = 170, 18, 22
    height = top + row_h * len(rows) + 26
    values = []
    for g in rows:
        m = getattr(g, key)
        values += [m.value] + (list(m.ci) if m.ci else [])
    values = [v for v in values if v is not None and (not log or v > 0)]
    lo, hi = min(values), max(values)
    if log:  # H = 1 (the dashed line) always in view; the axis from one round value to another
        ticks = [math.log10(v) for v in log_ticks(min(lo, 1.0), max(hi, 1.0))]
        lo, hi = ticks[0], ticks[-1]
    else:
        ticks = nice_ticks(min(lo, 0.0), hi, 4)
        lo, hi = ticks[0], ticks[-1]
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    plot_w = width - label_w - 20

    def x(v: float) -> float:
        t = math.log10(v) if log else v
        return label_w + plot_w * (t - lo) / (hi - lo)

    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{_e(title)}"><title>{_e(title)}</title>']
    for t in ticks:
        v = 10**t if log else t
        xx = label_w + plot_w * (t - lo) / (hi - lo)
        text = f"{v:g}" if log else f"{100 * v:g}%"
        parts.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top - 6}" y2="{height - 22}" stroke="#eaeef2"/>'
                     f'<text x="{xx:.1f}" y="{height - 8}" text-anchor="middle">{text}</text>')
    if log:
        xx = x(1.0)
        parts.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top - 6}" y2="{height - 22}" stroke="#8c959f" '
                     'stroke-dasharray="3 3"/>')
    for i, g in enumerate(rows):
        m = getattr(g, key)
        y = top + i * row_h + row_h / 2
        color = "#8c959f" if g.small else OBS
        parts.append(f'<text x="{label_w - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{_e((g.attribute + "=" + g.group)[:28])}</text>')
        if m.ci and (not log or m.ci[0] > 0):
            parts.append(f'<line x1="{x(m.ci[0]):.1f}" x2="{x(m.ci[1]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="{color}" stroke-width="2"/>')
        tip = f"{g.attribute}={g.group}: {fmt_num(m) if log else fmt_pct(m, 2)}{ci_text(m, not log)}"
        parts.append(f'<circle cx="{x(m.value):.1f}" cy="{y:.1f}" r="4" fill="{color}"><title>{_e(tip)}</title>'
                     "</circle>")
    parts.append("</svg>")
    return "".join(parts)


def render_html(r: AuditResult) -> str:
    o = r.overall
    k = len(r.decision_makers)
    cls = {"pass": "pass", "fail": "fail"}.get(r.verdict, "muted")
    body = [f"<h1>monoculture audit</h1><div class=\"verdict {cls}\">{_e(r.verdict.upper())} — "
            f"{_e(verdict_sentence(r))}</div>",
            f'<p class="muted">{k} decision-makers · {o.n:,} linked individuals · {_e(r.join)} join · '
            f"rule: {_e(r.rule)}</p>",
            '<div class="kpi">'
            f"<div>Systemic failure S<b>{fmt_pct(o.systemic_failure, 2)}</b>"
            f"{_e(ci_text(o.systemic_failure, True))}</div>"
            f"<div>Expected if independent<b>{fmt_pct(o.expected_systemic_failure, 2)}</b></div>"
            f"<div>Homogenization H<b>{_e(fmt_num(o.homogenization))}</b>{_e(ci_text(o.homogenization))} "
            f"{_e(p_text(o.homogenization))}</div>"
            + (f"<div>H beyond difficulty<b>{_e(fmt_num(o.rasch.homogenization))}</b>"
               f"{_e(ci_text(o.rasch.homogenization))} σ = {_e(fmt_num(o.rasch.sigma))}</div>"
               if o.rasch and o.rasch.homogenization.defined else "")
            + f"<div>Consistent success<b>{fmt_pct(o.consistent_success)}</b>expected "
            f"{fmt_pct(o.expected_consistent_success)}</div></div>"]
    for flag in o.homogenization.flags:
        body.append(f'<div class="warn">H {_e(flag)}</div>')
    if r.gates:
        body.append("<h2>Thresholds</h2>")
        body.append(_table(["status", "threshold", "population", "limit", "detail"],
                           [[f'<span class="{g.status}">{_e(g.status.upper())}</span>', _e(g.name),
                             _e("overall" if g.scope == "overall" else f"{g.attribute}={g.group}"), f"{g.limit:g}",
                             _e(g.reason)] for g in r.gates], left=5))
    rasch = o.rasch.failure_count_histogram if o.rasch else []
    body.append("<h2>Ecosystem view</h2><figure>"
                + histogram_svg(o.failure_count_histogram, "all linked individuals",
                                difficulty=[b.expected for b in rasch])
                + "<figcaption>Share of people failed by exactly m decision-makers, observed, under "
                "independence (Poisson-binomial of the failure rates)"
                + (" and with people differing in difficulty only (the marginal Rasch null)" if rasch else "")
                + ".</figcaption></figure>")
    body.append("<h2>Decision-makers</h2>")
    body.append(_table(["decision-maker", "n", "failure rate [CI]", "own-input failure rate"],
                       [[_e(d.name), f"{d.n:,}", fmt_pct(d.failure_rate) + _e(ci_text(d.failure_rate, True)),
                         fmt_pct(d.input_failure_rate)] for d in r.decision_makers]))
    if o.pairwise:
        body.append("<h2>Error consistency between pairs</h2><figure>" + kappa_heatmap_svg(r)
                    + "<figcaption>Cohen's κ on right/wrong: 0 = failures coincide as by chance, 1 = identical."
                    "</figcaption></figure>")
    if any(p.local_dependence_lift.defined for p in o.pairwise):
        body.append("<h2>Shared beyond difficulty: local dependence lift</h2><figure>" + lift_heatmap_svg(r)
                    + "<figcaption>People failed by both over the number expected given how many decision-makers "
                    "fail each person (conditional Rasch): 1 = only their difficulty in common; orange blocks share "
                    "something beyond it.</figcaption></figure>")
    if r.groups:
        body.append("<h2>By group</h2>")
        body.append("<figure>" + dots_svg(r.groups, "homogenization", "H by group (log scale)", log=True)
                    + "<figcaption>Homogenization H per group with its interval (log scale; dashed line = 1)."
                    "</figcaption></figure>")
        body.append("<figure>" + dots_svg(r.groups, "systemic_failure", "systemic failure by group", log=False)
                    + "<figcaption>Systemic failure S per group with its Wilson interval.</figcaption></figure>")
        rows, classes = [], []
        for g in r.groups:
            classes.append("small" if g.small else "")
            if g.suppressed:
                rows.append([_e(g.attribute), _e(g.group), "suppressed", "", "", "", "", ""])
                continue
            rows.append([_e(g.attribute), _e(g.group), f"{g.n:,}", fmt_pct(g.share_of_population),
                         fmt_pct(g.share_of_systemic_failures), fmt_pct(g.systemic_failure, 2),
                         _e(fmt_num(g.homogenization) + ci_text(g.homogenization)), _e(p_text(g.homogenization))])
        body.append(_table(["attribute", "group", "n", "share", "share of S", "S", "H [CI]", "p (adjusted)"],
                           rows, left=2, row_class=classes))
        small_multiples = [
            f"<figure>{histogram_svg(g.failure_count_histogram, f'{g.attribute}={g.group}', 330, 150)}"
            f"<figcaption>{_e(g.attribute)}={_e(g.group)} (n = {g.n:,})</figcaption></figure>"
            for g in r.groups if not g.suppressed and g.failure_count_histogram and g.n
        ]
        if small_multiples:
            body.append("<h3>Ecosystem view per group (each against its own independence baseline)</h3>"
                        '<div class="grid">' + "".join(small_multiples) + "</div>")
    if r.group_homogenization:
        body.append("<h2>Group-level homogenization</h2>")
        body.append(_table(["attribute", "H_avg", "H_unif", "H_worst", "between", "within"],
                           [[_e(a.attribute), _e(fmt_num(a.average) + ci_text(a.average)), _e(fmt_num(a.uniform)),
                             _e(fmt_num(a.worst)), _e(fmt_num(a.between)), _e(fmt_num(a.within))]
                            for a in r.group_homogenization]))
    body.append(rounds.html_section(r, _e, _table))
    c = r.coverage
    body.append("<h2>Coverage</h2>")
    body.append(f"<p>{c.linked:,} of {c.individuals_seen:,} individuals linked ({_e(c.join)} join; IDs compared as "
                f"{_e(c.id_type)}).</p>")
    body.append(_table(["decision-maker", "rows", "linked", "not linked", "dropped", "blank"],
                       [[_e(s.name), f"{s.rows:,}", f"{s.linked:,}", f"{s.not_linked:,}",
                         f"{s.missing_id + s.missing_decision + s.missing_label + s.duplicate_rows:,}",
                         f"{s.blank_cells:,}"] for s in c.sources]))
    if r.warnings:
        body.append("<h2>Warnings</h2>" + "".join(f'<div class="warn">{_e(w)}</div>' for w in r.warnings))
    body.append(f'<p class="muted">monoculture {_e(r.tool_version)} · schema {_e(r.schema_version)} · '
                "definitions: docs/metrics.md</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>monoculture audit</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
