"""What happens next: participation dynamics (Dean et al. 2024) and repeat-use feedback (Laufer 2020)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Each on first use: reports import `simulate.result`, which should not bring in the simulations.
_LAZY = {"choice_setting": ".choice", "data_setting": ".participation", "dynamics": ".participation",
         "quadratic_setting": ".participation", "SettingRequest": ".setup", "setting_for": ".setup",
         "urn_study": ".urn"}

__all__ = ["SettingRequest", "choice_setting", "data_setting", "dynamics", "quadratic_setting", "setting_for",
           "urn_study"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'monoculture.simulate' has no attribute {name!r}")
