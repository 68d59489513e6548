"""Reports that are a title, a verdict and a list of tables (multiplicity, simulate): one layout per format.

A table is (title, header, rows) with every cell already formatted as text; HTML figures are trusted SVG.
"""

from __future__ import annotations

import io
from html import escape

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table
from rich.text import Text

from .html import CSS
from .markdown import md_cell

Section = tuple[str, list[str], list[list[str]]]
Tables = list[Section]


def terminal(title: str, verdict: str, tables: Tables, notes: list[str], *, width: int, color: bool) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None)
    console.print(Text(title, style="bold"))
    console.print(Text(verdict))
    for name, header, rows in tables:
        t = Table(title=name, title_justify="left")
        for i, h in enumerate(header):
            t.add_column(h, justify="left" if i == 0 else "right")
        for row in rows:
            t.add_row(*[rich_escape(c) for c in row])
        console.print(t)
    for note in notes:
        console.print(Text(note, style="dim"))
    return buf.getvalue()


def markdown(title: str, verdict: str, tables: Tables, notes: list[str]) -> str:
    parts = [f"# {md_cell(title)}", "", f"**{md_cell(verdict)}**", ""]
    for name, header, rows in tables:
        parts += [f"## {md_cell(name)}", "", "| " + " | ".join(md_cell(h) for h in header) + " |",
                  "|" + "|".join("---" for _ in header) + "|"]
        parts += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
        parts.append("")
    parts += [f"_{md_cell(n)}_" for n in notes]
    return "\n".join(parts) + "\n"


def html(title: str, verdict: str, tables: Tables, notes: list[str], figures: list[str] = ()) -> str:
    body = [f"<h1>{escape(title)}</h1><p class=\"verdict\">{escape(verdict)}</p>"]
    body += [f"<figure>{svg}</figure>" for svg in figures]
    for name, header, rows in tables:
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        trs = "".join("<tr>" + "".join(f'<td class="{"l" if i == 0 else ""}">{escape(c)}</td>'
                                       for i, c in enumerate(row)) + "</tr>" for row in rows)
        body.append(f"<h2>{escape(name)}</h2><table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>")
    body += [f'<p class="muted">{escape(n)}</p>' for n in notes]
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}"
            f"</title><style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
