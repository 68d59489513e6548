"""Pipes as inputs: `<(zcat dump.csv.gz)` in a shell script, or a named FIFO. A pipe can be read once, but
an input's header and rows are read apart; the tool keeps a pipe's bytes while it reads them."""

from __future__ import annotations

import gzip
import json
import os
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import monoculture
from monoculture.report.json import render_json

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
COMMON = ["--id", "applicant_id", "--decision", "approved", "--label", "repaid", "-g", "race", "-q",
          "-f", "json", "--bootstrap", "200", "--permutations", "199"]


def _bash(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, cwd=ROOT, timeout=120)


def _without_inputs(report: dict) -> dict:
    # The inputs and coverage sections name the pipes (/dev/fd/N); inputs hash the bytes as they arrived.
    out = {k: v for k, v in report.items() if k not in ("inputs", "options")}
    out["coverage"] = {**out["coverage"], "sources": [{**s, "file": None} for s in out["coverage"]["sources"]]}
    return out


def test_process_substitution_equals_the_files():
    exe = shlex.quote(sys.executable)
    a, b, c = (SAMPLE / "lender_a.csv", SAMPLE / "lender_b.csv", SAMPLE / "lender_c.parquet")
    opts = " ".join(shlex.quote(o) for o in COMMON)
    piped = _bash(f"{exe} -m monoculture audit lender_a=<(cat {a}) lender_b=<(gzip -c {b}) {c} {opts}")
    assert piped.returncode == 0, piped.stderr.decode()
    files = _bash(f"{exe} -m monoculture audit lender_a={a} lender_b={b} {c} {opts}")
    assert files.returncode == 0, files.stderr.decode()
    got, want = json.loads(piped.stdout), json.loads(files.stdout)
    assert _without_inputs(got) == _without_inputs(want)
    assert got["overall"]["n"] > 4000
    pipe_a, pipe_b = got["inputs"][0], got["inputs"][1]
    assert pipe_a["path"].startswith("/dev/fd/") and pipe_a["rows"] == want["inputs"][0]["rows"]
    assert pipe_a["sha256"] == want["inputs"][0]["sha256"]  # the same bytes
    assert pipe_b["sha256"] != want["inputs"][1]["sha256"]  # the gzip stream's bytes, as they arrived


def _fifo(path: Path, content: bytes) -> threading.Thread:
    os.mkfifo(path)

    def write() -> None:
        with open(path, "wb") as fh:
            fh.write(content)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


def test_named_fifos_each_read_once_even_when_linking_reads_again(tmp_path):
    # IDs that do not code densely make the streaming link give up and read every input again.
    a = b"id,decision,label\nann,1,1\nbob,0,1\ncy,1,0\n"
    b = b"id,decision,label\nann,1,0\nbob,0,1\ncy,0,0\n"
    writers = [_fifo(tmp_path / "a", a), _fifo(tmp_path / "b", gzip.compress(b))]
    result = monoculture.audit([str(tmp_path / "a"), str(tmp_path / "b")], label="label")
    for w in writers:
        w.join(timeout=10)
    (tmp_path / "a.csv").write_bytes(a)
    (tmp_path / "b.csv").write_bytes(b)
    want = monoculture.audit([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], label="label")
    assert result.overall.n == want.overall.n == 3
    assert json.loads(render_json(result))["overall"] == json.loads(render_json(want))["overall"]


def test_a_fifo_made_again_at_the_same_path_is_read_afresh(tmp_path):
    outcomes = []
    for rows in (b"1,1,1\n2,1,1\n", b"1,1,1\n2,0,1\n3,0,1\n"):
        path = tmp_path / "a"
        writer = _fifo(path, b"id,decision,label\n" + rows)
        (tmp_path / "b.csv").write_bytes(b"id,decision,label\n1,0,1\n2,0,1\n3,0,1\n")
        result = monoculture.audit([str(path), str(tmp_path / "b.csv")], label="label")
        writer.join(timeout=10)
        path.unlink()
        outcomes.append(result.overall.n)
    assert outcomes == [2, 3]


def test_empty_and_parquet_pipes_are_one_line_errors(tmp_path):
    exe = shlex.quote(sys.executable)
    b = SAMPLE / "lender_b.csv"
    empty = _bash(f"{exe} -m monoculture audit <(true) {b} --id applicant_id --decision approved --label repaid")
    assert empty.returncode == 2
    assert empty.stderr.decode().strip().endswith("file is empty (no header row)")
    pq.write_table(pa.table({"applicant_id": [1], "approved": [1]}), tmp_path / "x.parquet")
    parquet = _bash(f"{exe} -m monoculture audit <(cat {tmp_path / 'x.parquet'}) {b} --id applicant_id "
                    "--decision approved --label repaid")
    assert parquet.returncode == 2
    err = parquet.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "Parquet cannot be read from a pipe" in err


def test_pseudonymize_reads_a_pipe_like_the_file(tmp_path):
    exe = shlex.quote(sys.executable)
    a = SAMPLE / "lender_a.csv"
    key = tmp_path / "k.key"
    assert _bash(f"{exe} -m monoculture keygen -o {key}").returncode == 0
    piped = _bash(f"{exe} -m monoculture pseudonymize <(gzip -c {a}) --id applicant_id --key-file {key} "
                  f"-o {tmp_path / 'p.csv'}")
    assert piped.returncode == 0, piped.stderr.decode()
    direct = _bash(f"{exe} -m monoculture pseudonymize {a} --id applicant_id --key-file {key} -o {tmp_path / 'f.csv'}")
    assert direct.returncode == 0, direct.stderr.decode()
    assert (tmp_path / "p.csv").read_bytes() == (tmp_path / "f.csv").read_bytes()
