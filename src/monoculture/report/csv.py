"""CSV renderer: tidy long rows that pandas or a spreadsheet reads directly, safe against formula injection."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ..measure.result import AuditResult
from .rows import COLUMNS, tidy_rows

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def neutralise(cell: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) with a quote."""
    if isinstance(cell, str) and cell and cell[0] in "=+-@\t\r" and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def write_rows(rows: Iterable[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    """Tidy rows as CSV text (the audit's columns unless others are given), every text cell neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    # Lists, not dicts, to the writer: a thousand decision-makers make five million rows.
    writer.writerows([("" if (v := row.get(c)) is None else neutralise(v)) for c in columns] for row in rows)
    return buf.getvalue()


def render_csv(result: AuditResult) -> str:
    return write_rows(tidy_rows(result))
