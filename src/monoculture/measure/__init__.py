"""Stage 4, measure: every metric, interval and test from the pattern table alone.

`metrics/` are pure functions of the table; `inference` gives Wilson intervals, the multinomial bootstrap
and permutation tests, with `draws` making the random draws ahead on a worker thread; `estimate` is one
population's numbers; `groups` the per-group and group-level results; `rounds`, `components` and `gates`
the further analyses; `result` the plain dataclasses every renderer reads.
"""

from .run import measure

__all__ = ["measure"]
