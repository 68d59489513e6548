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


def values_of(records: Sequence[Any], name: str) -> np.ndarray | None:
    """`Records.values` of any sequence of records (a list of result objects, or `Records`): each record's
    metric `name` as a float (NaN where undefined); None when the records do not have it."""
    if isinstance(records, Records):
        return records.values(name)
    got = [getattr(r, name, None) for r in records]
    if records and all(m is None for m in got):
        return None
    return _numbers(got)


def has_field(records: Sequence[Any], name: str) -> bool:
    """Whether the records have the field `name` (one the record class leaves out when None), without
    reading its values: a `Records`' column, or any record of a list that has it."""
    if isinstance(records, Records):
        return name in records.fields
    return any(getattr(r, name, None) is not None for r in records)


def _numbers(items: Sequence[Any]) -> np.ndarray:
    """Metrics' values, or plain numbers, as floats (NaN for undefined or None)."""
    return np.array([np.nan if (v := getattr(m, "value", m)) is None else v for m in items], dtype=float)


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

    def values(self, name: str) -> np.ndarray | None:
        """The field's numbers for every record, as floats (NaN where a metric is undefined or an integer
        missing); None when the records do not have the field. What a report ranks by, without building
        the records."""
        f = self.fields.get(name)
        if f is None:
            return None
        if isinstance(f, Points):
            v = np.asarray(f.values, dtype=float)
            return np.where(np.isfinite(v), v, np.nan)
        if isinstance(f, Floats):
            return np.asarray(f.values, dtype=float)
        if isinstance(f, Ints):
            v = np.asarray(f.values, dtype=float)
            return v if f.missing is None else np.where(f.missing, np.nan, v)
        if isinstance(f, Objects):
            return _numbers(f.values)
        raise TypeError(f"{name} is not a numeric field")

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


class Ranked(Sequence[T], Generic[T]):
    """Some of a sequence's records in a chosen order (`order`: their indices), each built when asked for:
    the top of a ranking of a million judge entries costs its length, not the million."""

    def __init__(self, records: Sequence[T], order: np.ndarray) -> None:
        self.records = records
        self.order = order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, i: Any) -> Any:  # a record for an index, a list of them for a slice
        return ([self.records[int(j)] for j in self.order[i]] if isinstance(i, slice)
                else self.records[int(self.order[i])])

    def top(self, count: int) -> Ranked[T]:
        """The first `count` of them, still built only when asked for."""
        return Ranked(self.records, self.order[:count])


def ranked(records: Sequence[T], name: str, *, defined_only: bool = False) -> Ranked[T]:
    """`records` by their metric `name`, highest first (ties in their order), undefined values last or, with
    `defined_only`, left out; none when the records do not have it."""
    values = values_of(records, name)
    if values is None:
        return Ranked(records, np.zeros(0, dtype=np.int64))
    undefined = np.isnan(values)
    order = np.argsort(-np.where(undefined, -np.inf, values), kind="stable")
    return Ranked(records, order[:len(order) - int(undefined.sum())] if defined_only else order)
