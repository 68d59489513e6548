"""What linking reports: every input row accounted for, the messages every engine words alike, and
where in a file the first offending row is."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

# Field metadata of the result dataclasses: leave the field out of the JSON when it is None (fields that only
# some audits have).
OMIT_NONE = {"omit_none": True}


@dataclass
class SourceCoverage:
    """What happened to each row of one decision-maker's input. The row counts add up to `rows`:
    missing_id + missing_decision + missing_label + blank_cells + duplicate_rows + outside_population +
    not_linked + linked."""

    name: str
    file: str
    rows: int
    missing_id: int = 0
    missing_decision: int = 0
    missing_label: int = 0
    blank_cells: int = 0  # wide/transposed layouts: the decision-maker did not see this individual
    duplicate_rows: int = 0  # rows dropped because their ID occurs more than once in this input
    duplicate_ids: int = 0
    outside_population: int = 0  # valid rows of people the rule cannot fail (conditional error rates)
    missing_decision_failed: int = 0  # rows without a decision, kept as failures (missing_decision = fail)
    not_linked: int = 0  # valid rows of individuals the join excludes
    linked: int = 0
    linked_individuals_unseen: int = 0  # outer join: linked individuals this decision-maker did not see
    valid_rows: int = 0  # rows that took part in linking (after the exclusions above)
    failed_rows: int = 0  # of those, rows the decision-maker failed


@dataclass
class PeopleCoverage:
    file: str
    rows: int
    matched: int
    not_matched: int
    linked_without_row: int


@dataclass
class Coverage:
    """The linking report (issue: nothing is dropped without being counted)."""

    join: str
    id_type: str
    sources: list[SourceCoverage]
    individuals_seen: int
    linked: int
    excluded_by_join: int
    people: PeopleCoverage | None = None
    group_conflicts: dict[str, int] = field(default_factory=dict)
    # Linked individuals seen by exactly m decision-makers, m = 0, 1, ... (from the pattern table: measure)
    seen_by: list[int] = field(default_factory=list)
    missing_group: dict[str, int] = field(default_factory=dict)


@dataclass
class InputResult:
    """One input file as the report records it: where it is, its hash and rows, whom it holds."""

    path: str
    format: str
    sha256: str
    rows: int
    decision_makers: list[str]
    # Evaluation logs: {format, metric, files, option_probabilities, notes} (absent from the JSON for tables)
    log: dict | None = field(default=None, metadata=OMIT_NONE)


def missing_rows_message(rows: int, what: str) -> str:
    """The error for rows missing a value (`what`: 'a missing decision', 'no label'...) under
    on_missing = error; every engine words it alike."""
    return f"{_rows(rows)} {what}; fix them or pass {{link.on_missing=drop}}"


def missing_decisions_message(rows: int, inputs_with: int, inputs: int) -> str:
    """The error for missing decisions, counted over every decision-maker (every engine words it alike)."""
    where = f" (from {inputs_with} of {inputs} decision-makers; the first here)" if inputs_with > 1 else ""
    return (f"{_rows(rows)} a missing decision{where}; fix them, pass {{link.on_missing=drop}}, or count a "
            "missing decision as a failure with {link.missing_decision=fail}")


def _rows(n: int) -> str:
    return _count(n, "row has", "rows have")


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one}" if n == 1 else f"{n:,} {many}"


def group_conflict_message(individuals: int) -> str:
    who = _count(individuals, "linked individual has", "linked individuals have")
    return (f"{who} conflicting values of this group attribute in different files; fix the inputs or pass "
            "{link.on_group_conflict=missing}")


def duplicate_ids_message(ids: int, rows: int) -> str:
    """The error for IDs an input gives more than once under --duplicates error (every engine alike)."""
    return (f"{_count(ids, 'ID occurs', 'IDs occur')} more than once ({rows:,} rows); each decision-maker may "
            "decide once per individual. Fix the input or pass {link.on_duplicate=drop}")


def people_duplicates_message(ids: int) -> str:
    return f"{_count(ids, 'ID occurs', 'IDs occur')} more than once in the people file"


def first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


def first_repeat_row(code: np.ndarray, valid: np.ndarray) -> int:
    """1-based row of the first occurrence of an ID already seen above it (among valid rows)."""
    rows = np.flatnonzero(valid)
    _, first = np.unique(code[rows], return_index=True)
    repeat = np.ones(len(rows), dtype=bool)
    repeat[first] = False
    return int(rows[repeat][0]) + 1


def check_people_duplicates(pcodes: np.ndarray, file: str) -> None:
    ok = pcodes >= 0
    counts = np.bincount(pcodes[ok]) if ok.any() else np.zeros(0, dtype=np.int64)
    if (counts > 1).any():
        raise InputError(people_duplicates_message(int((counts > 1).sum())), file=file,
                         row=first_repeat_row(pcodes, ok))
