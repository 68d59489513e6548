"""Stage 4, measure: every metric, interval and test from the pattern table alone.

`metrics/` are pure functions of the table; `inference` gives Wilson intervals, the multinomial bootstrap
and permutation tests, with `draws` making the random draws ahead on a worker thread; `estimate` is one
population's numbers; `groups` the per-group and group-level results; `rounds`, `components` and `gates`
the further analyses; `result` the plain dataclasses every renderer reads.
"""

from __future__ import annotations

from typing import Any

__all__ = ["measure"]


def __getattr__(name: str) -> Any:
    # `measure` on first use: the result classes (`measure.result`) are read by every report and by the
    # CLI's help, which need none of the statistics.
    if name == "measure":
        from .run import measure

        return measure
    raise AttributeError(f"module 'monoculture.measure' has no attribute {name!r}")
