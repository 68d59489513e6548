"""The registry of renderers: one per (kind of result, format), each returning text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from ..measure.result import AuditResult, MultiplicityResult
from ..simulate.result import DynamicsResult, UrnResult
from .csv import render_csv
from .formats import Format
from .html import render_html
from .json import render_json
from .jsonl import render_jsonl
from .junit import render_junit
from .markdown import render_markdown
from .multiplicity import RENDERERS as MULTIPLICITY
from .simulate import render_simulation
from .terminal import render_terminal

Result = AuditResult | MultiplicityResult | DynamicsResult | UrnResult
# Every renderer as (result, width, color) -> text; only the table format reads width and colour.
Renderer = Callable[[Any, int, bool], str]


def _plain(fn: Callable[[Any], str]) -> Renderer:
    return lambda result, _width, _color: fn(result)


def _simulation(fmt: Format) -> Renderer:
    return lambda result, width, color: render_simulation(result, fmt.value, width=width, color=color)


# The one registry: (kind of result, format) -> renderer. A pair that is absent is a format that kind of
# result does not come in, and `render` says so.
REGISTRY: dict[tuple[type, Format], Renderer] = {
    (AuditResult, Format.table): lambda r, width, color: render_terminal(r, width=width, color=color),
    **{(AuditResult, f): _plain(fn) for f, fn in [
        (Format.json, render_json), (Format.jsonl, render_jsonl), (Format.csv, render_csv),
        (Format.markdown, render_markdown), (Format.html, render_html), (Format.junit, render_junit)]},
    (MultiplicityResult, Format.table): lambda r, width, color: MULTIPLICITY["table"](r, width=width, color=color),
    **{(MultiplicityResult, f): _plain(MULTIPLICITY[f.value]) for f in Format if f is not Format.table},
    **{(kind, f): _simulation(f) for kind in (DynamicsResult, UrnResult)
       for f in (Format.table, Format.json, Format.csv, Format.markdown, Format.html)},
}


def render(result: Result, fmt: Format, *, width: int = 100, color: bool = False) -> str:
    """The report in one format (the table format takes a width and colour)."""
    kind = next(k for k in type(result).__mro__ if k in _KIND_NAMES)  # `frames.Audit` is an AuditResult
    renderer = REGISTRY.get((kind, fmt))
    if renderer is None:
        offered = ", ".join(f.value for k, f in REGISTRY if k is kind)
        raise UsageError(f"{_KIND_NAMES[kind]} reports come as {offered}, not {fmt.value}")
    return renderer(result, width, color)


_KIND_NAMES: dict[type, str] = {AuditResult: "audit", MultiplicityResult: "multiplicity",
                                DynamicsResult: "simulate dynamics", UrnResult: "simulate urn"}
