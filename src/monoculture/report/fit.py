"""Tables that fit the terminal by design: columns a table can spare are left out (and the caption says
which), rather than every cell wrapped apart."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType
from rich.table import Table


def natural_width(renderable: RenderableType) -> int:
    """The width a renderable takes when nothing constrains it."""
    console = Console(file=io.StringIO(), width=100_000)
    return console.measure(renderable).maximum


def droppable(table: Table, *headers: str) -> Table:
    """Mark columns (by header, most dispensable first) that `fit` may leave out."""
    table.droppable = list(headers)  # type: ignore[attr-defined]
    return table


def fit(renderable: RenderableType, width: int) -> RenderableType:
    """The table without its droppable columns, one at a time, until it fits `width`; anything else as is."""
    if not isinstance(renderable, Table):
        return renderable
    spare = list(getattr(renderable, "droppable", []))
    left_out = []
    while spare and natural_width(renderable) > width:
        header = spare.pop(0)
        at = next((i for i, c in enumerate(renderable.columns) if c.header == header), None)
        if at is not None:
            renderable.columns.pop(at)
            left_out.append(header)
    if natural_width(renderable) > width:  # still too wide: the labels give way, the numbers stay whole
        for column in renderable.columns:
            if column.justify == "right":
                column.no_wrap = True
    if left_out:
        note = f"{', '.join(left_out)}: left out to fit {width} columns (--width shows them)"
        renderable.caption = f"{renderable.caption}; {note}" if renderable.caption else note
        renderable.caption_justify = "left"
    return renderable
