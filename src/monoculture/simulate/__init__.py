"""What happens next: participation dynamics (Dean et al. 2024) and repeat-use feedback (Laufer 2020)."""

from .participation import data_setting, dynamics, quadratic_setting
from .urn import urn_study

__all__ = ["data_setting", "dynamics", "quadratic_setting", "urn_study"]
