"""Where the heavy step (read → link → count) runs: in memory (Arrow/NumPy, the default) or in DuckDB,
which streams the inputs and spills to disk, so inputs larger than memory complete with bounded memory.

Both run the same definitions: the DuckDB engine executes the SQL of `--emit-sql` (`sql.py`), whose pattern
table equals the in-memory one (tests/test_patterns_io.py). What the DuckDB engine does not do is the
row-level checking of the in-memory reader: it drops rows with a missing ID, decision or label and assumes
one row per ID per input, and its coverage holds only the linked individuals; the report says so.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence

from .errors import UsageError
from .failures import FailureRule
from .io import expand_paths
from .memory import available_bytes, estimate_bytes
from .shards import Counted, from_arrow
from .sql import emit_sql

ENGINES = ("auto", "memory", "duckdb")


def choose(engine: str, inputs: Sequence[str], available: int | None = None) -> tuple[str, str | None]:
    """The engine to use and, when chosen automatically for size, the sentence saying why."""
    if engine not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}; got '{engine}'")
    if engine != "auto":
        return engine, None
    available = available if available is not None else available_bytes()
    need = estimate_bytes(expand_paths(list(inputs)))
    if available is None or need <= 0.9 * available:
        return "memory", None
    if not _has_duckdb():
        raise UsageError(
            f"the inputs need about {need / 2**30:.1f} GiB in memory but {available / 2**30:.1f} GiB is free; "
            "install the out-of-core engine (pip install 'monoculture[duckdb]') or audit shards separately "
            "(monoculture count per shard, then audit --patterns)")
    return "duckdb", (f"engine: duckdb, streaming and spilling to disk (the inputs need about "
                      f"{need / 2**30:.1f} GiB in memory; {available / 2**30:.1f} GiB is free)")


def _has_duckdb() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def count_duckdb(
    inputs: Sequence[str], *, id_column: str, decision: str, label: str | None, groups: Sequence[str],
    people: str | None, rule: FailureRule, join: str, layout: str | None, options: dict,
    memory_limit: str | None = None,
) -> Counted:
    """Run the pattern-table SQL in an embedded DuckDB with a memory limit and a spill directory."""
    try:
        import duckdb
    except ImportError:
        raise UsageError("--engine duckdb needs DuckDB: pip install 'monoculture[duckdb]'") from None
    sql = emit_sql(inputs, id_column=id_column, decision=decision, label=label, groups=groups, people=people,
                   rule=rule, join=join, layout=layout)
    with tempfile.TemporaryDirectory(prefix="monoculture-spill-") as spill:
        con = duckdb.connect()
        try:
            avail = available_bytes()
            limit = memory_limit or (f"{max(1, int(0.5 * avail / 2**30))}GB" if avail else "4GB")
            con.execute(f"SET memory_limit = '{limit}'")
            con.execute(f"SET temp_directory = '{spill}'")
            con.execute("SET preserve_insertion_order = false")
            result = con.sql(sql).arrow()
            table = result.read_all() if hasattr(result, "read_all") else result
        except duckdb.Error as exc:
            raise UsageError(f"DuckDB could not count the inputs: {str(exc).splitlines()[0]}") from None
        finally:
            con.close()
    counted = from_arrow(table, "duckdb")
    counted.rule = f"{rule.kind} (as --emit-sql computes it; see monoculture count --emit-sql)"
    counted.options = options | {"engine": "duckdb"}
    counted.inputs = []  # no file is read in Python, so no checksum or row count to report
    counted.warnings = ["engine duckdb: rows with a missing ID, decision or label are dropped without being "
                        "counted, and duplicate IDs are not checked (the in-memory engine checks both)"]
    return counted
