"""The one undefined-value policy shared by every metric."""

from __future__ import annotations

import numpy as np


def divide(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    """num / den, NaN where den == 0 (the metric is undefined there; callers say why)."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    with np.errstate(over="ignore"):  # a ratio past the largest float is inf: callers treat it as undefined
        np.divide(num, den, out=out, where=den != 0)
    return out
