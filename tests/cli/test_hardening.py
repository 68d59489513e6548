"""A corpus of malformed and awkward inputs, each with its expected exit code and message; fuzzing.

Malformed input → exit 2 and a short message naming the file (and column/row where it applies), never
a traceback, never exit 1. Awkward but valid input → exit 0.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from monoculture.cli.app import app
from profiles import examples

FAST = ["--bootstrap", "0", "--permutations", "0", "-q"]
OK_ROWS = "id,decision,label\n1,1,1\n2,0,1\n3,1,0\n4,0,0\n5,1,1\n6,0,1\n"


def invoke(args: list[str], stdin: bytes | None = None):
    runner = CliRunner()
    return runner.invoke(app, ["audit", *args], input=stdin, catch_exceptions=True)


def w(d: Path, name: str, content: str | bytes) -> str:
    p = d / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return str(p)


def ok(d: Path) -> str:
    return w(d, "ok.csv", OK_ROWS)


# (case id, builder(tmp) -> args, expected fragment of the one-line error)
MALFORMED = [
    ("missing file", lambda d: [str(d / "nope.csv"), ok(d)], "nope.csv: file not found"),
    ("empty file", lambda d: [w(d, "e.csv", ""), ok(d)], "e.csv: file is empty"),
    ("header only", lambda d: [w(d, "h.csv", "id,decision,label\n"), ok(d)], "h.csv: no data rows"),
    ("binary file", lambda d: [w(d, "b.csv", bytes(range(256)) * 4), ok(d)], "b.csv: "),
    ("corrupt parquet", lambda d: [w(d, "c.parquet", b"PAR1 this is not parquet PAR1"), ok(d)],
     "c.parquet: not a valid Parquet file"),
    ("truncated parquet", lambda d: [_truncated_parquet(d), ok(d)], "t.parquet: not a valid Parquet file"),
    ("directory without inputs", lambda d: [str(_mkdir(d / "empty")), ok(d)], "directory holds no .csv"),
    ("ragged rows", lambda d: [w(d, "r.csv", "id,decision,label\n1,1,1\n2,0,1,9\n"), ok(d)], "line 3"),
    ("wrong delimiter", lambda d: [w(d, "s.csv", "id;decision;label\n1;1;1\n"), ok(d)], "';'-separated"),
    ("not UTF-8", lambda d: [w(d, "l.csv", b"id,decision,label,g\n1,1,1,caf\xe9\n"), ok(d), "--group", "g"],
     "column 'g', line 2: text is not UTF-8"),
    ("missing id column", lambda d: [w(d, "m.csv", "ident,decision,label\n1,1,1\n"), ok(d)],
     "column 'id': ID (--id) column not found"),
    ("missing decision column", lambda d: [w(d, "m.csv", "id,dec,label\n1,1,1\n"), ok(d)],
     "column 'decision': decision (--decision) column not found"),
    ("missing label column", lambda d: [w(d, "m.csv", "id,decision\n1,1\n"), ok(d)],
     "column 'label': label column not found"),
    ("missing group column", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "--group", "race"],
     "column 'race': group column not found in any input file nor in the people file; the inputs have: "
     "decision, id, label"),
    ("duplicate IDs", lambda d: [w(d, "d.csv", "id,decision,label\n1,1,1\n1,0,1\n"), ok(d)],
     "d.csv, line 3: 1 ID occurs more than once"),
    ("blank IDs", lambda d: [w(d, "i.csv", "id,decision,label\n1,1,1\n ,0,1\n"), ok(d)],
     "i.csv, line 3: 1 row has a missing or blank ID"),
    ("missing decision", lambda d: [w(d, "x.csv", "id,decision,label\n1,,1\n2,1,1\n"), ok(d)],
     "x.csv, line 2: 1 row has a missing decision; fix them, pass --drop-missing, or count a missing "
     "decision as a failure with --missing-decision fail"),
    ("missing label", lambda d: [w(d, "x.csv", "id,decision,label\n1,1,1\n2,1,\n"), ok(d)],
     "x.csv, line 3: 1 row has no label"),
    ("labels never match decisions", lambda d: [w(d, "v.csv", "id,decision,label\n1,yes,1\n2,no,0\n"),
                                                w(d, "v2.csv", "id,decision,label\n1,yes,1\n2,no,0\n")],
     "no decision value ever equals a label value"),
    ("unfavourable value absent", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "--failure", "outcome",
                                            "--unfavorable", "rejected"], "never occurs among the decisions"),
    ("threshold on text", lambda d: [w(d, "t.csv", "id,decision,label\n1,high,1\n"), ok(d), "--threshold", "0.5"],
     "t.csv, column 'decision', line 2: a threshold or top fraction needs numeric scores"),
    ("unknown option", lambda d: [ok(d), ok(d), "--frobnicate"], "No such option"),
    ("bad failure rule", lambda d: [ok(d), ok(d), "--failure", "wrong"], "Invalid value for '--failure'"),
    ("same decision-maker twice", lambda d: [f"x={ok(d)}", f"x={ok(d)}"], "decision-maker 'x' is named twice"),
    ("no linked individuals", lambda d: [ok(d), w(d, "z.csv", "id,decision,label\n91,1,1\n92,0,1\n")],
     "no individual is seen by every decision-maker"),
    ("one decision-maker", lambda d: [ok(d)], "needs at least 2 decision-makers"),
    ("top fraction out of range", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "--top-fraction", "1.5"],
     "--top-fraction must be between 0 and 1"),
    ("alpha out of range", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "--alpha", "2"], "--alpha must be between"),
    ("glob matches nothing", lambda d: [str(d / "*.nothing"), ok(d)], "no file matches this pattern"),
    ("people file lacks id", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "--people", w(d, "p.csv", "pid,g\n1,x\n"),
                                        "--group", "g"], "p.csv, column 'id': ID (--id) column not found"),
    ("people file duplicate IDs", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "--people",
                                             w(d, "p.csv", "id,g\n1,x\n1,y\n"), "--group", "g"],
     "p.csv, line 3: 1 ID occurs more than once in the people file"),
    ("conflicting groups", lambda d: [w(d, "g1.csv", "id,decision,label,g\n1,1,1,x\n2,0,1,y\n"),
                                      w(d, "g2.csv", "id,decision,label,g\n1,1,1,y\n2,0,1,y\n"), "--group", "g"],
     "column 'g': 1 linked individual has conflicting values"),
    ("corrupt gzip", lambda d: [w(d, "z.csv.gz", b"plain text, not gzip"), ok(d)], "z.csv.gz: "),
    ("wide without columns", lambda d: [ok(d), "--layout", "wide"], "needs --decision-columns"),
    ("wide pattern matches nothing", lambda d: [ok(d), "--decision-columns", "rater_*"],
     "no column matches --decision-columns 'rater_*'"),
    ("stacked without dm column", lambda d: [ok(d), "--layout", "stacked"],
     "column 'decision_maker': decision-maker (--decision-maker-column) column not found"),
    ("transposed without name column", lambda d: [ok(d), "--layout", "transposed"],
     "decision-maker name column not found"),
    ("threshold not a number", lambda d: [ok(d), ok(d), "--threshold", "a=b"], "--threshold takes T or NAME=T"),
    ("threshold for unknown", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "--threshold", "0.5", "--threshold",
                                         "zzz=0.2"], "--threshold names decision-maker 'zzz'"),
    ("unwritable output", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "-o", str(d / "no" / "dir" / "r.json")],
     "cannot write the report"),
    ("bad parity mode", lambda d: [ok(d), ok(d), "--parity", "paper"], "Invalid value for '--parity'"),
    ("negative bootstrap", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "--bootstrap", "-1"],
     "--bootstrap takes a count >= 0; got -1"),
    ("outcome on non-binary decisions", lambda d: [w(d, "n1.csv", "id,decision\n1,a\n2,b\n3,c\n"),
                                                   w(d, "n2.csv", "id,decision\n1,a\n2,b\n3,c\n"),
                                                   "--failure", "outcome"], "needs --unfavorable VALUE"),
    ("header repeats a column", lambda d: [w(d, "r.csv", "id,decision,decision,label\n1,1,0,1\n"), ok(d)],
     "r.csv, column 'decision': the header names this column 2 times (columns 2, 3); rename all but one"),
    ("wide header repeats a decision column", lambda d: [w(d, "wr.csv", "id,a,b,a,label\n1,1,0,1,1\n"),
                                                         "--decision-columns", "a", "--decision-columns", "b"],
     "wr.csv, column 'a': the header names this column 2 times (columns 2, 4)"),
    ("no rule and no label", lambda d: [ok(d), w(d, "o2.csv", OK_ROWS), "--label", ""],
     "--failure is not given and there is no label"),
]


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def _truncated_parquet(d: Path) -> str:
    full = d / "full.parquet"
    pq.write_table(pa.table({"id": [1, 2], "decision": [1, 0], "label": [1, 1]}), full)
    return w(d, "t.parquet", full.read_bytes()[:-20])


def test_corpus_is_large_enough():
    assert len(MALFORMED) + len(AWKWARD) >= 40


@pytest.mark.parametrize(("case", "build", "fragment"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_input_exits_2_with_a_clear_message(tmp_path, case, build, fragment):
    args = build(tmp_path)
    if "--label" not in args and "--failure" not in args:
        args += ["--label", "label"]
    if case == "no rule and no label":
        args = [a for a in args if a not in ("--label", "")]
    result = invoke(FAST + args)
    out = result.output
    assert result.exit_code == 2, (case, out)
    assert fragment in out, (case, out)
    assert "Traceback" not in out
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    if "No such option" not in fragment and "Invalid value" not in fragment:
        assert out.count("\n") <= 3, out


def _big(d: Path, k: int) -> list[str]:
    rng = np.random.default_rng(k)
    return [w(d, f"dm{i}.csv", "id,decision,label\n" + "".join(
        f"{j},{int(rng.random() < .7)},1\n" for j in range(60))) for i in range(k)]


AWKWARD = [
    ("BOM", lambda d: [w(d, "bom.csv", "\ufeff" + OK_ROWS), ok(d)], None),
    ("CRLF", lambda d: [w(d, "crlf.csv", OK_ROWS.replace("\n", "\r\n")), ok(d)], None),
    ("gzip", lambda d: [w(d, "g.csv.gz", gzip.compress(OK_ROWS.encode(), mtime=0)), ok(d)], None),
    ("quoted fields with commas and newlines", lambda d: [
        w(d, "q.csv", 'id,decision,label,g\n1,1,1,"a, b\nc"\n2,0,1,"x ""y"""\n'),
        w(d, "q2.csv", "id,decision,label\n1,1,1\n2,0,1\n"), "--group", "g"], None),
    ("unicode and spaces in paths and labels", lambda d: [
        w(d, "my files/lénder à.csv", "id,decision,label,g\n1,oui,oui,Métis\n2,non,oui,Ōkami 狼\n"),
        w(d, "my files/other one.csv", "id,decision,label\n1,non,oui\n2,non,oui\n"), "--group", "g"], None),
    ("very long labels", lambda d: [w(d, "long.csv", f"id,decision,label,g\n1,1,1,{'x' * 5000}\n2,0,1,y\n"),
                                    w(d, "o2.csv", OK_ROWS), "--group", "g"], None),
    ("boolean and float-coded decisions", lambda d: [w(d, "b.csv", "id,decision,label\n1,True,1\n2,False,1.0\n"),
                                                     w(d, "f.csv", "id,decision,label\n1,1.0,1\n2,0.0,1\n")],
     lambda r: r["overall"]["failure_rates"]["b"]["value"] == 0.5),
    ("thirty decision-makers", lambda d: _big(d, 30), lambda r: len(r["decision_makers"]) == 30),
    ("never and always failing", lambda d: [w(d, "never.csv", "id,decision,label\n1,1,1\n2,1,1\n"),
                                            w(d, "always.csv", "id,decision,label\n1,0,1\n2,0,1\n")],
     lambda r: r["overall"]["homogenization"]["value"] is None and "never" in r["overall"]["homogenization"]["reason"]),
    ("spaces in header", lambda d: [w(d, "sp.csv", " id , decision , label \n1,1,1\n2,0,1\n"), ok(d)], None),
    ("tab-separated", lambda d: [w(d, "t.tsv", OK_ROWS.replace(",", "\t")), ok(d)], None),
    ("float IDs in parquet", lambda d: [_float_ids(d), ok(d)], lambda r: r["coverage"]["linked"] == 2),
]


def _float_ids(d: Path) -> str:
    p = d / "fid.parquet"
    pq.write_table(pa.table({"id": [1.0, 2.0], "decision": [1, 0], "label": [1, 1]}), p)
    return str(p)


@pytest.mark.parametrize(("case", "build", "check"), AWKWARD, ids=[c[0] for c in AWKWARD])
def test_awkward_but_valid_input_works(tmp_path, case, build, check):
    args = [*build(tmp_path), "--label", "label", "-f", "json"]
    result = invoke(args + FAST)
    assert result.exit_code == 0, (case, result.output)
    data = json.loads(result.stdout)
    if check is not None:
        assert check(data), case


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_random_bytes_never_crash(tmp_path_factory, blob):
    d = tmp_path_factory.mktemp("fuzz")
    args = [w(d, "fuzz.csv", blob), w(d, "ok.csv", OK_ROWS), "--label", "label", *FAST]
    result = invoke(args)
    assert result.exit_code in (0, 2), result.output
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(OK_ROWS) - 1), st.sampled_from([",", "\n", '"', "", "x", "\r", " ",
                                                                               "\x00", "é", ";", "1", "-"])),
                max_size=6))
def test_fuzz_csv_mutations_never_crash(tmp_path_factory, edits):
    text = OK_ROWS
    for pos, ch in edits:
        pos = min(pos, len(text))
        text = text[:pos] + ch + text[pos + 1:]
    d = tmp_path_factory.mktemp("mut")
    result = invoke([w(d, "m.csv", text), w(d, "ok.csv", OK_ROWS), "--label", "label", *FAST])
    assert result.exit_code in (0, 2), result.output
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)


def test_env_no_color_is_honoured(tmp_path):
    os.environ["NO_COLOR"] = "1"
    try:
        result = invoke([ok(tmp_path), w(tmp_path, "o2.csv", OK_ROWS), "--label", "label", *FAST])
    finally:
        del os.environ["NO_COLOR"]
    assert "\x1b[" not in result.output


def test_memory_estimate_stops_before_reading(tmp_path):
    from monoculture.errors import InputError
    from monoculture.read.memory import check_memory, estimate_bytes

    files = [ok(tmp_path), w(tmp_path, "o2.csv", OK_ROWS)]
    need = estimate_bytes(files)
    assert need == 3 * 2 * len(OK_ROWS)
    check_memory(files, available=10 * need)
    with pytest.raises(InputError, match=r"needs about .* GiB of memory"):
        check_memory(files, available=need)


def test_a_uri_without_the_spark_engine_is_a_one_line_error(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "monoculture", "audit", "s3a://bucket/a.parquet",
                           "s3a://bucket/b.parquet", "--label", "y", "--engine", "memory"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "s3a://bucket/a.parquet" in proc.stderr
    assert "--engine spark" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["a.csv", "a.csv.gz", "-"])
def test_the_csv_parser_gets_only_arrow_owned_memory(tmp_path, monkeypatch, name):
    """Arrow's threaded CSV reader may release its input on an Arrow thread after returning; a Python
    object there (a BytesIO, bytes behind a py_buffer) needs the GIL and aborted the CLI at exit (134)
    after an input error. Every CSV the tool parses must be an Arrow stream over Arrow-owned memory."""
    import io as pyio
    import sys

    import pyarrow.csv as pacsv

    from monoculture.read import files as mio

    data = b"\xef\xbb\xbfid,decision,label,g\n1,1,1,x\n2,0,1,y\n"
    if name == "-":
        monkeypatch.setattr(sys, "stdin", pyio.TextIOWrapper(pyio.BytesIO(data)))
        path = "-"
    else:
        path = w(tmp_path, name, gzip.compress(data) if name.endswith(".gz") else data)
    real = pacsv.read_csv
    seen: list[object] = []

    def spy(source, **kwargs):
        seen.append(source)
        return real(source, **kwargs)

    monkeypatch.setattr(mio.pacsv, "read_csv", spy)
    table, _ = mio.read_table(path, None if path == "-" else ["id", "decision", "label", "g"])
    assert table.column_names == ["id", "decision", "label", "g"]  # the BOM is gone from the header
    assert table["g"].to_pylist() == ["x", "y"]
    assert [type(s) for s in seen] == [pa.BufferReader]  # an Arrow stream, not a Python file object


@pytest.mark.parametrize("share", [0.0, 0.02, 0.5, 1.0])
def test_quoted_line_breaks_across_parser_blocks_read_as_the_careful_parse(tmp_path, share):
    """The reader first parses without `newlines_in_values` (cheaper) and parses again with it when Arrow
    fails; a file of several parser blocks (1 MB each) whose quoted values hold line breaks, some of them at
    block boundaries, must read exactly as pyarrow's careful parse reads it."""
    import pyarrow.csv as pacsv

    from monoculture.read.files import read_table

    rng = np.random.default_rng(int(share * 100))
    n = 120_000
    notes = np.where(rng.random(n) < share, '"two\nlines, ""quoted"""', '"one line"')
    body = "".join(f"p{i:07d},{d},{lab},{g},{note}\n" for i, d, lab, g, note in
                   zip(range(n), rng.integers(0, 2, n), rng.integers(0, 2, n), rng.choice(list("abc"), n), notes,
                       strict=True))
    path = tmp_path / "many_blocks.csv"
    path.write_text("id,decision,label,group,note\n" + body)
    assert path.stat().st_size > 2 << 20  # three blocks or more
    careful = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                             convert_options=pacsv.ConvertOptions(strings_can_be_null=True,
                                                                  quoted_strings_can_be_null=True))
    table, info = read_table(str(path))
    assert table.num_rows == n == info.rows
    assert table.equals(careful)
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
