"""`--engine spark`: Spark SQL in local mode gives the same pattern table and the same audit as the
in-memory engine. Needs PySpark (the test extra) and Java 17+; skipped, saying which is missing, otherwise."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from ecosystems import KW, LENDERS, RULES, complaint, messy_ecosystem, random_ecosystem, table_dict, without

import monoculture
from conftest import sample_linked
from monoculture.audit import count
from monoculture.report.json import render_json

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'monoculture[spark]')")


def _java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    try:
        version = out.split('"')[1]
    except IndexError:
        return None
    return int(version.split(".")[0]) if not version.startswith("1.") else int(version.split(".")[1])


if (_java_major() or 0) < 17:
    pytest.skip("Spark needs Java 17+, and no such java is on PATH", allow_module_level=True)

MASTER = "local[2]"


@pytest.mark.parametrize(("rule", "join", "people"), [
    (rule, join, (i + j) % 2 == 0) for i, rule in enumerate(RULES) for j, join in enumerate(["inner", "outer"])
], ids=lambda v: getattr(v, "kind", str(v)))
def test_spark_engine_gives_the_same_pattern_table(tmp_path, rule, join, people):
    inputs, people_path = random_ecosystem(tmp_path, 23, people)
    decision = "score" if rule.uses_scores else "decision"
    kw = {"id_column": "id", "decision": decision, "label": "label", "groups": ["group"], "people": people_path,
          "join": join, "failure": rule.kind, "favorable": rule.favorable, "unfavorable": rule.unfavorable,
          "threshold": rule.threshold, "thresholds": rule.thresholds,
          "lower_is_favorable": rule.lower_is_favorable, "population": rule.population}
    ours = count(inputs, on_missing="drop", engine="memory", **kw)
    spark = count(inputs, on_missing="drop", engine="spark", spark_master=MASTER, **kw)
    assert table_dict(spark.table) == table_dict(ours.table)
    assert spark.table.names == ours.table.names
    assert spark.coverage.linked == ours.coverage.linked


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_spark_engine_checks_and_counts_rows_as_the_memory_engine(tmp_path, join):
    inputs = messy_ecosystem(tmp_path, 3)
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["group"], "join": join}
    drop = {"on_missing": "drop", "on_duplicate": "drop", "on_group_conflict": "missing"}
    ours = count(inputs, **drop, engine="memory", **kw)
    spark = count(inputs, **drop, engine="spark", spark_master=MASTER, **kw)
    assert table_dict(spark.table) == table_dict(ours.table)
    assert [vars(s) for s in spark.coverage.sources] == [vars(s) for s in ours.coverage.sources]
    assert (spark.coverage.individuals_seen, spark.coverage.excluded_by_join) == (
        ours.coverage.individuals_seen, ours.coverage.excluded_by_join)
    assert (spark.coverage.group_conflicts, spark.coverage.missing_group) == (
        ours.coverage.group_conflicts, ours.coverage.missing_group)
    assert ours.coverage.group_conflicts["group"] > 0
    with pytest.raises(monoculture.InputError) as mem_error:
        count(inputs, engine="memory", **kw)
    with pytest.raises(monoculture.InputError) as spark_error:
        count(inputs, engine="spark", spark_master=MASTER, **kw)
    assert complaint(spark_error) == complaint(mem_error)


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_spark_engine_gives_the_same_audit(join):
    mem = json.loads(render_json(monoculture.audit(LENDERS, join=join, engine="memory", **KW)))
    spark = json.loads(render_json(monoculture.audit(LENDERS, join=join, engine="spark", spark_master=MASTER, **KW)))
    for key in ("overall", "groups", "group_homogenization", "leave_one_out", "homogenization_by_size", "pairwise"):
        assert spark.get(key) == mem.get(key), key
    assert without(spark["coverage"], "id_type") == without(mem["coverage"], "id_type")


def test_spark_engine_names_a_missing_column(tmp_path):
    with pytest.raises(monoculture.MonocultureError, match="not_there"):
        count(LENDERS, engine="spark", spark_master=MASTER, **{**KW, "decision": "not_there"})


def test_cli_spark_engine_keeps_stderr_to_our_own_notes(tmp_path):
    from ecosystems import run

    out = tmp_path / "spark.parquet"
    proc = run("count", *LENDERS, "--id", "applicant_id", "--decision", "approved", "--label", "repaid",
               "-g", "race", "--engine", "spark", "--spark-master", MASTER, "-o", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    err = proc.stderr.decode()
    _, linked, rows = sample_linked()
    assert err.startswith(f"wrote {rows} pattern rows for {linked:,} linked individuals"), err  # as pandas counts
    for chatter in ("WARN ", "log4j", "[Stage", "SparkContext", "incubator", "setLogLevel"):
        assert chatter not in err, err
    via = run("audit", "--patterns", str(out), "-f", "json")
    direct = run("audit", *LENDERS, "--id", "applicant_id", "--decision", "approved", "--label", "repaid",
                 "-g", "race", "-f", "json")
    assert json.loads(via.stdout)["overall"] == json.loads(direct.stdout)["overall"]


def test_spark_writes_typed_group_values_as_the_other_engines_do(tmp_path):
    """Parquet group columns of float64 (exponents, NaN, -0.0, missing), float32 (343126.125f, where DuckDB
    writes the double's digits) and zoned timestamps, beside a CSV that writes the same values as DuckDB
    writes them: every engine gives the same labels, no group conflict, the same pattern table. Before
    Spark's values were rewritten it wrote 1.0E20, NaN, 343126.12 and the UTC time without +00."""
    import datetime as dt

    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from monoculture.read.values import group_text

    rng = np.random.default_rng(7)
    n = 60
    wide = pa.array([1.0, 2.5, 1e20, 1e-7, 0.1, -0.0, float("nan"), None], pa.float64())
    single = pa.array(np.array([343126.125, 0.1, 1048576.75, 3.0], np.float32))
    paris = [dt.datetime(2024, 1, 1, 12, 30, 5, 500000, tzinfo=dt.UTC), dt.datetime(2024, 6, 1, tzinfo=dt.UTC)]
    zoned = pa.array(paris, pa.timestamp("us", tz="Europe/Paris"))
    columns = {"band": wide.take(rng.integers(0, len(wide), n)), "weight": single.take(rng.integers(0, 4, n)),
               "cohort": zoned.take(rng.integers(0, 2, n))}
    ids = [f"p{i:03d}" for i in range(n)]
    paths = []
    for j in range(3):
        table = pa.table({"id": ids, "decision": rng.integers(0, 2, n), "label": rng.integers(0, 2, n), **columns})
        if j == 2:  # the CSV: each value as DuckDB writes it
            table = pa.table({**{c: table[c] for c in ("id", "decision", "label")},
                              **{g: group_text(v) for g, v in columns.items()}})
            paths.append(str(tmp_path / "dm2.csv"))
            pacsv.write_csv(table, paths[-1])
        else:
            paths.append(str(tmp_path / f"dm{j}.parquet"))
            pq.write_table(table, paths[-1])
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["band", "weight", "cohort"]}
    ours = count(paths, engine="memory", **kw)
    spark = count(paths, engine="spark", spark_master=MASTER, **kw)
    labels = {v for cell in ours.table.cell_labels for v in cell}
    assert {"1e+20", "1e-07", "nan", "-0.0", "343126.125", "1048576.75", "2024-01-01 12:30:05.5+00"} <= labels
    assert spark.table.cell_labels == ours.table.cell_labels
    assert table_dict(spark.table) == table_dict(ours.table)
    assert spark.coverage.group_conflicts == ours.coverage.group_conflicts == {"band": 0, "weight": 0, "cohort": 0}


def test_spark_engine_leaves_no_log_directory_behind(tmp_path):
    """The JVM's start-up output goes to a log file in a temporary directory, removed when the count is done
    (each audit used to leave one)."""
    import glob
    import tempfile

    pattern = f"{tempfile.gettempdir()}/monoculture-spark-*"
    before = set(glob.glob(pattern))
    inputs, _people = random_ecosystem(tmp_path, 5, False)
    count(inputs, id_column="id", decision="decision", label="label", on_missing="drop", engine="spark",
          spark_master=MASTER)
    assert set(glob.glob(pattern)) <= before
