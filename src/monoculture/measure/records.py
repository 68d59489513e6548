"""Result records held as columns: the pairs and judge entries of an audit of many decision-makers.

A thousand decision-makers make 499,500 pairs and 999,000 judge entries. As result objects (a `PairResult`
holds ten `Metric` objects) they took longer to build and to encode than the audit took to compute, and
most of its memory. `Records` keeps each field as one array and builds a record object only when one is
asked for: it is a read-only sequence of `PairResult` (or `JudgeResult`), so every renderer reads it as it
reads a list, and the JSON renderer encodes its columns directly (`report.json`), to the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

import numpy as np

from .metric import Metric

T = TypeVar("T")


@dataclass(frozen=True)
class Labels:
    """A text field: record i's value is ``labels[codes[i]]`` (decision-maker names, by index)."""

    codes: np.ndarray
    labels: Sequence[str]

    def value(self, i: int) -> str:
        return self.labels[int(self.codes[i])]


@dataclass(frozen=True)
class Ints:
    """An integer field; None where `missing` (a rank that is undefined)."""

    values: np.ndarray
    missing: np.ndarray | None = None

    def value(self, i: int) -> int | None:
        if self.missing is not None and self.missing[i]:
            return None
        return int(self.values[i])


@dataclass(frozen=True)
class Floats:
    """A float field; None where the value is NaN."""

    values: np.ndarray

    def value(self, i: int) -> float | None:
        v = float(self.values[i])
        return None if math.isnan(v) else v


@dataclass(frozen=True)
class Points:
    """A `Metric` field of point values (no interval): ``Metric.of(values[i], reason)``, the reason one for
    every record or one per record. `extra`: fields of a `Metric` subclass `kind` (`SameWrongAnswer`'s
    chance and counts), each a column itself."""

    values: np.ndarray
    reason: str | Sequence[str]
    kind: type[Metric] = Metric
    extra: dict[str, Ints | Floats] | None = None

    def reason_of(self, i: int) -> str:
        return self.reason if isinstance(self.reason, str) else self.reason[i]

    def value(self, i: int) -> Metric:
        m = Metric.of(self.values[i], self.reason_of(i))
        if self.kind is Metric:
            return m
        return self.kind(**vars(m), **{name: col.value(i) for name, col in (self.extra or {}).items()})


@dataclass(frozen=True)
class Objects:
    """A field of ready-made values (metrics with intervals and their notes: few pairs, or asked for)."""

    values: Sequence[Any]

    def value(self, i: int) -> Any:
        return self.values[i]


Field = Labels | Ints | Floats | Points | Objects


class Records(Sequence[T], Generic[T]):
    """A read-only sequence of `make(**fields)` records, each field a column (`Labels`, `Ints`, `Floats`,
    `Points`, `Objects`) of `size` values. Fields the record class leaves out of the JSON when None are
    simply not given. Two `Records` (or a `Records` and a list) are equal when their records are."""

    def __init__(self, make: Callable[..., T], size: int, fields: dict[str, Field]) -> None:
        self.make = make
        self.size = size
        self.fields = dict(fields)

    def with_fields(self, **more: Field) -> Records[T]:
        """The same records with more fields (added after the others, in the order given)."""
        return Records(self.make, self.size, self.fields | more)

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.size))]
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError(i)
        return self.make(**{name: f.value(i) for name, f in self.fields.items()})

    def __iter__(self) -> Iterator[T]:
        return (self[i] for i in range(self.size))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-like: compared by value

    def __repr__(self) -> str:
        return f"Records({getattr(self.make, '__name__', 'record')}, {self.size:,} records)"
