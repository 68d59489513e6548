"""GitHub Actions: one workflow annotation per failed gate (the step summary is the Markdown report)."""

from __future__ import annotations

from ..measure.result import AuditResult


def annotations(result: AuditResult) -> list[str]:
    """The `::error` workflow commands for the failed gates, one line each."""
    out = []
    for g in result.gates:
        if g.status == "fail":
            where = "overall" if g.scope == "overall" else f"{g.attribute}={g.group}"
            out.append(f"::error title=monoculture {g.name}::{where}: {g.reason}".replace("\n", " "))
    return out
