"""`Metric`: one number with its provenance, the unit of every result."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..link.coverage import OMIT_NONE

__all__ = ["OMIT_NONE", "Metric"]


@dataclass
class Metric:
    """One number with its provenance: ``value`` is None when undefined, and ``reason`` says why."""

    value: float | None
    reason: str | None = None
    ci: tuple[float, float] | None = None
    ci_method: str | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    flags: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, value: float | np.floating | np.ndarray, reason: str) -> Metric:
        """A metric from a computed value; NaN becomes undefined with `reason`."""
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return cls(None, reason)
        return cls(v)

    @property
    def defined(self) -> bool:
        return self.value is not None
