"""One exception family for the core; the CLI turns it into one line on stderr and exit code 2.

A message names a setting in braces, in the spec's words: ``{link.on_missing=drop}`` (a field and a value)
or ``{rule.kind}`` (a field). `str()` writes it as the library says it (``link.on_missing=drop``); the CLI
writes the flag that sets it (``--drop-missing``), so one message serves both.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A dotted field of the spec, or one of its few top-level ones; an optional value after `=`.
SETTING = re.compile(r"\{((?:[a-z_]+\.)+[a-z_]+|inputs|patterns|layout|emit_ids)(?:=([^{}]+))?\}")


def library_words(field: str, value: str | None) -> str:
    return field if value is None else f"{field}={value}"


def where_in_file(file: str | None, row: int) -> str:
    """A 1-based data row as a user finds it: the line of a text file (its header is line 1; a quoted
    value spanning lines would shift it), the row of a Parquet file or of no file."""
    binary = file is None or file.lower().endswith((".parquet", ".pq", ".parq"))
    return f"row {row:,}" if binary else f"line {row + 1:,}"


class MonocultureError(Exception):
    """Base class: an input, option or configuration the audit cannot proceed with.

    Carries where the problem is (file, column, row) so the message can name it. Never carries an
    individual's ID unless the user asked for IDs to be shown.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.column = column
        self.row = row

    def render(self, setting: Callable[[str, str | None], str] = library_words) -> str:
        """The message with where it happened, each ``{field=value}`` written by `setting`."""
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.row is not None:
            where.append(where_in_file(self.file, self.row))
        prefix = ", ".join(where) + ": " if where else ""
        return prefix + SETTING.sub(lambda m: setting(m.group(1), m.group(2)), self.message)

    def __str__(self) -> str:
        return self.render()


class InputError(MonocultureError):
    """A file is missing, unreadable, malformed, or its contents do not fit the requested audit."""


class UsageError(MonocultureError):
    """Options that contradict each other or name things that do not exist."""
