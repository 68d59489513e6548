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


def verdict_sentence(r: AuditResult) -> str:
    h = r.overall.homogenization
    k = len(r.decision_makers)
    if h.value is None:
        return f"Homogenization is undefined: {h.reason}."
    if h.value > 1:
        return (f"The same people are failed by all {k} decision-makers {h.value:.3g}× as often as if they "
                "failed people independently.")
    return "Systemic failure is no more common than if the decision-makers failed people independently."
