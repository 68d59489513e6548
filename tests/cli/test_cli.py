"""End-to-end: the command as a user runs it — output, exit codes, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len

import monoculture
from conftest import sample_linked
from monoculture.report.json import render_json
from monoculture.spec import InferenceOptions
from profiles import repeats

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
LENDERS = [str(SAMPLE / f) for f in
           ("lender_a.csv", "lender_b.csv", "lender_c.parquet", "lender_d.csv.gz", "lender_e.parquet")]
COMMON = ["--id", "applicant_id", "--decision", "approved", "--label", "repaid", "--failure", "error",
          "--group", "race", "--group", "sex"]


def run(*args: str, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monoculture", *args], capture_output=True, input=stdin,
        env={**os.environ, **(env or {})}, cwd=ROOT, timeout=120,
    )


def test_sample_audit_json_equals_library_result():
    proc = run("audit", *LENDERS, *COMMON, "--format", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    lib = monoculture.audit(LENDERS, id_column="applicant_id", decision="approved", label="repaid",
                            failure="error", groups=["race", "sex"])
    assert json.loads(render_json(lib)) == data
    assert data["schema_version"] and data["tool_version"] == monoculture.__version__
    rows, linked, _ = sample_linked()
    assert [i["rows"] for i in data["inputs"]] == rows
    assert all(len(i["sha256"]) == 64 for i in data["inputs"])
    o = data["overall"]
    assert o["n"] == data["coverage"]["linked"] == linked
    # The sample ecosystem plants a shared vendor model: systemic failure far above independence.
    assert o["homogenization"]["value"] > 10
    assert o["systemic_failure"]["value"] > o["expected_systemic_failure"]["value"]
    assert {g["attribute"] for g in data["groups"]} == {"race", "sex"}
    b = next(g for g in data["groups"] if g["attribute"] == "race" and g["group"] == "B")
    # Group B is over-represented among the systemically failed.
    assert b["share_of_systemic_failures"]["value"] > b["share_of_population"]["value"]
    assert len(o["pairwise"]) == 10
    assert sum(h["observed"]["value"] for h in o["failure_count_histogram"]) == pytest.approx(1)


def test_json_is_byte_identical_across_runs(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run("audit", *LENDERS, *COMMON, "-o", str(a)).returncode == 0
    assert run("audit", *LENDERS, *COMMON, "-o", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes()
    json.loads(a.read_text())  # -o FILE.json picks the JSON format


def test_table_report_mentions_the_essentials():
    proc = run("audit", *LENDERS, *COMMON, "--width", "100", env={"NO_COLOR": "1"})
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "\x1b[" not in out
    for needle in ("5 decision-makers", f"{sample_linked()[1]:,} linked", "Rule: failure = error",
                   "Systemic failure S =", "Ecosystem view", "Error consistency", "By group", "Coverage"):
        assert needle in out
    assert max(cell_len(line) for line in out.splitlines()) <= 100
    # Warnings go to stderr, never into the report.
    assert "Warning" not in out and "Warning" in proc.stderr.decode()


def test_report_never_prints_ids():
    proc = run("audit", *LENDERS, *COMMON, "--format", "json")
    assert b"A0" not in proc.stdout  # sample IDs look like A00042


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "other.csv"], "missing.csv: file not found"),
        ([str(SAMPLE / "lender_a.csv")], "needs at least 2 decision-makers"),
        (["--id", "nope"], "column 'nope': ID (--id) column not found"),
        (["--label", "nope"], "column 'nope': label column not found"),
        (["--group", "nope"], "column 'nope': group column not found"),
        (["--failure", "outcome", "--unfavorable", "7"], "--unfavorable '7' never occurs"),
        (["--bogus-option"], "No such option"),
    ],
)
def test_errors_are_one_line_with_exit_2(args, message):
    base = {"--id": "applicant_id", "--decision": "approved", "--label": "repaid"}
    opts: list[str] = []
    for flag, value in base.items():
        if flag not in args:
            opts += [flag, value]
    files = [a for a in args if a.endswith((".csv", ".parquet"))] or LENDERS[:2]
    rest = [a for a in args if a not in files]
    proc = run("audit", *files, *opts, *rest)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert message in err
    assert "Traceback" not in err
    if "No such option" not in message:
        assert err.count("\n") == 1


def test_duplicate_ids_are_an_error_naming_file_and_row(tmp_path):
    (tmp_path / "a.csv").write_text("id,decision,label\n1,1,1\n2,0,1\n1,1,1\n")
    (tmp_path / "b.csv").write_text("id,decision,label\n1,1,1\n2,0,1\n")
    proc = run("audit", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--label", "label")
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert "a.csv, line 4: 1 ID occurs more than once (2 rows)" in err
    proc = run("audit", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--label", "label",
               "--duplicates", "drop", "--format", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    cov = json.loads(proc.stdout)["coverage"]
    assert cov["sources"][0]["duplicate_rows"] == 2 and cov["linked"] == 1


def test_stdin_and_name_equals_path(tmp_path):
    (tmp_path / "b.csv").write_text("id,decision,label\n1,1,1\n2,0,1\n3,1,0\n")
    proc = run("audit", "first=-", f"second={tmp_path / 'b.csv'}", "--label", "label", "--format", "json",
               stdin=b"id,decision,label\n1,0,1\n2,0,1\n3,1,0\n")
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert [d["name"] for d in data["decision_makers"]] == ["first", "second"]
    assert data["inputs"][0]["path"] == "<stdin>"


def test_help_documents_every_option():
    proc = run("audit", "--help")
    assert proc.returncode == 0
    text = proc.stdout.decode()
    for option in ("--id", "--decision", "--label", "--group", "--people", "--layout", "--failure", "--threshold",
                   "--top-fraction", "--join", "--format", "--output"):
        assert option in text


def test_python_api_is_the_cli(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("x", "y"):
        (tmp_path / f"{name}.csv").write_text(
            "id,decision,label\n" + "".join(f"{j},{int(rng.random() < .5)},1\n" for j in range(50)))
    lib = monoculture.audit([str(tmp_path / "x.csv"), str(tmp_path / "y.csv")], label="label")
    proc = run("audit", str(tmp_path / "x.csv"), str(tmp_path / "y.csv"), "--label", "label", "-f", "json")
    assert json.loads(proc.stdout) == json.loads(render_json(lib))


def test_parquet_on_stdin_and_repeated_parquet_exit_codes(tmp_path):
    # pyarrow can abort at exit (code 134) after reading Parquet from memory: run it 20 times.
    data = (SAMPLE / "lender_c.parquet").read_bytes()
    args = ["audit", "c=-", str(SAMPLE / "lender_e.parquet"), "--id", "applicant_id", "--decision", "approved",
            "--label", "repaid", "--bootstrap", "0", "--permutations", "0", "-f", "json", "-q"]
    codes = set()
    for _ in range(repeats(10)):
        proc = run(*args, stdin=data)
        codes.add(proc.returncode)
        assert json.loads(proc.stdout)["inputs"][0]["format"] == "parquet"
    for _ in range(repeats(10)):
        codes.add(run(*args[:1], *[str(SAMPLE / "lender_c.parquet"), str(SAMPLE / "lender_e.parquet")],
                      *args[3:]).returncode)
    assert codes == {0}


def test_commands_that_compute_no_statistic_start_without_scipy_stats(tmp_path):
    # scipy.stats is most of the start-up; `count` and `--help` must not wait for it, an audit must load it.
    probe = ("import sys, runpy; sys.argv = ['monoculture', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('monoculture', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print('scipy.stats' in sys.modules, 'scipy.optimize' in sys.modules, file=sys.stderr)")

    def loads_stats(*args: str) -> list[str]:
        proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, cwd=ROOT, timeout=120)
        return proc.stderr.decode().split()[-2:]

    assert loads_stats("--help") == ["False", "False"]
    assert loads_stats("count", *LENDERS, *COMMON, "-o", str(tmp_path / "p.parquet")) == ["False", "False"]
    assert (tmp_path / "p.parquet").exists()
    assert loads_stats("audit", *LENDERS, *COMMON, "--format", "json", "-o", str(tmp_path / "a.json")) == \
        ["True", "True"]
    # An input error found in the headers stops the audit before its imports start (so it exits at once).
    assert loads_stats("audit", *LENDERS, "--id", "no_such_column", "--format", "json") == ["False", "False"]


@pytest.mark.parametrize("args", [["--help"], ["audit", "--help"], ["multiplicity", "--help"],
                                  ["simulate", "dynamics", "--help"], ["config"]])
def test_help_and_config_start_without_numpy_or_pyarrow(args):
    """Start-up: the commands that compute nothing import none of the numeric stack (bench/bench_startup.py
    has their times)."""
    probe = ("import sys, runpy; sys.argv = ['monoculture', *sys.argv[1:]]\n"
             "try:\n    runpy.run_module('monoculture', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(*[m in sys.modules for m in ('numpy', 'pyarrow', 'pandas', 'scipy')], file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, cwd=ROOT, timeout=120)
    assert proc.stderr.decode().split()[-4:] == ["False"] * 4, proc.stderr.decode()[-500:]


def test_the_demo_headline_is_stable():
    """The sample data are large enough that the demo leads with a stable H (N·S_ind ≥ 5), not a ratio of
    chance — the tool's first impression."""
    r = monoculture.audit(LENDERS, id_column="applicant_id", decision="approved", label="repaid",
                          groups=["race", "sex"], inference=InferenceOptions(bootstrap=0, permutations=0))
    o = r.overall
    assert o.n * o.expected_systemic_failure.value >= 5
    assert not any(f.startswith("unstable") for f in o.homogenization.flags)


@pytest.mark.parametrize("module", ["monoculture.cli", "monoculture"])
def test_the_cli_and_the_library_let_idle_blas_threads_sleep(module):
    """OpenBLAS threads spinning between small products burned a third of an audit's CPU time
    (bench/bench_contention.py): importing the package (the CLI, or a script that imports it first) sets
    OPENBLAS_THREAD_TIMEOUT before numpy loads, unless the user did."""
    probe = f"import os, {module}, numpy; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, env=env, timeout=60).stdout.decode()
    assert out.strip() == "4"
    kept = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60,
                          env={**env, "OPENBLAS_THREAD_TIMEOUT": "20"}).stdout.decode()
    assert kept.strip() == "20"
