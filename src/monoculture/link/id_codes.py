"""One integer code per distinct individual ID, shared by every input: dense offsets or a hash pass.

The routes and why they give the same links are described in `read.ids`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..read.ids import DenseIds, as_text, id_kind, integers
from ..read.text_table import text_codes

# A dense range may be at most this many times the longest input, or _DENSE_FLOOR codes for small inputs
# (and never above 2^31): beyond it the per-code arrays would cost more than hashing saves.
DENSE_SPAN = 2
_DENSE_FLOOR = 1 << 20


@dataclass(frozen=True)
class IdCodes:
    """Codes of every input's IDs (-1 where missing), the size of the code space, and how to decode."""

    codes: list[np.ndarray]
    keys: list[pa.Array] | None  # per input, values that sort like the canonical IDs; None: the codes do
    universe: int
    id_type: str  # how IDs were compared: "integer" or "string"
    method: str  # "dense" or "hashed"
    warnings: list[str]
    # hashed: the distinct IDs (numbers when a prefix is set), or a call that builds them when first decoded
    # (the streaming link's text route keeps them as bytes; most audits never decode); dense: unused
    _values: pa.Array | Callable[[], pa.Array]
    _offset: int = 0
    _prefix: str | None = None  # text IDs coded as numbers: prefix + zero-padded number
    _width: int = 0

    def sort_keys(self, i: int) -> pa.Array:
        """Values of input i's IDs that sort as the IDs do (ties at a top-fraction cut-off break by ID)."""
        if self.keys is not None:
            return self.keys[i]
        return pa.array(self.codes[i], pa.int64(), mask=self.codes[i] < 0)  # dense codes keep ID order

    def decode(self, codes: np.ndarray) -> list[str]:
        """The canonical IDs of `codes` as text (used only when the user asks for IDs)."""
        if self.method == "hashed":
            values = self._values() if callable(self._values) else self._values
            numbers = values.take(pa.array(codes)).to_pylist()
        else:
            numbers = (codes.astype(np.int64) + self._offset).tolist()
        if self._prefix is None:
            return [str(v) for v in numbers]
        return [f"{self._prefix}{v:0{self._width}d}" for v in numbers]


def code_ids(arrays: list[pa.ChunkedArray], files: list[str]) -> IdCodes:
    """Code the IDs of every input (sources, then the people file) in one code space."""
    kinds = [id_kind(a) for a in arrays]
    lengths = [len(a) for a in arrays]
    as_numbers = integers(arrays, kinds)
    if as_numbers is not None:
        numbers, prefix, width = as_numbers
        id_type = "integer" if prefix is None else "string"
        big = np.iinfo(np.int64)
        bounds = [(int(v.min(where=m, initial=big.max)), int(v.max(where=m, initial=big.min)))
                  for v, m in numbers if m.any()]
        if bounds:
            lo, hi = min(b[0] for b in bounds), max(b[1] for b in bounds)
            span = hi - lo + 1
            if span <= min(max(DENSE_SPAN * max(lengths), _DENSE_FLOOR), 2**31 - 1):
                for v, m in numbers:  # the arrays are ours: code them in place
                    v -= lo
                    v[~m] = -1
                return IdCodes([v for v, _ in numbers], None, span, id_type, "dense", [],
                               pa.array([], pa.int64()), lo, prefix, width)
        # Sparse: hashing int64 is still far cheaper than hashing text.
        keys = [pa.array(v, pa.int64(), mask=None if m.all() else ~m) for v, m in numbers]
        return _hashed(keys, lengths, id_type, [], prefix, width)
    by_file: dict[str, set[str]] = {}
    for f, k in zip(files, kinds, strict=True):
        by_file.setdefault(f, set()).add(k)
    warnings = mixed_id_warning(by_file)
    texts = [as_text(a, k) for a, k in zip(arrays, kinds, strict=True)]
    printed = text_codes(texts)
    if printed is not None:
        return IdCodes(printed.codes, texts, len(printed.distinct), "string", "hashed", warnings, printed.distinct)
    return _hashed(texts, lengths, "string", warnings)


def mixed_id_warning(kinds: dict[str, set[str]]) -> list[str]:
    """The warning when some inputs hold integer IDs and others text (`kinds`: file -> "int", "str")."""
    ints = sorted(f for f, k in kinds.items() if "int" in k)
    texts = sorted(f for f, k in kinds.items() if "str" in k)
    if not ints or not texts:
        return []
    return [f"IDs are integers in {', '.join(ints)} but text in {', '.join(texts)}: all are compared as "
            "trimmed text, so '007' and '7' do not match"]


def _hashed(
    values: list[pa.Array], lengths: list[int], id_type: str, warnings: list[str],
    prefix: str | None = None, width: int = 0,
) -> IdCodes:
    """One hash pass over every input's IDs: codes per input (-1 for missing) and the distinct IDs."""
    # Large offsets: the inputs' text together may pass the 2 GiB that 32-bit offsets reach.
    wide = [v.cast(pa.large_string()) if pa.types.is_string(v.type) else v for v in values]
    encoded = pc.dictionary_encode(pa.concat_arrays(wide))
    idx = encoded.indices.to_numpy(zero_copy_only=False)
    nulls = encoded.indices.is_null().to_numpy(zero_copy_only=False)
    codes = np.where(nulls, -1, idx).astype(np.int64)
    per_input = list(np.split(codes, np.cumsum(lengths)[:-1]))
    return IdCodes(per_input, values, len(encoded.dictionary), id_type, "hashed", warnings, encoded.dictionary, 0,
                   prefix, width)


class DenseCoder:
    """Dense coding for inputs that arrive one at a time (the streaming link).

    Each input's IDs, parsed by `parse_dense`, are accepted by `add`; the caller codes them as offsets from
    `lo`. The first input fixes the form (integers, or one prefix and width); `add` returns None as soon as
    an input has another form, or the range grows past what dense coding allows, and the caller then links
    in memory with `code_ids` (hashing).
    """

    def __init__(self) -> None:
        self.kind: str | None = None
        self.prefix: bytes | None = None
        self.width = 0
        self.lo: int | None = None
        self.hi: int | None = None
        self._longest = 0

    def add(self, ids: DenseIds | None) -> tuple[np.ndarray, np.ndarray] | None:
        """The input's numbers and mask, or None when they cannot share the dense code space."""
        if ids is None:
            return None
        if self.kind is None:
            self.kind, self.prefix, self.width = ids.kind, ids.prefix, ids.width
        elif (ids.kind, ids.prefix, ids.width) != (self.kind, self.prefix, self.width):
            return None
        self._longest = max(self._longest, len(ids.value))
        if ids.lo is not None and ids.hi is not None:
            self.lo = ids.lo if self.lo is None else min(self.lo, ids.lo)
            self.hi = ids.hi if self.hi is None else max(self.hi, ids.hi)
            if self.hi - self.lo + 1 > min(max(DENSE_SPAN * self._longest, _DENSE_FLOOR), 2**31 - 1):
                return None
        return ids.value, ids.mask

    def id_codes(self, universe: int, offset: int) -> IdCodes:
        """The `IdCodes` that decodes codes `offset` + code (for --emit-ids)."""
        id_type = "integer" if self.kind == "int" else "string"
        prefix = None if self.prefix is None else self.prefix.decode("ascii")
        return IdCodes([], None, universe, id_type, "dense", [], pa.array([], pa.int64()), offset, prefix,
                       self.width)


def recoded(codes: np.ndarray, shift: int = 0, mapping: np.ndarray | None = None) -> np.ndarray:
    """Codes moved up by `shift`, or each code c to `mapping[c]`; missing (-1) stays missing."""
    if mapping is None:
        return codes + np.where(codes >= 0, shift, 0)
    return np.where(codes >= 0, mapping[np.maximum(codes, 0)], -1)


def relocated(a: np.ndarray, fill: object, universe: int, shift: int = 0,
              mapping: np.ndarray | None = None) -> np.ndarray:
    """A per-code array in the moved code space of `universe` codes (see `recoded`); new codes get `fill`."""
    out = np.full((universe, *a.shape[1:]), fill, dtype=a.dtype)
    if mapping is None:
        out[shift:shift + len(a)] = a
    else:
        kept = mapping >= 0
        out[mapping[kept]] = a[:len(mapping)][kept]
    return out
