"""Renderers: each takes an `AuditResult` and returns text. None of them computes a metric."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from ..errors import UsageError
from ..measure.result import AuditResult, MultiplicityResult
from ..simulate.result import DynamicsResult, UrnResult
from .csv import render_csv
from .html import render_html
from .json import render_json
from .jsonl import render_jsonl
from .junit import render_junit
from .markdown import render_markdown
from .terminal import render_terminal


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"
    html = "html"
    junit = "junit"


RENDERERS: dict[Format, Callable[[AuditResult], str]] = {
    Format.table: render_terminal,
    Format.json: render_json,
    Format.jsonl: render_jsonl,
    Format.csv: render_csv,
    Format.markdown: render_markdown,
    Format.html: render_html,
    Format.junit: render_junit,
}

EXTENSIONS = {
    ".json": Format.json, ".jsonl": Format.jsonl, ".ndjson": Format.jsonl, ".csv": Format.csv,
    ".md": Format.markdown, ".markdown": Format.markdown, ".html": Format.html, ".htm": Format.html,
    ".xml": Format.junit, ".txt": Format.table,
}


def render(result: AuditResult | MultiplicityResult | DynamicsResult | UrnResult, fmt: Format, *,
           width: int = 100, color: bool = False) -> str:
    """The report in one format (the table format takes a width and colour)."""
    if isinstance(result, DynamicsResult | UrnResult):
        from .simulate import render_simulation

        if fmt in (Format.jsonl, Format.junit):
            raise UsageError(f"simulate writes table, json, csv, markdown or html, not {fmt.value}")
        return render_simulation(result, fmt.value, width=width, color=color)
    if isinstance(result, MultiplicityResult):
        from .multiplicity import RENDERERS as MULTIPLICITY

        fn = MULTIPLICITY[fmt.value]
        return fn(result, width=width, color=color) if fmt is Format.table else fn(result)
    if fmt is Format.table:
        return render_terminal(result, width=width, color=color)
    return RENDERERS[fmt](result)
