"""CI gates: thresholds on the audit's numbers, evaluated on the point estimate or the interval.

`--gate-on point` compares the estimate with the limit. `--gate-on ci` fails only when the whole
interval is above the limit (its lower bound exceeds it): the violation is then clear beyond sampling
noise. An undefined number fails its gate, with the reason, because nothing can be certified about it.
Groups below --min-group-size and suppressed groups are never flagged (their gates are skipped).
"""

from __future__ import annotations

from ..spec import Thresholds
from .result import AuditResult, GateResult, Metric


def _check(name: str, scope: str, attribute: str | None, group: str | None, m: Metric, limit: float,
           gate_on: str) -> GateResult:
    if m.value is None:
        return GateResult(name, scope, attribute, group, limit, None, None, "fail",
                          f"undefined ({m.reason}), so it cannot be shown to be within {limit:g}")
    if gate_on == "ci":
        if m.ci is None:
            return GateResult(name, scope, attribute, group, limit, m.value, None, "fail",
                              "no interval to gate on (run with --bootstrap > 0, or --gate-on point)")
        compared, what = m.ci[0], "interval lower bound"
    else:
        compared, what = m.value, "estimate"
    ok = compared <= limit
    verdict = "within" if ok else "above"
    return GateResult(name, scope, attribute, group, limit, m.value, compared, "pass" if ok else "fail",
                      f"{what} {compared:.4g} is {verdict} the limit {limit:g}")


def _ratio(g) -> Metric:
    """A group's share of the systemically failed over its share of the population (= S_g / S)."""
    share_s, share_p = g.share_of_systemic_failures, g.share_of_population
    if share_s.value is None or not share_p.value:
        return Metric(None, share_s.reason or "empty group")
    m = Metric(share_s.value / share_p.value)
    if share_s.ci is not None:
        # The population share is the audit's design, not an estimate: the interval scales the Wilson
        # interval of the systemic-failure share.
        m.ci = (share_s.ci[0] / share_p.value, share_s.ci[1] / share_p.value)
    return m


def evaluate(result: AuditResult, t: Thresholds) -> list[GateResult]:
    """Every threshold on the overall population and on each (large enough, published) group."""
    out: list[GateResult] = []
    checks = [("max_homogenization", t.max_homogenization, lambda s: s.homogenization),
              ("max_systemic_failure", t.max_systemic_failure, lambda s: s.systemic_failure)]
    for name, limit, get in checks:
        if limit is not None:
            out.append(_check(name, "overall", None, None, get(result.overall), limit, t.gate_on))
    for g in result.groups:
        per_group = [(n, lim, get) for n, lim, get in checks if lim is not None]
        if t.max_group_systemic_failure_ratio is not None:
            per_group.append(("max_group_systemic_failure_ratio", t.max_group_systemic_failure_ratio, _ratio))
        for name, limit, get in per_group:
            if g.suppressed or g.small:
                why = "suppressed group" if g.suppressed else "group below --min-group-size (never flagged)"
                out.append(GateResult(name, "group", g.attribute, g.group, limit, None, None, "skipped", why))
            else:
                out.append(_check(name, "group", g.attribute, g.group, get(g), limit, t.gate_on))
    return out


def verdict(gates: list[GateResult]) -> str:
    if not gates:
        return "no thresholds"
    return "fail" if any(g.status == "fail" for g in gates) else "pass"
