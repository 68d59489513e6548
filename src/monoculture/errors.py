"""One exception family for the core; the CLI turns it into one line on stderr and exit code 2."""

from __future__ import annotations


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

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        prefix = ": ".join([", ".join(where)]) + ": " if where else ""
        return f"{prefix}{self.message}"


class InputError(MonocultureError):
    """A file is missing, unreadable, malformed, or its contents do not fit the requested audit."""


class UsageError(MonocultureError):
    """Options that contradict each other or name things that do not exist."""
