"""The pattern table as interchange: `count -o`, `audit --patterns` (one table or summed shards), and the
SQL of `--emit-sql` run through DuckDB — each must give the same pattern table and the same audit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monoculture
from monoculture.audit import count
from monoculture.count.sql import check_rows, check_sql, emit_sql
from monoculture.count.table_file import from_arrow, read_patterns, write_patterns
from monoculture.read.memory import estimate_bytes, estimate_streaming_bytes
from monoculture.read.values import group_text
from monoculture.report.json import render_json
from monoculture.spec import FailureRule
from profiles import examples

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
LENDERS = [str(SAMPLE / f) for f in
           ("lender_a.csv", "lender_b.csv", "lender_c.parquet", "lender_d.csv.gz", "lender_e.parquet")]
KW = {"id_column": "applicant_id", "decision": "approved", "label": "repaid", "groups": ["race", "sex"]}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monoculture", *args], capture_output=True, cwd=ROOT,
                          env={**os.environ}, timeout=120)


def table_dict(table) -> dict:
    """{(cell labels, fail bits, seen bits): count} — a pattern table independent of row order."""
    out = {}
    for cell, p, n in zip(table.row_cell, table.row_pattern, table.row_count, strict=True):
        key = (table.cell_labels[cell], tuple(table.fail[p]), tuple(table.present[p]))
        out[key] = out.get(key, 0) + int(n)
    return out


def without(data: dict, *keys: str) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_audit_from_pattern_file_equals_audit_from_inputs(tmp_path, join):
    path = tmp_path / "p.parquet"
    write_patterns(count(LENDERS, join=join, **KW), path)
    direct = json.loads(render_json(monoculture.audit(LENDERS, join=join, **KW)))
    via = json.loads(render_json(monoculture.audit([], patterns=[str(path)], **KW)))
    assert without(via, "options") == without(direct, "options")
    assert via["options"]["patterns"] == [str(path)]


def test_parity_survives_the_file(tmp_path):
    path = tmp_path / "p.parquet"
    write_patterns(count(LENDERS, **KW), path)
    direct = monoculture.audit(LENDERS, parity="bommasani2022", **KW)
    via = monoculture.audit([], patterns=[str(path)], parity="bommasani2022", **KW)
    assert json.loads(render_json(via))["parity"] == json.loads(render_json(direct))["parity"]


def _shard(tmp_path: Path, parts: int) -> list[list[str]]:
    """Split every lender file by ID into `parts` disjoint shards (all of one person's rows together)."""
    out: list[list[str]] = [[] for _ in range(parts)]
    for path in LENDERS:
        name = Path(path).name.split(".")[0]
        frame = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
        key = frame["applicant_id"].str[1:].astype(int) % parts
        for s in range(parts):
            target = tmp_path / f"{name}_{s}.csv"
            frame[key == s].to_csv(target, index=False)
            out[s].append(f"{name}={target}")
    return out


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_summed_shards_equal_the_whole(tmp_path, join):
    shards = _shard(tmp_path, 3)
    files = []
    for s, inputs in enumerate(shards):
        files.append(str(tmp_path / f"shard{s}.parquet"))
        write_patterns(count(inputs, join=join, **KW), files[-1])
    whole = count(LENDERS, join=join, **KW)
    merged = read_patterns(files)
    assert table_dict(merged.table) == table_dict(whole.table)
    np.testing.assert_array_equal(merged.table.input_counts, whole.table.input_counts)
    for a, b in zip(merged.coverage.sources, whole.coverage.sources, strict=True):
        assert (a.rows, a.linked, a.not_linked, a.valid_rows, a.failed_rows) == (
            b.rows, b.linked, b.not_linked, b.valid_rows, b.failed_rows)
    assert (merged.coverage.linked, merged.coverage.individuals_seen, merged.coverage.excluded_by_join) == (
        whole.coverage.linked, whole.coverage.individuals_seen, whole.coverage.excluded_by_join)
    direct = json.loads(render_json(monoculture.audit(LENDERS, join=join, **KW)))
    via = json.loads(render_json(monoculture.audit([], patterns=files, **KW)))
    for key in ("overall", "groups", "group_homogenization", "leave_one_out", "homogenization_by_size"):
        assert via[key] == direct[key], key


def test_cli_count_then_audit_patterns(tmp_path):
    out = tmp_path / "p.parquet"
    common = ["--id", "applicant_id", "--decision", "approved", "--label", "repaid", "-g", "race"]
    proc = run("count", *LENDERS, *common, "-o", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    assert "4,255 linked individuals" in proc.stderr.decode()
    shards = _shard(tmp_path, 2)
    files = []
    for s, inputs in enumerate(shards):
        files.append(str(tmp_path / f"s{s}.parquet"))
        assert run("count", *inputs, *common, "-o", files[-1]).returncode == 0
    a = run("audit", "--patterns", str(out), "-f", "json")
    b = run("audit", "--patterns", *files, "-f", "json")  # several files after one --patterns
    c = run("audit", *LENDERS, *common, "-f", "json")
    assert a.returncode == b.returncode == c.returncode == 0, b.stderr.decode()
    ja, jb, jc = (json.loads(p.stdout) for p in (a, b, c))
    assert ja["overall"] == jb["overall"] == jc["overall"]
    # no individual ID in the file: only count/group/fail/seen columns, and no ID in the metadata
    stored = pq.read_table(out)
    assert {c.split(":")[0] for c in stored.column_names} == {"count", "group", "fail", "seen"}
    meta = stored.schema.metadata[b"monoculture"].decode()
    ids = pd.read_csv(SAMPLE / "people.csv")["applicant_id"]
    assert not any(i in meta for i in ids)


@pytest.mark.parametrize(("content", "needle"), [
    (pa.table({"x": [1]}), "not a pattern table"),
    (pa.table({"count": [1], "fail:a": [True], "seen:a": [None]}).cast(
        pa.schema([("count", pa.int64()), ("fail:a", pa.bool_()), ("seen:a", pa.bool_())])), "boolean"),
    (pa.table({"count": [-1], "fail:a": [True], "seen:a": [True]}), "non-negative"),
])
def test_bad_pattern_tables_are_one_line_errors(tmp_path, content, needle):
    path = tmp_path / "bad.parquet"
    pq.write_table(content, path)
    proc = run("audit", "--patterns", str(path))
    err = proc.stderr.decode().strip()
    assert proc.returncode == 2 and len(err.splitlines()) == 1 and needle in err and "Traceback" not in err, err


def test_tables_of_different_audits_do_not_sum(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_patterns(count(LENDERS, **KW), a)
    write_patterns(count(LENDERS[:3], **KW), b)
    proc = run("audit", "--patterns", str(a), str(b))
    assert proc.returncode == 2 and "names differ" in proc.stderr.decode()


# --- --emit-sql through DuckDB -------------------------------------------------------------------------

duckdb = pytest.importorskip("duckdb", reason="duckdb (the test extra) runs the emitted SQL")


def random_ecosystem(tmp_path: Path, seed: int, people: bool) -> tuple[list[str], str | None]:
    """Four decision-makers with messy but valid values: 1/0, 1.0, ' true ', missing rows and cells; one
    Parquet file stores decisions as integers and labels as booleans (the SQL's one-cast path)."""
    rng = np.random.default_rng(seed)
    n = 300
    ids = [f"p{j:04d}" for j in range(n)]
    label = rng.integers(0, 2, n)
    group = rng.choice(["x", "y", "z"], n)
    args = []
    for i in range(4):
        decision = np.where(rng.random(n) < 0.75, label, 1 - label).astype(object)
        spelled = rng.random(n)
        decision = np.where(spelled < 0.1, np.where(decision == 1, " true ", "false"),
                            np.where(spelled < 0.2, np.where(decision == 1, "1.0", "0.0"), decision))
        frame = pd.DataFrame({"id": ids, "decision": decision, "label": label,
                              "score": rng.random(n).round(3), "group": group})
        frame.loc[rng.random(n) < 0.05, "decision"] = None
        frame = frame[rng.random(n) < 0.9].sample(frac=1, random_state=seed + i)
        path = tmp_path / f"dm{i}.{'parquet' if i in (1, 3) else 'csv'}"
        if i == 3:
            typed = frame.assign(
                decision=pd.array([None if pd.isna(v) else int(float(str(v).strip().lower() in ("true", "1", "1.0")))
                                   for v in frame["decision"]], dtype="Int8"),
                label=frame["label"].astype(bool))
            pq.write_table(pa.Table.from_pandas(typed, preserve_index=False), path)
        elif i == 1:
            frame = frame.assign(decision=frame["decision"].astype(str).where(frame["decision"].notna(), None))
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        else:
            frame.to_csv(path, index=False)
        args.append(f"dm{i}={path}")
    people_path = None
    if people:
        people_path = str(tmp_path / "people.csv")
        pd.DataFrame({"id": ids, "group": group}).iloc[: n - 10].to_csv(people_path, index=False)
    return args, people_path


RULES = [
    FailureRule("error"),
    FailureRule("outcome", unfavorable="0"),
    FailureRule("false-negative"),
    FailureRule("false-positive", favorable="1"),
    FailureRule("error", threshold=0.4),
    FailureRule("outcome", threshold=0.6, lower_is_favorable=True, thresholds={"dm1": 0.3}),
]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.kind}-{r.threshold}")
@pytest.mark.parametrize("join", ["inner", "outer"])
@pytest.mark.parametrize("people", [False, True])
def test_emitted_sql_in_duckdb_gives_the_same_pattern_table(tmp_path, rule, join, people):
    inputs, people_path = random_ecosystem(tmp_path, 11, people)
    decision = "score" if rule.uses_scores else "decision"
    kw = {"id_column": "id", "decision": decision, "label": "label", "groups": ["group"], "people": people_path}
    ours = count(inputs, join=join, on_missing="drop", failure=rule.kind, favorable=rule.favorable,
                 unfavorable=rule.unfavorable, threshold=rule.threshold, thresholds=rule.thresholds,
                 lower_is_favorable=rule.lower_is_favorable, **kw)
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
    with pytest.raises(monoculture.MonocultureError, match="top-fraction"):
        emit_sql(LENDERS, id_column="applicant_id", decision="score", label="repaid", groups=[], people=None,
                 rule=FailureRule("error", top_fraction=0.3))
    spark = emit_sql(LENDERS, id_column="applicant_id", decision="approved", label="repaid", groups=["race"],
                     people=None, rule=FailureRule("error"), dialect="spark")
    assert "`applicant_id`" in spark and "FROM src_1" in spark and '"' not in spark.split("WITH", 1)[1]


# --- the DuckDB engine ---------------------------------------------------------------------------------

@pytest.mark.parametrize("join", ["inner", "outer"])
def test_duckdb_engine_gives_the_same_audit(join):
    mem = json.loads(render_json(monoculture.audit(LENDERS, join=join, engine="memory", **KW)))
    duck = json.loads(render_json(monoculture.audit(LENDERS, join=join, engine="duckdb", memory_limit="1GB", **KW)))
    for key in ("overall", "groups", "group_homogenization", "leave_one_out", "homogenization_by_size",
                "decision_makers"):
        assert duck[key] == mem[key], key
    assert without(duck["coverage"], "id_type") == without(mem["coverage"], "id_type")
    assert set(mem["coverage"]["group_conflicts"].values()) == {0}


def messy_ecosystem(tmp_path: Path, seed: int, repeats: bool = True) -> list[str]:
    """Three decision-makers whose rows break every row check: blank and missing IDs, missing decisions
    and labels, IDs given twice (some with the same row, some with another decision or group value; not
    when `repeats` is False), group values that another input gives otherwise; CSV and Parquet."""
    rng = np.random.default_rng(seed)
    n = 200
    out = []
    for i in range(3):
        chosen = rng.permutation(n)[: n - 15]
        ids = np.array([f"u{j:03d}" for j in chosen], dtype=object)
        label = rng.integers(0, 2, len(ids)).astype(object)
        decision = np.where(rng.random(len(ids)) < 0.7, label, 1 - label).astype(object)
        group = np.where(chosen % 3 == 0, "x", "y").astype(object)
        if i == 2:  # the last input gives a few individuals the other value
            group = np.where(rng.random(len(ids)) < 0.04, np.where(group == "x", "y", "x"), group)
        frame = pd.DataFrame({"id": ids, "decision": decision, "label": label, "group": group})
        frame.loc[rng.random(len(ids)) < 0.04, "decision"] = None
        frame.loc[rng.random(len(ids)) < 0.04, "label"] = None
        frame.loc[rng.random(len(ids)) < 0.03, "id"] = rng.choice([None, "", "  "])
        repeated = frame.sample(n=6, random_state=seed + i).assign(
            decision=lambda f: f["decision"].where(rng.random(len(f)) < 0.5, 1),
            group=lambda f: f["group"].where(rng.random(len(f)) < 0.7, "z"))
        frame = pd.concat([frame, repeated] if repeats else [frame]).sample(frac=1, random_state=seed + 10 + i)
        path = tmp_path / f"m{i}.{'parquet' if i == 1 else 'csv'}"
        if i == 1:
            frame = frame.astype({"decision": "Int64", "label": "Int64"})
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        else:
            frame.to_csv(path, index=False)
        out.append(str(path))
    return out


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_duckdb_engine_without_repeated_ids_joins_rows_as_they_are(tmp_path, join, monkeypatch):
    """No ID on two rows of one input (missing IDs, decisions, labels and group conflicts remain): the
    checks say so, the ungrouped join gives what the grouped one gives, and the engine, which then counts
    in one aggregation (sql.tally_sql) without the checking query or the join, gives the memory engine's
    pattern table and coverage."""
    inputs = messy_ecosystem(tmp_path, 3, repeats=False)
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["group"], "join": join}
    drop = {"on_missing": "drop", "on_duplicate": "drop", "on_group_conflict": "missing"}
    sql_kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["group"],
              "rule": FailureRule("error"), "join": join}
    con = duckdb.connect()
    checks = check_rows(con.sql(check_sql(inputs, **sql_kw)).arrow().read_all().to_pylist()[0], 3, 1)
    assert [c["repeated_ids"] for c in checks] == [0, 0, 0]
    assert all(c["missing_id"] and c["missing_decision"] for c in checks) and checks[0]["conflicts_0"] > 0
    grouped, rows = (sorted(con.sql(emit_sql(inputs, people=None, unique_ids=u, **sql_kw)).fetchall(),
                            key=str) for u in (False, True))
    assert rows == grouped
    ours = count(inputs, **drop, engine="memory", **kw)
    from monoculture.count import engines

    def unused(*_args, **_kwargs):
        raise AssertionError("the one-aggregation count should stand for the checks and the join")

    monkeypatch.setattr(engines, "check_sql", unused)
    monkeypatch.setattr(engines, "emit_sql", unused)
    duck = count(inputs, **drop, engine="duckdb", **kw)
    assert table_dict(duck.table) == table_dict(ours.table)
    assert [vars(s) for s in duck.coverage.sources] == [vars(s) for s in ours.coverage.sources]
    assert (duck.coverage.group_conflicts, duck.coverage.missing_group) == (
        ours.coverage.group_conflicts, ours.coverage.missing_group)
    assert (duck.coverage.individuals_seen, duck.coverage.linked, duck.coverage.excluded_by_join) == (
        ours.coverage.individuals_seen, ours.coverage.linked, ours.coverage.excluded_by_join)


@pytest.mark.parametrize("repeats", [False, True])
def test_external_engines_refuse_an_id_twice_in_the_people_file(tmp_path, repeats):
    """Hand-worked: the people file lists 2 twice (with the same group) and 3 twice (with two groups).
    The memory engine refuses it; so does DuckDB, counting in one aggregation or (an input repeating an
    ID, dropped) with the checking query."""
    a, b, people = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "people.csv"
    a.write_text("id,decision,label\n1,1,1\n2,0,1\n3,1,0\n" + ("3,1,0\n" if repeats else ""))
    b.write_text("id,decision,label\n1,1,1\n2,1,1\n3,0,0\n")
    people.write_text("id,g\n1,a\n2,b\n3,a\n2,b\n3,c\n")
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["g"], "people": str(people),
          "on_duplicate": "drop"}
    for engine in ("memory", "duckdb"):
        with pytest.raises(monoculture.InputError) as error:
            count([str(a), str(b)], engine=engine, **kw)
        assert (error.value.file, error.value.message.split(" (--engine memory")[0]) == (
            str(people), "2 IDs occur more than once in the people file"), engine


def _complaint(exc: pytest.ExceptionInfo) -> tuple:
    """An input error's file, column and message, without the external engines' hint on row numbers."""
    return exc.value.file, exc.value.column, exc.value.message.split(" (--engine memory")[0]


@pytest.mark.parametrize("join", ["inner", "outer"])
@pytest.mark.parametrize("seed", [1, 2])
def test_duckdb_engine_checks_and_counts_rows_as_the_memory_engine(tmp_path, join, seed):
    inputs = messy_ecosystem(tmp_path, seed)
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["group"], "join": join}
    # Dropping: the same pattern table and the same coverage, row count by row count.
    drop = {"on_missing": "drop", "on_duplicate": "drop", "on_group_conflict": "missing"}
    ours = count(inputs, **drop, engine="memory", **kw)
    duck = count(inputs, **drop, engine="duckdb", **kw)
    assert table_dict(duck.table) == table_dict(ours.table)
    mem_cov, duck_cov = ours.coverage, duck.coverage
    assert [vars(s) for s in duck_cov.sources] == [vars(s) for s in mem_cov.sources]
    assert (duck_cov.individuals_seen, duck_cov.linked, duck_cov.excluded_by_join) == (
        mem_cov.individuals_seen, mem_cov.linked, mem_cov.excluded_by_join)
    assert (duck_cov.group_conflicts, duck_cov.missing_group) == (mem_cov.group_conflicts, mem_cov.missing_group)
    assert sum(s.duplicate_ids for s in mem_cov.sources) > 0 and sum(s.missing_id for s in mem_cov.sources) > 0
    assert mem_cov.group_conflicts["group"] > 0
    # Refusing: the same first complaint (the memory engine adds the row).
    for options in ({"on_missing": "error", "on_duplicate": "drop"}, {"on_missing": "drop", "on_duplicate": "error"},
                    {"on_missing": "error", "on_duplicate": "error"}, {"on_missing": "drop", "on_duplicate": "drop"}):
        with pytest.raises(monoculture.InputError) as mem_error:
            count(inputs, engine="memory", **options, **kw)
        with pytest.raises(monoculture.InputError) as duck_error:
            count(inputs, engine="duckdb", **options, **kw)
        assert _complaint(duck_error) == _complaint(mem_error), options
        conflict = "conflicting values" in mem_error.value.message  # said of individuals, not of a row
        assert (mem_error.value.row is None) == conflict and duck_error.value.row is None


def test_duckdb_engine_refuses_scores_that_are_not_numbers(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("id,score,label\n1,0.9,1\n2,high,0\n3,0.2,0\n")
    b.write_text("id,score,label\n1,0.8,1\n2,0.4,0\n3,0.1,0\n")
    kw = {"id_column": "id", "decision": "score", "label": "label", "threshold": 0.5}
    for engine in ("memory", "duckdb"):
        with pytest.raises(monoculture.InputError, match="needs numeric scores"):
            count([str(a), str(b)], engine=engine, **kw)


def test_auto_engine_chooses_by_size(monkeypatch):
    from monoculture.count import engines

    assert engines.choose("auto", LENDERS, available=2**40) == ("memory", None)
    # Too large to read at once, small enough to stream one input at a time: memory, saying so.
    whole, streaming = estimate_bytes(LENDERS), estimate_streaming_bytes(LENDERS)
    assert streaming < whole
    engine, why = engines.choose("auto", LENDERS, available=int((streaming + whole) / 2 / 0.9))
    assert engine == "memory" and "streaming one input at a time" in why
    # Other layouts are read whole.
    assert engines.choose("auto", LENDERS, available=int((streaming + whole) / 2 / 0.9), layout="wide")[0] == (
        "duckdb")
    engine, why = engines.choose("auto", LENDERS, available=1000)
    assert engine == "duckdb" and "spilling to disk" in why
    assert engines.choose("memory", LENDERS, available=1000) == ("memory", None)
    monkeypatch.setattr(engines, "_has_duckdb", lambda: False)
    with pytest.raises(monoculture.MonocultureError, match=r"monoculture\[duckdb\]"):
        engines.choose("auto", LENDERS, available=1000)


def test_cli_count_with_the_duckdb_engine(tmp_path):
    out = tmp_path / "duck.parquet"
    proc = run("count", *LENDERS, "--id", "applicant_id", "--decision", "approved", "--label", "repaid",
               "-g", "race", "--engine", "duckdb", "-o", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    assert "4,255 linked individuals" in proc.stderr.decode()  # as the memory engine links them (demo)
    via = run("audit", "--patterns", str(out), "-f", "json")
    direct = run("audit", *LENDERS, "--id", "applicant_id", "--decision", "approved", "--label", "repaid",
                 "-g", "race", "-f", "json")
    jv, jd = json.loads(via.stdout), json.loads(direct.stdout)
    assert jv["overall"] == jd["overall"] and jv["groups"] == jd["groups"]


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_duckdb_engine_hash_slices_sum_to_the_whole(tmp_path, join):
    inputs, people_path = random_ecosystem(tmp_path, 5, True)
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["group"], "people": people_path,
          "join": join}
    ours = count(inputs, on_missing="drop", engine="memory", **kw)
    whole = count(inputs, on_missing="drop", engine="duckdb", id_shards=1, **kw)
    sliced = count(inputs, on_missing="drop", engine="duckdb", id_shards=3, **kw)
    assert table_dict(sliced.table) == table_dict(whole.table) == table_dict(ours.table)


def test_duckdb_engine_slices_by_free_disk(monkeypatch):
    from collections import namedtuple

    from monoculture.count import engines

    usage = namedtuple("usage", "total used free")
    size = sum(os.path.getsize(p) for p in LENDERS)
    monkeypatch.setattr(engines.shutil, "disk_usage", lambda _path: usage(0, 0, 10**15))
    assert engines._shards_for_disk(LENDERS) == 1
    monkeypatch.setattr(engines.shutil, "disk_usage", lambda _path: usage(0, 0, size))
    assert engines._shards_for_disk(LENDERS) > 2
    counted = count(LENDERS, engine="duckdb", **{k: v for k, v in KW.items()})
    assert any("hash slices" in w for w in counted.warnings)


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_duckdb_engine_finds_group_conflicts_with_the_people_file(tmp_path, join):
    """Hand-worked: the people file says 2 is 'b' where input a says 'a' (a conflict), 3 has its group
    only in input b, 4 is given 'b' twice (no conflict), 5 has none; 6 is seen by a alone, so only the
    outer join would link it and it has no group either way."""
    a, b, people = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "people.csv"
    a.write_text("id,decision,label,g\n1,1,1,a\n2,0,1,a\n3,1,1,\n4,1,0,b\n5,0,0,\n6,1,1,\n")
    b.write_text("id,decision,label,g\n1,1,1,a\n2,1,1,\n3,0,1,c\n4,1,0,b\n5,1,0,\n")
    people.write_text("id,g\n1,a\n2,b\n4,b\n")
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["g"], "join": join,
          "people": str(people)}
    for engine in ("memory", "duckdb"):
        with pytest.raises(monoculture.InputError, match="1 linked individuals have conflicting values"):
            count([str(a), str(b)], engine=engine, **kw)
    ours = count([str(a), str(b)], engine="memory", on_group_conflict="missing", **kw)
    duck = count([str(a), str(b)], engine="duckdb", on_group_conflict="missing", **kw)
    assert table_dict(duck.table) == table_dict(ours.table)
    assert duck.coverage.group_conflicts == ours.coverage.group_conflicts == {"g": 1}
    assert duck.coverage.missing_group == ours.coverage.missing_group == {"g": 1}  # 5 (2 is a conflict)


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_csv_ids_and_groups_compare_as_written_in_every_engine(tmp_path, join):
    """Hand-worked: a.csv's IDs and zones are all digits (a CSV parser would guess numbers: 0001 → 1),
    b.csv's are not (its last row is B9). As written, 0001–0004 are in both files with the same zone, so
    they link with no conflict; 7 in a and 0007 in b are two people, seen once each; the zone 01 is
    reported as 01."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("id,decision,label,zone\n0001,1,1,01\n0002,0,1,01\n0003,1,0,02\n0004,0,0,02\n7,1,1,01\n")
    b.write_text("id,decision,label,zone\n0001,1,1,01\n0002,1,1,01\n0003,1,0,02\n0004,1,0,02\n0007,0,1,01\n"
                 "B9,1,1,x\n")
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["zone"], "join": join}
    ours = count([str(a), str(b)], engine="memory", **kw)
    duck = count([str(a), str(b)], engine="duckdb", **kw)
    assert ours.coverage.linked == duck.coverage.linked == 4
    assert ours.coverage.individuals_seen == duck.coverage.individuals_seen == 7
    assert table_dict(duck.table) == table_dict(ours.table)
    # 0001 fails in neither, 0002 in a, 0003 in both, 0004 in b.
    expected = {(("01",), (False, False), (True, True)): 1, (("01",), (True, False), (True, True)): 1,
                (("02",), (True, True), (True, True)): 1, (("02",), (False, True), (True, True)): 1}
    assert table_dict(ours.table) == expected


def test_csv_ids_written_as_plain_integers_still_compare_as_integers(tmp_path):
    """IDs written as integers (no leading zero) are coded as numbers, and meet a Parquet file's int64 IDs."""
    a, b = tmp_path / "a.csv", tmp_path / "b.parquet"
    a.write_text("id,decision,label\n" + "".join(f"{i},{i % 2},1\n" for i in range(-3, 40)))
    pq.write_table(pa.table({"id": pa.array(range(-3, 40), pa.int64()), "decision": [1] * 43, "label": [1] * 43}),
                   b)
    counted = count([str(a), str(b)], id_column="id", decision="decision", label="label")
    assert counted.coverage.linked == 43
    assert counted.coverage.id_type == "integer"


@pytest.mark.parametrize("join", ["inner", "outer"])
def test_float_group_values_read_alike_in_every_engine(tmp_path, join):
    """Hand-worked: pandas stores an integer zone with a missing value as float64 (1.0, 2.0, NaN → null);
    a CSV of the same people writes 1.0 and 2.0. Every engine reads the Parquet zone as the CSV writes it,
    so the two files agree (no conflict) and the groups are 1.0 and 2.0, person 3's zone coming from b."""
    a, b = tmp_path / "a.parquet", tmp_path / "b.csv"
    pd.DataFrame({"id": [1, 2, 3, 4], "decision": [1, 0, 1, 0], "label": [1, 1, 0, 0],
                  "zone": [1, 2, None, 2]}).to_parquet(a)
    assert pq.read_schema(a).field("zone").type == pa.float64()
    b.write_text("id,decision,label,zone\n1,1,1,1.0\n2,1,1,2.0\n3,1,0,1.0\n4,0,0,2.0\n")
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["zone"], "join": join}
    ours = count([str(a), str(b)], engine="memory", **kw)
    duck = count([str(a), str(b)], engine="duckdb", **kw)
    assert ours.coverage.group_conflicts == duck.coverage.group_conflicts == {"zone": 0}
    # 1 fails in neither, 2 in a, 3 in both, 4 in neither.
    expected = {(("1.0",), (False, False), (True, True)): 1, (("2.0",), (True, False), (True, True)): 1,
                (("1.0",), (True, True), (True, True)): 1, (("2.0",), (False, False), (True, True)): 1}
    assert table_dict(ours.table) == table_dict(duck.table) == expected


def test_float32_group_text_hand_worked():
    """Where DuckDB's Grisu3 gives up (a tie between two shortest candidates: 343126.12 and 343126.13 are
    both 0.005 from 343126.125, whose float gap is 1/32), it writes the double's digits; elsewhere the
    float's shortest. Values taken from DuckDB 2.0's CAST."""
    values = np.array([343126.125, 0.1, 1048576.75, 60734717952, 16777217, 1e-45, 3.4028235e38], np.float32)
    assert group_text(pa.array(values)).to_pylist() == [
        "343126.125", "0.1", "1048576.75", "60734717952.0", "16777216.0", "1e-45", "3.4028235e+38"]


def test_float32_group_text_over_many_bit_patterns_is_what_duckdb_writes():
    """200,000 random float32 bit patterns plus integers, dyadic fractions, subnormals and every power of two:
    about 0.7% of random patterns are ones where the float's shortest digits are not what DuckDB writes."""
    rng = np.random.default_rng(20261204)
    patterns = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    integers = rng.integers(-2**31, 2**31, 20_000).astype(np.float32)
    dyadic = (rng.integers(-2**24, 2**24, 20_000) / 2.0 ** rng.integers(0, 12, 20_000)).astype(np.float32)
    subnormal = rng.integers(1, 2**23, 5_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    powers = np.ldexp(np.float32(1), np.arange(-149, 128)).astype(np.float32)
    values = np.concatenate([patterns, integers, dyadic, subnormal, powers, -powers])
    values = values[np.isfinite(values)]
    floats = pa.table({"x": pa.array(values)})  # noqa: F841 (DuckDB reads it by name)
    theirs = [r[0] for r in duckdb.connect().execute("SELECT CAST(x AS VARCHAR) FROM floats").fetchall()]
    ours = group_text(pa.array(values)).to_pylist()
    shortest = [repr(float(str(v))) for v in values]
    assert sum(t != s for t, s in zip(theirs, shortest, strict=True)) > 1000  # the cases this test exists for
    assert ours == theirs


def test_cached_powers_of_ten_are_the_nearest_64_bit_significands():
    """Every cached 10**k Grisu may use, against exact rational arithmetic: f has its top bit set and
    |f * 2**e - 10**k| <= 2**e / 2."""
    from fractions import Fraction

    from monoculture.read.float32_text import _pow10_significand

    for k in range(-348, 341, 8):
        f, e = _pow10_significand(k)
        assert 1 << 63 <= f < 1 << 64
        assert abs(Fraction(f) * Fraction(2) ** e - Fraction(10) ** k) <= Fraction(2) ** e / 2


@settings(max_examples=examples(200), deadline=None)
@given(st.one_of(st.tuples(st.just(32), st.lists(st.floats(width=32), min_size=1, max_size=30)),
                 # large dyadic float32 values: where Grisu3's ties and edge cases live
                 st.tuples(st.just(32), st.lists(st.builds(lambda m, s: m / 2.0**s, st.integers(-2**24, 2**24),
                                                           st.integers(0, 8)), min_size=1, max_size=30)),
                 st.tuples(st.just(64), st.lists(st.floats(), min_size=1, max_size=30))))
def test_group_text_of_floats_is_what_duckdb_writes(case):
    width, values = case
    arr = pa.array(np.array(values, dtype=np.float32 if width == 32 else np.float64),
                   pa.float32() if width == 32 else pa.float64())
    floats = pa.table({"x": arr})  # noqa: F841 (DuckDB reads it by name)
    theirs = [r[0] for r in duckdb.connect().execute("SELECT CAST(x AS VARCHAR) FROM floats").fetchall()]
    assert group_text(arr).to_pylist() == theirs


_TIME_TYPES = [pa.timestamp(u) for u in ("s", "ms", "us", "ns")] + [
    pa.timestamp("us", tz="UTC"), pa.timestamp("ms", tz="America/New_York"), pa.timestamp("ns", tz="Asia/Kolkata"),
    pa.time32("s"), pa.time32("ms"), pa.time64("us"), pa.time64("ns")]


@settings(max_examples=examples(200), deadline=None)
@given(st.sampled_from(_TIME_TYPES), st.data())
def test_group_text_of_times_is_what_duckdb_writes(kind, data):
    """Times and timestamps of every unit, with and without a zone, against DuckDB's CAST in UTC (the zone
    the DuckDB engine sets): fractions without trailing zeros, zoned values as UTC with "+00"."""
    if pa.types.is_time(kind):
        per_day = 86_400 * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[kind.unit]
        raw = st.integers(0, per_day - 1)
    else:  # years 1677-2262 fit every unit (the nanosecond range)
        scale = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[kind.unit]
        raw = st.integers(-(9 * 10**9) * scale, 9 * 10**9 * scale)
    # Round values (whole seconds, milliseconds) are where trailing zeros show: draw them often.
    value = st.one_of(raw, raw.map(lambda v: v - v % 1000), raw.map(lambda v: v - v % 10**6))
    values = data.draw(st.lists(st.one_of(st.none(), value), min_size=1, max_size=20))
    arr = pa.array(values, pa.int64() if pa.types.is_timestamp(kind) or kind.bit_width == 64 else pa.int32())
    arr = arr.cast(kind)
    times = pa.table({"x": arr})  # noqa: F841 (DuckDB reads it by name)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    theirs = [r[0] for r in con.execute("SELECT CAST(x AS VARCHAR) FROM times").fetchall()]
    assert group_text(arr).to_pylist() == theirs


@pytest.mark.parametrize("zone", [None, "Europe/Paris"])
def test_timestamp_group_values_read_alike_in_every_engine(tmp_path, zone):
    """Hand-worked: a Parquet file's timestamp group (cohort) and a CSV that writes the same cohorts as text,
    the way DuckDB writes them. Both engines read the Parquet value as that text, so nobody conflicts and the
    groups are the CSV's; zoned timestamps are written as UTC with +00 (Paris 01:00 = 00:00 UTC)."""
    a, b = tmp_path / "a.parquet", tmp_path / "b.csv"
    start = pd.Timestamp("2024-01-01 00:00:00", tz="UTC")
    cohorts = [start, start, start + pd.Timedelta("90min"), start + pd.Timedelta("90min") + pd.Timedelta("500ms")]
    stamps = pa.array([c.to_pydatetime() for c in cohorts], pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"id": [1, 2, 3, 4], "decision": [1, 0, 1, 0], "label": [1, 1, 0, 0],
                             "cohort": stamps.cast(pa.timestamp("us", tz=zone)) if zone else
                             stamps.cast(pa.timestamp("us"))}), a)
    suffix = "+00" if zone else ""
    written = [f"2024-01-01 00:00:00{suffix}", f"2024-01-01 01:30:00{suffix}", f"2024-01-01 01:30:00.5{suffix}"]
    b.write_text("id,decision,label,cohort\n" + f"1,1,1,{written[0]}\n2,1,1,{written[0]}\n3,1,0,{written[1]}\n"
                 f"4,0,0,{written[2]}\n")
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["cohort"]}
    ours = count([str(a), str(b)], engine="memory", **kw)
    duck = count([str(a), str(b)], engine="duckdb", **kw)
    assert ours.coverage.group_conflicts == duck.coverage.group_conflicts == {"cohort": 0}
    # 1 fails in neither, 2 in a, 3 in both, 4 in neither.
    expected = {((written[0],), (False, False), (True, True)): 1, ((written[0],), (True, False), (True, True)): 1,
                ((written[1],), (True, True), (True, True)): 1, ((written[2],), (False, False), (True, True)): 1}
    assert table_dict(ours.table) == table_dict(duck.table) == expected
