"""Where the heavy step (read → link → count) runs: in memory (Arrow/NumPy, the default; one input at a
time for the files layout, so its memory follows the number of individuals, not the size of the files), in
DuckDB, which streams the inputs and spills to disk, or on Spark (`--spark-master`, default local[*]), for
inputs past one machine.

All run the same definitions: DuckDB and Spark execute the SQL of `--emit-sql` (`sql.py`), whose pattern
table equals the in-memory one (tests/test_patterns_io.py). A checking query (`sql.check_sql`) first counts
what the in-memory reader checks row by row and compares each linked individual's group values, so they
refuse, or drop and count, the same rows, treat conflicting group values alike and report the same per-input
coverage; when it finds no ID on two rows of one input, the count joins the rows without grouping them by
ID first. Before both, a scan (`tally.scan_sql`) counts the row checks that need no grouping; when it finds
nothing to refuse, one aggregation (`tally.tally_sql`, run by `tally.tally_counts`) links, checks for
repeated IDs and counts at once, and the checking query and the joins run only when it finds an ID on two
rows of one input. DuckDB's one aggregation keys rows by two 64-bit hashes of the ID (`tally.tally_sql`
says what that risks); the checking query and the joins compare the text.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa

from ..choices import ENGINES
from ..errors import InputError, UsageError
from ..link.coverage import (
    SourceCoverage,
    duplicate_ids_message,
    group_conflict_message,
    missing_decisions_message,
    missing_rows_message,
    people_duplicates_message,
)
from ..link.group_values import MISSING_GROUP
from ..read.csv_text import declared_delimiter, delimiter
from ..read.files import STDIN, expand_paths, file_format, require_columns
from ..read.memory import available_bytes, estimate_bytes, streaming_plan
from ..read.names import named_path
from ..spec import AuditSpec, FailureRule, SpecError
from .slices import disk_slices, duckdb_memory_limit, tally_slices
from .spark_values import spark_group_text
from .sql import check_rows, check_sql, emit_sql
from .table_file import Counted, from_arrow
from .tally import tally_counts


def choose(
    engine: str, inputs: Sequence[str], available: int | None = None, layout: str | None = None,
) -> tuple[str, str | None]:
    """The engine to use and, when chosen automatically for size, the sentence saying why.

    The memory engine streams the files layout (one input at a time), so for it only the streaming
    estimate has to fit; other layouts are read whole.
    """
    if engine not in ENGINES:
        raise SpecError("engine.engine", f"must be one of {', '.join(ENGINES)}; got '{engine}'")
    if engine != "auto":
        return engine, None
    available = available if available is not None else available_bytes()
    paths = expand_paths(list(inputs)) if layout in (None, "files") else list(inputs)
    whole = estimate_bytes(paths)
    if available is None or whole <= 0.9 * available:
        return "memory", None
    streams = layout in (None, "files") and len(paths) >= 2 and STDIN not in paths
    if streams and (plan := streaming_plan(paths, available)).need <= 0.9 * available:
        ids = ", each one's IDs once the previous one's are coded" if plan.ids_one_at_a_time else ""
        # The report says the choice and the estimates, which the files fix, not the memory free at the time,
        # which would make two runs of one audit differ.
        return "memory", (f"engine: memory, streaming one input at a time{ids} (about {plan.need / 2**30:.1f} "
                          f"GiB; reading every input at once would need {whole / 2**30:.1f} GiB, more than is "
                          "free)")
    if not _has_duckdb():
        raise UsageError(
            f"the inputs need about {whole / 2**30:.1f} GiB in memory but {available / 2**30:.1f} GiB is free; "
            "install the out-of-core engine (pip install 'monoculture[duckdb]') or audit shards separately "
            "(monoculture count per shard, then audit --patterns)")
    return "duckdb", (f"engine: duckdb, streaming within a memory limit (the inputs need about "
                      f"{whole / 2**30:.1f} GiB in memory, more than is free)")


def _has_duckdb() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def count_external(engine: str, spec: AuditSpec) -> Counted:
    """Count the pattern table with the SQL of `--emit-sql`, run by DuckDB or Spark.

    A scan and one aggregation (`_tally`) stand for the two queries below when no row is refused and no ID
    is on two rows of one input (about half the time; bench/README.md). Otherwise the query of
    `sql.check_sql` counts what the in-memory reader checks row by row (missing IDs,
    decisions and labels, decisions that are not numbers, repeated IDs); `on_missing` and `on_duplicate`
    then stop the count with the in-memory engine's message or drop and count those rows, as it does, and
    `on_group_conflict` stops it, or counts as missing, a group value given two ways to a linked individual.
    DuckDB counts the ID space in `id_shards` hash slices one after another and sums their pattern tables;
    by default as many as `slices.tally_slices` and `slices.disk_slices` give (memory for the one
    aggregation, the temporary disk for the text-keyed queries).
    """
    inputs, people, layout = spec.inputs.paths, spec.inputs.people, spec.inputs.layout
    cols, rule, link = spec.columns, spec.rule, spec.link
    id_column, decision, label, groups, join = cols.id, cols.decision, cols.label, cols.groups, link.join
    on_missing, on_duplicate, on_group_conflict = link.on_missing, link.on_duplicate, link.on_group_conflict
    memory_limit, spark_master, id_shards = spec.engine.memory_limit, spec.engine.spark_master, spec.engine.id_shards
    if cols.people_id not in (None, cols.id):
        raise UsageError(f"{{engine.engine={engine}}} reads the people file's IDs from {{columns.id}}: rename its "
                         "key column, or count with {engine.engine=memory}")
    if cols.per_input:
        raise UsageError(f"{{engine.engine={engine}}} reads one ID, decision and label column name for every "
                         "input: rename the columns, or count with {engine.engine=memory}")
    if link.missing_decision not in (None, link.on_missing):
        raise UsageError(f"{{engine.engine={engine}}} treats a missing decision as any missing value "
                         f"({{link.on_missing={link.on_missing}}}): count with {{engine.engine=memory}} to "
                         f"{link.missing_decision} it apart")
    if layout not in (None, "files"):
        raise UsageError(f"{{engine.engine={engine}}} reads the files layout (one file per decision-maker); "
                         "use {engine.engine=memory} for other layouts")
    sql_options = dict(id_column=id_column, decision=decision, label=label, groups=groups, rule=rule, join=join,
                       layout=layout)
    files = [named_path(a) for a in expand_paths(list(inputs))]
    notes: list[str] = []
    # One limit, read once: the slices are sized against the limit DuckDB is given.
    limit = duckdb_memory_limit(memory_limit) if engine == "duckdb" else None
    opened = (_duckdb_session(limit) if engine == "duckdb"
              else _spark_session(files, people, sql_options, spark_master or "local[*]"))
    with declared_delimiter(spec.inputs.delimiter), opened as (run, dialect):
        query = {**sql_options, **dialect}
        shards = (id_shards or tally_slices(inputs, limit)) if limit is not None else 1
        checks, table = tally_counts(run, inputs, [n for n, _ in files], query, people, _slices(shards), on_missing)
        if checks is None:
            checks = check_rows(run(check_sql(inputs, **query, people=people)).to_pylist()[0], len(files),
                                len(groups))
        sources = _checked_sources(checks, files, rule, on_missing, on_duplicate)
        if checks[0]["people_repeated"]:
            assert people is not None
            raise InputError(people_duplicates_message(checks[0]["people_repeated"]) + _WHERE, file=people)
        conflicts = {g: checks[0][f"conflicts_{j}"] for j, g in enumerate(groups)}
        for g, n in conflicts.items():
            if n and on_group_conflict == "error":
                raise InputError(group_conflict_message(n), column=g)
        if table is None:
            drop = any(c.duplicate_rows for c in sources)
            unique = not any(c["repeated_ids"] for c in checks)
            shards = (id_shards or disk_slices(inputs)) if engine == "duckdb" else 1
            if shards > 1 and not id_shards:
                notes.append(f"engine duckdb: the ID space is counted in {shards} hash slices, one after the other, "
                             "so that the spill fits on the temporary disk (--id-shards overrides)")
            table = pa.concat_tables([
                run(emit_sql(inputs, **query, people=people, drop_duplicates=drop, unique_ids=unique, shard=s))
                for s in _slices(shards)])
    counted = from_arrow(table, engine)
    counted.rule = f"{rule.kind} (as --emit-sql computes it; see monoculture count --emit-sql)"
    counted.options = spec.echo_counting() | {"engine": engine}
    counted.inputs = []  # no file is read in Python, so no checksum or row count to report
    _fill_coverage(counted, sources, checks[0]["individuals"], conflicts)
    counted.warnings = notes
    return counted


# Said after an external engine's complaint about rows: only the in-memory engine knows row numbers.
_WHERE = " ({engine.engine=memory} names the first such row)"


def _checked_sources(
    checks: list[dict], files: list[tuple[str, str]], rule: FailureRule, on_missing: str, on_duplicate: str,
) -> list[SourceCoverage]:
    """Each input's coverage from its check counts, or the in-memory engine's error for the first problem
    (in its order: ID, decision, label, repeated IDs; without the row number, which only it knows)."""
    out, missing = [], []
    for (name, path), c in zip(files, checks, strict=True):
        if c["not_numeric"]:
            raise InputError(f"a threshold or top fraction needs numeric scores; found {c['not_numeric']} values "
                             "that are not numbers" + _WHERE, file=path)
        if on_missing == "error":
            if c["missing_id"]:
                raise InputError(missing_rows_message(c["missing_id"], "a missing or blank ID") + _WHERE, file=path)
            if c["missing_decision"]:  # counted over every input, told at the end (as the memory engine does)
                missing.append((path, c["missing_decision"]))
            if c["missing_label"]:
                raise InputError(missing_rows_message(c["missing_label"], "no label") + _WHERE, file=path)
        if c["duplicate_ids"] and on_duplicate == "error":
            raise InputError(duplicate_ids_message(c["duplicate_ids"], c["duplicate_rows"]) + _WHERE, file=path)
        out.append(SourceCoverage(
            name=name, file=path, rows=c["all_rows"], missing_id=c["missing_id"],
            missing_decision=c["missing_decision"], missing_label=c["missing_label"],
            duplicate_rows=c["duplicate_rows"], duplicate_ids=c["duplicate_ids"], valid_rows=c["valid_rows"],
            failed_rows=c["failed_rows"]))
    if missing:
        total = sum(n for _, n in missing)
        raise InputError(missing_decisions_message(total, len(missing), len(files)) + _WHERE, file=missing[0][0])
    return out


def _fill_coverage(
    counted: Counted, sources: list[SourceCoverage], individuals: int, conflicts: dict[str, int],
) -> None:
    """The checked inputs' coverage, completed from the pattern table (who was linked: `from_arrow` counted it);
    `conflicts`: per group attribute, the linked individuals whose values conflict (in the table as missing)."""
    t, cov = counted.table, counted.coverage
    linked = {s.name: s.linked for s in cov.sources}
    for s in sources:
        s.linked = linked[s.name]
        s.not_linked = s.valid_rows - s.linked
        s.linked_individuals_unseen = cov.linked - s.linked
    cov.sources = sources
    cov.individuals_seen = individuals
    cov.excluded_by_join = individuals - cov.linked
    for a, attr in enumerate(t.attributes):
        missing = np.array([cell[a] == MISSING_GROUP for cell in t.cell_labels], dtype=bool)
        in_missing = int(t.row_count @ missing[t.row_cell]) if len(t.cell_labels) else 0
        cov.group_conflicts[attr] = conflicts.get(attr, 0)
        cov.missing_group[attr] = in_missing - cov.group_conflicts[attr]


@contextlib.contextmanager
def _duckdb_session(limit: str) -> Iterator[tuple[Callable[[str], pa.Table], dict]]:
    """An embedded DuckDB with a memory `limit` (`slices.duckdb_memory_limit`) and a spill directory: (run a
    query, the SQL options)."""
    try:
        import duckdb
    except ImportError:
        raise UsageError("{engine.engine=duckdb} needs DuckDB: pip install 'monoculture[duckdb]'") from None
    with tempfile.TemporaryDirectory(prefix="monoculture-spill-") as spill:
        con = duckdb.connect()

        @contextlib.contextmanager
        def reported() -> Iterator[None]:
            try:
                yield
            except duckdb.Error as exc:
                raise UsageError(f"DuckDB could not count the inputs: {str(exc).splitlines()[0]}") from None

        def run(sql: str) -> pa.Table:
            with reported():
                result = con.sql(sql).arrow()
            return result.read_all() if hasattr(result, "read_all") else result

        try:
            with reported():
                con.execute(f"SET memory_limit = '{limit}'")
                con.execute(f"SET temp_directory = '{spill}'")
                con.execute("SET preserve_insertion_order = false")
                # Zoned timestamps as group values are written in UTC, as values.group_text writes them.
                con.execute("SET TimeZone = 'UTC'")
            yield run, {}
        finally:
            con.close()


def _slices(shards: int) -> list[tuple[int, int] | None]:
    return [(s, shards) if shards > 1 else None for s in range(shards)]


@contextlib.contextmanager
def _spark_session(
    files: list[tuple[str, str]], people: str | None, sql_options: dict, master: str,
) -> Iterator[tuple[Callable[[str], pa.Table], dict]]:
    """A Spark session with each input registered as a view (src_1, src_2, ..., people): (run a Spark-dialect
    query there and bring back its result, the SQL options). Paths may be local, HDFS or object-store URIs."""
    log_dir = tempfile.mkdtemp(prefix="monoculture-spark-")
    try:
        with _spark_views(files, people, sql_options, master, log_dir) as session:
            yield session
    finally:
        # The JVM's start-up chatter: not for the user, and each session would leave a directory behind (the
        # JVM may keep the file open; removing it is then harmless on POSIX).
        shutil.rmtree(log_dir, ignore_errors=True)


@contextlib.contextmanager
def _spark_views(
    files: list[tuple[str, str]], people: str | None, sql_options: dict, master: str, log_dir: str,
) -> Iterator[tuple[Callable[[str], pa.Table], dict]]:
    """`_spark_session`, its JVM's start-up output written to a log file in `log_dir`."""
    try:
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("{engine.engine=spark} needs PySpark (and Java 17+): "
                         "pip install 'monoculture[spark]'") from None
    from py4j.protocol import Py4JError

    try:
        # The JVM writes its start-up chatter to the stderr it inherits: give it a log file instead, so the
        # report's stderr holds only monoculture's notes (Spark's errors reach us as exceptions).
        with warnings.catch_warnings(), _stderr_to(os.path.join(log_dir, "spark.log")):
            warnings.simplefilter("ignore", FutureWarning)  # PySpark's note on the pandas version
            spark = (SparkSession.builder.master(master).appName("monoculture")
                     .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                     # zoned timestamps are written as UTC, as the DuckDB engine and the memory engine write them
                     .config("spark.sql.session.timeZone", "UTC")
                     .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
    except (PySparkException, Py4JError, RuntimeError, OSError) as exc:
        raise UsageError(f"could not start Spark at {master} ({_first_line(exc)}); is Java 17+ installed?") from None
    headers: dict[str, list[str]] = {}
    integral: dict[str, list[str]] = {}
    label = sql_options["label"]
    needed = [sql_options["id_column"], sql_options["decision"], *([label] if label else [])]

    def run(sql: str) -> pa.Table:
        try:
            result = spark.sql(sql)
            return result.toArrow() if hasattr(result, "toArrow") else pa.Table.from_pandas(result.toPandas())
        except (PySparkException, Py4JError) as exc:
            raise UsageError(f"Spark could not count the inputs: {_first_line(exc)}") from None

    try:
        for view, path in [*((f"src_{i}", p) for i, (_, p) in enumerate(files, start=1)),
                           *([("people", people)] if people else [])]:
            frame = spark_group_text(spark, _spark_read(spark, path), sql_options["groups"])
            headers[path] = [c.strip() for c in frame.columns]
            integral[path] = [c.strip() for c, kind in frame.dtypes if kind in _SPARK_INTEGRAL]
            require_columns(path, headers[path], needed if view != "people" else needed[:1], {})
            frame.createOrReplaceTempView(view)
    except (PySparkException, Py4JError) as exc:
        raise UsageError(f"Spark could not count the inputs: {_first_line(exc)}") from None
    yield run, {"dialect": "spark", "headers": headers, "integral": integral}


@contextlib.contextmanager
def _stderr_to(path: str) -> Iterator[None]:
    """Point file descriptor 2 at `path` for the duration (child processes started inside keep it)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


_SPARK_INTEGRAL = {"tinyint", "smallint", "int", "bigint", "boolean"}


def _spark_read(spark, path: str):
    if file_format(path) == "parquet":
        return spark.read.parquet(path)
    # Every column as text, as DuckDB's all_varchar: the SQL brings values to canonical form itself.
    return spark.read.csv(path, header=True, sep=delimiter(path), inferSchema=False, encoding="UTF-8")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def sql_of(spec: AuditSpec, dialect: str = "duckdb") -> str:
    """The SQL that computes the spec's pattern table (`--emit-sql`): run it where the data sit."""
    cols = spec.columns
    if cols.per_input:
        raise UsageError("{engine.sql} writes one ID, decision and label column name for every input: rename "
                         "the columns first")
    with declared_delimiter(spec.inputs.delimiter):
        return emit_sql(spec.inputs.paths, id_column=cols.id, decision=cols.decision, label=cols.label,
                        groups=cols.groups, people=spec.inputs.people, rule=spec.rule, join=spec.link.join,
                        layout=spec.inputs.layout, dialect=dialect)
