"""The random draws of measuring, made ahead of their use on one worker thread.

A population's bootstrap weights (a multinomial draw over its pattern table) and its permutation null (a
chain of hypergeometric draws) take about a third of measuring an audit. NumPy's samplers release the
GIL, so a worker thread draws them on another core while the main thread computes the statistics of the
populations before.

Determinism: one worker takes the jobs in the order they are listed, which is the order drawing inline
used, so every generator (the overall bootstrap's, the overall test's, the one the groups share) gives
the same numbers to the same jobs whatever the threads' timing. A consumer takes the results in the
same order, by key: taking out of order is a bug and raises.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from ..count.table import Counts
from ..spec import InferenceOptions
from .inference import bootstrap_weights, systemic_failure_permutation_null

Job = tuple[str, Callable[[], object]]


class Draws:
    """Results of a keyed sequence of jobs, computed in order on one worker thread at most `ahead` jobs
    before they are taken (bounded memory for audits with thousands of groups)."""

    def __init__(self, jobs: Iterable[Job], ahead: int = 8) -> None:
        self._jobs: Iterator[Job] = iter(jobs)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="monoculture-draws")
        self._pending: deque[tuple[str, Future]] = deque()
        for _ in range(ahead):
            self._submit()

    def _submit(self) -> None:
        job = next(self._jobs, None)
        if job is not None:
            self._pending.append((job[0], self._pool.submit(job[1])))

    def take(self, key: str) -> object:
        """The next job's result; `key` must be that job's key."""
        if not self._pending:
            raise RuntimeError(f"no draw left; asked for {key!r}")
        found, future = self._pending.popleft()
        if found != key:
            raise RuntimeError(f"draws taken out of order: asked for {key!r}, next is {found!r}")
        self._submit()
        return future.result()

    def close(self) -> None:
        """Stop: jobs not started are dropped (after an error, or when a consumer stops early)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Draws:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def population_draws(
    key: str, c: Counts, inference: InferenceOptions, weights_rng: np.random.Generator,
    null_rng: np.random.Generator,
) -> Iterator[Job]:
    """Two jobs for one population: `{key} weights` — its bootstrap weights (None without a bootstrap or
    individuals) — then `{key} null` — its permutation null (None without permutations, or where
    `systemic_failure_permutation_null` has none)."""
    p = inference.permutations
    yield f"{key} weights", lambda: bootstrap_weights(c, inference, weights_rng)
    yield f"{key} null", (lambda: systemic_failure_permutation_null(c, p, null_rng)) if p > 0 else _none


def _none() -> None:
    return None
