"""Config files: discovery upward, precedence CLI > config > defaults, unknown keys rejected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
A, B = str(ROOT / "sample_data/lender_a.csv"), str(ROOT / "sample_data/lender_b.csv")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monoculture", *args], capture_output=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, timeout=120)


def _write(d: Path, name: str, text: str) -> None:
    (d / name).write_text(text)


def test_pyproject_table_found_upward_and_cli_wins(tmp_path):
    _write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n[tool.monoculture]\nid = "applicant_id"\n'
           'decision = "approved"\nlabel = "repaid"\nbootstrap = 50\nseed = 7\nmax-homogenization = 1000\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    data = json.loads(run(sub, "audit", A, B, "-f", "json", "-q").stdout)
    assert data["options"]["inference"]["bootstrap"] == 50 and data["options"]["inference"]["seed"] == 7
    assert data["options"]["gates"]["max_homogenization"] == 1000
    data = json.loads(run(sub, "audit", A, B, "-f", "json", "-q", "--bootstrap", "20").stdout)
    assert data["options"]["inference"]["bootstrap"] == 20  # command line > config
    assert data["options"]["inference"]["permutations"] == 9999  # default where neither says


def test_monoculture_toml_beats_pyproject_and_explicit_config(tmp_path):
    _write(tmp_path, "pyproject.toml", '[tool.monoculture]\nbootstrap = 11\n')
    _write(tmp_path, "monoculture.toml", 'id = "applicant_id"\ndecision = "approved"\nlabel = "repaid"\n'
           "bootstrap = 12\n")
    other = tmp_path / "other.toml"
    other.write_text('id = "applicant_id"\ndecision = "approved"\nlabel = "repaid"\nbootstrap = 13\n')
    data = json.loads(run(tmp_path, "audit", A, B, "-f", "json", "-q").stdout)
    assert data["options"]["inference"]["bootstrap"] == 12
    out = run(tmp_path, "audit", A, B, "-f", "json", "-q", "--config", str(other)).stdout
    assert json.loads(out)["options"]["inference"]["bootstrap"] == 13
    shown = run(tmp_path, "config").stdout.decode()
    assert "bootstrap = 12  # config" in shown and "permutations = 9999  # default" in shown


def test_unknown_or_bad_setting_is_exit_2(tmp_path):
    _write(tmp_path, "monoculture.toml", 'bootstrapp = 10\n')
    proc = run(tmp_path, "audit", A, B)
    assert proc.returncode == 2
    assert "unknown setting 'bootstrapp'" in proc.stderr.decode()
    _write(tmp_path, "monoculture.toml", 'bootstrap = [\n')
    proc = run(tmp_path, "audit", A, B)
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr.decode()
    _write(tmp_path, "monoculture.toml", 'bootstrap = "many"\n')
    proc = run(tmp_path, "audit", A, B, "--id", "applicant_id", "--decision", "approved", "--label", "repaid")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr.decode()
