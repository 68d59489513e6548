"""JSON Lines renderer: the tidy rows of the CSV renderer, one JSON object per line (for jq and friends)."""

from __future__ import annotations

import json

from ..measure.result import AuditResult
from .rows import tidy_rows


def render_jsonl(result: AuditResult) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n" for row in tidy_rows(result))
