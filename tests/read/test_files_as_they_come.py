"""Files as they come: another delimiter, an input's own column names, and errors that say the line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import monoculture
from monoculture.errors import InputError, where_in_file
from monoculture.report.json import render_json
from monoculture.spec import InferenceOptions, SpecError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
LENDERS = ["lender_a.csv", "lender_b.csv", "lender_c.parquet"]
KW = dict(id_column="applicant_id", decision="approved", label="repaid", groups=["race"],
          people=str(SAMPLE / "people.csv"), inference=InferenceOptions(bootstrap=40, permutations=99))


def _frames() -> dict[str, pd.DataFrame]:
    read = lambda n: pd.read_parquet(SAMPLE / n) if n.endswith(".parquet") else pd.read_csv(SAMPLE / n)  # noqa: E731
    return {Path(n).stem: read(n) for n in LENDERS}


def _measures(result) -> dict:
    """The audit's numbers, without the echo of how the files were read."""
    out = json.loads(render_json(result))
    for key in ("options", "inputs"):
        out.pop(key)
    for where in [*out["coverage"]["sources"], out["coverage"]["people"]]:
        where.pop("file")
    return out


@pytest.fixture(scope="module")
def as_shipped():
    return _measures(monoculture.audit([str(SAMPLE / n) for n in LENDERS], **KW))


@pytest.mark.parametrize("sep, given", [(";", ";"), ("|", "|"), ("\t", "\\t"), ("\t", "tab")])
def test_a_declared_delimiter_reads_the_same_data_to_the_same_numbers(tmp_path, as_shipped, sep, given):
    paths = []
    for name, frame in _frames().items():
        path = tmp_path / f"{name}.csv"  # .csv whatever the separator: the suffix no longer decides
        frame.to_csv(path, sep=sep, index=False)
        paths.append(str(path))
    people = tmp_path / "people.csv"
    pd.read_csv(SAMPLE / "people.csv").to_csv(people, sep=sep, index=False)
    result = monoculture.audit(paths, **(KW | {"people": str(people)}), delimiter=given)
    assert _measures(result) == as_shipped
    assert json.loads(render_json(result))["options"]["delimiter"] == sep


def test_without_the_delimiter_a_semicolon_file_is_refused_naming_the_option(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id;decision;label\n1;1;1\n2;0;1\n")
    run = subprocess.run([sys.executable, "-m", "monoculture", "audit", f"a={path}", f"b={path}", "--label", "label"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "looks ';'-separated: pass --delimiter ';'" in run.stderr


@pytest.mark.parametrize("bad", ["", ";;", '"', "\n"])
def test_a_delimiter_is_one_character_other_than_a_quote_or_line_break(bad):
    with pytest.raises(SpecError, match=r"inputs\.delimiter"):
        monoculture.AuditSpec.of(["a.csv"], label="y", delimiter=bad)


def test_the_emitted_sql_reads_with_the_declared_delimiter(tmp_path):
    for name in "ab":
        (tmp_path / f"{name}.csv").write_text("id;decision;y\n1;1;1\n")
    spec = monoculture.AuditSpec.of([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], label="y", delimiter=";")
    from monoculture.count.engines import sql_of
    assert "delim = ';'" in sql_of(spec) and "delim = ','" not in sql_of(spec)


def test_the_duckdb_engine_reads_with_the_declared_delimiter(tmp_path, as_shipped):
    pytest.importorskip("duckdb", reason="duckdb (the test extra) runs the engine")
    paths = []
    for name, frame in _frames().items():
        frame.to_csv(tmp_path / f"{name}.csv", sep=";", index=False)
        paths.append(str(tmp_path / f"{name}.csv"))
    kw = KW | {"people": None, "groups": []}
    memory = monoculture.audit(paths, **kw, delimiter=";", engine="memory")
    duck = monoculture.audit(paths, **kw, delimiter=";", engine="duckdb")
    assert duck.overall.systemic_failure.value == memory.overall.systemic_failure.value
    rates = lambda result: [d.failure_rate.value for d in result.decision_makers]  # noqa: E731
    assert rates(duck) == rates(memory)


# --- An input's own column names ------------------------------------------------------------------------------


def _renamed(tmp_path: Path) -> list[str]:
    """lender_b as another team wrote it: its own names for the ID, the decision and the label."""
    frames = _frames()
    frames["lender_b"] = frames["lender_b"].rename(columns={"applicant_id": "applicant_no", "approved": "accept",
                                                            "repaid": "outcome"})
    paths = []
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        paths.append(str(tmp_path / f"{name}.csv"))
    return paths


def test_an_inputs_own_column_names_give_the_same_audit(tmp_path, as_shipped):
    own = {"lender_b": {"id": "applicant_no", "decision": "accept", "label": "outcome"}}
    result = monoculture.audit(_renamed(tmp_path), **KW, per_input=own)
    assert _measures(result) == as_shipped
    assert json.loads(render_json(result))["options"]["per_input"] == own


def test_an_inputs_own_column_names_from_the_command_line(tmp_path):
    paths = _renamed(tmp_path)
    out = tmp_path / "r.json"
    args = [*paths, "--id", "applicant_id", "--id", "lender_b=applicant_no", "--decision", "approved",
            "--decision", "lender_b=accept", "--label", "repaid", "--label", "lender_b=outcome", "-g", "race",
            "--people", str(SAMPLE / "people.csv"), "--bootstrap", "40", "-o", str(out)]
    run = subprocess.run([sys.executable, "-m", "monoculture", "audit", *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    shipped = monoculture.audit([str(SAMPLE / n) for n in LENDERS], **(KW | {"inference": InferenceOptions(
        bootstrap=40)}))
    assert json.loads(out.read_text())["overall"] == json.loads(render_json(shipped))["overall"]


def test_a_name_that_is_no_input_is_refused_before_reading(tmp_path):
    run = subprocess.run([sys.executable, "-m", "monoculture", "audit", *_renamed(tmp_path), "--id", "applicant_id",
                          "--id", "lender_x=applicant_no", "--decision", "approved", "--label", "repaid"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert ("NAME=COLUMN of --id, --decision or --label names input 'lender_x', which is not among the inputs "
            "(lender_a, lender_b, lender_c)") in run.stderr


def test_two_plain_columns_for_one_option_are_refused(tmp_path):
    run = subprocess.run([sys.executable, "-m", "monoculture", "audit", *_renamed(tmp_path), "--id", "a", "--id",
                          "b"], capture_output=True, text=True)
    assert run.returncode == 2 and "--id takes one column for every input" in run.stderr


def test_own_column_names_need_the_files_layout():
    with pytest.raises(SpecError, match=r"columns\.per_input names columns of single inputs"):
        monoculture.AuditSpec.of(["w.csv"], decision_columns=["m_*"], label="y", per_input={"m_1": {"id": "k"}})


def test_an_own_label_needs_a_label_for_the_others():
    with pytest.raises(SpecError, match=r"columns\.label names input 'b''s label column only"):
        monoculture.AuditSpec.of(["a.csv", "b.csv"], failure="error", per_input={"b": {"label": "y"}})


def test_the_sql_engines_refuse_own_column_names(tmp_path):
    pytest.importorskip("duckdb", reason="duckdb (the test extra) runs the engine")
    own = {"lender_b": {"id": "applicant_no", "decision": "accept", "label": "outcome"}}
    with pytest.raises(monoculture.UsageError, match=r"engine\.engine=duckdb reads one ID, decision and label"):
        monoculture.audit(_renamed(tmp_path), **(KW | {"people": None, "groups": []}), per_input=own,
                          engine="duckdb")


def test_a_config_file_gives_one_column_as_a_plain_value(tmp_path):
    (tmp_path / "monoculture.toml").write_text('id = "applicant_id"\ndecision = "approved"\nlabel = "repaid"\n')
    paths = [str(SAMPLE / n) for n in LENDERS]
    run = subprocess.run([sys.executable, "-m", "monoculture", "audit", *paths, "--bootstrap", "0", "-f", "json"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["options"]["id"] == "applicant_id"


# --- Where an error is ------------------------------------------------------------------------------------------


def test_a_text_file_row_is_said_as_its_line_and_a_parquet_row_as_its_row():
    assert where_in_file("a.csv", 5) == "line 6"
    assert where_in_file("a.CSV.gz", 1_234_567) == "line 1,234,568"
    assert where_in_file("a.parquet", 5) == "row 5"
    assert where_in_file(None, 5) == "row 5"
    assert str(InputError("bad", file="x.tsv", row=1)) == "x.tsv, line 2: bad"


@pytest.mark.parametrize("rows, said", [
    # m1's rows come first; m2's one blank answer is the file's data row 6 (line 7), its own row 2.
    ("1,m1,A,A\n2,m1,B,B\n3,m1,C,C\n1,m2,A,A\n3,m2,C,C\n2,m2,,B\n", "line 7: 1 row has a missing decision"),
    # m2 gives question 1 twice: on lines 3 and 6 (its own rows 1 and 3).
    ("1,m1,A,A\n1,m2,A,A\n2,m2,B,B\n2,m1,B,B\n1,m2,C,A\n", "line 6: 1 ID occurs more than once (2 rows)"),
])
def test_a_stacked_files_error_names_the_files_line_not_the_decision_makers_row(tmp_path, rows, said):
    path = tmp_path / "answers.csv"
    path.write_text("q,model,pred,answer\n" + rows)
    with pytest.raises(InputError) as caught:
        monoculture.audit([str(path)], layout="stacked", decision_maker_column="model", id_column="q",
                          decision="pred", label="answer", inference=InferenceOptions(bootstrap=0))
    assert f"answers.csv, {said}" in str(caught.value)


@pytest.mark.parametrize("row_group_size", [3, 7, 1000])
def test_parquet_read_a_row_group_at_a_time_is_the_whole_file(tmp_path, row_group_size):
    """`read_table` reads Parquet row group by row group (to hold one group's column, not twice the whole):
    the same values, types and dictionary columns as pyarrow's whole-file read, nulls included."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from monoculture.read.files import read_table

    n = 50
    table = pa.table({"id": [f"{i:064x}" if i % 11 else None for i in range(n)], "decision": list(range(n)),
                      "group": [("a", "b", None)[i % 3] for i in range(n)]})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=row_group_size)
    got, info = read_table(str(path), ["id", "decision", "group"], categorical=["group"])
    want = pq.read_table(path, columns=["id", "decision", "group"], read_dictionary=["group"])
    assert got.schema == want.schema and got.equals(want) and info.rows == n
