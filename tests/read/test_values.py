"""Group values written as text exactly as DuckDB writes them (floats, float32, times and timestamps)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monoculture.read.values import group_text
from profiles import examples

duckdb = pytest.importorskip("duckdb", reason="duckdb (the test extra) runs the emitted SQL")


def test_float32_group_text_hand_worked():
    """Where DuckDB's Grisu3 gives up (a tie between two shortest candidates: 343126.12 and 343126.13 are
    both 0.005 from 343126.125, whose float gap is 1/32), it writes the double's digits; elsewhere the
    float's shortest. Values taken from DuckDB 2.0's CAST."""
    values = np.array([343126.125, 0.1, 1048576.75, 60734717952, 16777217, 1e-45, 3.4028235e38], np.float32)
    assert group_text(pa.array(values)).to_pylist() == [
        "343126.125", "0.1", "1048576.75", "60734717952.0", "16777216.0", "1e-45", "3.4028235e+38"]


def test_float32_group_text_over_many_bit_patterns_is_what_duckdb_writes():
    """200,000 random float32 bit patterns plus integers, dyadic fractions, subnormals and every power of two:
    about 0.7% of random patterns are ones where the float's shortest digits are not what DuckDB writes."""
    rng = np.random.default_rng(20261204)
    patterns = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    integers = rng.integers(-2**31, 2**31, 20_000).astype(np.float32)
    dyadic = (rng.integers(-2**24, 2**24, 20_000) / 2.0 ** rng.integers(0, 12, 20_000)).astype(np.float32)
    subnormal = rng.integers(1, 2**23, 5_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    powers = np.ldexp(np.float32(1), np.arange(-149, 128)).astype(np.float32)
    values = np.concatenate([patterns, integers, dyadic, subnormal, powers, -powers])
    values = values[np.isfinite(values)]
    floats = pa.table({"x": pa.array(values)})  # noqa: F841 (DuckDB reads it by name)
    theirs = [r[0] for r in duckdb.connect().execute("SELECT CAST(x AS VARCHAR) FROM floats").fetchall()]
    ours = group_text(pa.array(values)).to_pylist()
    shortest = [repr(float(str(v))) for v in values]
    assert sum(t != s for t, s in zip(theirs, shortest, strict=True)) > 1000  # the cases this test exists for
    assert ours == theirs


def test_cached_powers_of_ten_are_the_nearest_64_bit_significands():
    """Every cached 10**k Grisu may use, against exact rational arithmetic: f has its top bit set and
    |f * 2**e - 10**k| <= 2**e / 2."""
    from fractions import Fraction

    from monoculture.read.float32_text import _pow10_significand

    for k in range(-348, 341, 8):
        f, e = _pow10_significand(k)
        assert 1 << 63 <= f < 1 << 64
        assert abs(Fraction(f) * Fraction(2) ** e - Fraction(10) ** k) <= Fraction(2) ** e / 2


@settings(max_examples=examples(200), deadline=None)
@given(st.one_of(st.tuples(st.just(32), st.lists(st.floats(width=32), min_size=1, max_size=30)),
                 # large dyadic float32 values: where Grisu3's ties and edge cases live
                 st.tuples(st.just(32), st.lists(st.builds(lambda m, s: m / 2.0**s, st.integers(-2**24, 2**24),
                                                           st.integers(0, 8)), min_size=1, max_size=30)),
                 st.tuples(st.just(64), st.lists(st.floats(), min_size=1, max_size=30))))
def test_group_text_of_floats_is_what_duckdb_writes(case):
    width, values = case
    arr = pa.array(np.array(values, dtype=np.float32 if width == 32 else np.float64),
                   pa.float32() if width == 32 else pa.float64())
    floats = pa.table({"x": arr})  # noqa: F841 (DuckDB reads it by name)
    theirs = [r[0] for r in duckdb.connect().execute("SELECT CAST(x AS VARCHAR) FROM floats").fetchall()]
    assert group_text(arr).to_pylist() == theirs


_TIME_TYPES = [pa.timestamp(u) for u in ("s", "ms", "us", "ns")] + [
    pa.timestamp("us", tz="UTC"), pa.timestamp("ms", tz="America/New_York"), pa.timestamp("ns", tz="Asia/Kolkata"),
    pa.time32("s"), pa.time32("ms"), pa.time64("us"), pa.time64("ns")]


@settings(max_examples=examples(200), deadline=None)
@given(st.sampled_from(_TIME_TYPES), st.data())
def test_group_text_of_times_is_what_duckdb_writes(kind, data):
    """Times and timestamps of every unit, with and without a zone, against DuckDB's CAST in UTC (the zone
    the DuckDB engine sets): fractions without trailing zeros, zoned values as UTC with "+00"."""
    if pa.types.is_time(kind):
        per_day = 86_400 * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[kind.unit]
        raw = st.integers(0, per_day - 1)
    else:  # years 1677-2262 fit every unit (the nanosecond range)
        scale = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[kind.unit]
        raw = st.integers(-(9 * 10**9) * scale, 9 * 10**9 * scale)
    # Round values (whole seconds, milliseconds) are where trailing zeros show: draw them often.
    value = st.one_of(raw, raw.map(lambda v: v - v % 1000), raw.map(lambda v: v - v % 10**6))
    values = data.draw(st.lists(st.one_of(st.none(), value), min_size=1, max_size=20))
    arr = pa.array(values, pa.int64() if pa.types.is_timestamp(kind) or kind.bit_width == 64 else pa.int32())
    arr = arr.cast(kind)
    times = pa.table({"x": arr})  # noqa: F841 (DuckDB reads it by name)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    theirs = [r[0] for r in con.execute("SELECT CAST(x AS VARCHAR) FROM times").fetchall()]
    assert group_text(arr).to_pylist() == theirs


