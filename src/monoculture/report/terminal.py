"""Terminal report with rich: headline, coverage, decision-makers, ecosystem histogram, pairs, groups."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..link.coverage import SourceCoverage
from ..measure.records import values_of
from ..measure.result import AuditResult, Metric
from . import rounds
from . import terminal_ecosystem as ecosystem
from .answers import answer_sentence
from .answers import terminal_tables as answer_tables
from .fit import droppable, fit
from .many import ENDS, MANY
from .text import ci_text, fmt_num, fmt_pct, p_text, sensitivity_rows, verdict_sentence

pct, num = fmt_pct, fmt_num


def _ci(m: Metric, fmt: str = "num") -> str:
    return ci_text(m, fmt == "pct")


def _headline(r: AuditResult) -> Panel:
    o = r.overall
    k = len(r.decision_makers)
    h = o.homogenization
    style = "yellow" if h.value is None else ("bold" if h.value > 1 else "")
    stable = h.value is not None and not any(f.startswith("unstable") for f in h.flags)
    verdict = Text(f"H = {num(h)}{_ci(h)}. {verdict_sentence(r)}" if stable else verdict_sentence(r) +
                   (f" (H = {num(h)}{_ci(h)})" if h.value is not None else ""), style=style)
    if h.p_value is not None:
        verdict.append(f"  (permutation test of independence: p = {h.p_value:.2g})")
    body = Group(
        Text(f"{k} decision-makers · {o.n:,} linked individuals · {r.join} join"),
        Text(f"Rule: {r.rule}"),
        Text(f"Systemic failure S = {pct(o.systemic_failure, 2)}{_ci(o.systemic_failure, 'pct')} "
             f"failed by every decision-maker; expected if independent S_ind = {pct(o.expected_systemic_failure, 2)}"),
        Text(f"Consistent success = {pct(o.consistent_success)} (expected {pct(o.expected_consistent_success)})"),
        verdict,
        *(Text(f"* {f}", style="dim") for f in h.flags),
        *_beyond_lines(r),
        *([Text(answer_sentence(r) or "")] if r.overall.answers is not None else []),
    )
    return Panel(body, title="monoculture audit", title_align="left")


def _beyond_lines(r: AuditResult) -> list[Text]:
    """H beyond difficulty beside H, and the number of independent opinions (metrics.md §10, §12)."""
    o, k, out = r.overall, len(r.decision_makers), []
    rasch = o.rasch
    if rasch is not None and rasch.homogenization.defined:
        hr = rasch.homogenization
        out.append(Text(f"H beyond difficulty = {num(hr)}{_ci(hr)} against a null where people differ in "
                        f"difficulty (σ = {num(rasch.sigma)}) and nothing else is shared (S_rasch = "
                        f"{pct(rasch.expected_systemic_failure, 2)}); 1 = the hard cases explain it."))
        out.extend(Text(f"* {f}", style="dim") for f in [*hr.flags, *rasch.flags])
    elif rasch is not None:
        out.append(Text(f"H beyond difficulty undefined: {rasch.homogenization.reason}", style="dim"))
    st = r.stratified
    if st is not None:
        hs = st.homogenization
        out.append(Text(f"H within strata of {st.attribute} = {num(hs)}{_ci(hs)}: against independence within "
                        f"each of its {st.strata} strata" if hs.defined else
                        f"H within strata of {st.attribute} undefined: {hs.reason}"))
    n_eff = o.effective_decision_makers
    if n_eff.defined:
        out.append(Text(f"{k} decision-makers ≈ {num(n_eff)}{_ci(n_eff)} independent opinions (n_eff, from the "
                        "mean pairwise correlation of failures)."))
    return out


def _coverage(r: AuditResult) -> Table:
    c = r.coverage
    t = Table(title=f"Coverage — {c.linked:,} of {c.individuals_seen:,} individuals linked "
                    f"({c.join} join, IDs compared as {c.id_type})", title_justify="left", expand=False)
    for col in ("decision-maker", "rows", "linked", "not linked", "dropped", "blank", "unseen"):
        t.add_column(col, justify="right" if col != "decision-maker" else "left")
    def counts(s: SourceCoverage) -> list[int]:
        dropped = s.missing_id + s.missing_decision + s.missing_label + s.duplicate_rows
        return [s.rows, s.linked, s.not_linked, dropped, s.blank_cells, s.linked_individuals_unseen]

    shown = list(c.sources)
    if len(shown) > MANY:  # the sources with the most left out of the audit first; the rest summed in one row
        shown.sort(key=lambda s: -sum(counts(s)[2:]))
        shown = shown[:2 * ENDS]
    for s in shown:
        t.add_row(escape(s.name), *(f"{v:,}" for v in counts(s)))
    if len(shown) < len(c.sources):
        rest = [counts(s) for s in c.sources if s not in shown]
        t.add_row(f"… {len(rest):,} more", *(f"{sum(col):,}" for col in zip(*rest, strict=True)))
    t.caption = ("dropped = missing ID/decision/label or duplicate ID; blank = empty cell (not seen); "
                 "unseen = linked individuals this decision-maker did not see" + _seen_by(c.seen_by)
                 + (f"; outside the rule's population: {sum(s.outside_population for s in c.sources):,} rows"
                    if any(s.outside_population for s in c.sources) else "")
                 + (f"; missing decisions counted as failures: {sum(s.missing_decision_failed for s in c.sources):,}"
                    if any(s.missing_decision_failed for s in c.sources) else ""))
    t.caption_justify = "left"
    return t


def _seen_by(seen_by: list[int]) -> str:
    """How many decision-makers saw each linked person, when that varies (the outer join)."""
    if sum(1 for n in seen_by if n) <= 1:
        return ""
    counts = [(m, n) for m, n in enumerate(seen_by) if n]
    total = sum(n for _, n in counts)
    half, run, median = total / 2, 0, counts[-1][0]
    for m, n in counts:
        run += n
        if run >= half:
            median = m
            break
    return (f"; each linked person was seen by {counts[0][0]}–{counts[-1][0]} decision-makers "
            f"(median {median}; JSON .coverage.seen_by)")


def _p(m: Metric) -> str:
    return p_text(m).removeprefix("p = ").replace("p < ", "<")


def _groups(r: AuditResult) -> Table:
    adjust = r.options.get("inference", {}).get("adjust", "none")
    t = Table(title="By group (each group's own failure rates form its baseline)", title_justify="left")
    for col in ("attribute", "group", "n", "share", "share of S", "S", "S_ind", "H [CI]", f"p ({adjust})"):
        t.add_column(col, justify="left" if col in ("attribute", "group") else "right")
    for g in r.groups:
        if g.suppressed:
            t.add_row(escape(g.attribute), escape(g.group), "suppressed", "", "", "", "", "", "", style="dim")
            continue
        t.add_row(escape(g.attribute), escape(g.group), f"{g.n:,}", pct(g.share_of_population),
                  pct(g.share_of_systemic_failures), pct(g.systemic_failure, 2),
                  pct(g.expected_systemic_failure, 2), num(g.homogenization) + _ci(g.homogenization),
                  _p(g.homogenization), style="dim" if g.small else None)
    t.caption = ("share of S = the group's share of everyone failed by every decision-maker; "
                 "* = unstable (N·S_ind < 5); dim = below --min-group-size (never flagged)")
    t.caption_justify = "left"
    return droppable(t, "share", "S_ind", "share of S")


def _harm(r: AuditResult) -> Table | None:
    """Harm by decision rule (metrics.md §12): the majority panel and systemic failure beside the best single
    decision-maker, and every r when there are few."""
    o = r.overall
    if not o.harm_by_rule:
        return None
    rows = o.harm_by_rule if len(o.harm_by_rule) <= 12 else [h for h in o.harm_by_rule if h.rule]
    t = Table(title="Harm by decision rule — failed by at least r of the decision-makers that saw them",
              title_justify="left")
    for col in ("r", "rule", "observed", "independent"):
        t.add_column(col, justify="right")
    for h in rows:
        label = {"systemic": "nobody says yes", "majority": "majority panel"}.get(h.rule or "", "")
        t.add_row(str(h.at_least), label, pct(h.observed) + _ci(h.observed, "pct"), pct(h.expected))
    rates = [(d.failure_rate.value, d.name) for d in r.decision_makers if d.failure_rate.value is not None]
    if rates:
        best = min(rates)
        t.caption = (f"independent: the Poisson-binomial tail (for the majority, Condorcet's value); the best "
                     f"single decision-maker fails {100 * best[0]:.1f}% ({escape(best[1])})")
        t.caption_justify = "left"
    return t


def _group_level(r: AuditResult) -> Table:
    t = Table(title="Group-level homogenization (Bommasani et al. 2022) and the decomposition H = between × within",
              title_justify="left")
    for col in ("attribute", "groups", "H_avg", "H_unif", "H_worst", "between", "within"):
        t.add_column(col, justify="left" if col == "attribute" else "right")
    for a in r.group_homogenization:
        t.add_row(escape(a.attribute), str(a.groups), num(a.average) + _ci(a.average), num(a.uniform),
                  num(a.worst), num(a.between) + _ci(a.between), num(a.within))
    t.caption = ("between = excess explained by groups failing more; within = co-failure inside groups "
                 "beyond their own rates")
    t.caption_justify = "left"
    return droppable(t, "groups", "H_unif", "H_worst")


def _k_way(r: AuditResult) -> Table:
    o = r.overall
    t = Table(title="Ecosystem-wide agreement of failures", title_justify="left")
    t.add_column("measure")
    t.add_column("value [CI]", justify="right")
    t.add_column("reads as")
    rows = [
        ("bounded H (−1..1)", o.bounded_homogenization, "0 independent, 1 as concentrated as the rates allow"),
        ("log H", o.log_homogenization, "0 independent"),
        ("interrater κ", o.diversity.get("interrater_kappa"), "1 = the same people fail everywhere"),
        ("generalized diversity", o.diversity.get("generalized_diversity"), "0 = failures coincide, 1 = never"),
        ("coincident failure div.", o.diversity.get("coincident_failure_diversity"), "1 = one failure per person"),
        ("Kohavi–Wolpert variance", o.diversity.get("kohavi_wolpert_variance"), "0 = full agreement, max 0.25"),
    ]
    for label, m, meaning in rows:
        if m is not None:  # an undefined value says why where its reading would be
            t.add_row(label, num(m) + _ci(m), meaning if m.value is not None else f"undefined: {m.reason}")
    return t


def _sensitivity(r: AuditResult) -> Table | None:
    rows = sensitivity_rows(r)
    if not rows:
        return None
    by_size = len(r.homogenization_by_size)
    without = rows[by_size:]
    if len(without) > MANY:  # the decision-makers whose leaving moves H most, down and up
        h = [m.value for m in r.leave_one_out.values()]
        order = sorted(range(len(without)), key=lambda i: (h[i] is None, h[i] or 0.0))
        kept = order[:ENDS] + order[-ENDS:]
        rows = rows[:by_size] + [without[i] for i in kept[:ENDS]] + [(f"… {len(without) - 2 * ENDS:,} more", "")] + [
            without[i] for i in kept[ENDS:]]
    t = Table(title="Sensitivity of H", title_justify="left")
    t.add_column("ecosystem")
    t.add_column("H", justify="right")
    for subset, h in rows:
        t.add_row(escape(subset), h)
    t.caption = ("H grows like 1/Π e_i with the number of decision-makers: compare like with like"
                 + (f"; without one decision-maker: the {ENDS} lowest and {ENDS} highest H of {len(without):,}"
                    if len(without) > MANY else ""))
    t.caption_justify = "left"
    return t


def _gates(r: AuditResult) -> Table:
    gate_on = r.options.get("gates", {}).get("gate_on", "point")
    t = Table(title=f"Thresholds — {r.verdict.upper()} (gated on the {gate_on} estimate)" if gate_on == "point"
              else f"Thresholds — {r.verdict.upper()} (gated on the interval's lower bound)", title_justify="left")
    for col in ("status", "threshold", "population", "limit", "detail"):
        t.add_column(col)
    styles = {"fail": "bold red", "pass": "green", "skipped": "dim"}
    for g in r.gates:
        where = "overall" if g.scope == "overall" else f"{g.attribute}={g.group}"
        t.add_row(Text(g.status.upper(), style=styles[g.status]), g.name, escape(where), f"{g.limit:g}",
                  escape(g.reason))
    return t


def _components(r: AuditResult) -> Table:
    t = Table(title="Shared components: do pairs that share a value co-fail more?", title_justify="left")
    for col in ("attribute", "pairs sharing / not", "lift sharing", "lift other", "Δ lift [CI]", "Δ κ [CI]",
                "p (perm.)"):
        t.add_column(col, justify="left" if col == "attribute" else "right")
    for c in r.components:
        p = c.lift_difference.p_value
        t.add_row(escape(c.attribute), f"{c.sharing_pairs} / {c.other_pairs}", num(c.mean_lift_sharing),
                  num(c.mean_lift_other), num(c.lift_difference) + _ci(c.lift_difference),
                  num(c.kappa_difference) + _ci(c.kappa_difference), "" if p is None else f"{p:.2g}")
    t.caption = ("intervals: bootstrap over individuals; p: permutation of values over decision-makers (exact "
                 "when few, so its smallest value is limited by their number). H within each sharing set: " +
                 "; ".join(f"{s.value} ({len(s.members)}): {num(s.homogenization)}" for c in r.components
                           for s in c.sets))
    t.caption_justify = "left"
    return t


NOTES_SHOWN = 20


def _undefined_notes(r: AuditResult) -> tuple[list[str], int]:
    """The first `NOTES_SHOWN` notes on undefined values, and how many there are."""
    notes = []
    for g in r.groups:
        if g.homogenization.value is None and not g.suppressed:
            notes.append(f"H for {g.attribute}={g.group}: {g.homogenization.reason}")
    kappa = values_of(r.overall.pairwise, "error_consistency")
    undefined = [] if kappa is None else np.flatnonzero(np.isnan(kappa)).tolist()
    for i in undefined[:NOTES_SHOWN]:  # the rest are counted, not built (a thousand decision-makers: 499,500 pairs)
        p = r.overall.pairwise[i]
        notes.append(f"κ for {p.a}–{p.b}: {p.error_consistency.reason}")
    return notes[:NOTES_SHOWN], len(notes) + len(undefined[NOTES_SHOWN:])


def render_terminal(r: AuditResult, *, width: int = 100, color: bool = False) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None)
    console.print(_headline(r))
    if r.gates:
        console.print(_gates(r))
    console.print(_coverage(r))
    sections = [ecosystem.decision_makers(r), ecosystem.histogram(r.overall, width), _harm(r),
                ecosystem.pairs(r, width), ecosystem.lifts(r), *answer_tables(r),
                _components(r) if r.components else None, rounds.terminal_table(r) if r.rounds is not None else None]
    for section in sections:
        if section is not None:
            console.print(fit(section, width))
    console.print(fit(_k_way(r), width))
    if r.groups:
        console.print(fit(_groups(r), width))
    if r.group_homogenization:
        console.print(fit(_group_level(r), width))
    sens = _sensitivity(r)
    if sens is not None:
        console.print(fit(sens, width))
    notes, total = _undefined_notes(r)
    if notes:
        console.print(Text("Undefined values:", style="bold"))
        for note in notes:
            console.print(Text(f"  - {note}"))
        if total > len(notes):
            console.print(Text(f"  ... and {total - len(notes)} more (see --format json)"))
    return buf.getvalue()
