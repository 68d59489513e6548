"""What reading an input gives the link: one `Source` per decision-maker (and the optional `People` file)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .ids import DenseIds


@dataclass(frozen=True)
class Combinations:
    """`csvscan.Combinations` by role: each row's index into the distinct combinations of its values, and
    each combination's index into the dictionary of its decision, label and group columns."""

    rows: np.ndarray
    decision: np.ndarray
    label: np.ndarray | None
    groups: dict[str, np.ndarray]


@dataclass
class Source:
    """One decision-maker's rows: IDs, decisions, optional labels and group attributes."""

    name: str
    file: str
    ids: pa.ChunkedArray  # empty when the reader parsed them already (`parsed_ids`)
    decision: pa.ChunkedArray
    label: pa.ChunkedArray | None = None
    groups: dict[str, pa.ChunkedArray] = field(default_factory=dict)
    blank_is_unseen: bool = False  # wide/transposed: an empty cell is "did not see", not bad data
    score: pa.ChunkedArray | None = None
    probabilities: dict[str, pa.ChunkedArray] = field(default_factory=dict)  # one column per class
    parsed_ids: DenseIds | None = None  # the IDs as `ids.parse_dense` gives them, from `csvscan`
    combinations: Combinations | None = None  # from `csvscan`: the columns above are dictionary arrays
    file_rows: np.ndarray | None = None  # stacked: each row's 0-based data row in the file (else the same)
    options: pa.ChunkedArray | None = None  # evaluation logs: each item's number of answer options
    option_probabilities: pa.ChunkedArray | None = None  # evaluation logs: its item's (list), gold first
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.rows = len(self.decision)

    def row_in_file(self, row: int) -> int:
        """The file's 1-based data row of this source's 1-based `row` (errors name where a user looks)."""
        return row if self.file_rows is None else int(self.file_rows[row - 1]) + 1

    def release(self, *columns: str) -> None:
        """Drop the named arrays once they are coded (linking ten large inputs would hold them twice)."""
        for name in columns:
            value = getattr(self, name)
            if isinstance(value, dict):
                setattr(self, name, {})
            elif value is not None:
                setattr(self, name, pa.chunked_array([], value.type))


@dataclass
class People:
    """The optional people file: group attributes (and possibly the shared label) keyed by ID."""

    file: str
    ids: pa.ChunkedArray
    groups: dict[str, pa.ChunkedArray]
    label: pa.ChunkedArray | None
    rows: int
