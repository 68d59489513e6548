"""ID coders for the streaming link, which reads one decision-maker's input at a time.

Each coder `parse`s one input's IDs (a pure function of that input, run on the reading thread), then
`add`s them (on the linking thread) and returns every row's code, -1 where the row has no ID. Codes handed
out before stay valid, moved up by the `shift` `add` returns; `universe` is the size of the code space so
far (it may leave room for codes not yet handed out). `add` returns None as soon as an input's IDs cannot
share the coder's code space: the caller then links every input in memory (`ids.code_ids`), which codes
any IDs.

- `DenseStream`: IDs that code densely (integers, or one prefix and a fixed number of digits); an ID's
  code is its offset in the range of numbers seen.
- `PrintStream`: text IDs of one fixed width (pseudonymised tokens, UUIDs): 64-bit fingerprints, coded in
  the order they first occur and checked byte for byte against the first ID given each code, so two IDs
  share a code exactly when their bytes are equal. It keeps 8 bytes per row of the input being linked
  and, per distinct ID, its fingerprint and its bytes.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from ..read.fingerprints import PrintCoder, PrintedIds, parse_printed
from ..read.ids import DenseIds, parse_dense
from .id_codes import DenseCoder, IdCodes


class StreamCoder(Protocol):
    universe: int
    keys_need_ids: bool  # the rows' ID text orders them (top-fraction ties), not their codes
    route: str  # what the stage messages call the IDs it codes

    def parse(self, ids: pa.ChunkedArray) -> Any: ...
    def add(self, parsed: Any) -> tuple[np.ndarray, int] | None: ...
    def id_codes(self) -> IdCodes: ...


def _room(size: int) -> int:
    # A little room on the side that grew, so inputs reaching slightly further do not copy again.
    return size // 16


class DenseStream:
    """Codes are offsets from the lowest number seen; a lower one shifts every code handed out before."""

    keys_need_ids = False
    route = "dense"

    def __init__(self) -> None:
        self.coder = DenseCoder()
        self.base = 0
        self.universe = 0

    @staticmethod
    def parse(ids: pa.ChunkedArray) -> DenseIds | None:
        return parse_dense(ids)

    def add(self, parsed: DenseIds | None) -> tuple[np.ndarray, int] | None:
        coder = self.coder
        numbers = coder.add(parsed)
        if numbers is None or coder.lo is None or coder.hi is None:
            return None
        shift = 0
        if self.universe == 0:
            self.base, self.universe = coder.lo, coder.hi - coder.lo + 1
        elif coder.lo < self.base or coder.hi >= self.base + self.universe:
            top = self.base + self.universe - 1
            span = coder.hi - coder.lo + 1
            lo = coder.lo - _room(span) if coder.lo < self.base else self.base
            hi = coder.hi + _room(span) if coder.hi > top else top
            shift, self.base, self.universe = self.base - lo, lo, hi - lo + 1
        value, mask = numbers
        value -= self.base
        value[~mask] = -1
        return value, shift

    def id_codes(self) -> IdCodes:
        return self.coder.id_codes(self.universe, self.base)


class PrintStream:
    """`fingerprints.PrintCoder` as a stream coder: codes are appended, never shifted."""

    keys_need_ids = True
    route = "fingerprinted"

    def __init__(self) -> None:
        self.coder = PrintCoder()
        self.universe = 0

    @staticmethod
    def parse(ids: pa.ChunkedArray) -> PrintedIds | None:
        return parse_printed(ids)

    def add(self, parsed: PrintedIds | None) -> tuple[np.ndarray, int] | None:
        code = None if parsed is None else self.coder.add(parsed)
        if code is None:
            return None
        if self.coder.count > self.universe:
            self.universe = self.coder.count + _room(self.coder.count)
        return code, 0

    def id_codes(self) -> IdCodes:
        return IdCodes([], None, self.universe, "string", "hashed", [], self.coder.distinct())
