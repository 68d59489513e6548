"""CSV renderer: tidy long rows that pandas or a spreadsheet reads directly, safe against formula injection."""

from __future__ import annotations

import csv
import io
import re

from ..result import AuditResult
from .rows import COLUMNS, tidy_rows

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def neutralise(cell: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) with a quote."""
    if isinstance(cell, str) and cell and cell[0] in "=+-@\t\r" and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def render_csv(result: AuditResult) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in tidy_rows(result):
        writer.writerow({k: ("" if v is None else neutralise(v)) for k, v in row.items()})
    return buf.getvalue()
