"""What linking produces: the failure matrix of the linked individuals, their cells, coverage and IDs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .answers import AnswerTable
from .coverage import Coverage
from .failures import ResolvedRule
from .id_codes import IdCodes


@dataclass(frozen=True)
class IdRows:
    """The linked individuals' IDs, decoded only on request."""

    coded: IdCodes
    codes: np.ndarray  # (N,) code of each linked individual

    def text(self, mask: np.ndarray) -> list[str]:
        return self.coded.decode(self.codes[mask])


@dataclass
class Linked:
    """The linked failure matrix with its masks and group cells: the input of `PatternTable.build`."""

    names: list[str]
    # Per linked individual: fail bits (bit i: decision-maker i failed them) and presence bits (bit k + i)
    # when 2k bits fit in an int64; else the (N, k) fail and presence matrices. See `fail`, `present`.
    bits: np.ndarray | None
    matrices: tuple[np.ndarray, np.ndarray] | None
    # With `bits`: the linked individuals' distinct (bits, cell) pairs and how many share each.
    pattern_rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    attributes: list[str]
    cell: np.ndarray  # (N,) int: index into cell_labels
    cell_labels: list[tuple[str, ...]]
    ids: IdRows  # kept only so the user can ask for them (--emit-ids); never printed otherwise
    coverage: Coverage
    rule: ResolvedRule
    warnings: list[str]
    # (k, cells, 3): per decision-maker and cell, over its whole input (not only the linked individuals):
    # valid rows, failed rows, and rows with a label but no decision (parity mode counts them as failures).
    input_counts: np.ndarray | None = None
    # Per linked individual, for multiplicity: decision token codes (N, k; -1 = unseen; with scores,
    # 1 = favourable), label codes (N,), scores (N, k) when a score column was given, and the token list.
    decisions: np.ndarray | None = None
    labels: np.ndarray | None = None
    scores: np.ndarray | None = None
    tokens: list[str] = field(default_factory=list)
    answers: AnswerTable | None = None  # multi-class decisions: each one's answer (metrics.md §11)

    @property
    def fail(self) -> np.ndarray:
        """(N, k) bool: decision-maker i failed linked individual j."""
        if self.matrices is not None:
            return self.matrices[0]
        assert self.bits is not None
        return (self.bits[:, None] >> np.arange(len(self.names))) & 1 == 1

    @property
    def present(self) -> np.ndarray:
        """(N, k) bool: decision-maker i saw linked individual j."""
        if self.matrices is not None:
            return self.matrices[1]
        assert self.bits is not None
        k = len(self.names)
        return (self.bits[:, None] >> np.arange(k, 2 * k)) & 1 == 1

