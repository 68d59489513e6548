"""The pattern table as a file: `count -o`, then `audit --patterns` (one table or summed shards) gives the
same audit as the inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ecosystems import (
    KW,
    LENDERS,
    SAMPLE,
    run,
    table_dict,
    without,
)

import monoculture
from conftest import sample_linked
from monoculture.audit import count
from monoculture.count.table_file import read_patterns, write_patterns
from monoculture.report.json import render_json


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
    assert f"{sample_linked()[1]:,} linked individuals" in proc.stderr.decode()
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


