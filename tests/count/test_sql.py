"""The SQL of `--emit-sql`, run through DuckDB, gives the pattern table the memory engine counts."""

from __future__ import annotations

import json

import pytest
from ecosystems import (
    LENDERS,
    RULES,
    random_ecosystem,
    run,
    table_dict,
)

import monoculture
from monoculture.audit import count
from monoculture.count.sql import emit_sql
from monoculture.count.table_file import from_arrow
from monoculture.spec import FailureRule

duckdb = pytest.importorskip("duckdb", reason="duckdb (the test extra) runs the emitted SQL")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.kind}-{r.threshold}")
@pytest.mark.parametrize("join", ["inner", "outer"])
@pytest.mark.parametrize("people", [False, True])
def test_emitted_sql_in_duckdb_gives_the_same_pattern_table(tmp_path, rule, join, people):
    inputs, people_path = random_ecosystem(tmp_path, 11, people)
    decision = "score" if rule.uses_scores else "decision"
    kw = {"id_column": "id", "decision": decision, "label": "label", "groups": ["group"], "people": people_path}
    ours = count(inputs, join=join, on_missing="drop", failure=rule.kind, favorable=rule.favorable,
                 unfavorable=rule.unfavorable, threshold=rule.threshold, thresholds=rule.thresholds,
                 lower_is_favorable=rule.lower_is_favorable, population=rule.population, **kw)
    sql = emit_sql(inputs, rule=rule, join=join, **kw)
    result = duckdb.connect().sql(sql).arrow()
    result = result.read_all() if hasattr(result, "read_all") else result
    theirs = from_arrow(result)
    assert table_dict(theirs.table) == table_dict(ours.table)
    assert theirs.table.names == ours.table.names


def test_emit_sql_cli_round_trip(tmp_path):
    proc = run("count", *LENDERS, "--id", "applicant_id", "--decision", "approved", "--label", "repaid",
               "-g", "race", "--emit-sql")
    assert proc.returncode == 0, proc.stderr.decode()
    sql = proc.stdout.decode()
    assert sql.startswith("-- monoculture pattern table")
    out = tmp_path / "from_sql.parquet"
    duckdb.connect().sql(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
    via = run("audit", "--patterns", str(out), "-f", "json")
    direct = run("audit", *LENDERS, "--id", "applicant_id", "--decision", "approved", "--label", "repaid",
                 "-g", "race", "-f", "json")
    assert via.returncode == 0, via.stderr.decode()
    jv, jd = json.loads(via.stdout), json.loads(direct.stdout)
    assert jv["overall"] == jd["overall"] and jv["groups"] == jd["groups"]


def test_emit_sql_refuses_what_it_cannot_express():
    with pytest.raises(monoculture.MonocultureError, match=r"does not support rule\.top_fraction"):
        emit_sql(LENDERS, id_column="applicant_id", decision="score", label="repaid", groups=[], people=None,
                 rule=FailureRule("error", top_fraction=0.3))
    spark = emit_sql(LENDERS, id_column="applicant_id", decision="approved", label="repaid", groups=["race"],
                     people=None, rule=FailureRule("error"), dialect="spark")
    assert "`applicant_id`" in spark and "FROM src_1" in spark and '"' not in spark.split("WITH", 1)[1]


