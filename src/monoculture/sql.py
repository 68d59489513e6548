"""`--emit-sql`: the SQL that computes the pattern table from the inputs, so the heavy step (reading,
linking by ID, counting) can run inside the user's own warehouse and only the small table comes back.

The query's result has exactly the columns of a pattern-table file (`shards.py`): ``count``,
``group:<attribute>``, ``fail:<name>``, ``seen:<name>``. Values are compared in canonical form as in
`values.py` (true/false → 1/0, numbers by value, text trimmed). The SQL drops rows with a missing ID,
decision or label and assumes one row per ID per input: `monoculture audit` checks and counts those,
and the query's header says so. Dialects: ``duckdb`` (reads the files with read_csv/read_parquet) and
``spark`` (backtick identifiers; reads tables registered as views ``src_1``, ``src_2``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import UsageError
from .failures import FAILURE_KINDS, FailureRule
from .io import delimiter, expand_paths, file_format, read_header
from .sources import named_path

DIALECTS = ("duckdb", "spark")


def _quote(name: str, dialect: str) -> str:
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(expr: str) -> str:
    return f"NULLIF(TRIM(CAST({expr} AS STRING)), '')"


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
    delim = "\\t" if delimiter(path) == "\t" else ","
    return f"read_csv({_literal(path)}, header = true, all_varchar = true, delim = '{delim}')"


def _failure(rule: FailureRule, name: str, d: str, y: str) -> str:
    """The failure expression for one decision-maker, over its canonical decision d and label y."""
    fav = _canon(_text(_literal(rule.favorable if rule.favorable is not None else "1")))
    if rule.uses_scores:
        t = rule.thresholds.get(name, rule.threshold)
        op = "<=" if rule.lower_is_favorable else ">="
        dec_fav = f"(TRY_CAST({d} AS DOUBLE) {op} {float(t)!r})"
        return {"error": f"({dec_fav} <> ({y} = {fav}))", "outcome": f"(NOT {dec_fav})",
                "false-negative": f"({y} = {fav} AND NOT {dec_fav})",
                "false-positive": f"({y} <> {fav} AND {dec_fav})"}[rule.kind]
    if rule.kind == "error":
        return f"({d} <> {y})"
    if rule.kind == "outcome":
        if rule.unfavorable is not None or rule.favorable is None:
            unfav = _canon(_text(_literal(rule.unfavorable if rule.unfavorable is not None else "0")))
            return f"({d} = {unfav})"
        return f"({d} <> {fav})"
    return {"false-negative": f"({y} = {fav} AND {d} <> {fav})",
            "false-positive": f"({y} <> {fav} AND {d} = {fav})"}[rule.kind]


def emit_sql(
    inputs: Sequence[str], *, id_column: str, decision: str, label: str | None, groups: Sequence[str],
    people: str | None, rule: FailureRule, join: str = "inner", layout: str | None = None, dialect: str = "duckdb",
    headers: Mapping[str, Sequence[str]] | None = None, integral: Mapping[str, Sequence[str]] | None = None,
    shard: tuple[int, int] | None = None,
) -> str:
    """The SQL computing the pattern table of the files layout (one input file per decision-maker).

    `headers` gives each path's column names when the caller has them (the Spark engine reads remote
    URIs); otherwise each file's header is read here. `integral` names each path's integer and boolean
    columns (otherwise read from local Parquet schemas): their canonical token is one cast, not text work.
    `shard` = (s, S) keeps only the IDs whose hash is s modulo S.
    """
    header_of = (lambda path: list(headers[path])) if headers is not None else read_header
    if integral is not None:
        integral_of = lambda path: set(integral.get(path, ()))  # noqa: E731
    else:
        integral_of = _integral_parquet_columns
    if dialect not in DIALECTS:
        raise UsageError(f"--sql-dialect must be one of {', '.join(DIALECTS)}; got '{dialect}'")
    if layout not in (None, "files"):
        raise UsageError("--emit-sql supports the files layout (one input file per decision-maker)")
    if rule.top_fraction is not None:
        raise UsageError("--emit-sql does not support --top-fraction (a per-decision-maker ranking); use --threshold")
    if rule.kind not in FAILURE_KINDS:
        raise UsageError(f"unknown failure rule '{rule.kind}'; expected one of {', '.join(FAILURE_KINDS)}")
    if rule.kind != "outcome" and label is None:
        raise UsageError("no failure rule: pass --label COLUMN or --failure outcome")
    if join not in ("inner", "outer"):
        raise UsageError(f"--join must be inner or outer; got '{join}'")
    paths = [named_path(a) for a in expand_paths(list(inputs))]  # as the reader resolves them (sources.py)
    if len(paths) < 2:
        raise UsageError("--emit-sql needs at least two input files")
    names = [n for n, _ in paths]
    q = lambda s: _quote(s, dialect)  # noqa: E731
    from_people = people is not None
    ctes = []
    for i, ((_, path), name) in enumerate(zip(paths, names, strict=True), start=1):
        numeric = integral_of(path)
        cols = [f"{_text(q(id_column))} AS id", f"{q(decision) if decision in numeric else _text(q(decision))} AS dt",
                f"{(q(label) if label in numeric else _text(q(label))) if label else 'NULL'} AS yt"]
        # Group values come from the people file, else from any input that has the column (as in link.py).
        header = set(header_of(path))
        cols += [f"{_text(q(g)) if g in header else 'CAST(NULL AS STRING)'} AS g_{j}" for j, g in enumerate(groups)]
        need = ["id IS NOT NULL", "d IS NOT NULL"] + (["y IS NOT NULL"] if label else [])
        if shard is not None:  # one hash slice of the ID space: slices' pattern tables sum to the whole
            bucket = f"pmod(hash(id), {shard[1]})" if dialect == "spark" else f"hash(id) % {shard[1]}"
            need.append(f"{bucket} = {shard[0]}")
        ctes.append(f"t{i} AS (\n  SELECT {', '.join(cols)}\n  FROM {_source(path, i, dialect)}\n)")
        canon = ["id", f"{_canon_number('dt') if decision in numeric else _canon('dt')} AS d",
                 f"{(_canon_number('yt') if label in numeric else _canon('yt')) if label else 'NULL'} AS y"] + [
            f"g_{j}" for j in range(len(groups))]
        ctes.append(f"r{i} AS (\n  SELECT {', '.join(canon)}\n  FROM t{i}\n)")
        keep = ["id", f"{_failure(rule, name, 'd', 'y')} AS fail"] + [f"g_{j}" for j in range(len(groups))]
        ctes.append(f"f{i} AS (SELECT {', '.join(keep)} FROM r{i} WHERE {' AND '.join(need)})")
    k = len(paths)
    if join == "inner":
        body = "f1" + "".join(f"\n  JOIN f{i} ON f{i}.id = f1.id" for i in range(2, k + 1))
        id_expr = "f1.id"
    else:
        body = "f1"
        for i in range(2, k + 1):
            prev = "COALESCE(" + ", ".join(f"f{j}.id" for j in range(1, i)) + ")" if i > 2 else "f1.id"
            body += f"\n  FULL OUTER JOIN f{i} ON f{i}.id = {prev}"
        id_expr = "COALESCE(" + ", ".join(f"f{i}.id" for i in range(1, k + 1)) + ")"
    link_cols = [f"{id_expr} AS id"]
    link_cols += [f"COALESCE(f{i}.fail, FALSE) AS fail_{i}, f{i}.id IS NOT NULL AS seen_{i}" for i in range(1, k + 1)]
    link_cols += [f"COALESCE({', '.join(f'f{i}.g_{j}' for i in range(1, k + 1))}) AS g_{j}"
                  for j in range(len(groups))]
    where = ""
    if join == "outer":
        where = "\n  WHERE " + " + ".join(f"(CASE WHEN f{i}.id IS NULL THEN 0 ELSE 1 END)" for i in range(1, k + 1)) \
            + " >= 2"
    ctes.append(f"linked AS (\n  SELECT {', '.join(link_cols)}\n  FROM {body}{where}\n)")
    source = "linked"
    if from_people:
        pheader = set(header_of(people))
        pcols = [f"{_text(q(id_column))} AS id"] + [
            f"{_text(q(g)) if g in pheader else 'CAST(NULL AS STRING)'} AS pg_{j}" for j, g in enumerate(groups)]
        people_src = "people" if dialect == "spark" else _source(people, 0, dialect)
        ctes.append(f"p AS (SELECT {', '.join(pcols)} FROM {people_src})")
        source = "linked LEFT JOIN p ON p.id = linked.id"
    groups_out = [(f"COALESCE({f'p.pg_{j}, ' if from_people else ''}linked.g_{j}, '(missing)')", f"group:{g}")
                  for j, g in enumerate(groups)]
    pattern = [(f"fail_{i}", f"fail:{n}") for i, n in enumerate(names, start=1)]
    pattern += [(f"seen_{i}", f"seen:{n}") for i, n in enumerate(names, start=1)]
    select = ",\n  ".join(["COUNT(*) AS " + q("count")] + [f"{e} AS {q(a)}" for e, a in [*groups_out, *pattern]])
    group_by = ", ".join(e for e, _ in [*groups_out, *pattern])
    header = (f"-- monoculture pattern table ({dialect} SQL): {k} decision-makers, {join} join.\n"
              "-- Drops rows with a missing ID, decision or label; assumes one row per ID per input\n"
              "-- (monoculture audit checks and counts both). Save the result as Parquet and run\n"
              "-- monoculture audit --patterns FILE (names: " + ", ".join(names) + ").\n")
    return header + "WITH\n" + ",\n".join(ctes) + f"\nSELECT\n  {select}\nFROM {source}\nGROUP BY {group_by}\n"
