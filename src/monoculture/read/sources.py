"""Turn input files of any supported layout into one `Source` per decision-maker.

Layouts:

- ``files``: one file per decision-maker, named ``NAME=PATH`` or by the file stem.
- ``wide``: one row per individual, one decision column per decision-maker (``--decision-columns``,
  glob patterns allowed). An empty cell means that decision-maker did not see the individual.
- ``stacked``: one row per (individual, decision-maker), the decision-maker named in a column.
- ``transposed``: one row per decision-maker (named in a column), one column per individual.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..choices import EVAL_LAYOUTS, LAYOUTS
from ..errors import InputError, UsageError
from ..spec import Columns, SpecError
from .csvscan import Scanned, scan_table
from .evallogs import OPTIONS, PROBABILITIES, log_table
from .files import STDIN, ColumnTaker, InputFile, file_format, read_header, read_table, require_columns
from .ids import integer_ids
from .names import named_path, split_name
from .probabilities import probability_columns
from .source_data import Combinations, People, Source
from .values import answer_options

__all__ = ["Combinations", "People", "Source", "file_loaders", "load_people", "load_sources"]


def _roles(cols: Columns) -> dict[str, str]:
    roles = {cols.id: "ID ({columns.id})", cols.decision: "decision ({columns.decision})"}
    if cols.label:
        roles[cols.label] = "label ({columns.label})"
    if cols.score:
        roles[cols.score] = "score ({columns.score})"
    roles |= {c: "class probability ({columns.probabilities})" for c in cols.probabilities}
    roles[cols.decision_maker_column] = "decision-maker ({columns.decision_maker_column})"
    for g in cols.groups:
        roles[g] = "group ({columns.groups})"
    return roles


def _load(
    path: str, needed: list[str], optional: list[str], cols: Columns, scan_ids: bool = False,
    before_ids: Callable[[], ColumnTaker | None] | None = None,
) -> tuple[pa.Table, InputFile] | Scanned:
    """Read `needed` columns (each must exist) and those of `optional` that the file has. `scan_ids`: read
    a CSV file with `csvscan` where it can, IDs parsed as `ids.parse_dense` does (the streaming link).
    `before_ids`: a Parquet file's ID column is read once it returns, by the `ColumnTaker` it returns if
    any, when the table then lacks the IDs (`read_table`'s `last`)."""
    as_text = _text_columns(cols)
    if path == STDIN:
        table, info = read_table(path, as_text=as_text)
        header = table.column_names
    else:
        header = read_header(path)
    wanted = list(dict.fromkeys(needed + [c for c in optional if c in header]))
    if path == STDIN:
        require_columns("<stdin>", header, needed, _roles(cols))
        return _integer_ids(table.select(wanted), cols.id), info
    categorical = [*cols.groups, *([cols.label] if cols.label else [])]
    if scan_ids and file_format(path) == "csv":
        require_columns(path, header, wanted, _roles(cols))
        scanned = scan_table(path, wanted, cols.id, as_text, [c for c in as_text if c in categorical])
        if isinstance(scanned, Scanned):
            return scanned
    table, info = read_table(path, wanted, _roles(cols), categorical=categorical, as_text=as_text,
                             last=None if before_ids is None else (cols.id, before_ids))
    return (_integer_ids(table, cols.id) if cols.id in table.column_names else table), info


def _text_columns(cols: Columns) -> list[str]:
    """Columns whose values are compared as written: IDs and group values (never numbers a CSV parser
    guessed, which would turn one file's `007` into 7 and another's, beside a `B12`, into `007`)."""
    return [cols.id, *cols.groups]


def _integer_ids(table: pa.Table, id_column: str) -> pa.Table:
    # IDs written as plain integers are coded as numbers, the cheapest route; see ids.integer_ids.
    at = table.column_names.index(id_column)
    return table.set_column(at, id_column, integer_ids(table[id_column]))


def _has_rows(source_rows: int, file: str) -> None:
    if source_rows == 0:
        raise InputError("no data rows (only a header)", file=file)


def load_sources(
    args: list[str], layout: str, cols: Columns, people_has: set[str], metric: str | None = None,
) -> tuple[list[Source], list[InputFile]]:
    """Read every input into Sources. `people_has` lists columns a people file supplies; `metric`: the score
    of evaluation logs."""
    if layout not in LAYOUTS:
        raise SpecError("layout", f"must be one of {', '.join(LAYOUTS)}; got '{layout}'")
    loaders = {"files": _files, "wide": _wide, "stacked": _stacked, "transposed": _transposed,
               **{log: _evallog(log, metric) for log in EVAL_LAYOUTS}}
    if layout == "files":
        cols.check_inputs([named_path(arg)[0] for arg in args])
    sources: list[Source] = []
    inputs: list[InputFile] = []
    for arg in args:
        got, info = loaders[layout](arg, cols, people_has)
        _has_rows(info.rows, info.path)
        sources.extend(got)
        inputs.append(info)
    _check_names([(s.name, s.file) for s in sources])
    return sources, inputs


def _check_names(named: list[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for name, file in named:
        if name in seen:
            raise UsageError(
                f"decision-maker '{name}' is named twice (in {seen[name]} and {file}); "
                "give each a distinct name with NAME=PATH"
            )
        seen[name] = file


def file_loaders(
    args: list[str], cols: Columns, people_has: set[str], scan_ids: bool = False,
    before_ids: Callable[[int], ColumnTaker | None] | None = None,
) -> tuple[list[str], list[Callable[[], Source]], list[InputFile | None], list[list[str]]]:
    """The files layout read input by input: the decision-makers' names now, a loader per input that reads
    it into its `Source` (setting its `InputFile` in the returned list; loaders may run at once), and each
    input's header. `before_ids(i)`: input i's Parquet ID column is read once it returns (by the
    `ColumnTaker` it returns, if any).
    Every header is checked first: a column missing from the last input is said before the others are read.
    `scan_ids`: CSV inputs are read by `csvscan` where it can, their IDs parsed (`Source.parsed_ids`)."""
    named = [named_path(arg) for arg in args]
    _check_names(named)
    cols.check_inputs([name for name, _path in named])
    headers = [read_header(path) for _name, path in named]
    for (name, path), header in zip(named, headers, strict=True):
        own = cols.for_input(name)
        require_columns(path, header, _needed(own), _roles(own))
        _label_needed(own, own.label in header, path, people_has)
    infos: list[InputFile | None] = [None] * len(args)  # by input: loaders may run at once

    def loader(i: int, arg: str) -> Callable[[], Source]:
        def load() -> Source:
            (source,), info = _files(arg, cols, people_has, scan_ids,
                                     None if before_ids is None else (lambda: before_ids(i)))
            _has_rows(info.rows, info.path)
            infos[i] = info
            return source
        return load

    return [name for name, _ in named], [loader(i, arg) for i, arg in enumerate(args)], infos, headers


def _needed(cols: Columns, probabilities: list[str] | None = None) -> list[str]:
    return [cols.id, cols.decision] + ([cols.score] if cols.score else []) + (probabilities or [])


def _label_needed(cols: Columns, header_has_label: bool, file: str, people_has: set[str]) -> None:
    if cols.label and not header_has_label and cols.label not in people_has:
        raise InputError(
            "label column not found in this file nor in the people file ({inputs.people})",
            file=file,
            column=cols.label,
        )


def _files(arg: str, cols: Columns, people_has: set[str], scan_ids: bool = False,
           before_ids: Callable[[], ColumnTaker | None] | None = None) -> tuple[list[Source], InputFile]:
    name, path = named_path(arg)
    cols = cols.for_input(name)
    optional = ([cols.label] if cols.label else []) + list(cols.groups)
    loaded = _load(path, _needed(cols, classes := probability_columns(path, cols.probabilities)), optional, cols,
                   scan_ids, before_ids)
    scanned = loaded if isinstance(loaded, Scanned) else None
    table, info = (loaded.table, loaded.info) if isinstance(loaded, Scanned) else loaded
    _label_needed(cols, cols.label in table.column_names, info.path, people_has)
    has_label = bool(cols.label and cols.label in table.column_names)
    groups = [g for g in cols.groups if g in table.column_names]
    combinations = None
    if scanned is not None and scanned.combinations is not None:
        parts = scanned.combinations.parts
        combinations = Combinations(scanned.combinations.rows, parts[cols.decision],
                                    parts[cols.label] if has_label else None, {g: parts[g] for g in groups})
    source = Source(
        name=name,
        file=info.path,
        ids=table[cols.id] if scanned is None and cols.id in table.column_names else pa.chunked_array([], pa.int64()),
        decision=table[cols.decision],
        label=table[cols.label] if has_label else None,
        groups={g: table[g] for g in groups},
        score=table[cols.score] if cols.score else None,
        probabilities={c: table[c] for c in classes},
        parsed_ids=scanned.ids if scanned is not None else None,
        combinations=combinations,
    )
    return [source], info


def match_columns(header: list[str], patterns: tuple[str, ...], exclude: set[str], file: str) -> list[str]:
    """Header columns matching any glob pattern, in header order; a pattern matching nothing is an error."""
    chosen: list[str] = []
    for pat in patterns:
        hits = [h for h in header if fnmatch.fnmatchcase(h, pat) and h not in exclude]
        if not hits:
            raise InputError(f"no column matches {{columns.decision_columns}} '{pat}'", file=file)
        chosen.extend(h for h in hits if h not in chosen)
    require_columns(file, header, chosen, {})  # a decision column named twice in the header is refused
    return [h for h in header if h in chosen]


def _wide(arg: str, cols: Columns, people_has: set[str]) -> tuple[list[Source], InputFile]:
    _, path = split_name(arg)
    if not cols.decision_columns:
        raise UsageError("the wide layout needs {columns.decision_columns} (names or glob patterns)")
    if path == STDIN:
        full, info = read_table(path, as_text=_text_columns(cols))
        header = full.column_names
    else:
        header = read_header(path)
    exclude = {cols.id, *(cols.groups), *([cols.label] if cols.label else [])}
    dcols = match_columns(header, cols.decision_columns, exclude, path)
    optional = ([cols.label] if cols.label else []) + list(cols.groups)
    table, info = _load(path, [cols.id, *dcols], optional, cols)
    _label_needed(cols, cols.label in table.column_names, info.path, people_has)
    label = table[cols.label] if cols.label and cols.label in table.column_names else None
    groups = {g: table[g] for g in cols.groups if g in table.column_names}
    sources = [
        Source(name=c, file=info.path, ids=table[cols.id], decision=table[c], label=label, groups=groups,
               blank_is_unseen=True)
        for c in dcols
    ]
    return sources, info


def _stacked(arg: str, cols: Columns, people_has: set[str]) -> tuple[list[Source], InputFile]:
    _, path = split_name(arg)
    optional = ([cols.label] if cols.label else []) + list(cols.groups)
    needed = [cols.id, cols.decision_maker_column, cols.decision, *(c for c in (cols.round, cols.options) if c)]
    table, info = _load(path, needed, optional, cols)
    _label_needed(cols, cols.label in table.column_names, info.path, people_has)
    if cols.options:
        table = table.append_column(OPTIONS, answer_options(table[cols.options], info.path, cols.options))
    return _split_stacked(table, cols, info), info


def _evallog(layout: str, metric: str | None) -> Callable[[str, Columns, set[str]], tuple[list[Source], InputFile]]:
    """The loader of one evaluation-log input (a run directory, a folder of runs or one samples file)."""
    def load(arg: str, cols: Columns, people_has: set[str]) -> tuple[list[Source], InputFile]:
        table, info = log_table(layout, split_name(arg)[1], metric, [g for g in cols.groups if g not in people_has])
        return _split_stacked(table, cols, info), info
    return load


def _split_stacked(table: pa.Table, cols: Columns, info: InputFile) -> list[Source]:
    """One Source per decision-maker of a stacked table (sorted by name; rounds in order of appearance)."""
    dm = table[cols.decision_maker_column]
    if dm.null_count:
        first = int(np.flatnonzero(dm.is_null().to_numpy(zero_copy_only=False))[0]) + 1
        raise InputError(
            f"{dm.null_count} rows have no decision-maker name",
            file=info.path, column=cols.decision_maker_column, row=first,
        )
    names = pc.cast(dm, pa.string()) if not pa.types.is_string(dm.type) else dm
    names = pc.utf8_trim_whitespace(names)
    if cols.round:
        rounds = table[cols.round]
        if rounds.null_count:
            first = int(np.flatnonzero(rounds.is_null().to_numpy(zero_copy_only=False))[0]) + 1
            raise InputError(f"{rounds.null_count} rows have no round", file=info.path, column=cols.round, row=first)
        rounds = pc.utf8_trim_whitespace(pc.cast(rounds, pa.string()))
        names = pc.binary_join_element_wise(names, rounds, "@")
    encoded = pc.dictionary_encode(names).combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(encoded.dictionary) + 1))
    sources = []
    # Sorted by name; rounds keep the order they first appear in (a stable sort: a name's first row is first).
    first_seen = order[bounds[:-1]]
    def order_key(c: int) -> tuple:
        name = str(encoded.dictionary[c])
        return (name.rsplit("@", 1)[0], first_seen[c]) if cols.round else (name, 0)

    grouped = table.take(pa.array(order))  # one gather; each decision-maker's rows are then a slice of it
    for code in sorted(range(len(encoded.dictionary)), key=order_key):
        rows = order[bounds[code]:bounds[code + 1]]
        part = grouped.slice(int(bounds[code]), len(rows))
        sources.append(Source(
            name=str(encoded.dictionary[code].as_py()),
            file=info.path,
            ids=part[cols.id],
            decision=part[cols.decision],
            label=part[cols.label] if cols.label and cols.label in part.column_names else None,
            groups={g: part[g] for g in cols.groups if g in part.column_names},
            file_rows=rows, **{f: part[c] for f, c in (("options", OPTIONS), ("option_probabilities", PROBABILITIES))
                               if c in part.column_names},
        ))
    return sources


def _transposed(arg: str, cols: Columns, people_has: set[str]) -> tuple[list[Source], InputFile]:
    _, path = split_name(arg)
    table, info = read_table(path)
    name_col = cols.decision_maker_column
    if name_col not in table.column_names:
        raise InputError("decision-maker name column not found (the transposed layout has one row per "
                         "decision-maker)", file=info.path, column=name_col)
    if cols.label and cols.label not in people_has:
        raise InputError("in the transposed layout the label must come from the people file ({inputs.people})",
                         file=info.path, column=cols.label)
    item_cols = [c for c in table.column_names if c != name_col]
    if cols.decision_columns:
        item_cols = match_columns(item_cols, cols.decision_columns, set(), info.path)
    ids = pa.chunked_array([pa.array(item_cols, pa.string())])
    names = [str(v) for v in table[name_col].to_pylist()]
    sources = []
    for r, dm_name in enumerate(names):
        row = table.slice(r, 1)
        values = [row[c][0] for c in item_cols]
        types = {v.type for v in values}
        arr = pa.array([v.as_py() for v in values], type=types.pop() if len(types) == 1 else None)
        sources.append(Source(name=dm_name, file=info.path, ids=ids, decision=pa.chunked_array([arr]),
                              blank_is_unseen=True))
    return sources, info


def load_people(path: str, cols: Columns) -> People:
    """The people file: ID plus whichever of the group and label columns it has (at least one)."""
    header = read_header(path) if path != STDIN else None
    if header is None:
        raise UsageError("the people file cannot be standard input")
    wanted = [g for g in cols.groups if g in header]
    if cols.label and cols.label in header:
        wanted.append(cols.label)
    if not wanted:
        raise InputError("the people file has none of the {columns.groups} or {columns.label} columns", file=path)
    key = cols.people_id or cols.id  # the people file's key may have a name of its own
    roles = _roles(cols) | ({key: "people-file ID ({columns.people_id})"} if cols.people_id else {})
    table, info = read_table(path, [key, *wanted], roles, categorical=wanted, as_text=[key, *_text_columns(cols)])
    table = _integer_ids(table, key)
    return People(
        file=info.path,
        ids=table[key],
        groups={g: table[g] for g in cols.groups if g in table.column_names},
        label=table[cols.label] if cols.label and cols.label in table.column_names else None,
        rows=info.rows,
    )
