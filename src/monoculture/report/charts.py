"""The HTML report's charts: inline SVG (no script), every label escaped, round ticks, a title on each."""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

import numpy as np

from ..measure.result import AuditResult, GroupResult, HistogramBin, Metric
from .pair_views import BLOCKS, blocks, pair_matrix
from .text import ci_text, fmt_num, fmt_pct

OBS, EXP, RASCH = "#0969da", "#afb8c1", "#bf8700"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi], about `count` of them."""
    # No span, or one too narrow for floats to step across at this magnitude (the loop below would never
    # reach hi): ticks over the value's own scale, as for a single value.
    span = hi - lo if hi - lo > 1e-9 * max(abs(lo), abs(hi)) else abs(hi) or 1.0
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
    left, bottom, top = 44, 32, 36
    plot_w, plot_h = width - left - 10, height - bottom - top
    rasch = difficulty or []
    highest = max([b.observed.value or 0 for b in bins] + [b.expected.value or 0 for b in bins]
                  + [m.value or 0 for m in rasch] + [1e-9])
    ticks = nice_ticks(0.0, highest, 3)
    top_value = ticks[-1]
    slot = plot_w / max(1, len(bins))
    bar = max(1.0, min(18.0, slot * (0.26 if rasch else 0.38)))
    parts = [_open(title, width, height)]
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
    legend = [("observed", OBS), ("independent", EXP)] + ([("difficulty only", RASCH)] if rasch else [])
    x = float(left)
    for name, color in legend:  # in the bars' order, under the title
        parts.append(f'<rect x="{x:.0f}" y="19" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14:.0f}" y="28">{name}</text>')
        x += 24 + 6.2 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def _open(title: str, width: float, height: float) -> str:
    """The <svg> element with the chart's title, as a tooltip for screen readers and in bold at the top."""
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{_e(title)}"><title>{_e(title)}</title>'
            f'<text class="title" x="2" y="12" font-weight="600">{_e(title)}</text>')


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
    return pair_heatmap_svg(r, "error_consistency", "Error consistency κ", _kappa_color, r.cluster_order, 1.0, cell)


def _lift_color(v: float | None) -> str:
    """A lift on the κ colours through log2: 2 (twice the co-failures expected) is the deepest orange,
    ½ the deepest blue."""
    return _kappa_color(None if v is None or v <= 0 else math.log2(v))


def lift_heatmap_svg(r: AuditResult, cell: int = 34) -> str:
    return pair_heatmap_svg(r, "local_dependence_lift", "Local dependence lift", _lift_color, r.lift_order, None,
                            cell)


def pair_heatmap_svg(r: AuditResult, key: str, symbol: str, color: Callable[[float | None], str],
                     order: list[str], diagonal: float | None, cell: int = 34) -> str:
    """A k × k heat map of one pairwise measure, decision-makers in `order` (clusters show as blocks); above
    `pair_views.BLOCKS` decision-makers, the mean of each block of consecutive ones in that order."""
    names = order or [d.name for d in r.decision_makers]
    if len(names) > BLOCKS:
        return _block_heatmap_svg(r, key, symbol, color, names)
    k = len(names)
    cell = max(8, min(cell, 640 // max(k, 1)))
    label_w = min(140, 7 * max(len(n) for n in names) + 8)
    size = label_w + k * cell + 10
    head = 18  # the title's row
    pairs = {}
    for p in r.overall.pairwise:
        pairs[(p.a, p.b)] = pairs[(p.b, p.a)] = getattr(p, key)
    parts = [_open(f"{symbol} by pair", max(size, 220), size + head), f'<g transform="translate(0,{head})">']
    show_text = cell >= 28
    for i, a in enumerate(names):
        y = label_w + i * cell
        parts.append(_axis_labels(a[:18], label_w, y, cell, i))
        for j, b in enumerate(names):
            x = label_w + j * cell
            m = Metric(diagonal) if i == j else pairs.get((a, b), Metric(None, "not computed"))
            tip = f"{a} – {b}: {symbol} = {fmt_num(m)}{ci_text(m)}" if i != j else a
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                         f'fill="{"#d0d7de" if i == j else color(m.value)}"><title>{_e(tip)}</title></rect>')
            if show_text and i != j:
                parts.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle">'
                             f'{"–" if m.value is None else f"{m.value:.2f}"}</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def _axis_labels(label: str, label_w: int, y: float, cell: int, i: int) -> str:
    return (f'<text x="{label_w - 4}" y="{y + cell / 2 + 4:.1f}" text-anchor="end">{_e(label)}</text>'
            f'<text transform="translate({label_w + i * cell + cell / 2 + 4:.1f},{label_w - 4}) rotate(-60)">'
            f'{_e(label)}</text>')


def _block_heatmap_svg(r: AuditResult, key: str, symbol: str, color: Callable[[float | None], str],
                       names: list[str]) -> str:
    """The heat map of many decision-makers: `pair_views.blocks` of the clustered order, each cell the mean over
    the pairs between two blocks (on the diagonal: within the block, where families that co-fail show)."""
    b = blocks(pair_matrix(r.overall.pairwise, names, key))
    ends = np.append(b.starts[1:], len(names)) - 1
    spans = [f"{names[s][:14]} … {names[e][:14]}" if e > s else names[s][:30] for s, e in zip(b.starts, ends,
                                                                                              strict=True)]
    labels = [f"{i + 1}: {e - s + 1}" for i, (s, e) in enumerate(zip(b.starts, ends, strict=True))]
    cell = max(8, 640 // len(spans))
    label_w = 60
    size = label_w + len(spans) * cell + 10
    head = 18
    title = f"{symbol}, mean by block of the clustered order ({len(names):,} decision-makers in {len(spans)} blocks)"
    parts = [_open(title, max(size, 220), size + head), f'<g transform="translate(0,{head})">']
    for i in range(len(spans)):
        y = label_w + i * cell
        parts.append(_axis_labels(labels[i], label_w, y, cell, i))
        for j in range(len(spans)):
            value = None if np.isnan(b.mean[i, j]) else float(b.mean[i, j])
            shown = "undefined for every pair" if value is None else f"mean {symbol} = {value:.3g}"
            tip = f"block {i + 1} ({spans[i]}) – block {j + 1} ({spans[j]}): {shown} over {b.pairs[i, j]:,} pairs"
            parts.append(f'<rect x="{label_w + j * cell}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                         f'fill="{color(value)}"><title>{_e(tip)}</title></rect>')
    parts.append("</g></svg>")
    return "".join(parts)


def dots_svg(groups: list[GroupResult], key: str, title: str, log: bool, width: int = 640) -> str:
    """One row per group: the estimate as a dot with its interval as a whisker."""
    rows = [g for g in groups if not g.suppressed and getattr(g, key).value is not None
            and (not log or getattr(g, key).value > 0)]
    if not rows:
        return ""
    label_w, row_h, top = 170, 18, 36
    unstable = [any(f.startswith("unstable") for f in getattr(g, key).flags) for g in rows]
    height = top + row_h * len(rows) + 26 + (16 if any(unstable) else 0)
    axis = height - (16 if any(unstable) else 0)  # the tick labels' baseline sits above the legend
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

    parts = [_open(title, width, height)]
    for t in ticks:
        v = 10**t if log else t
        xx = label_w + plot_w * (t - lo) / (hi - lo)
        text = f"{v:g}" if log else f"{100 * v:g}%"
        parts.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top - 6}" y2="{axis - 22}" stroke="#eaeef2"/>'
                     f'<text x="{xx:.1f}" y="{axis - 8}" text-anchor="middle">{text}</text>')
    if log:
        xx = x(1.0)
        parts.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top - 6}" y2="{axis - 22}" stroke="#8c959f" '
                     'stroke-dasharray="3 3"/>')
    if any(unstable):
        parts.append(f'<circle cx="{label_w + 4}" cy="{height - 8}" r="4" fill="white" stroke="{OBS}" '
                     f'stroke-width="1.5"/><text x="{label_w + 12}" y="{height - 4}">unstable: N·S_ind &lt; 5 '
                     "(under 5 systemic failures expected)</text>")
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
        fill = "white" if unstable[i] else color
        parts.append(f'<circle cx="{x(m.value):.1f}" cy="{y:.1f}" r="4" fill="{fill}" stroke="{color}" '
                     f'stroke-width="1.5"><title>{_e(tip + (" (unstable)" if unstable[i] else ""))}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)
