"""Number formatting and the one-sentence verdict shared by the text renderers (terminal, Markdown, HTML)."""

from __future__ import annotations

from ..measure.result import AuditResult, Metric


def fmt_pct(m: Metric, digits: int = 1) -> str:
    if m.value is None:
        return "undefined"
    v = 100 * m.value
    if 0 < abs(v) < 10 ** -digits:
        return f"{v:.1e}%"
    return f"{v:.{digits}f}%"


def fmt_num(m: Metric, digits: int = 3) -> str:
    if m.value is None:
        return "undefined"
    text = f"{m.value:.{digits}g}" if abs(m.value) >= 1e-3 or m.value == 0 else f"{m.value:.2e}"
    return text + ("*" if any(f.startswith("unstable") for f in m.flags) else "")


def ci_text(m: Metric, pct: bool = False) -> str:
    if m.ci is None:
        return ""
    lo, hi = m.ci
    if pct:
        return f" [{100 * lo:.1f}, {100 * hi:.1f}]"
    return f" [{lo:.3g}, {hi:.3g}]"


def p_text(m: Metric) -> str:
    p = m.p_adjusted if m.p_adjusted is not None else m.p_value
    if p is None:
        return ""
    return f"p = {p:.2g}" if p >= 1e-3 else "p < 0.001"


ASTRONOMICAL = 1000.0  # an H above this compares with an independence baseline no one believes


def people(share: float, n: int) -> str:
    """A share of n people as a count a reader can picture (one decimal below ten)."""
    count = share * n
    if count == 0:
        return "no one"
    if count < 0.01:
        return "fewer than 0.01"
    return f"{count:,.0f}" if count >= 9.95 or count == round(count) else f"{count:.2g}"


def sensitivity_rows(r: AuditResult) -> list[tuple[str, str]]:
    """(ecosystem, H) rows of the sensitivity of H: the mean over subsets of each size, then each decision-maker
    left out (with its interval). Empty when neither was computed."""
    rows = [(f"mean over {'sampled' if s.sampled else 'all'} {s.subsets} subsets of {s.m}", fmt_num(s.homogenization))
            for s in r.homogenization_by_size]
    return rows + [(f"without {name}", fmt_num(m) + ci_text(m)) for name, m in r.leave_one_out.items()]


def verdict_sentence(r: AuditResult) -> str:
    """The report's first sentence. H leads when it is stable; where it is unstable (fewer than five
    systemic failures expected under independence), astronomical or undefined, the counts of people lead,
    then the null that still reads (H beyond difficulty), and one plain sentence says why H does not."""
    o = r.overall
    h = o.homogenization
    k = len(r.decision_makers)
    n = o.n or 0
    unstable = any(f.startswith("unstable") for f in h.flags)
    s, s_ind = o.systemic_failure.value, o.expected_systemic_failure.value
    if h.value is not None and not unstable and h.value <= ASTRONOMICAL:
        tally = (f": {people(s, n)} of the {n:,} people, where {people(s_ind, n)} would be"
                 if s is not None and s_ind is not None else "")
        if h.value > 1:
            return (f"The same people are failed by all {k} decision-makers {h.value:.3g}× as often as if they "
                    f"failed people independently{tally}.")
        return "Systemic failure is no more common than if the decision-makers failed people independently."
    counts = ""
    if s is not None and s_ind is not None:
        who = "No one" if s == 0 else people(s, n)
        verb = "was" if s == 0 or round(s * n) == 1 else "were"
        counts = (f"{who} of the {n:,} people {verb} failed by every decision-maker that saw them; "
                  f"{people(s_ind, n)} would be if they failed people independently.")
    if h.value is None:
        why = f"H is undefined: {h.reason}."
    elif unstable:
        why = (f"H ({h.value:.3g}) is not the headline: with {people(s_ind, n)} systemic failures expected under "
               "independence, the ratio is dominated by chance.")
    else:
        why = (f"H ({h.value:.3g}) is not the headline: independence, which ignores that some people are harder "
               "for everyone, is no baseline at this scale.")
    rasch = o.rasch
    beyond = ""
    if rasch is not None and rasch.homogenization.value is not None:
        hr = rasch.homogenization
        steady = not any(f.startswith("unstable") for f in hr.flags)
        beyond = (f" Against people differing only in difficulty, systemic failure is {hr.value:.3g}× what that "
                  f"model expects (H beyond difficulty{'' if steady else ', itself unstable'}).")
    return " ".join(part for part in (counts, why) if part) + beyond
