"""Where the heavy step (read → link → count) runs: in memory (Arrow/NumPy, the default; one input at a
time for the files layout, so its memory follows the number of individuals, not the size of the files), in
DuckDB, which streams the inputs and spills to disk, or on Spark (`--spark-master`, default local[*]), for
inputs past one machine.

All run the same definitions: DuckDB and Spark execute the SQL of `--emit-sql` (`sql.py`), whose pattern
table equals the in-memory one (tests/test_patterns_io.py). What they do not do is the row-level checking
of the in-memory reader: they drop rows with a missing ID, decision or label and assume one row per ID
per input, and their coverage holds only the linked individuals; the report says so.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence

import pyarrow as pa

from .errors import UsageError
from .failures import FailureRule
from .io import STDIN, delimiter, expand_paths, file_format, require_columns
from .memory import available_bytes, estimate_bytes, estimate_streaming_bytes
from .shards import Counted, from_arrow
from .sources import named_path
from .sql import emit_sql

ENGINES = ("auto", "memory", "duckdb", "spark")


def choose(
    engine: str, inputs: Sequence[str], available: int | None = None, layout: str | None = None,
) -> tuple[str, str | None]:
    """The engine to use and, when chosen automatically for size, the sentence saying why.

    The memory engine streams the files layout (one input at a time), so for it only the streaming
    estimate has to fit; other layouts are read whole.
    """
    if engine not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}; got '{engine}'")
    if engine != "auto":
        return engine, None
    available = available if available is not None else available_bytes()
    paths = expand_paths(list(inputs)) if layout in (None, "files") else list(inputs)
    whole = estimate_bytes(paths)
    if available is None or whole <= 0.9 * available:
        return "memory", None
    streams = layout in (None, "files") and len(paths) >= 2 and STDIN not in paths
    if streams and (need := estimate_streaming_bytes(paths)) <= 0.9 * available:
        return "memory", (f"engine: memory, streaming one input at a time (about {need / 2**30:.1f} GiB; "
                          f"reading every input at once would need {whole / 2**30:.1f} GiB, and "
                          f"{available / 2**30:.1f} GiB is free)")
    if not _has_duckdb():
        raise UsageError(
            f"the inputs need about {whole / 2**30:.1f} GiB in memory but {available / 2**30:.1f} GiB is free; "
            "install the out-of-core engine (pip install 'monoculture[duckdb]') or audit shards separately "
            "(monoculture count per shard, then audit --patterns)")
    return "duckdb", (f"engine: duckdb, streaming and spilling to disk (the inputs need about "
                      f"{whole / 2**30:.1f} GiB in memory; {available / 2**30:.1f} GiB is free)")


def _has_duckdb() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def count_external(
    engine: str, inputs: Sequence[str], *, id_column: str, decision: str, label: str | None,
    groups: Sequence[str], people: str | None, rule: FailureRule, join: str, layout: str | None, options: dict,
    memory_limit: str | None = None, spark_master: str | None = None, id_shards: int | None = None,
) -> Counted:
    """Count the pattern table with the SQL of `--emit-sql`, run by DuckDB or Spark.

    DuckDB counts the ID space in `id_shards` hash slices one after another (by default as many as keep the
    spill within half the free temporary disk) and sums their pattern tables.
    """
    if layout not in (None, "files"):
        raise UsageError(f"--engine {engine} reads the files layout (one file per decision-maker); "
                         "use --engine memory for other layouts")
    sql_options = dict(id_column=id_column, decision=decision, label=label, groups=groups, people=people,
                       rule=rule, join=join, layout=layout)
    notes: list[str] = []
    if engine == "duckdb":
        shards = id_shards or _shards_for_disk(inputs)
        if shards > 1 and not id_shards:
            notes.append(f"engine duckdb: the ID space is counted in {shards} hash slices, one after the other, so "
                         "that the spill fits on the temporary disk (--id-shards overrides)")
        table = _run_duckdb([emit_sql(inputs, **sql_options, shard=(s, shards) if shards > 1 else None)
                             for s in range(shards)], memory_limit)
    elif engine == "spark":
        table = _run_spark(inputs, sql_options, spark_master or "local[*]")
    else:
        raise UsageError(f"unknown engine '{engine}'")
    counted = from_arrow(table, engine)
    counted.rule = f"{rule.kind} (as --emit-sql computes it; see monoculture count --emit-sql)"
    counted.options = options | {"engine": engine}
    counted.inputs = []  # no file is read in Python, so no checksum or row count to report
    counted.warnings = [f"engine {engine}: rows with a missing ID, decision or label are dropped without being "
                        "counted, and duplicate IDs are not checked (the in-memory engine checks both)", *notes]
    return counted


# Spill of the DuckDB engine per byte of input, a rough guess from one size (10^8 × 10 Parquet, 8 GB: the
# join had spilled 41 GB after 20 minutes, unfinished; CSV holds the same rows in about 3× the bytes).
SPILL_PER_BYTE = {"parquet": 10.0, "csv": 3.5, "csv.gz": 3.5}


def _shards_for_disk(inputs: Sequence[str]) -> int:
    """How many hash slices keep the DuckDB engine's spill within half the free temporary disk."""
    need = estimate_bytes(expand_paths(list(inputs)), SPILL_PER_BYTE)
    free = shutil.disk_usage(tempfile.gettempdir()).free
    return max(1, math.ceil(need / (0.5 * free))) if free else 1


def _run_duckdb(queries: Sequence[str], memory_limit: str | None) -> pa.Table:
    """Run the pattern-table SQL (one query per ID slice, in turn) in an embedded DuckDB with a memory limit
    and a spill directory; the slices' tables are stacked (and summed when read)."""
    try:
        import duckdb
    except ImportError:
        raise UsageError("--engine duckdb needs DuckDB: pip install 'monoculture[duckdb]'") from None
    with tempfile.TemporaryDirectory(prefix="monoculture-spill-") as spill:
        con = duckdb.connect()
        try:
            avail = available_bytes()
            limit = memory_limit or (f"{max(1, int(0.5 * avail / 2**30))}GB" if avail else "4GB")
            con.execute(f"SET memory_limit = '{limit}'")
            con.execute(f"SET temp_directory = '{spill}'")
            con.execute("SET preserve_insertion_order = false")
            parts = []
            for sql in queries:
                result = con.sql(sql).arrow()
                parts.append(result.read_all() if hasattr(result, "read_all") else result)
            return pa.concat_tables(parts)
        except duckdb.Error as exc:
            raise UsageError(f"DuckDB could not count the inputs: {str(exc).splitlines()[0]}") from None
        finally:
            con.close()


def _run_spark(inputs: Sequence[str], sql_options: dict, master: str) -> pa.Table:
    """Register each input as a Spark view (src_1, src_2, ..., people), run the Spark-dialect SQL there
    and bring back only the pattern table. Paths may be local, HDFS or object-store URIs."""
    try:
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("--engine spark needs PySpark (and Java 17+): pip install 'monoculture[spark]'") from None
    from py4j.protocol import Py4JError

    log_dir = tempfile.mkdtemp(prefix="monoculture-spark-")
    try:
        # The JVM writes its start-up chatter to the stderr it inherits: give it a log file instead, so the
        # report's stderr holds only monoculture's notes (Spark's errors reach us as exceptions).
        with warnings.catch_warnings(), _stderr_to(os.path.join(log_dir, "spark.log")):
            warnings.simplefilter("ignore", FutureWarning)  # PySpark's note on the pandas version
            spark = (SparkSession.builder.master(master).appName("monoculture")
                     .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                     .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
    except (PySparkException, Py4JError, RuntimeError, OSError) as exc:
        raise UsageError(f"could not start Spark at {master} ({_first_line(exc)}); is Java 17+ installed?") from None
    paths = [named_path(a)[1] for a in expand_paths(list(inputs))]
    people = sql_options["people"]
    headers: dict[str, list[str]] = {}
    integral: dict[str, list[str]] = {}
    label = sql_options["label"]
    needed = [sql_options["id_column"], sql_options["decision"], *([label] if label else [])]
    try:
        for view, path in [*((f"src_{i}", p) for i, p in enumerate(paths, start=1)),
                           *([("people", people)] if people else [])]:
            frame = _spark_read(spark, path)
            headers[path] = [c.strip() for c in frame.columns]
            integral[path] = [c.strip() for c, kind in frame.dtypes if kind in _SPARK_INTEGRAL]
            require_columns(path, headers[path], needed if view != "people" else needed[:1], {})
            frame.createOrReplaceTempView(view)
        result = spark.sql(emit_sql(inputs, **sql_options, dialect="spark", headers=headers, integral=integral))
        return result.toArrow() if hasattr(result, "toArrow") else pa.Table.from_pandas(result.toPandas())
    except (PySparkException, Py4JError) as exc:
        raise UsageError(f"Spark could not count the inputs: {_first_line(exc)}") from None


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
