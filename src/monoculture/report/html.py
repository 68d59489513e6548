"""HTML renderer: one self-contained file — inline CSS and SVG, no script, no external reference of any kind.

Every label (group and decision-maker names are untrusted input) goes through `html.escape`.
"""

from __future__ import annotations

from html import escape

import numpy as np

from ..measure.records import values_of
from ..measure.result import AuditResult
from . import rounds
from .charts import dots_svg, histogram_svg, kappa_heatmap_svg, lift_heatmap_svg
from .pair_views import BLOCKS, strongest
from .text import ci_text, fmt_num, fmt_pct, p_text, sensitivity_rows, verdict_sentence

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
svg text.title{font:600 12px system-ui,sans-serif}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px;margin:4px 0}
dl.terms{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:12px;color:#57606a}
dl.terms dt{font-weight:600}dl.terms dd{margin:0}footer{margin-top:24px;font-size:12px}
figure{margin:8px 0 16px}.grid{display:flex;flex-wrap:wrap;gap:4px 18px}
h3{font-size:14px}figcaption{color:#57606a;font-size:12px}
@media print{body{max-width:none;margin:0}h2{break-after:avoid}figure,table{break-inside:avoid}}
"""


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


GROUP_TERMS = (
    ("H_avg", "average case: pick one person per decision-maker; given that they all land in the same group, how "
              "much more often they are all failed than independence predicts (groups weigh about share^k)."),
    ("H_unif", "the same with every group weighted equally: the mean over groups of Π_i e[g,i] over Π_i e_i."),
    ("H_worst", "the largest group's ratio: the group where failure rates multiply up to the most."),
    ("between", "how much of H comes from some groups being failed more by everyone (their own failure rates)."),
    ("within", "co-failure inside groups beyond their own rates; H = between × within. A large within means "
               "group membership does not explain the homogenization."),
)


def _sensitivity(r: AuditResult) -> str:
    """How H moves with the ecosystem: each decision-maker left out, and the mean over subsets of each size."""
    rows = [[_e(ecosystem), _e(h)] for ecosystem, h in sensitivity_rows(r)]
    if not rows:
        return ""
    return ("<h2>Sensitivity of H</h2>" + _table(["ecosystem", "H"], rows)
            + '<p class="muted">H grows like 1/Π e_i with the number of decision-makers: compare ecosystems of '
            "the same size, and read a large change without one decision-maker as that one driving it.</p>")


def _footer(r: AuditResult) -> str:
    """What a reader needs to reproduce the report: the inputs (names and hashes, never paths), the interval
    settings and seed, the version, and where every number is defined."""
    inf = r.options.get("inference", {})
    inputs = "; ".join(f"{', '.join(i.decision_makers)} (sha256 {i.sha256[:12]}…, {i.rows:,} rows)" for i in r.inputs)
    settings = (f"{100 * (1 - inf['alpha']):g}% intervals, {inf['bootstrap']} bootstrap replicates ({inf.get('ci')}), "
                f"{inf.get('permutations')} permutations, seed {inf['seed']}" if inf.get("bootstrap")
                else f"no intervals, seed {inf.get('seed')}")
    return (f'<footer class="muted"><p>Inputs: {_e(inputs)}.</p><p>{_e(settings)}. monoculture '
            f"{_e(r.tool_version)}, report schema {_e(r.schema_version)}.</p><p>Every number is defined — what it "
            "means, how to read it, when it is undefined, its source — in the metric guide, docs/metrics.md "
            "(monoculture's docs folder).</p></footer>")


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
                + histogram_svg(o.failure_count_histogram, "How many decision-makers fail each person",
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
        if len(r.decision_makers) > BLOCKS:
            top = strongest(o.pairwise, "error_consistency", 20)
            body.append(f"<h3>The {len(top)} pairs with the highest κ (of {len(o.pairwise):,}; the JSON and CSV "
                        "have every pair)</h3>")
            body.append(_table(["a", "b", "κ [CI]", "co-failure lift"],
                               [[_e(p.a), _e(p.b), _e(fmt_num(p.error_consistency) + ci_text(p.error_consistency)),
                                 fmt_num(p.cofailure_lift)] for p in top], left=2))
    lift = values_of(o.pairwise, "local_dependence_lift")
    if lift is not None and (~np.isnan(lift)).any():
        body.append("<h2>Shared beyond difficulty: local dependence lift</h2><figure>" + lift_heatmap_svg(r)
                    + "<figcaption>People failed by both over the number expected given how many decision-makers "
                    "fail each person (conditional Rasch): 1 = only their difficulty in common; orange blocks share "
                    "something beyond it.</figcaption></figure>")
    if r.groups:
        body.append("<h2>By group</h2>")
        body.append("<figure>" + dots_svg(r.groups, "homogenization", "Homogenization H by group (log scale)", log=True)
                    + "<figcaption>Homogenization H per group with its interval (log scale; dashed line = 1)."
                    "</figcaption></figure>")
        body.append("<figure>" + dots_svg(r.groups, "systemic_failure", "Systemic failure S by group", log=False)
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
            f"<figure>{histogram_svg(g.failure_count_histogram, f'{g.attribute}={g.group} (n = {g.n:,})', 330, 165)}"
            "</figure>"
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
        body.append("<dl class=\"terms\">" + "".join(f"<dt>{t}</dt><dd>{_e(d)}</dd>" for t, d in GROUP_TERMS) + "</dl>")
    body.append(_sensitivity(r))
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
    body.append(_footer(r))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>monoculture audit</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
