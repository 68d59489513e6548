"""In a notebook: DataFrames and Arrow tables in, the CLI's keyword names, tidy frames and HTML out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import monoculture
from monoculture.report import Format, render
from monoculture.spec import InferenceOptions

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
FILES = {"lender_a": "lender_a.csv", "lender_b": "lender_b.csv", "lender_c": "lender_c.parquet",
         "lender_d": "lender_d.csv.gz", "lender_e": "lender_e.parquet"}
KW = dict(id="applicant_id", decision="approved", label="repaid", group="race", bootstrap=60, seed=3,
          permutations=99)


def _frame(name: str) -> pd.DataFrame:
    path = SAMPLE / FILES[name]
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype={"applicant_id": str})


def _same_numbers(a: monoculture.AuditResult, b: monoculture.AuditResult) -> None:
    """Equal JSON but for where the inputs came from (paths, formats and hashes of the files or frames, and
    their layout)."""
    ja, jb = json.loads(render(a, Format.json)), json.loads(render(b, Format.json))
    for j in (ja, jb):
        j.pop("inputs")
        for key in ("layout", "decision_maker_column", "decision_columns"):
            j["options"].pop(key)
        for s in j["coverage"]["sources"]:
            s.pop("file")
    assert ja == jb


@pytest.fixture(scope="module")
def from_files():
    return monoculture.audit([str(SAMPLE / f) for f in FILES.values()], **KW)


def test_a_dict_of_pandas_frames_audits_as_the_files(from_files):
    _same_numbers(monoculture.audit({n: _frame(n) for n in FILES}, **KW), from_files)


def test_a_dict_of_arrow_tables_audits_as_the_files(from_files):
    tables = {n: pa.Table.from_pandas(_frame(n), preserve_index=False) for n in FILES}
    _same_numbers(monoculture.audit(tables, **KW), from_files)


def test_one_stacked_frame_and_one_wide_frame_audit_as_the_files(from_files, tmp_path):
    stacked = pd.concat([_frame(n)[["applicant_id", "approved", "repaid", "race"]].assign(lender=n) for n in FILES])
    _same_numbers(monoculture.audit(stacked, decision_maker_column="lender", **KW), from_files)
    stacked.to_csv(tmp_path / "stacked.csv", index=False)
    on_disk = monoculture.audit([tmp_path / "stacked.csv"], layout="stacked", decision_maker_column="lender", **KW)
    _same_numbers(monoculture.audit(stacked, decision_maker_column="lender", **KW), on_disk)
    wide = stacked.pivot_table(index=["applicant_id", "repaid", "race"], columns="lender", values="approved",
                               aggfunc="first").reset_index()
    wide.columns.name = None
    wide.to_csv(tmp_path / "wide.csv", index=False)
    common = dict(KW, decision_columns=["lender_*"], join="outer")
    _same_numbers(monoculture.audit(wide, **common), monoculture.audit([tmp_path / "wide.csv"], **common))


def test_errors_from_frames_name_the_frame_and_column():
    frames = {n: _frame(n) for n in FILES}
    frames["lender_b"] = frames["lender_b"].drop(columns="approved")
    with pytest.raises(monoculture.InputError) as err:
        monoculture.audit(frames, **KW)
    assert err.value.file == "dataframe:lender_b" and "approved" in str(err.value)
    with pytest.raises(monoculture.UsageError, match="dict"):
        monoculture.audit([_frame("lender_a"), _frame("lender_b")], **KW)
    with pytest.raises(monoculture.UsageError, match="lender_a"):
        monoculture.audit({"lender_a": "a.csv"}, **KW)


def test_the_clis_names_are_the_librarys(from_files):
    spelled = monoculture.audit([str(SAMPLE / f) for f in FILES.values()], id_column="applicant_id",
                                decision="approved", label="repaid", groups=["race"],
                                inference=InferenceOptions(bootstrap=60, seed=3, permutations=99))
    _same_numbers(spelled, from_files)
    with pytest.raises(monoculture.SpecError, match="twice"):
        monoculture.audit(["x.csv"], id="a", id_column="b")


def test_frames_carry_the_jsons_numbers(from_files):
    data = json.loads(render(from_files, Format.json))
    by_group = from_files.by_group
    for g in data["groups"]:
        row = by_group.loc[(g["attribute"], g["group"])]
        assert row["n"] == g["n"]
        assert row["homogenization"] == g["homogenization"]["value"]
        assert row["homogenization_ci_low"] == g["homogenization"]["ci"][0]
        assert row["homogenization_beyond_difficulty"] == g["rasch"]["homogenization"]["value"]
    pairs = from_files.pairwise
    for p in data["overall"]["pairwise"]:
        row = pairs[(pairs.a == p["a"]) & (pairs.b == p["b"])].iloc[0]
        assert row["error_consistency"] == p["error_consistency"]["value"]
    tidy = from_files.to_frame()
    h = tidy[(tidy.scope == "overall") & (tidy.metric == "homogenization")].iloc[0]
    assert h.value == data["overall"]["homogenization"]["value"]
    assert len(tidy) == len(render(from_files, Format.csv).splitlines()) - 1
    spread = from_files.difference().loc["race", "systemic_failure"]
    values = [g["systemic_failure"]["value"] for g in data["groups"]]
    assert spread == pytest.approx(max(values) - min(values))
    assert from_files.ratio().loc["race", "systemic_failure"] == pytest.approx(min(values) / max(values))


def test_display_and_saving(from_files, tmp_path):
    assert len(repr(from_files).splitlines()) <= 5
    assert from_files._repr_html_() == render(from_files, Format.html)
    written = from_files.save(tmp_path / "audit.json")
    assert json.loads(Path(written).read_text()) == json.loads(render(from_files, Format.json))
    from_files.save(tmp_path / "audit.html")
    assert (tmp_path / "audit.html").read_text().lstrip().lower().startswith("<!doctype html")


def test_a_failure_matrix_audits_as_the_same_matrix_in_a_file(tmp_path):
    rng = np.random.default_rng(7)
    f = rng.random((800, 4)) < [0.2, 0.3, 0.25, 0.4]
    groups = rng.choice(["x", "y"], 800)
    r = monoculture.from_failures(f, names=list("abcd"), groups={"g": groups}, bootstrap=40, permutations=99)
    frame = pd.DataFrame(f.astype(int), columns=list("abcd")).assign(id=range(800), g=groups)
    frame.to_csv(tmp_path / "wide.csv", index=False)
    on_disk = monoculture.audit([tmp_path / "wide.csv"], decision_columns=list("abcd"), failure="outcome",
                                unfavorable="1", group="g", bootstrap=40, permutations=99)
    _same_numbers(r, on_disk)
    assert r.overall.systemic_failure.value == pytest.approx(f.all(axis=1).mean())


def test_importing_the_package_loads_no_numerical_library():
    code = ("import sys, monoculture; "
            "print(sorted(m for m in ('numpy', 'pandas', 'pyarrow', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
