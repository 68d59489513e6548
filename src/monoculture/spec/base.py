"""What every part of the spec shares: the error naming a field, and the check of a value's choices."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError


class SpecError(UsageError):
    """A specification that cannot work. `field` names the part (``link.join``), `problem` says what is wrong.

    The message reads ``<field> <problem>``; the CLI prints the flag in place of the field (see `errors`).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{{{field}}} {problem}")
        self.field, self.problem = field, problem

def one_of(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise SpecError(name, f"must be one of {', '.join(allowed)}; got '{value}'")
