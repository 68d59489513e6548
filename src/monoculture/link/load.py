"""read → link: the part every command shares (audit, multiplicity)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..errors import UsageError
from ..read.csv_text import declared_delimiter
from ..read.files import STDIN, InputFile, expand_paths, head_column
from ..read.ids import integer_ids, parse_dense
from ..read.memory import check_memory, streaming_plan
from ..read.names import named_path
from ..read.pipes import pipes_kept
from ..read.sources import file_loaders, load_people, load_sources
from ..spec import LinkSpec
from .coverage import InputResult
from .linking import IdGate, Linked, link, link_streaming
from .stream_ids import IdStream


def load_and_link(
    spec: LinkSpec, *, on_stage: Callable[[str], None] = lambda _name: None,
    on_rows: Callable[[], None] = lambda: None,
) -> tuple[Linked, list[InputResult]]:
    """Read every input (any layout) and the people file, link by ID and apply the failure rule.

    `on_rows` is called when the inputs' headers have passed their checks and their rows begin to be read
    (an audit starts its imports then); again if the streaming link gives up and the inputs are read anew."""
    with pipes_kept(), declared_delimiter(spec.inputs.delimiter):
        return _load_and_link(spec, on_stage, on_rows)


def _load_and_link(
    spec: LinkSpec, on_stage: Callable[[str], None], on_rows: Callable[[], None],
) -> tuple[Linked, list[InputResult]]:
    inputs, layout, people = spec.inputs.paths, spec.inputs.layout, spec.inputs.people
    cols, rule, link_options = spec.columns, spec.rule, spec.link
    paths = expand_paths(list(inputs)) if layout == "files" else list(inputs)
    if not paths:
        raise UsageError("no input files given")
    on_stage("reading inputs")
    people_table = load_people(people, cols) if people else None
    people_has: set[str] = set()
    if people_table is not None:
        people_has = set(people_table.groups)
        if cols.label and people_table.label is not None:
            people_has.add(cols.label)
    files_read = [named_path(p)[1] for p in paths] if layout == "files" else []
    streamable = layout == "files" and STDIN not in files_read and not link_options.per_person
    if streamable:
        first = cols.for_input(named_path(paths[0])[0]).id
        coder = IdStream(_first_route(files_read[0], first), ordered=rule.top_fraction is not None)
        plan = streaming_plan(paths)
        # Score rules may sort by the IDs' text (top-fraction ties): they keep each input's IDs whole.
        gate = IdGate(len(paths), None if rule.uses_scores else coder) if plan.ids_one_at_a_time else None
        names, loaders, files, headers = file_loaders(paths, cols, people_has,
                                                     coder.route == "dense" and not rule.uses_scores,
                                                     None if gate is None else gate.wait)
        on_stage(f"reading and linking inputs one at a time ({coder.route} IDs first)")
        streamed = link_streaming(loaders, names, people_table, rule, list(cols.groups), link_options,
                                  [set(h) for h in headers], coder, on_rows=on_rows, read_ahead=plan.read_ahead,
                                  gate=gate)
        if streamed is not None:
            read = [f for f in files if f is not None]
            assert len(read) == len(files)  # a finished link has read every input
            return streamed, _input_results(read, _names_by_file(zip(names, [f.path for f in read], strict=True)))
        on_stage("reading inputs again to link in memory (two IDs share a fingerprint, or IDs ordered as "
                 "numbers turned out to be text)")
    check_memory([*paths, *([people] if people else [])])
    on_rows()
    sources, files = load_sources(paths, layout, cols, people_has, spec.inputs.metric)
    on_stage("linking by ID")
    linked = link(sources, people_table, rule, list(cols.groups), link_options)
    return linked, _input_results(files, _names_by_file((s.name, s.file) for s in sources))


def _first_route(path: str, column: str) -> str:
    """The route the stream starts on, from the first input's first IDs: ``dense`` when they parse as
    numbers (the stream moves on if later IDs do not), else ``text``, which reads no ID as a number."""
    head = head_column(path, column)
    head = None if head is None else integer_ids(head)
    return "dense" if head is None or parse_dense(head) is not None else "text"


def _names_by_file(named: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, file in named:
        out.setdefault(file, []).append(name)
    return out


def _input_results(files: list[InputFile], names_by_file: dict[str, list[str]]) -> list[InputResult]:
    return [InputResult(path=f.path, format=f.format, sha256=f.sha256, rows=f.rows,
                        decision_makers=names_by_file.get(f.path, []), log=f.log) for f in files]
