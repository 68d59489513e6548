"""The `monoculture` command: one module per command family, each parsing options and calling the library."""

from . import audit, multiplicity, simulate, tools  # noqa: F401  (each registers its commands on the app)
from .app import app, main

__all__ = ["app", "main"]
