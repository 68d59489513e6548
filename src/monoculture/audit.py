"""`audit()` and `count()`: one `AuditSpec` through read → link → count → measure. The CLI is a thin layer."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from .count.engines import choose, count_external
from .count.table import PatternTable
from .count.table_file import Counted, read_patterns
from .errors import UsageError
from .lazy_imports import Imports
from .link.linked import Linked
from .link.load import load_and_link
from .measure import measure
from .measure.components import load_components
from .measure.result import AuditResult
from .spec import AuditSpec, SpecError

Stage = Callable[[str], None]


def audit(inputs: Sequence[str] | AuditSpec = (), *, on_stage: Stage | None = None, **options: Any) -> AuditResult:
    """Audit an ecosystem of decision-makers for systemic failure and outcome homogenization.

    Give an `AuditSpec`, or the inputs and keywords `AuditSpec.of` takes (each as the option of the same name
    of ``monoculture audit``, see its ``--help``). With ``patterns`` (pattern tables written by `count`,
    summed) no input is read: every metric comes from the tables. `on_stage` is told each stage as it
    starts. Raises `monoculture.MonocultureError` (with file/column/row) on any input it cannot audit.
    """
    spec = inputs if isinstance(inputs, AuditSpec) else AuditSpec.of(inputs, **options)
    stage = on_stage or (lambda _name: None)
    imports = Imports()
    counted, linked = _count(spec, stage, imports.start)
    if spec.emit_ids is not None:
        assert linked is not None  # the spec and _count refuse --emit-ids without the memory engine
        write_systemic_ids(linked, spec.emit_ids)
    components = spec.measure.components
    component_map = load_components(components, list(counted.table.names)) if components else None
    stage("measuring (bootstrap and permutation tests)")
    imports.wait()
    return measure(counted, spec.inference, spec.measure, component_map)


def count(inputs: Sequence[str] | AuditSpec = (), *, on_stage: Stage | None = None, **options: Any) -> Counted:
    """Read, link and count: the pattern table of an audit with its coverage (`monoculture count`).

    Takes what `audit` takes; the measuring options are not used.
    """
    spec = inputs if isinstance(inputs, AuditSpec) else AuditSpec.of(inputs, **options)
    return _count(spec, on_stage or (lambda _name: None), lambda: None)[0]


def _count(spec: AuditSpec, stage: Stage, on_rows: Callable[[], None]) -> tuple[Counted, Linked | None]:
    """The pattern table by the engine the spec names (or the size of the inputs chooses)."""
    if spec.inputs.patterns:
        return read_patterns(list(spec.inputs.patterns)), None
    engine, why = choose(spec.engine.engine, spec.inputs.paths, layout=spec.inputs.layout)
    linked = None
    if engine in ("duckdb", "spark"):
        if spec.emit_ids is not None:
            raise SpecError("emit_ids", f"needs the memory engine (the {engine} engine brings back counts only)")
        counted = count_external(engine, spec)
    else:
        linked, input_results = load_and_link(spec, on_stage=stage, on_rows=on_rows)
        notes = [f"{i.path}: {note}" for i in input_results if i.log for note in i.log["notes"]]
        rule = linked.rule.description
        if metrics := sorted({i.log["metric"] for i in input_results if i.log}):
            rule = f"failure = the log's own scoring ({', '.join(metrics)}): the answer is not the gold answer"
        counted = Counted(PatternTable.build(linked), rule, spec.link.join, spec.echo_counting(),
                          input_results, linked.coverage, [*notes, *linked.warnings], linked.answers)
    if why:
        counted.warnings.insert(0, why)
    return counted, linked


def write_systemic_ids(linked: Linked, path: str | os.PathLike) -> int:
    """Write the IDs of everyone failed by every decision-maker that saw them, sorted, one per line.

    The only way individual IDs leave monoculture; the user must ask for it (--emit-ids).
    """
    failed_by_all = (linked.fail | ~linked.present).all(axis=1)
    ids = sorted(linked.ids.text(failed_by_all))
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(f"{v}\n" for v in ids)
    except OSError as exc:
        raise UsageError(f"cannot write the ID file ({exc.strerror})", file=str(path)) from None
    return len(ids)
