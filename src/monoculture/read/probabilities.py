"""Class-probability columns (multiplicity's multi-class Rashomon capacity): names or globs per file."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from ..errors import InputError
from .files import STDIN, read_header


def probability_columns(path: str, patterns: Sequence[str]) -> list[str]:
    """The class-probability columns of one file: each name as given, each glob (``p_*``) matched against the
    header in the header's order."""
    if not patterns:
        return []
    header = read_header(path) if path != STDIN else list(patterns)
    found: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            matched = [c for c in header if fnmatch.fnmatchcase(c, pattern)]
            if not matched:
                raise InputError(f"no column matches the probability pattern '{pattern}'", file=path)
            found += matched
        else:
            found.append(pattern)
    found = list(dict.fromkeys(found))
    if len(found) < 2:
        raise InputError(f"needs a probability column per class, at least two; {patterns} gives {found}", file=path)
    return found
