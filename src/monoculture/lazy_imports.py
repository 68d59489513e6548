"""SciPy's heavy subpackages, imported when a statistic first needs them.

`scipy.stats` (which imports `scipy.optimize`) is most of monoculture's start-up. `count`, `pseudonymize`,
`keygen`, `schema`, `config`, `--help` and every input error never compute a statistic, so they should
not wait for it; an audit imports it at its first interval.
"""

from __future__ import annotations

import importlib
import threading
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


# What an audit's measuring imports besides what is imported already: pandas (pyarrow imports it, when
# installed, at the first Arrow array it builds from Python objects), scipy.stats and the clustering of the
# decision-makers. Imported on a thread while the inputs are read (`Imports`).
AUDIT_IMPORTS = ("pyarrow-pandas", "scipy.stats", "scipy.cluster.hierarchy")


class Imports:
    """Modules imported on another thread while the inputs are read (mostly in Arrow's threads, which
    hold no GIL), so an audit does not import them one after the other at its first statistic.

    `start` once the inputs have passed their cheap checks: an input error found before it costs no import
    (the thread is not a daemon, so an interpreter exiting on an error would first let the imports end,
    rather than stop an extension module half-initialised). Python's import locks make a module imported on
    two threads at once load once, and the reading imports none of these modules itself, so the threads
    never wait on each other's locks. `wait` starts them when nothing did, and returns once they ended.
    """

    def __init__(self, names: tuple[str, ...] = AUDIT_IMPORTS) -> None:
        self._names = names
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="monoculture-imports")
            self._thread.start()

    def wait(self) -> None:
        self.start()
        assert self._thread is not None
        self._thread.join()

    def _run(self) -> None:
        for name in self._names:
            try:
                if name == "pyarrow-pandas":
                    import pyarrow as pa

                    pa.array([0])  # pyarrow's pandas check: imports pandas (and its pandas_compat) once
                else:
                    importlib.import_module(name)
            except ImportError:
                pass  # the statistic that needs the module raises the real error at its first use
