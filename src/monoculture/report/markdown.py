"""Markdown renderer: the verdict first, then the tables a reviewer pastes into a pull request."""

from __future__ import annotations

from ..measure.result import AuditResult
from . import answers, rounds
from .pair_views import BLOCKS, strongest
from .text import ci_text, fmt_num, fmt_pct, p_text, verdict_sentence

PAIRS_LISTED = 25  # above pair_views.BLOCKS decision-makers, the pairs with the highest κ


def md_cell(text: str) -> str:
    # Group and decision-maker names are untrusted: keep them from breaking the table or adding markup.
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for ch in "*_`[]<>#":
        out = out.replace(ch, "\\" + ch)
    return out


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _gates(r: AuditResult) -> str:
    if not r.gates:
        return ""
    rows = [[g.status.upper(), md_cell(g.name), md_cell(f"{g.attribute}={g.group}" if g.group else "overall"),
             f"{g.limit:g}", md_cell(g.reason)] for g in r.gates]
    return "\n## Thresholds\n\n" + _table(["status", "threshold", "population", "limit", "detail"], rows) + "\n"


def render_markdown(r: AuditResult) -> str:
    o = r.overall
    k = len(r.decision_makers)
    icon = {"pass": "✅ PASS", "fail": "❌ FAIL"}.get(r.verdict, "ℹ️ no thresholds set")
    parts = [
        f"# monoculture audit — {icon}",
        "",
        f"**{verdict_sentence(r)}**",
        "",
        f"- {k} decision-makers, {o.n:,} linked individuals ({r.join} join)",
        f"- Rule: {md_cell(r.rule)}",
        f"- Systemic failure S = {fmt_pct(o.systemic_failure, 2)}{ci_text(o.systemic_failure, True)}; "
        f"expected if independent S_ind = {fmt_pct(o.expected_systemic_failure, 2)}",
        f"- Homogenization H = {fmt_num(o.homogenization)}{ci_text(o.homogenization)}"
        f"{' (' + p_text(o.homogenization) + ')' if o.homogenization.p_value is not None else ''}",
        f"- Consistent success {fmt_pct(o.consistent_success)} (expected {fmt_pct(o.expected_consistent_success)})",
    ]
    for flag in o.homogenization.flags:
        parts.append(f"- ⚠️ H {md_cell(flag)}")
    if o.rasch is not None and o.rasch.homogenization.defined:
        parts.append(f"- H beyond difficulty (marginal Rasch null, σ = {fmt_num(o.rasch.sigma)}) = "
                     f"{fmt_num(o.rasch.homogenization)}{ci_text(o.rasch.homogenization)}: 1 = the hard cases "
                     "explain it")
    if r.stratified is not None and r.stratified.homogenization.defined:
        hs = r.stratified.homogenization
        parts.append(f"- H within strata of {md_cell(r.stratified.attribute)} = {fmt_num(hs)}{ci_text(hs)}: "
                     "against independence within each stratum")
    if o.effective_decision_makers.defined:
        parts.append(f"- {k} decision-makers ≈ {fmt_num(o.effective_decision_makers)} independent opinions (n_eff)")
    if o.answers is not None:
        parts.append(f"- {md_cell(answers.answer_sentence(r) or '')}")
    parts.append(_gates(r))
    parts.append("## Decision-makers\n")
    parts.append(_table(["decision-maker", "n", "failure rate [CI]"],
                        [[md_cell(d.name), f"{d.n:,}", fmt_pct(d.failure_rate) + ci_text(d.failure_rate, True)]
                         for d in r.decision_makers]))
    parts.append("\n## Ecosystem view: failed by m decision-makers\n")
    rasch = {b.failures: b.expected for b in (o.rasch.failure_count_histogram if o.rasch else [])}
    parts.append(_table(["m", "observed", "independent", *(["difficulty only"] if rasch else [])],
                        [[str(b.failures), fmt_pct(b.observed), fmt_pct(b.expected),
                          *([fmt_pct(rasch[b.failures])] if rasch else [])]
                         for b in o.failure_count_histogram]))
    if r.groups:
        parts.append("\n## By group\n")
        rows = []
        for g in r.groups:
            if g.suppressed:
                rows.append([md_cell(g.attribute), md_cell(g.group), "suppressed", "", "", "", ""])
                continue
            rows.append([md_cell(g.attribute), md_cell(g.group), f"{g.n:,}", fmt_pct(g.share_of_population),
                         fmt_pct(g.share_of_systemic_failures), fmt_pct(g.systemic_failure, 2),
                         fmt_num(g.homogenization) + ci_text(g.homogenization)])
        parts.append(_table(["attribute", "group", "n", "share", "share of S", "S", "H [CI]"], rows))
    if o.pairwise:
        parts.append("\n## Pairs\n")
        many = len(r.decision_makers) > BLOCKS
        shown = strongest(o.pairwise, "error_consistency", PAIRS_LISTED) if many else o.pairwise
        parts.append(_table(["a", "b", "error consistency κ [CI]", "co-failure lift"],
                            [[md_cell(p.a), md_cell(p.b), fmt_num(p.error_consistency) + ci_text(p.error_consistency),
                              fmt_num(p.cofailure_lift)] for p in shown]))
        if many:
            parts.append(f"\nThe {len(shown)} pairs with the highest κ of {len(o.pairwise):,}; the JSON and CSV have "
                         "every pair.")
    parts.append(_answers(r))
    parts.append(rounds.markdown_section(r, md_cell, _table))
    if r.warnings:
        parts.append("\n## Warnings\n")
        parts.extend(f"- {md_cell(w)}" for w in r.warnings)
    parts.append(f"\n<sub>monoculture {r.tool_version} · schema {r.schema_version} · "
                 f"{_interval_note(r)}</sub>\n")
    return "\n".join(parts) + "\n"


def _answers(r: AuditResult) -> str:
    """The same-wrong-answer measures (multi-class decisions), when the audit has them."""
    pairs = answers.ranked_pairs(r)
    if not pairs:
        return ""
    parts = ["\n## Same wrong answer\n", md_cell(answers.answer_sentence(r) or ""), ""]
    with_p = answers.probabilistic(r)
    rows = [[md_cell(c) for c in answers.pair_row(p, with_p)] for p in pairs[:25]]
    parts.append(_table(answers.pair_header(with_p), rows))
    if len(pairs) > 25:
        parts.append(f"\nThe 25 highest of {len(pairs)} pairs; the JSON has every pair.")
    judges = answers.ranked_judges(r)
    if judges:
        parts.append("\n### Judges: accuracy when another's answers are the key (largest inflation)\n")
        parts.append(_table(answers.JUDGE_HEADER, [[md_cell(c) for c in answers.judge_row(j)] for j in judges[:15]]))
    return "\n".join(parts)


def _interval_note(r: AuditResult) -> str:
    inf = r.options.get("inference", {})
    if not inf.get("bootstrap"):
        return "no intervals"
    return (f"{100 * (1 - inf['alpha']):g}% intervals: Wilson for proportions, {inf['bootstrap']} bootstrap "
            f"replicates ({inf['ci']}) otherwise, seed {inf['seed']}")

