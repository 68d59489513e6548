"""The DuckDB engine checks, counts and refuses rows as the memory engine does; `auto` chooses by size."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ecosystems import (
    KW,
    LENDERS,
    complaint,
    messy_ecosystem,
    random_ecosystem,
    run,
    table_dict,
    without,
)

import monoculture
from conftest import sample_linked
from monoculture.audit import count
from monoculture.count.sql import check_rows, check_sql, emit_sql
from monoculture.read.memory import estimate_bytes, estimate_streaming_bytes
from monoculture.report.json import render_json
from monoculture.spec import FailureRule

duckdb = pytest.importorskip("duckdb", reason="duckdb (the test extra) runs the emitted SQL")


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
        assert (error.value.file, error.value.message.split(" ({engine.engine=memory}")[0]) == (
            str(people), "2 IDs occur more than once in the people file"), engine


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
        assert complaint(duck_error) == complaint(mem_error), options
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
    assert engine == "duckdb" and "streaming within a memory limit" in why
    assert engines.choose("memory", LENDERS, available=1000) == ("memory", None)
    monkeypatch.setattr(engines, "_has_duckdb", lambda: False)
    with pytest.raises(monoculture.MonocultureError, match=r"monoculture\[duckdb\]"):
        engines.choose("auto", LENDERS, available=1000)


def test_what_auto_says_does_not_follow_the_memory_free(monkeypatch):
    """The report says which engine auto chose and the estimates (which the files fix), not the memory free
    at the time: two runs of one audit give the same JSON."""
    from monoculture.count import engines
    from monoculture.read.memory import StreamingPlan

    monkeypatch.setattr(engines, "estimate_bytes", lambda _paths: 100 * 2**30)
    monkeypatch.setattr(engines, "streaming_plan", lambda _paths, _available: StreamingPlan(1, True, 10 * 2**30))
    said = {engines.choose("auto", LENDERS, available=gib * 2**30) for gib in (20, 21.5)}
    assert len(said) == 1 and "streaming one input at a time" in next(iter(said))[1]
    said = {engines.choose("auto", LENDERS, available=gib * 2**30) for gib in (5, 6.5)}
    assert len(said) == 1 and next(iter(said))[0] == "duckdb"


def test_the_streaming_estimate_of_parquet_reads_the_footers(tmp_path, monkeypatch):
    """Parquet inputs are estimated from their footers (rows, decoded bytes), not their size on disk: the
    same table compressed two ways gets the same estimate, which grows with the IDs' width, and `--engine auto`
    streams what the size-based estimate of reading everything at once would send to DuckDB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from monoculture.count import engines
    from monoculture.read import memory

    rng = np.random.default_rng(0)
    n = 5000
    paths: dict[tuple[str, str], list[str]] = {}
    for width in (8, 64):
        ids = pa.array([f"{v:0{width}x}" for v in rng.integers(0, 2**31, n)])
        for codec in ("zstd", "none"):
            for i in range(3):
                path = tmp_path / f"w{width}_{codec}_{i}.parquet"
                pq.write_table(pa.table({"id": ids, "decision": rng.integers(0, 2, n), "label": rng.integers(0, 2, n)}),
                               path, compression=codec)
                paths.setdefault((str(width), codec), []).append(str(path))
    est = {key: estimate_streaming_bytes(p) for key, p in paths.items()}
    for width in ("8", "64"):  # the page headers' few bytes aside
        assert est[width, "zstd"] == pytest.approx(est[width, "none"], rel=1e-4)
    rows, _decoded, widest = memory.parquet_shape(paths["64", "none"][0])
    assert rows == n and widest >= 64  # the widest column: 64 characters and their length
    grew = est["64", "none"] - est["8", "none"]
    assert grew >= memory.SHARED_IDS * n * (64 - 8)
    # Without the process's own base (which dominates files this small) streaming fits where reading every
    # input at once would not: auto streams, and says so.
    monkeypatch.setattr(memory, "BASE", 0)
    wide = paths["64", "none"]
    streaming, whole = estimate_streaming_bytes(wide), estimate_bytes(wide)
    assert streaming < whole
    engine, why = engines.choose("auto", wide, available=int((streaming + whole) / 2 / 0.9))
    assert engine == "memory" and "streaming one input at a time" in why
    # Past half the memory available, the link holds one input's IDs at a time, and needs less so (the
    # IDs coded as read, a part at a time): auto streams where only that fits, and says how.
    tight = memory.streaming_plan(wide, available=int(1.5 * streaming))
    assert tight.ids_one_at_a_time and tight.read_ahead == 1 and tight.need < streaming
    assert tight.need == estimate_streaming_bytes(wide, one_at_a_time=True)
    assert not memory.streaming_plan(wide, available=int(2.5 * streaming)).ids_one_at_a_time
    engine, why = engines.choose("auto", wide, available=int(tight.need / 0.9) + 1)
    assert engine == "memory" and "each one's IDs once the previous one's are coded" in why
    assert engines.choose("auto", wide, available=int(tight.need / 0.9) - 1)[0] == "duckdb"


def test_cli_count_with_the_duckdb_engine(tmp_path):
    out = tmp_path / "duck.parquet"
    proc = run("count", *LENDERS, "--id", "applicant_id", "--decision", "approved", "--label", "repaid",
               "-g", "race", "--engine", "duckdb", "-o", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    assert f"{sample_linked()[1]:,} linked individuals" in proc.stderr.decode()  # as pandas links them
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


def test_duckdb_engine_slices_the_text_keyed_count_by_free_disk(tmp_path, monkeypatch):
    """Where some ID repeats within an input, the exact text-keyed queries count, in as many hash slices as
    keep their spill within half the free temporary disk, and the report says so."""
    from collections import namedtuple

    from monoculture.count import slices

    usage = namedtuple("usage", "total used free")
    size = sum(os.path.getsize(p) for p in LENDERS)
    monkeypatch.setattr(slices.shutil, "disk_usage", lambda _path: usage(0, 0, 10**15))
    assert slices.disk_slices(LENDERS) == 1
    monkeypatch.setattr(slices.shutil, "disk_usage", lambda _path: usage(0, 0, size))
    assert slices.disk_slices(LENDERS) > 2
    inputs = messy_ecosystem(tmp_path, 1)  # repeated IDs: the one aggregation cannot count it
    small = sum(os.path.getsize(p) for p in inputs)
    monkeypatch.setattr(slices.shutil, "disk_usage", lambda _path: usage(0, 0, small))
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["group"],
          "on_missing": "drop", "on_duplicate": "drop", "on_group_conflict": "missing"}
    sliced, ours = count(inputs, engine="duckdb", **kw), count(inputs, engine="memory", **kw)
    assert any("hash slices" in w for w in sliced.warnings)
    assert table_dict(sliced.table) == table_dict(ours.table)
    assert not any("hash slices" in w for w in count(LENDERS, engine="duckdb", **KW).warnings)


def test_duckdb_engine_slices_the_one_aggregation_by_its_memory_limit(monkeypatch):
    """The one-aggregation count takes as many slices as keep its rows, at TALLY_BYTES_PER_ROW each,
    within half DuckDB's memory limit: worked from the rows pandas reads."""
    from monoculture.count import slices

    rows = sum(len(pd.read_csv(p)) if p.endswith((".csv", ".gz")) else pq.read_metadata(p).num_rows
               for p in LENDERS)
    assert slices.tally_slices(LENDERS, "1GB") == 1
    limit = 2 * rows * slices.TALLY_BYTES_PER_ROW
    # The CSV inputs' rows are estimated from their first lines: within a few per cent here.
    assert slices.tally_slices(LENDERS, f"{limit // 3}B") in (3, 4)
    assert slices.tally_slices(LENDERS, f"{limit // 10}B") in (10, 11)
    assert [slices.size_bytes(s) for s in ("8GB", "512 MiB", "2.5GB", "1kb", "12", "lots", "80%")] == [
        8 * 10**9, 512 * 2**20, 25 * 10**8, 1000, 12, None, None]
    assert slices.duckdb_memory_limit(None, available=10 * 2**30) == "5GB"
    assert slices.duckdb_memory_limit("3GB", available=10 * 2**30) == "3GB"


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
        with pytest.raises(monoculture.InputError, match="1 linked individual has conflicting values"):
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


def _padded_ecosystem(tmp_path, pad_id: bool, pad_group: bool) -> list[str]:
    """Three inputs (CSV and Parquet) with blank and missing group values; the second writes some IDs, or
    group values, with white space around them (spaces, tabs, an ideographic space: the same people, the
    same groups, as trimmed text)."""
    rng = np.random.default_rng(3)
    paths = []
    for i in range(3):
        chosen = rng.permutation(120)[:100]
        ids = [f"u{j:03d}" for j in chosen]
        group = [["x", "y", "long value é"][j % 3] for j in chosen]
        if i == 1 and pad_id:
            pads = [" ", "\t", "\u3000 ", "\xa0"]
            ids = [f"{pads[j % 4]}{v}{pads[(j + 1) % 4]}" if r < 0.3 else v
                   for j, (v, r) in enumerate(zip(ids, rng.random(len(ids)), strict=True))]
        if i == 1 and pad_group:
            group = [f"\t {v}" if r < 0.2 else f"{v}\u2003" if r < 0.3 else v
                     for v, r in zip(group, rng.random(len(group)), strict=True)]
        blank = rng.random(len(group))
        group = [None if r < 0.05 else "" if r < 0.08 else v for v, r in zip(group, blank, strict=True)]
        frame = pd.DataFrame({"id": ids, "decision": rng.integers(0, 2, len(ids)),
                              "label": rng.integers(0, 2, len(ids)), "group": group})
        path = tmp_path / f"p{i}.{'parquet' if i == 1 else 'csv'}"
        if i == 1:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
        else:
            frame.to_csv(path, index=False)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize(("pad_id", "pad_group", "collide", "tallies"), [
    (False, False, False, [(False, True)]),  # as written, groups by hash
    (True, False, False, [(True, True)]),  # padded IDs found by the scan: scanned again and counted trimmed
    (False, True, False, [(True, True)]),  # padded group values: trimmed from the start
    (False, False, True, [(False, False)]),  # two group values share a hash: their text is spread
])
def test_duckdb_counts_keys_as_written_and_groups_by_hash_unless_it_cannot(tmp_path, monkeypatch, pad_id,
                                                                        pad_group, collide, tallies):
    """The one-aggregation count reads IDs and group values as written (trimming every row costs more
    than the rest) and spreads group values by their hashes; where the scan finds an ID that may be padded
    it scans again and counts trimmed, where a group value is padded it trims from the start, and where
    two group values share a hash it spreads their text. Each way gives the memory engine's pattern table
    and coverage, white space being what the memory engine trims (tabs and Unicode spaces too)."""
    from monoculture.count import tally

    paths = _padded_ecosystem(tmp_path, pad_id, pad_group)
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["group"], "join": "outer"}
    ours = count(paths, **kw, engine="memory")
    calls: list[tuple[bool, bool]] = []
    real_tally, real_hashes = tally.tally_sql, tally.group_hashes

    def tally_sql(*args, **kwargs):
        calls.append((kwargs["trim_keys"], kwargs["hashed_groups"]))
        return real_tally(*args, **kwargs)

    def group_hashes(rows, n):
        values, padded = real_hashes(rows, n)
        return (None if collide else values), padded

    scans: list[bool] = []
    real_scan = tally.scan_sql
    monkeypatch.setattr(tally, "scan_sql", lambda *a, **kw: scans.append(kw["trim_keys"]) or real_scan(*a, **kw))
    monkeypatch.setattr(tally, "tally_sql", tally_sql)
    monkeypatch.setattr(tally, "group_hashes", group_hashes)
    duck = count(paths, **kw, engine="duckdb")
    assert calls == tallies
    assert scans == ([False, True] if pad_id else [calls[0][0]])
    assert table_dict(duck.table) == table_dict(ours.table)
    assert [vars(s) for s in duck.coverage.sources] == [vars(s) for s in ours.coverage.sources]
    assert duck.coverage.missing_group == ours.coverage.missing_group
    # Two values of one attribute sharing a hash cannot be told apart by it.
    a, b = ({"attr": 0, "g": v, "trimmed": v, "h": 7, "ht": 7} for v in "ab")
    assert real_hashes([a, b], 1) == (None, False)
    assert real_hashes([a, {**b, "attr": 1}], 2) == ([{7: "a"}, {7: "b"}], False)


@pytest.mark.parametrize("k", [3, 20, 21])
def test_duckdb_packs_the_masks_of_up_to_twenty_inputs_in_one(tmp_path, monkeypatch, k):
    """Up to 20 inputs, each row carries its input's present, seen and fail bits in one BIGINT (one
    aggregate per ID); from 21, three masks. Either way the memory engine's pattern table and coverage."""
    from monoculture.count import tally

    rng = np.random.default_rng(k)
    paths = []
    for i in range(k):
        ids = [f"i{j}" for j in rng.permutation(40)[:35]]
        frame = pd.DataFrame({"id": ids, "decision": rng.integers(0, 2, 35), "label": rng.integers(0, 2, 35),
                              "group": [["a", "b"][int(v[1:]) % 2] for v in ids]})
        frame.loc[rng.random(35) < 0.1, "decision"] = None
        paths.append(str(tmp_path / f"d{i}.csv"))
        frame.to_csv(paths[-1], index=False)
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["group"], "join": "outer",
          "on_missing": "drop"}
    sqls: list[str] = []
    real = tally.tally_sql
    monkeypatch.setattr(tally, "tally_sql", lambda *a, **kw: sqls.append(real(*a, **kw)) or sqls[-1])
    duck, ours = count(paths, **kw, engine="duckdb"), count(paths, **kw, engine="memory")
    assert sqls and all(("BIT_OR(m)" in sql) == (k <= 20) for sql in sqls)
    assert table_dict(duck.table) == table_dict(ours.table)
    assert [vars(s) for s in duck.coverage.sources] == [vars(s) for s in ours.coverage.sources]


@pytest.mark.parametrize("on_missing", ["error", "drop"])
def test_duckdb_ids_of_spaces_only_are_missing_though_read_as_written(tmp_path, on_missing):
    """IDs are scanned and counted as written first; one of spaces only is a missing ID once trimmed, which
    the count finds (it is padded) and then checks and counts again trimmed: refused, or dropped and
    counted, as the memory engine does."""
    paths = []
    for i in range(3):
        ids = [f"k{j}" for j in range(30)]
        if i == 1:
            ids[4] = "   "
        frame = pd.DataFrame({"id": ids, "decision": [j % 2 for j in range(30)],
                              "label": [j % 3 == 0 for j in range(30)]})
        paths.append(str(tmp_path / f"s{i}.csv"))
        frame.to_csv(paths[-1], index=False)
    kw = {"id_column": "id", "decision": "decision", "label": "label", "on_missing": on_missing}
    if on_missing == "error":
        with pytest.raises(monoculture.InputError) as mem:
            count(paths, **kw, engine="memory")
        with pytest.raises(monoculture.InputError) as duck:
            count(paths, **kw, engine="duckdb")
        assert complaint(duck) == complaint(mem)
        return
    duck, ours = count(paths, **kw, engine="duckdb"), count(paths, **kw, engine="memory")
    assert table_dict(duck.table) == table_dict(ours.table)
    assert [vars(s) for s in duck.coverage.sources] == [vars(s) for s in ours.coverage.sources]
    assert ours.coverage.sources[1].missing_id == 1


def test_duckdb_links_by_two_hashes_and_one_colliding_changes_nothing(tmp_path, monkeypatch):
    """The one-aggregation count groups rows by two 64-bit hashes of the ID. With the first weakened to
    one bit (every other ID collides in it), the second still tells them apart: the count stays the one
    aggregation (no repeated ID seen, the text-keyed queries never run) and gives the memory engine's table
    and coverage."""
    from monoculture.count import engines, tally

    inputs, people_path = random_ecosystem(tmp_path, 4, True)
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["group"], "people": people_path,
          "join": "outer", "on_missing": "drop"}
    ours = count(inputs, engine="memory", **kw)
    monkeypatch.setattr(tally, "ID_HASHES", ("hash(id) % 2", tally.ID_HASHES[1]))
    monkeypatch.setattr(engines, "check_sql", lambda *a, **k: pytest.fail("the text-keyed check ran"))
    sqls: list[str] = []
    real = tally.tally_sql
    monkeypatch.setattr(tally, "tally_sql", lambda *a, **kw: sqls.append(real(*a, **kw)) or sqls[-1])
    duck = count(inputs, engine="duckdb", **kw)
    assert sqls and all("hash(id) % 2 AS h1" in sql and "GROUP BY h1, h2" in sql for sql in sqls)
    assert table_dict(duck.table) == table_dict(ours.table)
    assert [vars(s) for s in duck.coverage.sources] == [vars(s) for s in ours.coverage.sources]
    # Both hashes weakened: IDs of one input then share both, which the count takes for a repeated ID, and
    # the exact text-keyed queries count instead, with the same result.
    monkeypatch.undo()
    monkeypatch.setattr(tally, "ID_HASHES", ("hash(id) % 2", "hash(id) % 3"))
    duck = count(inputs, engine="duckdb", **kw)
    assert table_dict(duck.table) == table_dict(ours.table)


def test_duckdb_finds_padded_ids_in_the_people_file(tmp_path):
    """The people file's IDs are linked with the inputs' (it gives the groups): where some of them are
    written with white space around them, the scan finds it and the count compares the IDs trimmed, as the
    memory engine does; the groups come out the same."""
    paths = _padded_ecosystem(tmp_path, pad_id=False, pad_group=False)
    ids = [f"u{j:03d}" for j in range(120)]
    people = tmp_path / "people.csv"
    pd.DataFrame({"id": [f"\t{v} " if j % 3 == 0 else v for j, v in enumerate(ids)],
                  "cohort": [["old", "new"][j % 2] for j in range(120)]}).to_csv(people, index=False)
    kw = {"id_column": "id", "decision": "decision", "label": "label", "groups": ["cohort"], "join": "outer",
          "people": str(people)}
    ours, duck = count(paths, **kw, engine="memory"), count(paths, **kw, engine="duckdb")
    assert table_dict(duck.table) == table_dict(ours.table)
    assert [vars(s) for s in duck.coverage.sources] == [vars(s) for s in ours.coverage.sources]
    assert ours.coverage.missing_group == duck.coverage.missing_group == {"cohort": 0}
