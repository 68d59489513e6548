"""JUnit XML renderer: one test case per threshold and population, for GitLab, Jenkins and friends."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from ..measure.result import AuditResult


def render_junit(r: AuditResult) -> str:
    cases = []
    for g in r.gates:
        where = "overall" if g.scope == "overall" else f"{g.attribute}={g.group}"
        name = quoteattr(f"{g.name} [{where}]")
        body = ""
        if g.status == "fail":
            body = f"<failure message={quoteattr(g.reason)}>{escape(g.reason)}</failure>"
        elif g.status == "skipped":
            body = f"<skipped message={quoteattr(g.reason)}/>"
        cases.append(f'    <testcase classname="monoculture" name={name}>{body}</testcase>')
    failures = sum(g.status == "fail" for g in r.gates)
    skipped = sum(g.status == "skipped" for g in r.gates)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="monoculture" tests="{len(r.gates)}" failures="{failures}">\n'
        f'  <testsuite name="monoculture audit" tests="{len(r.gates)}" failures="{failures}" '
        f'skipped="{skipped}" errors="0">\n'
        + "".join(c + "\n" for c in cases)
        + "  </testsuite>\n</testsuites>\n"
    )
