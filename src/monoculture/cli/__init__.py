"""The `monoculture` command: one module per command family, each parsing options and calling the library."""

import os

# OpenBLAS's idle threads spin for 2^28 cycles before they sleep, between the many small matrix products of
# an audit: on a 2-core machine that burned a third of the CPU time (more beside other work, as on a CI
# runner) and slowed the audit. 2^4 cycles lets them sleep at once; large products still use every core
# (bench/bench_contention.py). Set before numpy loads; a value the user set is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from . import audit, multiplicity, simulate, tools  # noqa: F401  (each registers its commands on the app)
from .app import app, main

__all__ = ["app", "main"]
