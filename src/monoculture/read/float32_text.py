"""A float32 written as DuckDB's `CAST(x AS VARCHAR)` writes it.

DuckDB formats a float with the fmt library (version 6), which runs Grisu3 (Loitsch 2010, "Printing
floating-point numbers quickly and accurately with integers") on the float's own rounding interval. Grisu3
works in 64-bit fixed point and gives up when that precision cannot decide the last digit: a tie between two
shortest candidates, or a candidate on the edge of the interval. fmt then falls back to an exact bignum
method that, for floats, uses the interval of the value read as a double, so it writes the double's
shortest digits. Over random float32 bit patterns, about 0.7% take the fallback:
343126.125f is written "343126.125", not its shortest "343126.12".

`float32_text(v)` replays Grisu3's decision with Python's integers (unsigned 64-bit arithmetic made
explicit with `_M64`) and returns the float's shortest digits when Grisu3 succeeds, the double's when it
gives up. The cached powers of ten are computed, not tabulated: the 64-bit significand of 10**k, rounded
to nearest, and its binary exponent, for k = -348, -340, ..., 340.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

_M64 = (1 << 64) - 1
_MIN_EXP = -60  # Grisu's alpha: scaled values have binary exponent in [-60, -32]
_FLOAT_MIN_NORMAL_E = -125 - 53  # float's least normal exponent, as a double significand's exponent


def float32_text(v: float) -> str:
    """`v` (a float32 value, widened) written as DuckDB writes the float: see the module docstring."""
    if v == 0 or not math.isfinite(v):
        return repr(v)
    if _grisu_decides(abs(v)):
        return repr(float(str(np.float32(v))))  # the float's shortest, closest digits
    return repr(v)  # the double's shortest digits: fmt's fallback


def _grisu_decides(v: float) -> bool:
    """Whether Grisu3's shortest-digit generation, on the float32 interval of `v` > 0, succeeds."""
    f, e = _significand(v)
    half_ulp = 1 << (53 - 24 - 1)  # half a float ulp, in units of the double significand
    if _FLOAT_MIN_NORMAL_E > e:
        half_ulp <<= _FLOAT_MIN_NORMAL_E - e
    upper, upper_e = _normalize(f + half_ulp, e)
    at_power_of_two = f == 1 << 52 and e > _FLOAT_MIN_NORMAL_E  # the gap below is half the gap above
    lower = (f - (half_ulp >> (1 if at_power_of_two else 0))) << (e - upper_e)
    value, value_e = _normalize(f, e)
    cached, cached_e = _cached_power(_MIN_EXP - (value_e + 64))
    value = _multiply(value, cached)
    value_e += cached_e + 64
    lower = _multiply(lower, cached) - 1
    upper = _multiply(upper, cached) + 1
    return _digits_decided(upper, value_e, upper - lower, upper - value)


def _digits_decided(scaled: int, e: int, error: int, diff: int) -> bool:
    """Grisu3's digit generation with round-weeding: False where it cannot decide (fmt's fallback)."""
    one = 1 << -e
    integral, fractional = scaled >> -e, scaled & (one - 1)
    exp = len(str(integral))
    while exp > 0:
        power = 10 ** (exp - 1)
        integral %= power
        exp -= 1
        remainder = (integral << -e) + fractional
        if remainder < error:
            return _weed(power << -e, remainder, error, 1, diff)
    unit = 1
    while True:
        fractional *= 10
        error = (error * 10) & _M64
        fractional &= one - 1
        unit *= 10
        if fractional < error:
            return _weed(one, fractional, error, unit, diff)


def _weed(divisor: int, remainder: int, error: int, unit: int, diff: int) -> bool:
    """Grisu3's round_weed as fmt writes it: decrement toward the value, then check it is safe."""
    up = ((diff - 1) * unit) & _M64
    while _one_down_is_closer(up, remainder, divisor, error, ties=True):
        remainder = (remainder + divisor) & _M64
    if _one_down_is_closer(((diff + 1) * unit) & _M64, remainder, divisor, error, ties=False):
        return False  # the candidate may be closer to the value from below: undecided
    return 2 * unit <= remainder <= ((error - 4 * unit) & _M64)


def _one_down_is_closer(target: int, remainder: int, divisor: int, error: int, ties: bool) -> bool:
    """Whether the candidate one unit lower is still inside the interval and nearer `target` (fmt's test,
    in its unsigned 64-bit arithmetic; `ties` counts an equal distance as nearer)."""
    lower = (remainder + divisor) & _M64
    if remainder >= target or ((error - remainder) & _M64) < divisor:
        return False
    return lower < target or (target - remainder >= lower - target if ties else target - remainder > lower - target)


def _significand(v: float) -> tuple[int, int]:
    """(f, e) with v = f * 2**e, f the double's 53-bit significand (implicit bit included)."""
    bits = int(np.float64(v).view(np.uint64))
    f, biased = bits & ((1 << 52) - 1), bits >> 52
    if biased:
        f |= 1 << 52
    else:
        biased = 1
    return f, biased - 1075


def _normalize(f: int, e: int) -> tuple[int, int]:
    """Shift f so that its top bit is bit 63 (fmt's normalize, which first aligns bit 52)."""
    while not f & (1 << 52):
        f <<= 1
        e -= 1
    return f << 11, e - 11


def _multiply(a: int, b: int) -> int:
    """a * b / 2**64, rounded half up."""
    product = a * b
    return (product >> 64) + ((product >> 63) & 1)


@cache
def _cached_power(min_exponent: int) -> tuple[int, int]:
    """The cached 10**k (64-bit significand, binary exponent) Grisu picks for this exponent range."""
    index = ((min_exponent + 63) * 0x4D104D42 + (1 << 32) - 1) >> 32  # ceil(x / log2(10)), fixed point
    index = (index + 348 - 1) // 8 + 1
    k = -348 + index * 8
    return _pow10_significand(k)


def _pow10_significand(k: int) -> tuple[int, int]:
    """10**k as (f, e), f the nearest 64-bit integer with its top bit set, 10**k ≈ f * 2**e."""
    if k >= 0:
        num, den = 10**k, 1
    else:
        num, den = 1, 10**-k
    e = num.bit_length() - den.bit_length() - 64
    while True:  # find e with 2**63 <= num / (den * 2**e) < 2**64
        q = (num << -e) // den if e < 0 else num // (den << e)
        if q >= 1 << 64:
            e += 1
        elif q < 1 << 63:
            e -= 1
        else:
            break
    scaled_num, scaled_den = (num << -e, den) if e < 0 else (num, den << e)
    f, rest = divmod(scaled_num, scaled_den)
    if 2 * rest >= scaled_den:
        f += 1
    if f == 1 << 64:
        f, e = 1 << 63, e + 1
    return f, e
