"""Progress on stderr: a transient spinner when stderr is a terminal, timed stage lines with --verbose.

Never on stdout, which carries the report.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.status import Status


class StageReporter:
    """Receives the library's stage names (`audit(on_stage=...)`) and shows them on stderr."""

    def __init__(self, console: Console, *, verbose: bool = False, quiet: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self.live = console.is_terminal and not quiet
        self._status: Status | None = None
        self._current: str | None = None
        self._started = 0.0

    def __enter__(self) -> StageReporter:
        if self.live:
            self._status = self.console.status("starting", spinner="dots")
            self._status.start()
        return self

    def _finish(self) -> None:
        if self._current is not None and self.verbose:
            self.console.print(f"[dim]{self._current}: {time.perf_counter() - self._started:.2f} s[/dim]")

    def stage(self, name: str) -> None:
        self._finish()
        self._current, self._started = name, time.perf_counter()
        if self._status is not None:
            self._status.update(name + " ...")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self._finish()
        if self._status is not None:
            self._status.stop()
