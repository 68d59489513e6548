"""`--emit-sql`: the SQL that computes the pattern table from the inputs, so the heavy step (reading,
linking by ID, counting) can run inside the user's own warehouse and only the small table comes back.

The query's result has exactly the columns of a pattern-table file (`count/table_file.py`): ``count``,
``group:<attribute>``, ``fail:<name>``, ``seen:<name>``. Values are compared in canonical form as in
`values.py` (true/false → 1/0, numbers by value, text trimmed). The SQL drops rows with a missing ID,
decision or label and assumes one row per ID per input (or, with ``drop_duplicates``, drops every row of a
repeated ID), and the query's header says so; a group value given two different ways (by two inputs, twice
in one, or by an input and the people file) counts as ``(missing)``. `check_sql` is the query that counts
those rows and those conflicts, which the DuckDB and Spark engines run first. Dialects: ``duckdb`` (reads
the files with read_csv/read_parquet) and
``spark`` (backtick identifiers; reads tables registered as views ``src_1``, ``src_2``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from ..choices import FAILURE_KINDS
from ..errors import UsageError
from ..read.csv_text import delimiter
from ..read.files import expand_paths, file_format, read_header
from ..read.names import named_path
from ..spec import FailureRule

DIALECTS = ("duckdb", "spark")


def quote(name: str, dialect: str) -> str:
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# White space as the memory engine trims it (Python's str.strip, Arrow's utf8_trim_whitespace): SQL's TRIM
# alone takes spaces only, so an ID or value written with a tab around it would not meet its trimmed self.
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) \
    + "\u2028\u2029\u202f\u205f\u3000"


def trim_sql(x: str, dialect: str) -> str:
    """SQL trimming `WHITESPACE` from both ends of the text x (written with chr() or escapes, so the
    emitted SQL shows no invisible characters)."""
    if dialect == "spark":
        return f"TRIM(BOTH '{_SPARK_WHITESPACE}' FROM {x})"
    return f"trim({x}, {_DUCKDB_WHITESPACE})"


_SPARK_WHITESPACE = "".join(f"\\u{ord(c):04x}" for c in WHITESPACE)
_DUCKDB_WHITESPACE = " || ".join(f"chr({ord(c)})" for c in WHITESPACE)


def _text(expr: str, dialect: str, trim: bool = True) -> str:
    """A value as text, blank = NULL; trimmed of `WHITESPACE` unless `trim` is False (`tally_sql`'s
    `trim_keys`)."""
    text = f"CAST({expr} AS STRING)"
    return f"NULLIF({trim_sql(text, dialect) if trim else text}, '')"


def _canon(t: str) -> str:
    """SQL for the canonical token (values.canonical) of a trimmed, non-empty text value t."""
    # true/false become the engine's own text for the numbers 1 and 0, so that "true" meets "1" and "1.0".
    return (f"CASE WHEN LOWER({t}) = 'true' THEN CAST(CAST(1 AS DOUBLE) AS STRING) "
            f"WHEN LOWER({t}) = 'false' THEN CAST(CAST(0 AS DOUBLE) AS STRING) "
            f"WHEN TRY_CAST({t} AS DOUBLE) IS NOT NULL THEN CAST(TRY_CAST({t} AS DOUBLE) AS STRING) "
            f"ELSE {t} END")


def _canon_number(x: str) -> str:
    """The canonical token of an integer or boolean column x: the same text `_canon` gives "1" or "true"."""
    return f"CAST(CAST({x} AS DOUBLE) AS STRING)"


def _integral_parquet_columns(path: str) -> set[str]:
    """Integer and boolean columns of a local Parquet file (CSV columns are all read as text)."""
    if file_format(path) != "parquet":
        return set()
    schema = pq.read_schema(path)
    return {f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_boolean(f.type)}


def _source(path: str, index: int, dialect: str) -> str:
    if dialect == "spark":
        return f"src_{index}"
    if file_format(path) == "parquet":
        return f"read_parquet({_literal(path)})"
    sep = delimiter(path)
    delim = "\\t" if sep == "\t" else _literal(sep)[1:-1]
    return f"read_csv({_literal(path)}, header = true, all_varchar = true, delim = '{delim}')"


def _failure(rule: FailureRule, name: str, d: str, y: str) -> str:
    """The failure expression for one decision-maker, over its canonical decision d and label y."""
    lit = lambda value: _canon(f"NULLIF({_literal(value.strip())}, '')")  # noqa: E731  (trimmed as `_text` would)
    fav = lit(rule.favorable if rule.favorable is not None else "1")
    if rule.unfavorable_label is not None:
        y_fav = f"({y} <> {lit(rule.unfavorable_label)})"
    else:
        y_fav = f"({y} = {lit(rule.favorable_label) if rule.favorable_label is not None else fav})"
    if rule.uses_scores:
        t = rule.thresholds.get(name, rule.threshold)
        op = "<=" if rule.lower_is_favorable else ">="
        dec_fav = f"(TRY_CAST({d} AS DOUBLE) {op} {float(t)!r})"
        return {"error": f"({dec_fav} <> {y_fav})", "outcome": f"(NOT {dec_fav})",
                "false-negative": f"({y_fav} AND NOT {dec_fav})",
                "false-positive": f"(NOT {y_fav} AND {dec_fav})"}[rule.kind]
    if rule.kind == "error":
        return f"(({d} = {fav}) <> {y_fav})" if rule.own_label_vocabulary else f"({d} <> {y})"
    if rule.kind == "outcome":
        if rule.unfavorable is not None or rule.favorable is None:
            unfav = lit(rule.unfavorable if rule.unfavorable is not None else "0")
            return f"({d} = {unfav})"
        return f"({d} <> {fav})"
    return {"false-negative": f"({y_fav} AND {d} <> {fav})",
            "false-positive": f"(NOT {y_fav} AND {d} = {fav})"}[rule.kind]


def emit_sql(
    inputs: Sequence[str], *, id_column: str, decision: str, label: str | None, groups: Sequence[str],
    people: str | None, rule: FailureRule, join: str = "inner", layout: str | None = None, dialect: str = "duckdb",
    headers: Mapping[str, Sequence[str]] | None = None, integral: Mapping[str, Sequence[str]] | None = None,
    shard: tuple[int, int] | None = None, drop_duplicates: bool = False, unique_ids: bool = False,
) -> str:
    """The SQL computing the pattern table of the files layout (one input file per decision-maker).

    `headers` gives each path's column names when the caller has them (the Spark engine reads remote
    URIs); otherwise each file's header is read here. `integral` names each path's integer and boolean
    columns (otherwise read from local Parquet schemas): their canonical token is one cast, not text work.
    `shard` = (s, S) keeps only the IDs whose hash is s modulo S. `drop_duplicates` leaves out every row of
    an ID that occurs more than once among an input's valid rows (``--duplicates drop``). `unique_ids`: the
    caller knows (from `check_sql`: no ``repeated_ids``) that no ID is on two rows of one input, so each row
    is its ID's summary and no input is grouped by ID before the join (a large saving: bench/README.md).
    """
    names, ctes = input_ctes(inputs, id_column=id_column, decision=decision, label=label, groups=groups,
                              rule=rule, join=join, layout=layout, dialect=dialect, headers=headers,
                              integral=integral)
    q = lambda s: quote(s, dialect)  # noqa: E731
    k, n_groups = len(names), len(groups)
    scope = shard_scope(shard, dialect)
    per_id = per_row_cte if unique_ids else per_id_cte
    ctes += [per_id("a", i, n_groups, scope) for i in range(1, k + 1)]
    seen = [f"(a{i}.nv {'= 1' if drop_duplicates else '>= 1'})" for i in range(1, k + 1)]
    body = "a1"
    for i in range(2, k + 1):
        # Under the inner join every input's ID equals a1's: a plain key lets the engine plan the joins
        # (DuckDB estimates a join on COALESCE(...) at one row, and hashes the COALESCE on every probe).
        prev = "COALESCE(" + ", ".join(f"a{j}.id" for j in range(1, i)) + ")" if i > 2 and join != "inner" else "a1.id"
        body += f"\n  {'JOIN' if join == 'inner' else 'FULL OUTER JOIN'} a{i} ON a{i}.id = {prev}"
    id_expr = "a1.id" if join == "inner" else "COALESCE(" + ", ".join(f"a{i}.id" for i in range(1, k + 1)) + ")"
    link_cols = [f"{id_expr} AS id"]
    link_cols += [f"COALESCE({seen[i - 1]} AND a{i}.nf >= 1, FALSE) AS fail_{i}, COALESCE({seen[i - 1]}, FALSE) "
                  f"AS seen_{i}" for i in range(1, k + 1)]
    link_cols += [f"LEAST({', '.join(f'a{i}.lo_{j}' for i in range(1, k + 1))}) AS lo_{j}, "
                  f"GREATEST({', '.join(f'a{i}.hi_{j}' for i in range(1, k + 1))}) AS hi_{j}" for j in range(n_groups)]
    where = " AND ".join(seen) if join == "inner" else \
        " + ".join(f"(CASE WHEN {c} THEN 1 ELSE 0 END)" for c in seen) + " >= 2"
    ctes.append(f"linked AS (\n  SELECT {', '.join(link_cols)}\n  FROM {body}\n  WHERE {where}\n)")
    lo, hi, source = [f"linked.lo_{j}" for j in range(n_groups)], [f"linked.hi_{j}" for j in range(n_groups)], "linked"
    if people is not None and groups:
        ctes.append(people_cte(people, groups, id_column, dialect, headers))
        lo = [f"LEAST({v}, p.g_{j})" for j, v in enumerate(lo)]
        hi = [f"GREATEST({v}, p.g_{j})" for j, v in enumerate(hi)]
        source = "linked LEFT JOIN p ON p.id = linked.id"
    # A value given two ways (by two inputs, twice in one, or by an input and the people file) is missing.
    groups_out = [(f"COALESCE(CASE WHEN {lo[j]} = {hi[j]} THEN {lo[j]} END, '(missing)')", f"group:{g}")
                  for j, g in enumerate(groups)]
    pattern = [(f"fail_{i}", f"fail:{n}") for i, n in enumerate(names, start=1)]
    pattern += [(f"seen_{i}", f"seen:{n}") for i, n in enumerate(names, start=1)]
    select = ",\n  ".join(["COUNT(*) AS " + q("count")] + [f"{e} AS {q(a)}" for e, a in [*groups_out, *pattern]])
    group_by = ", ".join(e for e, _ in [*groups_out, *pattern])
    header = (f"-- monoculture pattern table ({dialect} SQL): {k} decision-makers, {join} join.\n"
              "-- Drops rows with a missing ID, decision or label; "
              + ("drops every row of an ID that occurs more than once in an input\n"
                 if drop_duplicates else "assumes one row per ID per input\n")
              + "-- (monoculture's own engines count both first). A group value given two different ways\n"
              "-- counts as (missing), as with --group-conflicts missing. Save the result as Parquet and run\n"
              "-- monoculture audit --patterns FILE (names: " + ", ".join(names) + ").\n")
    return header + "WITH\n" + ",\n".join(ctes) + f"\nSELECT\n  {select}\nFROM {source}\nGROUP BY {group_by}\n"


def shard_scope(shard: tuple[int, int] | None, dialect: str) -> str:
    """The rows a count keeps: those with an ID and, with `shard` = (s, S), one hash slice of the ID space
    (slices' pattern tables sum to the whole)."""
    if shard is None:
        return "id IS NOT NULL"
    bucket = f"pmod(hash(id), {shard[1]})" if dialect == "spark" else f"hash(id) % {shard[1]}"
    return f"id IS NOT NULL AND {bucket} = {shard[0]}"


CHECKS = ("all_rows", "missing_id", "missing_decision", "missing_label", "not_numeric", "duplicate_ids",
          "duplicate_rows", "valid_rows", "failed_rows", "repeated_ids")


def check_sql(
    inputs: Sequence[str], *, id_column: str, decision: str, label: str | None, groups: Sequence[str],
    rule: FailureRule, join: str = "inner", layout: str | None = None, dialect: str = "duckdb",
    headers: Mapping[str, Sequence[str]] | None = None, integral: Mapping[str, Sequence[str]] | None = None,
    people: str | None = None,
) -> str:
    """The SQL that counts, per input, what the in-memory reader checks row by row (`link/linker.py`): one row,
    with the columns of `CHECKS` suffixed ``_1``, ``_2``, ... (inputs in the order of `emit_sql`),
    ``individuals`` (the IDs with a valid row in some input, once each), ``people_repeated`` (IDs on more
    than one row of the people file) and, per group attribute j, ``conflicts_j``; `check_rows` turns it
    into one dict per input.

    The counts nest as the in-memory engine's coverage does: a row without ID is ``missing_id``; of the
    rest, one without decision ``missing_decision``; of the rest, one without label (when the rule uses
    labels) ``missing_label``. ``not_numeric``: decisions that are not numbers under a threshold rule. The
    remaining rows are valid; the IDs among them that occur more than once are ``duplicate_ids`` (their
    rows ``duplicate_rows``), and ``valid_rows`` / ``failed_rows`` count the rows of the IDs that occur once.
    ``repeated_ids``: IDs on more than one row of the input, valid or not (none: `emit_sql` may take
    ``unique_ids``).
    """
    names, ctes = input_ctes(inputs, id_column=id_column, decision=decision, label=label, groups=groups,
                              rule=rule, join=join, layout=layout, dialect=dialect, headers=headers,
                              integral=integral)
    k, n_groups = len(names), len(groups)
    for i in range(1, k + 1):
        ctes.append(row_checks_cte(i, rule))
        ctes.append(per_id_cte("n", i, n_groups, "id IS NOT NULL", with_rows=True))
        ctes.append(
            f"s{i} AS (SELECT {count_if('nv > 1')} AS duplicate_ids_{i}, {sum_if('nv > 1', 'nv')} AS "
            f"duplicate_rows_{i}, {count_if('nv = 1')} AS valid_rows_{i}, {sum_if('nv = 1', 'nf')} AS "
            f"failed_rows_{i}, {count_if('nr > 1')} AS repeated_ids_{i} FROM n{i})")
    # Across inputs, one aggregation over the per-input summaries (each far smaller than the rows): how
    # many inputs link each ID, and per attribute its least and greatest value.
    # With a people file, `listed` counts each ID's rows in it: the memory engine refuses an ID listed twice.
    with_people = people is not None and groups
    cols = "".join(f", lo_{j}, hi_{j}" for j in range(n_groups)) + (", 0 AS listed" if with_people else "")
    parts = [f"SELECT id, CASE WHEN nv = 1 THEN 1 ELSE 0 END AS linking{cols} FROM n{i}" for i in range(1, k + 1)]
    if with_people:  # the people file's group values can conflict with the inputs'
        ctes.append(people_cte(people, groups, id_column, dialect, headers))
        parts.append("SELECT id, 0 AS linking" + "".join(f", g_{j}, g_{j}" for j in range(n_groups))
                     + ", 1 AS listed FROM p WHERE id IS NOT NULL")
    spread = "".join(f", MIN(lo_{j}) AS lo_{j}, MAX(hi_{j}) AS hi_{j}" for j in range(n_groups))
    listed = ", SUM(listed) AS listed" if with_people else ""
    ctes.append(f"lv AS (SELECT SUM(linking) AS linking{listed}{spread} FROM ({' UNION ALL '.join(parts)}) u "
                "GROUP BY id)")
    linked = f"linking = {k}" if join == "inner" else "linking >= 2"
    totals = [f"{count_if('linking >= 1')} AS individuals"]
    totals += [f"{count_if(f'{linked} AND lo_{j} <> hi_{j}')} AS conflicts_{j}" for j in range(n_groups)]
    totals.append(f"{count_if('listed > 1') if with_people else '0'} AS people_repeated")
    ctes.append(f"across AS (SELECT {', '.join(totals)} FROM lv)")
    header = f"-- monoculture input checks ({dialect} SQL): what each input's rows hold, as monoculture counts it.\n"
    tables = " CROSS JOIN ".join([*(f"m{i} CROSS JOIN s{i}" for i in range(1, k + 1)), "across"])
    return header + "WITH\n" + ",\n".join(ctes) + f"\nSELECT * FROM {tables}\n"


def check_rows(row: Mapping[str, object], k: int, n_groups: int) -> list[dict[str, int]]:
    """The one row of `check_sql` as one dict per input (its `CHECKS`, ``individuals``, ``people_repeated``,
    ``conflicts_j``)."""
    # Sums come back as DuckDB's wide integers (Python Decimal): counts are plain ints here.
    shared = {"individuals": int(row["individuals"]), "people_repeated": int(row["people_repeated"]),
              **{f"conflicts_{j}": int(row[f"conflicts_{j}"]) for j in range(n_groups)}}
    return [{c: int(row[f"{c}_{i}"]) for c in CHECKS} | shared for i in range(1, k + 1)]


def per_id_cte(prefix: str, i: int, n_groups: int, where: str, with_rows: bool = False) -> str:
    """``<prefix><i>``: one row per ID of input i's rows that pass `where` (r{i} of `input_ctes`), with its
    valid rows ``nv``, how many of those fail ``nf``, and per group attribute j the least and greatest value
    over all its rows, valid or not (``lo_j``, ``hi_j``; a row that does not count still gives its group
    value, as in link/group_values.py); `with_rows`: also all its rows, ``nr``."""
    values = "".join(f", MIN(g_{j}) AS lo_{j}, MAX(g_{j}) AS hi_{j}" for j in range(n_groups))
    rows = "COUNT(*) AS nr, " if with_rows else ""
    return (f"{prefix}{i} AS (SELECT id, {rows}{count_if('valid')} AS nv, {count_if('valid AND fail')} AS nf{values} "
            f"FROM r{i} WHERE {where} GROUP BY id)")


def per_row_cte(prefix: str, i: int, n_groups: int, where: str) -> str:
    """`per_id_cte` where each ID is on one row of input i: the row itself, without grouping."""
    values = "".join(f", g_{j} AS lo_{j}, g_{j} AS hi_{j}" for j in range(n_groups))
    return (f"{prefix}{i} AS (SELECT id, CASE WHEN valid THEN 1 ELSE 0 END AS nv, "
            f"CASE WHEN valid AND fail THEN 1 ELSE 0 END AS nf{values} FROM r{i} WHERE {where})")


def people_cte(
    people: str, groups: Sequence[str], id_column: str, dialect: str, headers: Mapping[str, Sequence[str]] | None,
    trim_keys: bool = True,
) -> str:
    """``p``: the people file's IDs and group values (g_j; NULL for an attribute it lacks), trimmed unless
    `trim_keys` is False (see `input_ctes`)."""
    q = lambda s: quote(s, dialect)  # noqa: E731
    pheader = set(_header_reader(headers)(people))
    pcols = [f"{_text(q(id_column), dialect, trim_keys)} AS id"] + [
        f"{_text(q(g), dialect, trim_keys) if g in pheader else 'CAST(NULL AS STRING)'} AS g_{j}"
        for j, g in enumerate(groups)]
    return f"p AS (SELECT {', '.join(pcols)} FROM {'people' if dialect == 'spark' else _source(people, 0, dialect)})"


def _header_reader(headers: Mapping[str, Sequence[str]] | None) -> Callable[[str], list[str]]:
    """Each path's column names: from `headers` when the caller has them, else read from the file."""
    return (lambda path: list(headers[path])) if headers is not None else read_header


def count_if(condition: str) -> str:
    return f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"


def sum_if(condition: str, value: str) -> str:
    return f"COALESCE(SUM(CASE WHEN {condition} THEN {value} ELSE 0 END), 0)"


def input_ctes(
    inputs: Sequence[str], *, id_column: str, decision: str, label: str | None, groups: Sequence[str],
    rule: FailureRule, join: str, layout: str | None, dialect: str,
    headers: Mapping[str, Sequence[str]] | None, integral: Mapping[str, Sequence[str]] | None,
    trim_keys: bool = True,
) -> tuple[list[str], list[str]]:
    """The checks both queries share, and per input i the CTEs t{i} (trimmed text) and r{i} (canonical
    values: id, d, y, the group values g_j, whether the row is ``valid`` and its failure ``fail``).
    `trim_keys` False leaves the IDs and group values as written (blank = NULL): trimming every row costs
    more than the rest of a scan, and is needed only where some value is padded, which `tally_sql` finds."""
    header_of = _header_reader(headers)
    if integral is not None:
        integral_of = lambda path: set(integral.get(path, ()))  # noqa: E731
    else:
        integral_of = _integral_parquet_columns
    if dialect not in DIALECTS:
        raise UsageError(f"{{engine.sql_dialect}} must be one of {', '.join(DIALECTS)}; got '{dialect}'")
    if layout not in (None, "files"):
        raise UsageError("{engine.sql} supports the files layout (one input file per decision-maker)")
    if rule.top_fraction is not None:
        raise UsageError("{engine.sql} does not support {rule.top_fraction} (a per-decision-maker ranking); "
                         "use {rule.threshold}")
    if rule.conditional:
        raise UsageError(f"{{engine.sql}} measures {{rule.kind={rule.kind}}} among everyone only: pass "
                         "{rule.population=everyone}, or count with {engine.engine=memory}")
    if rule.kind not in FAILURE_KINDS:
        raise UsageError(f"unknown failure rule '{rule.kind}'; expected one of {', '.join(FAILURE_KINDS)}")
    if rule.kind != "outcome" and label is None:
        raise UsageError("no failure rule: pass {columns.label=COLUMN} or {rule.kind=outcome}")
    if join not in ("inner", "outer"):
        raise UsageError(f"{{link.join}} must be inner or outer; got '{join}'")
    paths = [named_path(a) for a in expand_paths(list(inputs))]  # as the reader resolves them (sources.py)
    if len(paths) < 2:
        raise UsageError("{engine.sql} needs at least two input files")
    names = [n for n, _ in paths]
    q = lambda s: quote(s, dialect)  # noqa: E731
    ctes = []
    for i, ((_, path), name) in enumerate(zip(paths, names, strict=True), start=1):
        numeric = integral_of(path)
        cols = [f"{_text(q(id_column), dialect, trim_keys)} AS id",
                f"{q(decision) if decision in numeric else _text(q(decision), dialect)} AS dt",
                f"{(q(label) if label in numeric else _text(q(label), dialect)) if label else 'NULL'} AS yt"]
        # Group values come from the people file, else from any input that has the column (as in link/group_values.py).
        header = set(header_of(path))
        cols += [f"{_text(q(g), dialect, trim_keys) if g in header else 'CAST(NULL AS STRING)'} AS g_{j}"
                 for j, g in enumerate(groups)]
        ctes.append(f"t{i} AS (\n  SELECT {', '.join(cols)}\n  FROM {_source(path, i, dialect)}\n)")
        canon = ["id", f"{_canon_number('dt') if decision in numeric else _canon('dt')} AS d",
                 f"{(_canon_number('yt') if label in numeric else _canon('yt')) if label else 'NULL'} AS y"] + [
            f"g_{j}" for j in range(len(groups))]
        ctes.append(f"c{i} AS (\n  SELECT {', '.join(canon)}\n  FROM t{i}\n)")
        valid = " AND ".join(["id IS NOT NULL", "d IS NOT NULL"] + (["y IS NOT NULL"] if rule.needs_label else []))
        ctes.append(f"r{i} AS (SELECT *, ({valid}) AS valid, {_failure(rule, name, 'd', 'y')} AS fail FROM c{i})")
    return names, ctes


ROW_CHECKS = ("all_rows", "missing_id", "missing_decision", "missing_label", "not_numeric")


def row_checks_cte(i: int, rule: FailureRule) -> str:
    """``m<i>``: the checks of input i's rows that need no grouping by ID (`ROW_CHECKS`, suffixed ``_i``)."""
    numeric = "TRY_CAST(d AS DOUBLE) IS NULL" if rule.uses_scores else "FALSE"
    return (f"m{i} AS (SELECT COUNT(*) AS all_rows_{i}, {count_if('id IS NULL')} AS missing_id_{i}, "
            f"{count_if('id IS NOT NULL AND d IS NULL')} AS missing_decision_{i}, "
            f"{count_if('id IS NOT NULL AND d IS NOT NULL AND NOT valid')} AS missing_label_{i}, "
            f"{count_if(f'd IS NOT NULL AND {numeric}')} AS not_numeric_{i} FROM r{i})")
