"""What every command shares: errors to one line and exit 2, choosing a format, writing the report."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import MonocultureError
from ..report.formats import EXTENSIONS, Format

EXIT_OK, EXIT_THRESHOLD, EXIT_ERROR = 0, 1, 2

# The settings a message names (`errors.SETTING`) as the command line spells them, where the flag is not
# `--` and the field's last part with dashes (`simulate.step_size` is `--step-size`, `emit_ids` `--emit-ids`).
FLAGS = {
    "inputs": "INPUTS", "columns.groups": "--group", "rule.kind": "--failure", "link.on_duplicate": "--duplicates",
    "link.on_missing": "--drop-missing", "link.on_group_conflict": "--group-conflicts", "engine.sql": "--emit-sql",
    "columns.per_input": "NAME=COLUMN of --id, --decision or --label", "inputs.delimiter": "--delimiter",
    "multiplicity.fpr_weight": "--lambda",
}
# Settings whose flag and value are not `FLAG VALUE`.
FLAG_VALUES = {("link.on_missing", "drop"): "--drop-missing"}


def flag(field: str, value: str | None) -> str:
    """A setting named in a message as the command line sets it."""
    name = FLAGS.get(field) or "--" + field.rsplit(".", 1)[-1].replace("_", "-")
    return name if value is None else FLAG_VALUES.get((field, value), f"{name} {value}")


def stderr_console(no_color: bool) -> Console:
    return Console(stderr=True, no_color=no_color or "NO_COLOR" in os.environ, highlight=False)


def message(exc: MonocultureError) -> str:
    """The error as the command line says it: each setting it names becomes the flag that sets it."""
    return exc.render(flag)


def _write_all(fh: IO[str], text: str | Iterator[str]) -> None:
    if isinstance(text, str):
        fh.write(text)
        return
    batch: list[str] = []
    size = 0
    for chunk in text:  # a few megabytes at a time: one write per chunk would cost more than the encoding
        batch.append(chunk)
        size += len(chunk)
        if size > 1 << 22:
            fh.write("".join(batch))
            batch, size = [], 0
    fh.write("".join(batch))


@contextmanager
def errors_to_exit(err: Console, debug: bool = False) -> Iterator[None]:
    """The one place library errors become one line on stderr and exit code 2 (--debug re-raises)."""
    try:
        yield
    except MonocultureError as exc:
        if debug:
            raise
        err.print(f"Error: {escape(message(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None


FILE_WIDTH = 100  # columns of a table report written to a file or a pipe


def report_width(width: int | None, output: Path | None, tty: bool, columns: int) -> int:
    """The table report's width: `width` when given; the terminal's `columns` when the report goes to a
    terminal (`tty`); else FILE_WIDTH, so that a file or a pipe gets the same bytes on every machine."""
    if width is not None:
        return width
    return max(40, columns) if output is None and tty else FILE_WIDTH


def render_for(result, output_format: Format | None, output: Path | None, width: int | None,
               no_color: bool) -> str | Iterator[str]:
    """Pick the format (explicit, else from the -o extension, else table), width and colour, and render. An
    audit's JSON comes in pieces, written as they are made (`write_report`)."""
    from ..measure.result import AuditResult  # here: help and errors need none of the reports
    from ..report import render
    from ..report.json import json_chunks

    fmt = output_format or (EXTENSIONS.get(output.suffix.lower(), Format.table) if output else Format.table)
    if fmt is Format.json and isinstance(result, AuditResult):
        return json_chunks(result)
    tty = sys.stdout.isatty()
    color = output is None and fmt is Format.table and tty and not no_color and "NO_COLOR" not in os.environ
    columns = shutil.get_terminal_size((FILE_WIDTH, 24)).columns
    return render(result, fmt, width=report_width(width, output, tty, columns), color=color)


def write_with_notes(notes: list[str], text: str | Iterator[str], output: Path | None, err: Console,
                     quiet: bool) -> None:
    """The notes on stderr (unless --quiet), then the report to stdout or -o FILE."""
    if not quiet:
        for note in notes:
            err.print(f"Note: {escape(note)}", soft_wrap=True)
    write_report(text, output, err, quiet)


def write_report(text: str | Iterator[str], output: Path | None, err: Console, quiet: bool = False) -> None:
    """The report (text, or its pieces) to stdout, or to -o FILE with a line on stderr saying so (unless
    --quiet)."""
    if output is None:
        _write_all(sys.stdout, text)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            _write_all(fh, text)
    except OSError as exc:
        err.print(f"Error: {escape(str(output))}: cannot write the report ({exc.strerror})")
        raise typer.Exit(EXIT_ERROR) from None
    if not quiet:
        err.print(f"wrote {escape(str(output))}", soft_wrap=True)
