"""The audit specification: everything an audit is asked to do, built once at the edge and passed down whole.

The CLI, a config file and the Python API (`monoculture.audit(...)`'s keywords) all build one `AuditSpec`;
every stage reads the part it needs (`spec.columns`, `spec.rule`, `spec.link`, ...). Each part is a frozen
dataclass that checks itself when built, so an option that cannot work stops the audit before any file is
read. Errors name the field in the library's words (`SpecError.field`, e.g. ``inference.alpha``); the CLI
says which flag that is. The report's `options` echo is derived from the spec (`AuditSpec.echo`).
"""

from __future__ import annotations

from .audit_spec import AuditSpec
from .base import SpecError, one_of
from .options import EngineOptions, InferenceOptions, LinkOptions, MeasureOptions, Thresholds
from .reading import Columns, Inputs, LinkSpec, reading
from .rule import FailureRule

__all__ = ["AuditSpec", "Columns", "EngineOptions", "FailureRule", "InferenceOptions", "Inputs", "LinkOptions",
           "LinkSpec", "MeasureOptions", "SpecError", "Thresholds", "one_of", "reading"]
