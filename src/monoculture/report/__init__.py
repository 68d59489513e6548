"""Renderers: each takes an `AuditResult` and returns text. None of them computes a metric."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from ..result import AuditResult
from .json import render_json
from .terminal import render_terminal


class Format(StrEnum):
    table = "table"
    json = "json"


RENDERERS: dict[Format, Callable[..., str]] = {
    Format.table: render_terminal,
    Format.json: render_json,
}

EXTENSIONS = {".json": Format.json, ".txt": Format.table}


def render(result: AuditResult, fmt: Format, *, width: int = 100, color: bool = False) -> str:
    if fmt is Format.table:
        return render_terminal(result, width=width, color=color)
    return RENDERERS[fmt](result)
