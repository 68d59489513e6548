"""monoculture: audit algorithmic monoculture — systemic failure and outcome homogenization.

The library is the product; the ``monoculture`` command is a thin layer over it::

    import monoculture
    result = monoculture.audit(["a.csv", "b.csv"], id_column="id", decision="approved", label="repaid")
    result.overall.homogenization.value
"""

__version__ = "0.1.0"

from .audit import audit
from .count.table import Counts, PatternTable
from .errors import InputError, MonocultureError, UsageError
from .measure.result import AuditResult, Metric
from .spec import AuditSpec, SpecError

__all__ = [
    "AuditResult",
    "AuditSpec",
    "Counts",
    "InputError",
    "Metric",
    "MonocultureError",
    "PatternTable",
    "SpecError",
    "UsageError",
    "__version__",
    "audit",
]
