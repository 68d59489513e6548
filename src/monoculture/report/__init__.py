"""Renderers: one per (kind of result, format), each returning text. None of them computes a metric.

`Format` and `EXTENSIONS` are light; `render` (and every renderer behind it) is imported on first use, so
the CLI's help and errors start without them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .formats import EXTENSIONS, Format

__all__ = ["EXTENSIONS", "REGISTRY", "Format", "render"]


def __getattr__(name: str) -> Any:
    if name in ("render", "REGISTRY", "Result", "Renderer"):
        return getattr(import_module(".registry", __name__), name)
    raise AttributeError(f"module 'monoculture.report' has no attribute {name!r}")
