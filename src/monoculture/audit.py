"""`audit()` and `count()`: one `AuditSpec` through read → link → count → measure. The CLI is a thin layer."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
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
from .read.frames import PREFIX as FRAME_PREFIX
from .read.frames import frames_kept, is_frame
from .report.frames import Audit
from .spec import AuditSpec, SpecError

Stage = Callable[[str], None]


def audit(inputs: Inputs | AuditSpec = (), *, on_stage: Stage | None = None, **options: Any) -> AuditResult:
    """Audit an ecosystem of decision-makers for systemic failure and outcome homogenization.

    Give an `AuditSpec`, or the inputs and keywords `AuditSpec.of` takes (each as the option of the same name
    of ``monoculture audit``, see its ``--help``: ``id``, ``decision``, ``label``, ``group``, ``bootstrap``,
    ``seed``...). Inputs are paths (CSV, Parquet, evaluation logs), or in memory: a dict of pandas
    DataFrames or Arrow tables (one per decision-maker), or one frame with ``decision_columns`` (wide) or
    ``decision_maker_column`` (stacked); ``people`` may be a frame too. With ``patterns`` (pattern tables
    written by `count`, summed) no input is read. `on_stage` is told each stage as it starts. Raises
    `monoculture.MonocultureError` (with file/column/row) on any input it cannot audit.
    """
    with frames_kept(_frames(inputs, options)) as held:
        spec = inputs if isinstance(inputs, AuditSpec) else _spec(inputs, options, held)
        return _audit(spec, on_stage)


def _audit(spec: AuditSpec, on_stage: Stage | None) -> AuditResult:
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
    return Audit.of(measure(counted, spec.inference, spec.measure, component_map))


def count(inputs: Inputs | AuditSpec = (), *, on_stage: Stage | None = None, **options: Any) -> Counted:
    """Read, link and count: the pattern table of an audit with its coverage (`monoculture count`).

    Takes what `audit` takes; the measuring options are not used.
    """
    with frames_kept(_frames(inputs, options)) as held:
        spec = inputs if isinstance(inputs, AuditSpec) else _spec(inputs, options, held)
        return _count(spec, on_stage or (lambda _name: None), lambda: None)[0]


# Paths, or in-memory inputs: {name: DataFrame or Arrow table}, or one frame (wide or stacked).
Inputs = Sequence[str | os.PathLike] | Mapping[str, Any] | Any
PEOPLE = "people"  # the name a people frame is held under


def _frames(inputs: Inputs | AuditSpec, options: dict[str, Any]) -> dict[str, Any]:
    """The in-memory inputs to hold while the audit reads them, by name."""
    held = {}
    if is_frame(inputs):
        held["input"] = inputs
    elif isinstance(inputs, Mapping):
        for name, value in inputs.items():
            if not is_frame(value):
                raise UsageError(f"input '{name}' is a {type(value).__name__}: a dict of inputs maps names to "
                                 "pandas DataFrames or Arrow tables (give paths as a list)")
            held[str(name)] = value
    elif isinstance(inputs, Sequence) and not isinstance(inputs, str) and any(is_frame(v) for v in inputs):
        raise UsageError("a list of DataFrames has no names: pass a dict, {name: frame}")
    if is_frame(options.get("people")):
        held[PEOPLE] = options["people"]
    return held


def _spec(inputs: Inputs, options: dict[str, Any], held: dict[str, str]) -> AuditSpec:
    return AuditSpec.of(_paths(inputs, held), **_people(options, held, is_frame(inputs)))


def _paths(inputs: Inputs, held: dict[str, str]) -> list[str]:
    if isinstance(inputs, str):
        return [inputs]  # one path, not its characters
    if is_frame(inputs):
        return [held["input"]]
    if isinstance(inputs, Mapping):
        return [held[str(name)] for name in inputs]
    return list(inputs)


def _people(options: dict[str, Any], held: dict[str, str], one_frame: bool) -> dict[str, Any]:
    """The options, a people frame replaced by its held path; one in-memory frame read as stacked or wide."""
    out = dict(options)
    if PEOPLE in held and is_frame(options.get("people")):
        out["people"] = held[PEOPLE]
    if one_frame and out.get("layout") is None and not out.get("decision_columns"):
        out["layout"] = "stacked"
    return out


def _count(spec: AuditSpec, stage: Stage, on_rows: Callable[[], None]) -> tuple[Counted, Linked | None]:
    """The pattern table by the engine the spec names (or the size of the inputs chooses)."""
    if spec.inputs.patterns:
        return read_patterns(list(spec.inputs.patterns)), None
    engine, why = choose(spec.engine.engine, spec.inputs.paths, layout=spec.inputs.layout)
    linked = None
    if engine in ("duckdb", "spark") and any(p.startswith(FRAME_PREFIX) for p in spec.inputs.paths):
        raise SpecError("engine.engine", f"{engine} reads files: in-memory frames are audited by the memory engine")
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


def from_failures(failures: Any, names: Sequence[str] | None = None, *, groups: Mapping[str, Any] | None = None,
                  **options: Any) -> AuditResult:
    """Audit a failure matrix held in memory (simulations, or numbers computed elsewhere).

    `failures`: (N, k) booleans (or 0/1), True where decision-maker i fails person j; `names`: the k
    decision-makers (default ``dm0``, ``dm1``...); `groups`: {attribute: N values}. The keywords are
    `audit`'s. Every person is seen by every decision-maker (a NaN cell: not seen, under ``join="outer"``).
    """
    import numpy as np
    import pyarrow as pa

    f = np.asarray(failures, dtype=float)
    if f.ndim != 2:
        raise UsageError(f"failures must be a matrix (people × decision-makers); got {f.ndim} dimensions")
    names = [f"dm{i}" for i in range(f.shape[1])] if names is None else [str(n) for n in names]
    if len(names) != f.shape[1]:
        raise UsageError(f"{len(names)} names for {f.shape[1]} decision-makers (columns of failures)")
    columns: dict[str, Any] = {"id": pa.array(np.arange(f.shape[0]))}
    for i, name in enumerate(names):
        columns[name] = pa.array(np.where(np.isnan(f[:, i]), None, f[:, i].astype(np.int64)), pa.int64())
    for attribute, values in (groups or {}).items():
        if len(values) != f.shape[0]:
            raise UsageError(f"group '{attribute}' has {len(values)} values for {f.shape[0]} people")
        columns[attribute] = pa.array([None if v is None else str(v) for v in values], pa.string())
    table = pa.table(columns)
    return audit(table, decision_columns=names, failure="outcome", unfavorable="1",
                 groups=list(groups or {}), **options)
