"""read → link: the part every command shares (audit, multiplicity)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .errors import UsageError
from .failures import FailureRule
from .io import expand_paths
from .link import Linked, LinkOptions, link
from .memory import check_memory
from .result import InputResult
from .sources import Columns, load_people, load_sources


def load_and_link(
    inputs: Sequence[str], cols: Columns, rule: FailureRule, *, layout: str, people: str | None,
    link_options: LinkOptions, on_stage: Callable[[str], None] = lambda _name: None,
) -> tuple[Linked, list[InputResult]]:
    """Read every input (any layout) and the people file, link by ID and apply the failure rule."""
    paths = expand_paths(list(inputs)) if layout == "files" else list(inputs)
    if not paths:
        raise UsageError("no input files given")
    check_memory([*paths, *([people] if people else [])])
    on_stage("reading inputs")
    people_table = load_people(people, cols) if people else None
    people_has: set[str] = set()
    if people_table is not None:
        people_has = set(people_table.groups)
        if cols.label and people_table.label is not None:
            people_has.add(cols.label)
    sources, files = load_sources(paths, layout, cols, people_has)
    on_stage("linking by ID")
    linked = link(sources, people_table, rule, list(cols.groups), link_options)
    names_by_file: dict[str, list[str]] = {}
    for s in sources:
        names_by_file.setdefault(s.file, []).append(s.name)
    inputs_out = [
        InputResult(path=f.path, format=f.format, sha256=f.sha256, rows=f.rows,
                    decision_makers=names_by_file.get(f.path, []))
        for f in files
    ]
    return linked, inputs_out
