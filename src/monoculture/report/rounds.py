"""The analysis over rounds in a report: where improvements land, failure after failure, persistence."""

from __future__ import annotations

from collections.abc import Callable

from rich.markup import escape
from rich.table import Table

from ..measure.result import AuditResult
from ..measure.result_rounds import Overdispersion, RoundsResult
from .text import ci_text, fmt_num, fmt_pct, p_text

IMPROVEMENT_HEADER = ["decision-maker", "change", "failed before", "now served", "by others failing them: served"]


def title(ro: RoundsResult) -> str:
    return (f"Over rounds ({', '.join(ro.rounds)}): failed by everyone in every round "
            f"{fmt_pct(ro.failed_in_every_round, 2)} vs {fmt_pct(ro.expected_failed_in_every_round, 2)} if rounds "
            "were independent (persistence, not proof of feedback)")


def improvement_rows(ro: RoundsResult) -> list[list[str]]:
    rows = []
    for imp in ro.improvements:
        buckets = ", ".join(f"{b.others_failing}: {fmt_pct(b.improved_share)} (n={b.n:,})" if b.n is not None
                            else f"{b.others_failing}: suppressed" for b in imp.buckets if b.n != 0)
        rows.append([imp.decision_maker, f"{imp.from_round} → {imp.to_round}", f"{imp.failed_before:,}",
                     fmt_pct(imp.improved_share) + ci_text(imp.improved_share, True), buckets])
    return rows


def transitions_sentence(ro: RoundsResult) -> str:
    again = "; ".join(f"{x.from_round} → {x.to_round}: {fmt_pct(x.failed_again)} failed again "
                      f"(independent: {fmt_pct(x.independent)})" for x in ro.transitions)
    return f"Failed by everyone again the next round: {again}." if again else ""


def persistence_text(o: Overdispersion) -> str:
    """One series' persistence in words: its dispersion against independent rounds and the Beta-Binomial ρ."""
    if o.rho.value is None:
        return f"{o.series}: {o.rho.reason}"
    test = f", {p_text(o.rho)}" if o.rho.p_value is not None else ""
    return (f"{o.series}: variance of rounds failed {fmt_num(o.dispersion_ratio)}× that of independent rounds, "
            f"Beta-Binomial ρ = {fmt_num(o.rho)}{test}")


def persistence_sentence(ro: RoundsResult) -> str:
    if not ro.overdispersion:
        return ""
    return ("Persistence (the same people failed round after round; ρ = 0 and a ratio of 1 for independent "
            "rounds): " + "; ".join(persistence_text(o) for o in ro.overdispersion) + ".")


def terminal_table(r: AuditResult) -> Table:
    ro = r.rounds
    assert ro is not None
    t = Table(title=escape(title(ro)), title_justify="left")
    for col in IMPROVEMENT_HEADER:
        t.add_column(col, justify="left" if col in ("decision-maker", "change") else "right")
    for row in improvement_rows(ro):
        t.add_row(*(escape(c) for c in row))
    t.caption = escape(" ".join(s for s in (
        "Evenly spread improvements would serve the same share in every bucket (Toups et al. 2023).",
        transitions_sentence(ro), persistence_sentence(ro)) if s))
    t.caption_justify = "left"
    return t


def html_section(r: AuditResult, escape_html: Callable[[object], str], table: Callable[..., str]) -> str:
    """The HTML report's section (its own escaping and table helpers)."""
    ro = r.rounds
    if ro is None:
        return ""
    parts = [f"<h2>Over rounds</h2><p>{escape_html(title(ro))}</p>"]
    if ro.improvements:
        parts += ["<h3>Where improvements land</h3><p>Evenly spread improvements would serve the same share in "
                  "every bucket (Toups et al. 2023).</p>",
                  table(IMPROVEMENT_HEADER, [[escape_html(c) for c in row] for row in improvement_rows(ro)], left=2)]
    parts += [f"<p>{escape_html(s)}</p>" for s in (transitions_sentence(ro), persistence_sentence(ro)) if s]
    return "".join(parts)


def markdown_section(r: AuditResult, cell: Callable[[str], str], table: Callable[..., str]) -> str:
    """The Markdown report's section (its own cell escaping and table helpers)."""
    ro = r.rounds
    if ro is None:
        return ""
    parts = ["\n## Over rounds\n", cell(title(ro)), ""]
    if ro.improvements:
        parts += ["Where improvements land (evenly spread improvements would serve the same share in every "
                  "bucket; Toups et al. 2023):", "",
                  table(IMPROVEMENT_HEADER, [[cell(c) for c in row] for row in improvement_rows(ro)]), ""]
    parts += [cell(s) + "\n" for s in (transitions_sentence(ro), persistence_sentence(ro)) if s]
    return "\n".join(parts)
