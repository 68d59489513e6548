"""The `monoculture` command: one module per command family, each parsing options and calling the library."""

from .app import main

__all__ = ["main"]
