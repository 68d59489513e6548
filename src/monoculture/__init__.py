"""monoculture: audit algorithmic monoculture — systemic failure and outcome homogenization.

The library is the product; the ``monoculture`` command is a thin layer over it::

    import monoculture
    result = monoculture.audit(["a.csv", "b.csv"], id="id", decision="approved", label="repaid")
    result.overall.homogenization.value
    result.by_group                      # a pandas frame per group; result.to_frame() every number

Inputs may be paths or pandas DataFrames / Arrow tables (``{"lender_a": frame, ...}``). Keywords are the
CLI options' names (``id``, ``group``, ``bootstrap``, ``seed``, ...; see ``monoculture audit --help``).
Names are imported on first use, so ``import monoculture`` stays fast.
"""

from __future__ import annotations

import os

# OpenBLAS's idle threads spin for 2^28 cycles before they sleep, between the many small matrix products of
# an audit: on a 2-core machine that burned a third of the CPU time (more beside other work, as on a CI
# runner) and slowed the audit, from the command and from Python alike (bench/README.md). 2^4 cycles lets
# them sleep at once; large products still use every core (bench/bench_contention.py). It only takes effect
# when set before numpy loads (a script that imports monoculture first; the command); a value the user set
# is kept. No number changes with it.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import sys
from importlib import import_module
from types import ModuleType
from typing import Any

from .errors import InputError, MonocultureError, UsageError

__version__ = "0.1.0"

# name -> module that defines it, imported when first asked for (PEP 562)
_LAZY = {
    "audit": ".audit", "count": ".audit", "from_failures": ".audit",
    "Counts": ".count.table", "PatternTable": ".count.table",
    "AuditResult": ".measure.result", "Metric": ".measure.result",
    "AuditSpec": ".spec", "SpecError": ".spec", "Audit": ".report.frames",
}

__all__ = ["Audit", "AuditResult", "AuditSpec", "Counts", "InputError", "Metric", "MonocultureError",
           "PatternTable", "SpecError", "UsageError", "__version__", "audit", "count", "from_failures"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'monoculture' has no attribute {name!r}")


class _Package(ModuleType):
    """The package, whose function `audit` is not replaced by its module of the same name when that module
    is first imported (Python sets a package's attribute to each submodule it imports)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
