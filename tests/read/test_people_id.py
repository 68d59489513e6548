"""A people file whose key column has a name of its own (`--people-id`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import monoculture
from monoculture.report.json import render_json
from monoculture.spec import InferenceOptions

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
LENDERS = [str(SAMPLE / n) for n in ("lender_a.csv", "lender_b.csv", "lender_c.parquet")]
KW = dict(id_column="applicant_id", decision="approved", label="repaid", groups=["race"],
          inference=InferenceOptions(bootstrap=50, permutations=99))


def test_a_renamed_key_gives_the_same_audit(tmp_path):
    people = pd.read_csv(SAMPLE / "people.csv").rename(columns={"applicant_id": "person"})
    people.to_csv(tmp_path / "people.csv", index=False)
    same = monoculture.audit(LENDERS, people=str(SAMPLE / "people.csv"), **KW)
    renamed = monoculture.audit(LENDERS, people=str(tmp_path / "people.csv"), people_id="person", **KW)
    a, b = json.loads(render_json(same)), json.loads(render_json(renamed))
    assert b["options"]["people_id"] == "person"
    for data in (a, b):
        data.pop("options")
        data.pop("inputs")
        data["coverage"]["people"].pop("file")
    assert a == b
    with pytest.raises(monoculture.InputError) as caught:
        monoculture.audit(LENDERS, people=str(tmp_path / "people.csv"), **KW)
    assert caught.value.column == "applicant_id"


def test_the_cli_names_the_key_and_the_sql_engines_refuse_it(tmp_path):
    people = pd.read_csv(SAMPLE / "people.csv").rename(columns={"applicant_id": "person"})
    people.to_csv(tmp_path / "people.csv", index=False)
    base = [sys.executable, "-m", "monoculture", "audit", *LENDERS, "--id", "applicant_id", "--decision",
            "approved", "--label", "repaid", "--people", str(tmp_path / "people.csv"), "-g", "race",
            "--bootstrap", "0", "--permutations", "0", "-f", "json"]
    missing = subprocess.run([*base, "--people-id", "nobody"], capture_output=True, cwd=ROOT)
    assert missing.returncode == 2
    assert "column 'nobody': people-file ID (--people-id) column not found" in missing.stderr.decode()
    ok = subprocess.run([*base, "--people-id", "person"], capture_output=True, cwd=ROOT)
    assert ok.returncode == 0 and json.loads(ok.stdout)["coverage"]["people"]["matched"] > 0
    pytest.importorskip("duckdb")
    refused = subprocess.run([*base, "--people-id", "person", "--engine", "duckdb"], capture_output=True, cwd=ROOT)
    assert refused.returncode == 2
    assert refused.stderr.decode().strip() == ("Error: --engine duckdb reads the people file's IDs from --id: "
                                               "rename its key column, or count with --engine memory")
