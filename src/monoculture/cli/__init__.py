"""The `monoculture` command: one module per command family, each parsing options and calling the library."""

# OpenBLAS's thread timeout is set by the package (monoculture/__init__.py), which loads first.
from . import audit, multiplicity, simulate, tools  # noqa: F401  (each registers its commands on the app)
from .app import app, main

__all__ = ["app", "main"]
