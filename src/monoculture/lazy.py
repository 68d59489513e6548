"""SciPy's heavy subpackages, imported when a statistic first needs them.

`scipy.stats` (which imports `scipy.optimize`) is most of monoculture's start-up: about 0.9 s of 1.3 s on
the benchmark machine. `count`, `pseudonymize`, `keygen`, `schema`, `config`, `--help` and every input
error never compute a statistic, so they should not wait for it; an audit imports it at its first interval.
"""

from __future__ import annotations

import importlib
from typing import Any


class OnFirstUse:
    """A module stand-in: the first attribute read imports the module (later reads find it imported)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<{self._name}, imported on first use>"


stats: Any = OnFirstUse("scipy.stats")
optimize: Any = OnFirstUse("scipy.optimize")
special: Any = OnFirstUse("scipy.special")
